/**
 * Small float64 dense linear algebra on row-major arrays. It serves the CPU reference backend,
 * the initialisers, the fixture readers and the connectome code; nothing here touches the GPU.
 * A matrix is (data, rows, cols) with data[i * cols + j] = M[i][j].
 */
import { ShapeError } from './errors.ts';

/** Row-major Float64Array from nested lists (the fixtures' matrix format). */
export function fromNested(rows: ReadonlyArray<ReadonlyArray<number>>): Float64Array {
  const r = rows.length;
  const c = r === 0 ? 0 : rows[0]!.length;
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) {
    const row = rows[i]!;
    if (row.length !== c) throw new ShapeError('fromNested', { message: `fromNested: ragged rows (row ${i} has ${row.length} entries, expected ${c})` });
    for (let j = 0; j < c; j++) out[i * c + j] = row[j]!;
  }
  return out;
}

/** C = A·B for A [m, k] and B [k, n]. Accumulates in float64. */
export function matmul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p]!;
      if (aip === 0) continue;
      const bp = p * n;
      for (let j = 0; j < n; j++) c[ci + j]! += aip * b[bp + j]!;
    }
  }
  return c;
}

/** Transpose of A [rows, cols]. */
export function transpose(a: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j]!;
  return t;
}

export function identity(n: number): Float64Array {
  const e = new Float64Array(n * n);
  for (let i = 0; i < n; i++) e[i * n + i] = 1;
  return e;
}

/** Induced 1-norm: the largest absolute column sum. */
export function norm1(a: ArrayLike<number>, n: number): number {
  let best = 0;
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += Math.abs(a[i * n + j]!);
    if (s > best) best = s;
  }
  return best;
}

/**
 * Householder QR of A [m, n] with m >= n: A = Q R, Q [m, n] with orthonormal columns and
 * R [n, n] upper triangular.
 */
export function qr(a: ArrayLike<number>, m: number, n: number): { q: Float64Array; r: Float64Array } {
  if (m < n) throw new ShapeError('qr', { message: `qr: need rows >= cols, got ${m}x${n}` });
  const r = Float64Array.from(a as ArrayLike<number>);
  const vs: Float64Array[] = [];
  for (let k = 0; k < n; k++) {
    const v = new Float64Array(m - k);
    let norm = 0;
    for (let i = k; i < m; i++) norm += r[i * n + k]! ** 2;
    norm = Math.sqrt(norm);
    const x0 = r[k * n + k]!;
    const alpha = x0 >= 0 ? -norm : norm;
    for (let i = k; i < m; i++) v[i - k] = r[i * n + k]!;
    v[0]! -= alpha;
    let vnorm = 0;
    for (let i = 0; i < v.length; i++) vnorm += v[i]! ** 2;
    vs.push(v);
    if (vnorm === 0) continue;
    // r <- (I - 2 v vᵀ / vᵀv) r on rows k..m-1
    for (let j = k; j < n; j++) {
      let dot = 0;
      for (let i = k; i < m; i++) dot += v[i - k]! * r[i * n + j]!;
      const f = (2 * dot) / vnorm;
      for (let i = k; i < m; i++) r[i * n + j]! -= f * v[i - k]!;
    }
  }
  // Q = H_0 H_1 ... H_{n-1} applied to the first n columns of the identity.
  const q = new Float64Array(m * n);
  for (let i = 0; i < n; i++) q[i * n + i] = 1;
  for (let k = n - 1; k >= 0; k--) {
    const v = vs[k]!;
    let vnorm = 0;
    for (let i = 0; i < v.length; i++) vnorm += v[i]! ** 2;
    if (vnorm === 0) continue;
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let i = k; i < m; i++) dot += v[i - k]! * q[i * n + j]!;
      const f = (2 * dot) / vnorm;
      for (let i = k; i < m; i++) q[i * n + j]! -= f * v[i - k]!;
    }
  }
  const rOut = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) rOut[i * n + j] = r[i * n + j]!;
  return { q, r: rOut };
}

/** Solves A X = B for A [n, n], B [n, m] by LU with partial pivoting. Throws if A is singular. */
export function solve(a: ArrayLike<number>, b: ArrayLike<number>, n: number, m: number): Float64Array {
  const lu = Float64Array.from(a as ArrayLike<number>);
  const x = Float64Array.from(b as ArrayLike<number>);
  for (let k = 0; k < n; k++) {
    let piv = k;
    let best = Math.abs(lu[k * n + k]!);
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(lu[i * n + k]!);
      if (v > best) {
        best = v;
        piv = i;
      }
    }
    if (best === 0) throw new Error('solve: matrix is singular');
    if (piv !== k) {
      for (let j = 0; j < n; j++) {
        const t = lu[k * n + j]!;
        lu[k * n + j] = lu[piv * n + j]!;
        lu[piv * n + j] = t;
      }
      for (let j = 0; j < m; j++) {
        const t = x[k * m + j]!;
        x[k * m + j] = x[piv * m + j]!;
        x[piv * m + j] = t;
      }
    }
    const d = lu[k * n + k]!;
    for (let i = k + 1; i < n; i++) {
      const f = lu[i * n + k]! / d;
      if (f === 0) continue;
      lu[i * n + k] = f;
      for (let j = k + 1; j < n; j++) lu[i * n + j]! -= f * lu[k * n + j]!;
      for (let j = 0; j < m; j++) x[i * m + j]! -= f * x[k * m + j]!;
    }
  }
  for (let k = n - 1; k >= 0; k--) {
    const d = lu[k * n + k]!;
    for (let j = 0; j < m; j++) {
      let s = x[k * m + j]!;
      for (let p = k + 1; p < n; p++) s -= lu[k * n + p]! * x[p * m + j]!;
      x[k * m + j] = s / d;
    }
  }
  return x;
}

/**
 * Perron root of a nonnegative square matrix by power iteration on (A + I), which shares A's
 * Perron vector and avoids the oscillation of periodic (imprimitive) matrices.
 */
export function perronRoot(a: ArrayLike<number>, n: number, tol = 1e-12, maxIter = 100000): number {
  let v = new Float64Array(n).fill(1 / n);
  let lambda = 0;
  for (let it = 0; it < maxIter; it++) {
    const w = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = v[i]!;
      for (let j = 0; j < n; j++) s += a[i * n + j]! * v[j]!;
      w[i] = s;
    }
    let sum = 0;
    for (let i = 0; i < n; i++) sum += w[i]!;
    const next = sum - 1; // ‖v‖₁ = 1, so ‖(A+I)v‖₁ − 1 → ρ(A)
    for (let i = 0; i < n; i++) w[i]! /= sum;
    if (Math.abs(next - lambda) <= tol * Math.max(1, Math.abs(next))) return next;
    lambda = next;
    v = w;
  }
  return lambda;
}
