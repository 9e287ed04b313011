/** .npy files on disk (Node): the parser and encoder of npy.ts, on a path. */
import { readFileSync, writeFileSync } from 'node:fs';
import { DataError } from './errors.ts';
import { encodeNpy, parseNpy, type NpyArray, type NpyData, type NpyDtype } from './npy.ts';

/** Reads a .npy file; a malformed one throws a DataError that names it. */
export function readNpyFile(path: string): NpyArray {
  return parseNpy(new Uint8Array(readFileSync(path)), path);
}

/** The little-endian dtype of a typed array's elements. */
function dtypeOf(data: NpyData): NpyDtype {
  if (data instanceof Float32Array) return '<f4';
  if (data instanceof Float64Array) return '<f8';
  if (data instanceof Int32Array) return '<i4';
  if (data instanceof BigInt64Array) return '<i8';
  if (data instanceof Uint16Array) return '<u2';
  return '<u4';
}

/**
 * Writes `data` (C order) as a .npy file of `shape`, with the dtype of its elements
 * (Float32Array → <f4, Float64Array → <f8, …); NumPy's `np.load` reads it.
 */
export function writeNpyFile(path: string, data: NpyData, shape: readonly number[]): void {
  const count = shape.reduce((a, b) => a * b, 1);
  if (!shape.every((d) => Number.isInteger(d) && d >= 0) || count !== data.length) {
    throw new DataError(path, 'shape', `a shape whose ${data.length} entries match the data`, `[${shape.join(', ')}]`);
  }
  writeFileSync(path, encodeNpy(data, [...shape], dtypeOf(data)));
}
