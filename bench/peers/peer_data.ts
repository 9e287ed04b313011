/**
 * A workload handed to the peers as one file, so that they train from exactly the engine's
 * float32 data and initial weights (the paper workload's weights come from the engine's own
 * initialiser, which the peers do not reimplement). Layout: one line of JSON (the header),
 * then the tensors as raw little-endian float32 / int32, at the header's byte offsets counted
 * from the first byte after that line.
 *
 *   header: { format, nIn, N, nOut, alpha, outputBias, T, B,
 *             tensors: { name: { dtype, shape, offset } } }
 *   tensors: x [T, B, nIn], labels [T, B] (int32), lossMask [T, B], W_in [N, nIn], W_rec [N, N],
 *            b [N], W_out [nOut, N], b_out [nOut] (with an output bias), D [N, N]
 *
 * bench/peers/torch_peer.py (`--data FILE`) and tfjs_main.ts read it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { WorkloadRun } from '../rnn.ts';

const FORMAT = 'cortical-rnn peer data 1';

interface TensorEntry {
  dtype: 'float32' | 'int32';
  shape: number[];
  offset: number;
}

/** The model and batch shape, shared by the file's header and the data read back. */
interface PeerShape {
  nIn: number;
  N: number;
  nOut: number;
  alpha: number;
  outputBias: boolean;
  T: number;
  B: number;
}

interface Header extends PeerShape {
  format: string;
  tensors: Record<string, TensorEntry>;
}

/** A workload as the peers read it: float32 tensors (labels int32), row-major. */
export interface PeerData extends PeerShape {
  x: Float32Array;
  labels: Int32Array;
  lossMask: Float32Array;
  W_in: Float32Array;
  W_rec: Float32Array;
  b: Float32Array;
  W_out: Float32Array;
  b_out: Float32Array | null;
  D: Float32Array;
}

/** Writes `run` (the engine's data and initial weights, rounded to float32) for the peers. */
export function writePeerData(file: string, run: WorkloadRun): void {
  const { cfg, params, batch } = run;
  const { T, B } = batch;
  const N = cfg.nHidden;
  const tensors: [string, Float32Array | Int32Array, number[]][] = [
    ['x', Float32Array.from(batch.x), [T, B, cfg.nIn]],
    ['labels', Int32Array.from(batch.labels), [T, B]],
    ['lossMask', Float32Array.from(batch.lossMask), [T, B]],
    ['W_in', Float32Array.from(params.W_in), [N, cfg.nIn]],
    ['W_rec', Float32Array.from(params.W_rec), [N, N]],
    ['b', Float32Array.from(params.b), [N]],
    ['W_out', Float32Array.from(params.W_out), [cfg.nOut, N]],
    ...(cfg.outputBias ? [['b_out', Float32Array.from(params.b_out ?? new Float64Array(cfg.nOut)), [cfg.nOut]] as [string, Float32Array, number[]]] : []),
    ['D', Float32Array.from(run.D), [N, N]],
  ];
  const header: Header = { format: FORMAT, nIn: cfg.nIn, N, nOut: cfg.nOut, alpha: cfg.alpha, outputBias: cfg.outputBias, T, B, tensors: {} };
  let offset = 0;
  for (const [name, data, shape] of tensors) {
    if (data.length !== shape.reduce((a, b) => a * b, 1)) throw new Error(`peer data: ${name} has ${data.length} values, shape ${shape.join('x')}`);
    header.tensors[name] = { dtype: data instanceof Int32Array ? 'int32' : 'float32', shape, offset };
    offset += data.byteLength;
  }
  const body = Buffer.concat(tensors.map(([, data]) => Buffer.from(data.buffer, data.byteOffset, data.byteLength)));
  writeFileSync(file, Buffer.concat([Buffer.from(JSON.stringify(header) + '\n'), body]));
}

/** Reads a file written by writePeerData. */
export function readPeerData(file: string): PeerData {
  const buf = readFileSync(file);
  const nl = buf.indexOf(0x0a);
  if (nl < 0) throw new Error(`${file}: no header line`);
  const header = JSON.parse(buf.subarray(0, nl).toString('utf8')) as Header;
  if (header.format !== FORMAT) throw new Error(`${file}: expected format '${FORMAT}', got '${String(header.format)}'`);
  const body = buf.subarray(nl + 1);
  const get = (name: string) => {
    const t = header.tensors[name];
    if (!t) return null;
    const n = t.shape.reduce((a, b) => a * b, 1);
    const bytes = body.subarray(t.offset, t.offset + 4 * n);
    const copy = new Uint8Array(bytes); // aligned copy
    return t.dtype === 'int32' ? new Int32Array(copy.buffer, 0, n) : new Float32Array(copy.buffer, 0, n);
  };
  const need = (name: string) => {
    const t = get(name);
    if (!t) throw new Error(`${file}: tensor ${name} missing`);
    return t;
  };
  return {
    nIn: header.nIn,
    N: header.N,
    nOut: header.nOut,
    alpha: header.alpha,
    outputBias: header.outputBias,
    T: header.T,
    B: header.B,
    x: need('x') as Float32Array,
    labels: need('labels') as Int32Array,
    lossMask: need('lossMask') as Float32Array,
    W_in: need('W_in') as Float32Array,
    W_rec: need('W_rec') as Float32Array,
    b: need('b') as Float32Array,
    W_out: need('W_out') as Float32Array,
    b_out: header.outputBias ? (need('b_out') as Float32Array) : null,
    D: need('D') as Float32Array,
  };
}
