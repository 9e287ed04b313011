/**
 * Recurrent weight initialisations from the connectome, in the engine layout W[post][pre]
 * (row-major Float64Array, N×N).
 *
 * Keras note: the paper's Keras recurrent kernel is U = Wᵀ (Keras computes h·U). Because the
 * lognormal factor L is i.i.d. and corr/STTC are symmetric, W* and W*ᵀ have the same
 * distribution; the transpose matters only to match one specific draw. toKerasKernel() gives U.
 */
import { perronRoot, solve, identity, transpose } from '../engine/dense.ts';
import type { Rng } from '../engine/rng.ts';

export interface ScaleOptions {
  /** Target mean over all N² entries (default 0.1). */
  mean?: number;
  /** Nonzero entries below this are raised to it (default 0.01). */
  floor?: number;
  /** Target spectral radius (default 0.95). */
  radius?: number;
}

export interface WStarOptions extends ScaleOptions {
  /**
   * 'corr-sttc' (default): W = L∘corr_n∘sttc_n. 'precision-sttc': the precision matrix in place
   * of corr. 'sttc': STTC only, W = L∘sttc_n.
   */
  relation?: 'corr-sttc' | 'precision-sttc' | 'sttc';
  /** Lognormal parameters of L (default μ = −0.5, σ = 0.5). */
  mu?: number;
  sigma?: number;
}

export interface FunctionalInput {
  n: number;
  corr?: ArrayLike<number>;
  /** Only the lower triangle (i > j) and diagonal are read; it is mirrored. */
  sttc: ArrayLike<number>;
  precision?: ArrayLike<number>;
}

/** Keeps the lower triangle and diagonal and mirrors it: S[i][j] = S[max][min]. */
export function mirrorLower(a: ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      out[i * n + j] = a[i * n + j]!;
      out[j * n + i] = a[i * n + j]!;
    }
  }
  return out;
}

/** (A − min A) / (max A − min A) over the whole matrix, diagonal included. */
export function minMaxNormalise(a: ArrayLike<number>): Float64Array {
  let lo = Infinity,
    hi = -Infinity;
  for (let k = 0; k < a.length; k++) {
    const v = a[k]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!(hi > lo)) throw new Error(`minMaxNormalise: matrix is constant (${lo}); cannot normalise`);
  const out = new Float64Array(a.length);
  for (let k = 0; k < a.length; k++) out[k] = (a[k]! - lo) / (hi - lo);
  return out;
}

export function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k]!;
  return s / a.length;
}

/** W ← W · target / mean(W), in place. */
export function scaleToMean(w: Float64Array, target: number): Float64Array {
  const m = mean(w);
  if (!(m > 0)) throw new Error(`scaleToMean: mean is ${m}; need a positive mean`);
  for (let k = 0; k < w.length; k++) w[k]! *= target / m;
  return w;
}

/** Raises nonzero entries below `floor` to `floor`, in place (zeros stay zero). */
export function floorNonzero(w: Float64Array, floor: number): Float64Array {
  for (let k = 0; k < w.length; k++) if (w[k] !== 0 && w[k]! < floor) w[k] = floor;
  return w;
}

/**
 * Spectral radius of a nonnegative matrix. By Perron–Frobenius it is the Perron root, which
 * power iteration finds exactly (up to its tolerance).
 */
export function spectralRadiusNonneg(w: ArrayLike<number>, n: number): number {
  for (let k = 0; k < w.length; k++) if (w[k]! < 0) throw new Error(`spectralRadiusNonneg: entry [${Math.floor(k / n)}][${k % n}] is negative`);
  return perronRoot(w, n, 1e-13);
}

/**
 * Whether the graph of nonzero entries has a directed cycle (self-loops included). A
 * nonnegative matrix has ρ > 0 exactly when it does; without one it is nilpotent (ρ = 0),
 * which power iteration only approaches slowly, so we test the pattern instead.
 */
export function hasDirectedCycle(w: ArrayLike<number>, n: number): boolean {
  // Kahn's algorithm on edges j → i for W[i][j] ≠ 0: a cycle leaves nodes unremoved
  const indeg = new Int32Array(n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (w[i * n + j] !== 0) indeg[i]!++;
  const queue: number[] = [];
  for (let i = 0; i < n; i++) if (indeg[i] === 0) queue.push(i);
  let removed = 0;
  while (queue.length) {
    const j = queue.pop()!;
    removed++;
    for (let i = 0; i < n; i++) if (w[i * n + j] !== 0 && --indeg[i]! === 0) queue.push(i);
  }
  return removed < n;
}

/** W ← W · target / ρ(W), in place; throws when ρ = 0 (a connectome without directed cycles). */
export function scaleToSpectralRadius(w: Float64Array, n: number, target: number): Float64Array {
  if (!hasDirectedCycle(w, n)) {
    throw new Error(
      `scaleToSpectralRadius: the matrix has no directed cycle, so its spectral radius is 0 and it cannot be scaled to ${target} (for a sparse connectome, try anatomical(..., { symmetric: true }))`,
    );
  }
  const rho = spectralRadiusNonneg(w, n);
  for (let k = 0; k < w.length; k++) w[k]! *= target / rho;
  return w;
}

/** Steps 5–7 of W*: scale to mean 0.1, floor nonzero entries at 0.01, scale to ρ = 0.95. */
export function scaleLikeWStar(w: Float64Array, n: number, opts: ScaleOptions = {}): Float64Array {
  scaleToMean(w, opts.mean ?? 0.1);
  floorNonzero(w, opts.floor ?? 0.01);
  return scaleToSpectralRadius(w, n, opts.radius ?? 0.95);
}

/**
 * W* (functional):
 *  1. S = STTC with its lower triangle mirrored;
 *  2. corr_n, S_n = min-max normalised over the whole matrix, diagonal included;
 *  3. L ~ lognormal(μ = −0.5, σ = 0.5) i.i.d. N×N, drawn row-major from `rng`;
 *  4. W = L ∘ corr_n ∘ S_n;
 *  5–7. scaleLikeWStar: mean 0.1, nonzero floor 0.01, spectral radius 0.95.
 */
export function wStar(input: FunctionalInput, rng: Rng, opts: WStarOptions = {}): Float64Array {
  const n = input.n;
  const relation = opts.relation ?? 'corr-sttc';
  checkSquare('sttc', input.sttc, n);
  const sttcN = minMaxNormalise(mirrorLower(input.sttc, n));
  let other: Float64Array | null = null;
  if (relation === 'corr-sttc') {
    if (!input.corr) throw new Error('wStar: relation corr-sttc needs a corr matrix');
    checkSquare('corr', input.corr, n);
    other = minMaxNormalise(input.corr);
  } else if (relation === 'precision-sttc') {
    const p = input.precision ?? (input.corr ? precisionFromCorrelation(input.corr, n) : null);
    if (!p) throw new Error('wStar: relation precision-sttc needs a precision (or corr) matrix');
    checkSquare('precision', p, n);
    other = minMaxNormalise(p);
  }
  const mu = opts.mu ?? -0.5;
  const sigma = opts.sigma ?? 0.5;
  const w = new Float64Array(n * n);
  for (let k = 0; k < n * n; k++) w[k] = rng.lognormal(mu, sigma) * sttcN[k]! * (other ? other[k]! : 1);
  return scaleLikeWStar(w, n, opts);
}

/** The plain inverse of a correlation matrix (the fallback when no precision is shipped). */
export function precisionFromCorrelation(corr: ArrayLike<number>, n: number): Float64Array {
  return solve(corr, identity(n), n, n);
}

/**
 * W! : a uniformly random simultaneous permutation of rows and columns,
 *   W!_ij = W_{p(i) p(j)},
 * an isomorphic relabelling that keeps every graph property but the alignment of units with
 * neurons (and so with positions and the distance matrix).
 */
export function wBang(w: ArrayLike<number>, n: number, rng: Rng): { W: Float64Array; perm: Int32Array } {
  checkSquare('W', w, n);
  const perm = rng.permutation(n);
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i * n + j] = w[perm[i]! * n + perm[j]!]!;
  return { W: out, perm };
}

/**
 * Anatomical init: EM synapse counts (or V1 synapse sizes) K[post][pre], scaled like W*
 * (mean, floor, spectral radius). `transform` optionally compresses counts first.
 * The paper's abstract names anatomy but its code never initialises from it; we offer it.
 */
export function anatomical(
  k: ArrayLike<number>,
  n: number,
  opts: ScaleOptions & { transform?: 'none' | 'log1p' | 'binary'; symmetric?: boolean } = {},
): Float64Array {
  checkSquare('K', k, n);
  const w = new Float64Array(n * n);
  const f = opts.transform ?? 'none';
  for (let i = 0; i < n * n; i++) {
    const v = k[i]!;
    if (v < 0 || !Number.isFinite(v)) throw new Error(`anatomical: K[${Math.floor(i / n)}][${i % n}] = ${v}; expected a nonnegative count`);
    w[i] = f === 'log1p' ? Math.log1p(v) : f === 'binary' ? (v > 0 ? 1 : 0) : v;
  }
  // The fields' direction is an assumption (see fields.ts); `symmetric` uses K + Kᵀ, which
  // also gives acyclic fields (e.g. 5_3_4) a nonzero spectral radius.
  if (opts.symmetric) {
    for (let i = 0; i < n; i++)
      for (let j = i + 1; j < n; j++) {
        const s = w[i * n + j]! + w[j * n + i]!;
        w[i * n + j] = s;
        w[j * n + i] = s;
      }
  }
  return scaleLikeWStar(w, n, opts);
}

/** Share of the total weight on the diagonal: Σ W_ii / Σ W_ij. */
export function diagonalShare(w: ArrayLike<number>, n: number): number {
  let d = 0,
    s = 0;
  for (let i = 0; i < n; i++) d += w[i * n + i]!;
  for (let k = 0; k < w.length; k++) s += w[k]!;
  return d / s;
}

/**
 * Spectrum-matched random control: positive weights with W*'s mean, diagonal share and
 * spectral radius but none of its structure.
 *   W = a·diag(exp(s·z_i)) + b·O,  O_ij = exp(0.5·g_ij) (i ≠ j), z, g ~ N(0, 1) i.i.d.
 * For each diagonal spread s, a and b are fixed by the mean and the diagonal share; s is then
 * found by bisection so that ρ(W) = ρ(W*) (a wider diagonal spread raises ρ at a fixed mean).
 * Throws if the target radius is outside the reachable range.
 */
export function spectrumMatchedControl(w: ArrayLike<number>, n: number, rng: Rng): Float64Array {
  checkSquare('W*', w, n);
  const targetMean = mean(w);
  const share = diagonalShare(w, n);
  const targetRho = spectralRadiusNonneg(w, n);
  const z = rng.normals(n);
  const off = new Float64Array(n * n);
  let offSum = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++)
      if (i !== j) {
        const v = Math.exp(0.5 * rng.normal());
        off[i * n + j] = v;
        offSum += v;
      }
  const total = targetMean * n * n;
  const build = (s: number) => {
    const diag = Array.from(z, (v) => Math.exp(s * v));
    const dSum = diag.reduce((a, b) => a + b, 0);
    const a = (share * total) / dSum;
    const b = n > 1 ? ((1 - share) * total) / offSum : 0;
    const out = new Float64Array(n * n);
    for (let k = 0; k < n * n; k++) out[k] = b * off[k]!;
    for (let i = 0; i < n; i++) out[i * n + i] = a * diag[i]!;
    return out;
  };
  const gap = (s: number) => perronRoot(build(s), n, 1e-13) - targetRho;
  // Illinois (modified regula falsi) on s ∈ [0, 8]: few Perron-root evaluations
  let lo = 0,
    hi = 8;
  let fLo = gap(lo),
    fHi = gap(hi);
  if (fLo > 1e-9 || fHi < -1e-9) {
    throw new Error(
      `spectrumMatchedControl: ρ(W*) = ${targetRho.toFixed(4)} lies outside the reachable range [${(fLo + targetRho).toFixed(4)}, ${(fHi + targetRho).toFixed(4)}] at this mean and diagonal share`,
    );
  }
  let s = lo;
  let side = 0;
  for (let it = 0; it < 100; it++) {
    s = (lo * fHi - hi * fLo) / (fHi - fLo);
    const f = gap(s);
    if (Math.abs(f) <= 1e-10 * targetRho) break;
    if (f < 0) {
      lo = s;
      fLo = f;
      if (side === -1) fHi /= 2;
      side = -1;
    } else {
      hi = s;
      fHi = f;
      if (side === 1) fLo /= 2;
      side = 1;
    }
  }
  // ρ now matches to ~1e-10 relative; a final rescale would break the mean, so stop here
  return build(s);
}

/** The Keras recurrent kernel U = Wᵀ of an engine matrix. */
export function toKerasKernel(w: ArrayLike<number>, n: number): Float64Array {
  return transpose(w, n, n);
}

function checkSquare(name: string, a: ArrayLike<number>, n: number): void {
  if (a.length !== n * n) throw new Error(`${name}: expected an N×N matrix with N = ${n} (${n * n} entries), got ${a.length}`);
}
