/**
 * The largest eigenvalue of a real symmetric matrix and its eigenvector by the Lanczos method
 * with full reorthogonalisation (Golub & Van Loan, Matrix Computations, 4th ed., §10.1 and
 * §10.3.1). From a start vector q₁, Lanczos builds an orthonormal basis Q_k of the Krylov space
 * span{q₁, M q₁, …, M^{k−1} q₁} in which M is tridiagonal:
 *   M q_j = β_{j−1} q_{j−1} + α_j q_j + β_j q_{j+1},   T_k = tridiag(β, α, β),
 * and the largest eigenpair (θ, y) of T_k gives the Ritz pair (θ, Q_k y), whose residual is
 *   ‖M Q_k y − θ Q_k y‖ = |β_k y_k|.
 * Each step costs one product with M (n²), against the O(n³) of a full decomposition, and the
 * extreme eigenvalues converge first, so a few hundred steps serve n in the thousands.
 */
import { Rng } from '../engine/rng.ts';

export interface LanczosResult {
  value: number;
  vector: Float64Array;
  /** Lanczos steps taken. */
  steps: number;
  /** ‖M x − θ x‖ of the returned unit vector. */
  residual: number;
}

/**
 * The leading eigenpair of symmetric M (n × n, row-major), to a residual ‖Mx − θx‖ ≤ tol · ρ
 * (ρ: the largest |Ritz value|, an estimate of ‖M‖₂), or null when `maxSteps` do not reach it.
 * The start vector is fixed (a seeded draw), so the result is deterministic. Where the largest
 * eigenvalue is repeated, the vector is one unit vector of its eigenspace, not a chosen one.
 * Sign rule: the entry of largest magnitude (the first such) is positive.
 */
export function lanczosLeading(M: ArrayLike<number>, n: number, opts: { tol?: number; maxSteps?: number } = {}): LanczosResult | null {
  const tol = opts.tol ?? 1e-12;
  const maxSteps = Math.min(n, opts.maxSteps ?? 800);
  const rng = new Rng(0, 'lanczos');
  const Q: Float64Array[] = [unit(Float64Array.from({ length: n }, () => rng.normal()))];
  const alpha: number[] = [];
  const beta: number[] = [];
  for (let j = 0; j < maxSteps; j++) {
    const w = matVec(M, n, Q[j]!);
    alpha.push(dot(Q[j]!, w));
    // full reorthogonalisation, twice ("twice is enough", Parlett): keeps Q orthonormal in floats
    for (let pass = 0; pass < 2; pass++) for (const q of Q) axpy(-dot(q, w), q, w);
    const b = Math.sqrt(dot(w, w));
    const last = j + 1 === maxSteps;
    if ((j + 1) % 10 === 0 || last || b === 0) {
      const { value, y } = tridiagonalLeading(alpha, beta);
      const scale = Math.max(
        Math.abs(value),
        Math.abs(
          tridiagonalLeading(
            alpha.map((a) => -a),
            beta,
          ).value,
        ),
      );
      if (Math.abs(b * y[j]!) <= tol * Math.max(scale, Number.MIN_VALUE) || b === 0) return ritzPair(M, n, Q, y, value, j + 1);
    }
    if (last) break;
    beta.push(b);
    Q.push(w.map((x) => x / b));
  }
  return null;
}

/** The unit Ritz vector Q y with its value, sign rule and true residual. */
function ritzPair(M: ArrayLike<number>, n: number, Q: Float64Array[], y: Float64Array, value: number, steps: number): LanczosResult {
  const x = new Float64Array(n);
  Q.slice(0, y.length).forEach((q, i) => axpy(y[i]!, q, x));
  unit(x);
  let big = 0;
  for (let i = 1; i < n; i++) if (Math.abs(x[i]!) > Math.abs(x[big]!)) big = i;
  if (x[big]! < 0) for (let i = 0; i < n; i++) x[i] = -x[i]!;
  const r = matVec(M, n, x);
  axpy(-value, x, r);
  return { value, vector: x, steps, residual: Math.sqrt(dot(r, r)) };
}

/**
 * The largest eigenvalue of the symmetric tridiagonal T (diagonal a, off-diagonal b) and its
 * unit eigenvector: bisection on the Sturm sequence count for the value, then inverse
 * iteration for the vector. k is at most a few hundred, so O(k²) is nothing here.
 */
function tridiagonalLeading(a: number[], b: number[]): { value: number; y: Float64Array } {
  const k = a.length;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < k; i++) {
    const r = (i > 0 ? Math.abs(b[i - 1]!) : 0) + (i < k - 1 ? Math.abs(b[i]!) : 0);
    lo = Math.min(lo, a[i]! - r);
    hi = Math.max(hi, a[i]! + r);
  }
  // count(x): eigenvalues below x; the largest is the x where the count reaches k
  for (let it = 0; it < 200 && hi - lo > 1e-15 * Math.max(1, Math.abs(hi)); it++) {
    const mid = (lo + hi) / 2;
    if (countBelow(a, b, mid) >= k) hi = mid;
    else lo = mid;
  }
  const value = hi;
  return { value, y: inverseIteration(a, b, value) };
}

/** Sturm count: the number of eigenvalues of the tridiagonal matrix below x. */
function countBelow(a: number[], b: number[], x: number): number {
  let count = 0;
  let d = 1;
  for (let i = 0; i < a.length; i++) {
    const off = i > 0 ? b[i - 1]! * b[i - 1]! : 0;
    d = a[i]! - x - (i > 0 ? off / (d === 0 ? 1e-300 : d) : 0);
    if (d < 0) count++;
  }
  return count;
}

/** The unit eigenvector of tridiagonal T at eigenvalue ≈ λ: (T − λ' I) y = y_prev, twice, by Thomas' algorithm. */
function inverseIteration(a: number[], b: number[], lambda: number): Float64Array {
  const k = a.length;
  const shift = lambda + 1e-13 * Math.max(1, Math.abs(lambda));
  let y: Float64Array = new Float64Array(k).fill(1 / Math.sqrt(k));
  for (let it = 0; it < 3; it++) {
    const c = new Float64Array(k);
    const d = new Float64Array(k);
    const x = new Float64Array(k);
    let m = a[0]! - shift || 1e-300;
    c[0] = (b[0] ?? 0) / m;
    d[0] = y[0]! / m;
    for (let i = 1; i < k; i++) {
      m = a[i]! - shift - b[i - 1]! * c[i - 1]! || 1e-300;
      c[i] = (b[i] ?? 0) / m;
      d[i] = (y[i]! - b[i - 1]! * d[i - 1]!) / m;
    }
    x[k - 1] = d[k - 1]!;
    for (let i = k - 2; i >= 0; i--) x[i] = d[i]! - c[i]! * x[i + 1]!;
    y = unit(x);
  }
  return y;
}

function matVec(M: ArrayLike<number>, n: number, v: Float64Array): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    const row = i * n;
    for (let j = 0; j < n; j++) s += M[row + j]! * v[j]!;
    out[i] = s;
  }
  return out;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** y += s·x */
function axpy(s: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i]! += s * x[i]!;
}

/** Scales v to unit length in place and returns it. */
function unit(v: Float64Array): Float64Array {
  const norm = Math.sqrt(dot(v, v));
  if (norm > 0) for (let i = 0; i < v.length; i++) v[i]! /= norm;
  return v;
}
