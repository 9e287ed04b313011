/**
 * The float64 host math that the CPU twin of the regularisers (cpu.ts) and the empirical EMD
 * target (target.ts, built for every backend) share: column sums and the normalised
 * communicability C = offdiag(expm(diag(s)^-½ A diag(s)^-½)). Layout as in cpu.ts: row-major
 * n×n, strengths are column sums.
 */
import { expm } from '../expm/cpu.ts';

export interface Communicability {
  n: number;
  /** |W| */
  A: Float64Array;
  /** raw column sums Σ_i A[i][j] */
  sRaw: Float64Array;
  /** strengths used: max(sRaw + eps, sMin) */
  s: Float64Array;
  /** 1 where the floor is active (its gradient is 0 there) */
  floored: Uint8Array;
  /** s^(-1/2) */
  d: Float64Array;
  /** diag(s)^-½ A diag(s)^-½ */
  M: Float64Array;
  /** expm(M), diagonal included */
  expM: Float64Array;
  /** expm(M) with its diagonal set to 0 */
  C: Float64Array;
}

/** Column sums of |K|. */
export function absColumnSums(K: ArrayLike<number>, n: number): Float64Array {
  const s = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s[j]! += Math.abs(K[i * n + j]!);
  return s;
}

/** M = d_i A[i][j] d_j, expM = exp(M) and C = offdiag(expM), from the strengths already chosen. */
export function normalizedCommunicability(
  A: Float64Array,
  sRaw: Float64Array,
  s: Float64Array,
  floored: Uint8Array,
  d: Float64Array,
  n: number,
  exp: (M: Float64Array, n: number) => Float64Array = expm,
): Communicability {
  const M = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) M[i * n + j] = d[i]! * A[i * n + j]! * d[j]!;
  const expM = exp(M, n);
  const C = Float64Array.from(expM);
  for (let i = 0; i < n; i++) C[i * n + i] = 0;
  return { n, A, sRaw, s, floored, d, M, expM, C };
}
