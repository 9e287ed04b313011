/**
 * A reader (and a small writer) for NumPy .npy bytes. No file system: it works on a
 * Uint8Array, so it runs in a browser too.
 *
 * Format: magic "\x93NUMPY", major and minor version bytes, header length (uint16 LE for
 * version 1, uint32 LE for version 2), then an ASCII Python dict literal
 * {'descr': '<f4', 'fortran_order': False, 'shape': (N, N), } padded with spaces to a
 * multiple of 64 bytes, then the raw C-order data.
 */
import { DataError } from './errors.ts';

export type NpyDtype = '<f4' | '<f8' | '<i4' | '<i8' | '<u2' | '<u4';
export type NpyData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint16Array | Uint32Array;

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  data: NpyData;
}

const ITEM_SIZE: Record<NpyDtype, number> = { '<f4': 4, '<f8': 8, '<i4': 4, '<i8': 8, '<u2': 2, '<u4': 4 };
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Parses .npy bytes; `source` names the file in errors. */
export function parseNpy(bytes: Uint8Array, source = '<npy bytes>'): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new DataError(source, 'header', 'a NumPy .npy file starting with "\\x93NUMPY"');
  }
  const major = bytes[6]!;
  let headerLen: number;
  let offset: number;
  if (major === 1) {
    headerLen = bytes[8]! | (bytes[9]! << 8);
    offset = 10;
  } else if (major === 2) {
    if (bytes.length < 12) throw new DataError(source, 'header', 'a complete version 2 header');
    headerLen = (bytes[8]! | (bytes[9]! << 8) | (bytes[10]! << 16) | (bytes[11]! << 24)) >>> 0;
    offset = 12;
  } else {
    throw new DataError(source, 'format version', '.npy format version 1 or 2', String(major));
  }
  if (offset + headerLen > bytes.length) throw new DataError(source, 'header', `a header of ${headerLen} bytes`, `a ${bytes.length}-byte file`);
  const header = new TextDecoder('latin1').decode(bytes.subarray(offset, offset + headerLen));
  const descr = /'descr'\s*:\s*('([^']*)'|\[)/.exec(header);
  if (!descr) throw new DataError(source, "header field 'descr'", 'a dtype string');
  if (descr[1] === '[') throw new DataError(source, "header field 'descr'", 'a plain numeric dtype', 'a structured (record) dtype');
  const dtype = descr[2]!;
  if (dtype.includes('O')) {
    throw new DataError(source, "header field 'descr'", 'a numeric dtype; pickled object arrays are refused (allow_pickle is never used)', `'${dtype}'`);
  }
  if (!(dtype in ITEM_SIZE)) {
    throw new DataError(source, "header field 'descr'", `one of ${Object.keys(ITEM_SIZE).join(' ')}`, `'${dtype}'`);
  }
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  if (!fortran) throw new DataError(source, "header field 'fortran_order'", 'True or False');
  if (fortran[1] === 'True') throw new DataError(source, "header field 'fortran_order'", 'C order (False)', 'True');
  const shapeMatch = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!shapeMatch) throw new DataError(source, "header field 'shape'", 'a tuple of integers');
  const shape = shapeMatch[1]!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      if (!/^\d+L?$/.test(s)) throw new DataError(source, "header field 'shape'", 'non-negative integers', `'${s}'`);
      return Number.parseInt(s, 10);
    });
  const count = shape.reduce((a, b) => a * b, 1);
  const d = dtype as NpyDtype;
  const start = offset + headerLen;
  const nbytes = count * ITEM_SIZE[d];
  if (bytes.length - start !== nbytes) {
    throw new DataError(source, 'data', `${nbytes} bytes of data for shape (${shape.join(', ')}) and dtype ${d}`, `${bytes.length - start} bytes`);
  }
  // slice() copies into a fresh, aligned buffer; typed arrays read the host order, which is
  // little-endian on every platform JavaScript runs on
  const buf = bytes.slice(start, start + nbytes).buffer;
  return { dtype: d, shape, data: makeView(d, buf) };
}

function makeView(d: NpyDtype, buf: ArrayBuffer): NpyData {
  switch (d) {
    case '<f4':
      return new Float32Array(buf);
    case '<f8':
      return new Float64Array(buf);
    case '<i4':
      return new Int32Array(buf);
    case '<i8':
      return new BigInt64Array(buf);
    case '<u2':
      return new Uint16Array(buf);
    case '<u4':
      return new Uint32Array(buf);
  }
}

/** Numeric values as float64 (int64 values beyond 2^53 lose precision; callers decide). */
export function toFloat64(a: NpyArray): Float64Array {
  if (a.data instanceof BigInt64Array) return Float64Array.from(a.data, (v) => Number(v));
  return Float64Array.from(a.data as ArrayLike<number>);
}

/** Encodes an array as .npy bytes (version 1, or 2 when asked or the header needs it). */
export function encodeNpy(data: NpyData, shape: number[], dtype: NpyDtype, version: 1 | 2 = 1): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '${dtype}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const pre = version === 1 ? 10 : 12;
  const pad = 64 - ((pre + dict.length + 1) % 64);
  dict += ' '.repeat(pad % 64) + '\n';
  const out = new Uint8Array(pre + dict.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  if (version === 1) {
    out[8] = dict.length & 0xff;
    out[9] = dict.length >> 8;
  } else {
    new DataView(out.buffer).setUint32(8, dict.length, true);
  }
  for (let i = 0; i < dict.length; i++) out[pre + i] = dict.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), pre + dict.length);
  return out;
}
