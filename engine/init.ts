/**
 * Weight initialisers for the RNN engine. All return row-major Float64Array matrices in the
 * engine layout (W[i][j] = weight from unit j to unit i; data[i * cols + j]).
 *
 * Keras note: a Keras SimpleRNN computes h_t = f(x_t·K + h_{t-1}·U), so its recurrent kernel
 * U is indexed [pre][post] and equals Wᵀ in our layout. For the orthogonal initialiser the
 * distinction does not matter (Qᵀ is orthogonal too) except when matching a specific draw.
 */
import { qr } from './dense.ts';
import { OptionError, ShapeError } from './errors.ts';
import type { Rng } from './rng.ts';

/**
 * A Keras-equivalent orthogonal matrix [rows, cols] (default square):
 *   A ~ N(0, 1)^{max×min}, A = Q R, Q ← Q · diag(sign(diag R)), transposed when rows < cols,
 *   then multiplied by `gain`.
 * The sign correction makes Q Haar-distributed (plain QR output is not).
 */
export function orthogonal(n: number, rng: Rng, gain = 1, cols = n): Float64Array {
  const rows = n;
  checkDim('orthogonal', 'rows', rows);
  checkDim('orthogonal', 'cols', cols);
  const tall = Math.max(rows, cols);
  const wide = Math.min(rows, cols);
  const a = rng.normals(tall * wide);
  const { q, r } = qr(a, tall, wide);
  for (let j = 0; j < wide; j++) {
    const s = r[j * wide + j]! < 0 ? -1 : 1; // sign(0) taken as +1
    for (let i = 0; i < tall; i++) q[i * wide + j]! *= s;
  }
  const out = new Float64Array(rows * cols);
  if (rows >= cols) {
    for (let k = 0; k < out.length; k++) out[k] = gain * q[k]!;
  } else {
    // q is [cols, rows]; the result is its transpose
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = gain * q[j * rows + i]!;
  }
  return out;
}

/**
 * Glorot (Xavier) uniform [fanOut, fanIn]: entries ~ U(−limit, limit),
 *   limit = sqrt(6 / (fanIn + fanOut)).
 * Rows are outputs, so it maps an input vector x (length fanIn) as W·x.
 */
export function glorotUniform(fanOut: number, fanIn: number, rng: Rng): Float64Array {
  checkDim('glorotUniform', 'fanOut', fanOut);
  checkDim('glorotUniform', 'fanIn', fanIn);
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const out = new Float64Array(fanOut * fanIn);
  for (let k = 0; k < out.length; k++) out[k] = rng.uniformIn(-limit, limit);
  return out;
}

/** A zero matrix [rows, cols] (default square). */
export function zeros(rows: number, cols = rows): Float64Array {
  checkDim('zeros', 'rows', rows);
  checkDim('zeros', 'cols', cols);
  return new Float64Array(rows * cols);
}

/**
 * Validates a user-supplied n×n matrix and returns a Float64Array copy in row-major order.
 * Accepts a flat array-like of n² numbers or an array of n rows of n numbers.
 */
export function fromMatrix(data: ArrayLike<number> | ArrayLike<number>[], n: number): Float64Array {
  checkDim('fromMatrix', 'n', n);
  const out = new Float64Array(n * n);
  const first = data.length > 0 ? (data as ArrayLike<unknown>)[0] : undefined;
  if (first !== undefined && typeof first === 'object') {
    const rows = data as ArrayLike<number>[];
    if (rows.length !== n) throw new ShapeError('fromMatrix', { message: `fromMatrix: expected ${n} rows, got ${rows.length}` });
    for (let i = 0; i < n; i++) {
      const row = rows[i]!;
      if (row.length !== n) throw new ShapeError('fromMatrix', { message: `fromMatrix: row ${i} has ${row.length} entries, expected ${n}` });
      for (let j = 0; j < n; j++) out[i * n + j] = checkEntry(row[j], i, j);
    }
    return out;
  }
  const flat = data as ArrayLike<number>;
  if (flat.length !== n * n) throw new ShapeError('fromMatrix', { message: `fromMatrix: expected ${n}×${n} = ${n * n} entries, got ${flat.length}` });
  for (let k = 0; k < flat.length; k++) out[k] = checkEntry(flat[k], Math.floor(k / n), k % n);
  return out;
}

function checkEntry(v: unknown, i: number, j: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new OptionError(`entry [${i}][${j}]`, 'a finite number', String(v), {
      message: `fromMatrix: entry [${i}][${j}] must be a finite number, got ${String(v)}`,
    });
  }
  return v;
}

function checkDim(fn: string, what: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) throw new ShapeError(fn, { message: `${fn}: ${what} must be a positive integer, got ${v}` });
}
