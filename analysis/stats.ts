/**
 * Statistics for comparing runs: t-based confidence intervals, Kruskal–Wallis, Mann–Whitney U
 * and Holm's correction, with the special functions they need. Conventions follow
 * scipy.stats (1.10) so numbers can be checked against it; and the cluster bootstrap and
 * sign-flip test of paired contrasts over seeds.
 */
import { Rng } from '../engine/rng.ts';

// ---------------------------------------------------------------- special functions

const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
  9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos approximation, g = 7, n = 9; reflection below 0.5). */
export function lnGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lnGamma(1 - x);
  const z = x - 1;
  let s = LANCZOS[0]!;
  for (let k = 1; k < 9; k++) s += LANCZOS[k]! / (z + k);
  const t = z + LANCZOS_G + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(s);
}

const EPS = 1e-16;
const TINY = 1e-300;

/**
 * Regularised incomplete beta I_x(a, b) = B(x; a, b) / B(a, b), by the continued fraction
 *   I_x(a,b) = x^a (1−x)^b / (a B(a,b)) · 1/(1+ d1/(1+ d2/(1+ …))),
 *   d_{2k+1} = −(a+k)(a+b+k) x / ((a+2k)(a+2k+1)),  d_{2k} = k(b−k) x / ((a+2k−1)(a+2k)),
 * evaluated with the modified Lentz method; for x > (a+1)/(a+b+2) the symmetry
 * I_x(a,b) = 1 − I_{1−x}(b,a) keeps the fraction in its fast-converging range.
 */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  if (x > (a + 1) / (a + b + 2)) return 1 - regularizedBeta(1 - x, b, a);
  const logFront = a * Math.log(x) + b * Math.log1p(-x) - (lnGamma(a) + lnGamma(b) - lnGamma(a + b)) - Math.log(a);
  // Lentz: f = 1 + d1/(1 + d2/(1 + ...))
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let f = d;
  for (let k = 1; k <= 10000; k++) {
    const even = (k * (b - k) * x) / ((a + 2 * k - 1) * (a + 2 * k));
    d = 1 + even * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + even / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    f *= d * c;
    const odd = (-(a + k) * (a + b + k) * x) / ((a + 2 * k) * (a + 2 * k + 1));
    d = 1 + odd * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + odd / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    f *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return Math.exp(logFront) * f;
}

/**
 * Regularised lower incomplete gamma P(a, x) = γ(a, x) / Γ(a). Series
 *   P = e^{−x} x^a / Γ(a+1) · Σ_k x^k / ((a+1)…(a+k))
 * for x < a + 1, else 1 − Q(a, x) from the continued fraction.
 */
export function regularizedGammaP(a: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= a + 1) return 1 - regularizedGammaQ(a, x);
  let term = 1 / a;
  let sum = term;
  for (let k = 1; k < 100000; k++) {
    term *= x / (a + k);
    sum += term;
    if (Math.abs(term) < Math.abs(sum) * EPS) break;
  }
  return sum * Math.exp(-x + a * Math.log(x) - lnGamma(a));
}

/**
 * Regularised upper incomplete gamma Q(a, x) = Γ(a, x) / Γ(a) = 1 − P(a, x). For x ≥ a + 1 the
 * continued fraction Γ(a,x) = e^{−x} x^a · 1/(x+1−a − 1·(1−a)/(x+3−a − 2·(2−a)/(x+5−a − …)))
 * (modified Lentz), which keeps full relative accuracy far into the tail.
 */
export function regularizedGammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  if (x < a + 1) return 1 - regularizedGammaP(a, x);
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let f = d;
  for (let k = 1; k < 100000; k++) {
    const an = -k * (k - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    f *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return Math.exp(-x + a * Math.log(x) - lnGamma(a)) * f;
}

/** Upper tail of the standard normal, P(Z > z) = ½ erfc(z/√2), with erfc(y) = Q(½, y²) for y ≥ 0. */
export function normalSf(z: number): number {
  if (Number.isNaN(z)) return NaN;
  if (z === Infinity) return 0;
  if (z === -Infinity) return 1;
  const tail = 0.5 * regularizedGammaQ(0.5, (z * z) / 2);
  return z >= 0 ? tail : 1 - tail;
}

/** Standard normal CDF Φ(z) = 1 − P(Z > z). */
export function normalCdf(z: number): number {
  return normalSf(-z);
}

/** Upper tail of χ² with k degrees of freedom: P(X > x) = Q(k/2, x/2). */
export function chiSquareSf(x: number, k: number): number {
  return x <= 0 ? 1 : regularizedGammaQ(k / 2, x / 2);
}

/**
 * Student-t CDF with ν degrees of freedom:
 *   P(T ≤ t) = 1 − ½ I_{ν/(ν+t²)}(ν/2, ½) for t ≥ 0, and ½ I_{ν/(ν+t²)}(ν/2, ½) for t < 0.
 */
export function studentTCdf(t: number, df: number): number {
  const tail = 0.5 * regularizedBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/**
 * Student-t quantile: the t with P(T ≤ t) = p. For p > ½ the upper tail ½ I_{ν/(ν+t²)}(ν/2, ½)
 * = 1 − p is solved by bisection on t (bracket doubled until it holds the root), so far tails
 * (p = 0.9995, ν = 1: t ≈ 636.6) keep full relative accuracy; p < ½ by symmetry.
 */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) {
    if (p === 0) return -Infinity;
    if (p === 1) return Infinity;
    return NaN;
  }
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  const target = 1 - p;
  const upperTail = (t: number) => 0.5 * regularizedBeta(df / (df + t * t), df / 2, 0.5);
  let lo = 0;
  let hi = 1;
  while (upperTail(hi) > target) {
    lo = hi;
    hi *= 2;
  }
  for (let it = 0; it < 200 && hi - lo > 1e-15 * hi; it++) {
    const mid = 0.5 * (lo + hi);
    if (upperTail(mid) > target) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

// ---------------------------------------------------------------- descriptive

export interface MeanCI {
  n: number;
  mean: number;
  /** Sample standard deviation (ddof = 1). */
  sd: number;
  /** Standard error sd / √n. */
  sem: number;
  /** t_{(1+level)/2, n−1}. */
  tCrit: number;
  lo: number;
  hi: number;
  level: number;
}

/**
 * Mean with a t-based confidence interval: mean ± t_{(1+level)/2, n−1} · s/√n, s the sample
 * standard deviation (ddof = 1); as scipy `t.interval(level, n−1, loc=mean, scale=sem)`.
 * With n < 2 the bounds are NaN.
 */
export function meanCI(x: ArrayLike<number>, level = 0.95): MeanCI {
  const { n, mean, variance } = meanVar(x);
  const sd = Math.sqrt(variance);
  const sem = sd / Math.sqrt(n);
  const tCrit = n > 1 ? studentTQuantile((1 + level) / 2, n - 1) : NaN;
  return { n, mean, sd, sem, tCrit, lo: mean - tCrit * sem, hi: mean + tCrit * sem, level };
}

/**
 * Ranks 1..n with ties given their average rank (scipy `rankdata`, method 'average'), and the
 * tie term Σ (t³ − t) over groups of t tied values.
 */
export function rankWithTies(x: ArrayLike<number>): { ranks: Float64Array; tieTerm: number } {
  const n = x.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => x[i]! - x[j]!);
  const ranks = new Float64Array(n);
  let tieTerm = 0;
  for (let start = 0; start < n;) {
    let end = start + 1;
    while (end < n && x[order[end]!] === x[order[start]!]) end++;
    const avg = (start + 1 + end) / 2; // mean of ranks start+1 .. end
    for (let k = start; k < end; k++) ranks[order[k]!] = avg;
    const t = end - start;
    tieTerm += t * t * t - t;
    start = end;
  }
  return { ranks, tieTerm };
}

// ---------------------------------------------------------------- Kruskal–Wallis

export interface KruskalResult {
  H: number;
  df: number;
  p: number;
  n: number[];
}

/**
 * Kruskal–Wallis H test of k groups (N values in all, R_i the rank sum of group i):
 *   H = [12 / (N(N+1)) Σ R_i² / n_i − 3(N+1)] / [1 − Σ(t³ − t) / (N³ − N)],
 * the denominator correcting for ties; p = P(χ²_{k−1} > H) (scipy `kruskal`).
 */
export function kruskalWallis(groups: ReadonlyArray<ArrayLike<number>>): KruskalResult {
  const sizes = groups.map((g) => g.length);
  if (groups.length < 2) throw new Error('kruskalWallis: need at least two groups');
  if (sizes.some((s) => s === 0)) throw new Error('kruskalWallis: empty group');
  const all: number[] = [];
  for (const g of groups) for (let k = 0; k < g.length; k++) all.push(g[k]!);
  const N = all.length;
  const { ranks, tieTerm } = rankWithTies(all);
  let sumTerm = 0;
  let offset = 0;
  for (const s of sizes) {
    let r = 0;
    for (let k = 0; k < s; k++) r += ranks[offset + k]!;
    sumTerm += (r * r) / s;
    offset += s;
  }
  const tieCorrection = 1 - tieTerm / (N * N * N - N);
  const H = ((12 / (N * (N + 1))) * sumTerm - 3 * (N + 1)) / tieCorrection;
  const df = groups.length - 1;
  return { H, df, p: chiSquareSf(H, df), n: sizes };
}

export interface FactorTest extends KruskalResult {
  /** Levels of the other factors held fixed for this test. */
  fixed: Record<string, string | number>;
  /** Levels of the tested factor, in the order of `n`. */
  levels: Array<string | number>;
}

/**
 * Kruskal–Wallis per factor with the other factors held fixed: the rows are split by every
 * combination of levels of `others`; within each cell the values of `value` are grouped by
 * the level of `factor` and tested. Cells with fewer than two non-empty levels are skipped.
 */
export function kruskalWallisByFactor(
  rows: ReadonlyArray<Record<string, string | number>>,
  factor: string,
  value: string,
  others: readonly string[],
): FactorTest[] {
  const cells = new Map<string, { fixed: Record<string, string | number>; byLevel: Map<string | number, number[]> }>();
  for (const row of rows) {
    const fixed: Record<string, string | number> = {};
    for (const o of others) fixed[o] = row[o]!;
    const key = JSON.stringify(others.map((o) => row[o]));
    let cell = cells.get(key);
    if (!cell) cells.set(key, (cell = { fixed, byLevel: new Map() }));
    const level = row[factor]!;
    const v = Number(row[value]);
    let list = cell.byLevel.get(level);
    if (!list) cell.byLevel.set(level, (list = []));
    list.push(v);
  }
  const out: FactorTest[] = [];
  for (const { fixed, byLevel } of cells.values()) {
    if (byLevel.size < 2) continue;
    const levels = [...byLevel.keys()];
    out.push({ ...kruskalWallis(levels.map((l) => byLevel.get(l)!)), fixed, levels });
  }
  return out;
}

// ---------------------------------------------------------------- Mann–Whitney U

export interface MannWhitneyResult {
  /** U of the first sample: R_1 − n_1(n_1+1)/2 (scipy's reported statistic). */
  U1: number;
  /** n_1 n_2 − U1. */
  U2: number;
  /** Two-sided p-value. */
  p: number;
  method: 'exact' | 'asymptotic';
}

/**
 * Null distribution of U for samples of sizes m and n without ties: counts[k] = number of
 * the C(m+n, m) orderings with U = k, from f(i, j, k) = f(i−1, j, k−j) + f(i, j−1, k)
 * (Mann & Whitney 1947), built column by column over j with i ≤ min(m, n).
 */
export function mannWhitneyCounts(m: number, n: number): Float64Array {
  const small = Math.min(m, n);
  const large = Math.max(m, n);
  // layer[i] holds f(i, j, ·) for the current j, of length i·j + 1
  let layer: Float64Array[] = [];
  for (let i = 0; i <= small; i++) layer.push(Float64Array.of(1)); // j = 0: only U = 0
  for (let j = 1; j <= large; j++) {
    const next: Float64Array[] = [Float64Array.of(1)];
    for (let i = 1; i <= small; i++) {
      const f = new Float64Array(i * j + 1);
      const left = next[i - 1]!; // f(i−1, j, ·)
      const prev = layer[i]!; // f(i, j−1, ·)
      for (let k = 0; k < prev.length; k++) f[k] = prev[k]!;
      for (let k = 0; k < left.length; k++) f[k + j]! += left[k]!;
      next.push(f);
    }
    layer = next;
  }
  return layer[small]!;
}

/**
 * Two-sided Mann–Whitney U test, as scipy `mannwhitneyu(x, y, alternative='two-sided')`.
 * U1 = R_1 − n_1(n_1+1)/2, U = max(U1, n_1 n_2 − U1), and p = min(1, 2·P(U' ≥ U)).
 * 'exact' uses the null distribution of U (no ties); 'asymptotic' uses
 *   z = (U − n_1 n_2/2 − ½) / sqrt(n_1 n_2/12 · ((n+1) − Σ(t³−t)/(n(n−1))))
 * with the continuity correction ½ and the tie correction. 'auto' (scipy's default) is
 * exact when either sample has at most 8 values and there are no ties, else asymptotic.
 */
export function mannWhitneyU(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  opts: { method?: 'auto' | 'exact' | 'asymptotic'; continuity?: boolean } = {},
): MannWhitneyResult {
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) throw new Error('mannWhitneyU: empty sample');
  const all = [...Array.from(x), ...Array.from(y)];
  const { ranks, tieTerm } = rankWithTies(all);
  let R1 = 0;
  for (let k = 0; k < n1; k++) R1 += ranks[k]!;
  const U1 = R1 - (n1 * (n1 + 1)) / 2;
  const U2 = n1 * n2 - U1;
  const U = Math.max(U1, U2);
  let method = opts.method ?? 'auto';
  if (method === 'auto') method = (n1 > 8 && n2 > 8) || tieTerm > 0 ? 'asymptotic' : 'exact';
  let p: number;
  if (method === 'exact') {
    const counts = mannWhitneyCounts(n1, n2);
    // P(U' ≥ U) = P(U' ≤ n1 n2 − U) by symmetry; sum the smaller side from the left
    const kMax = n1 * n2 - Math.round(U);
    let below = 0;
    let total = 0;
    for (let k = 0; k < counts.length; k++) {
      total += counts[k]!;
      if (k <= kMax) below += counts[k]!;
    }
    p = (2 * below) / total;
  } else {
    const n = n1 + n2;
    const s = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
    let num = U - (n1 * n2) / 2;
    if (opts.continuity ?? true) num -= 0.5;
    p = 2 * normalSf(num / s);
  }
  return { U1, U2, p: Math.min(1, Math.max(0, p)), method };
}

// ---------------------------------------------------------------- multiple comparisons

/**
 * Holm–Bonferroni step-down adjustment of m p-values: sort ascending p_(1) ≤ … ≤ p_(m);
 *   p̃_(i) = max_{j ≤ i} min(1, (m − j + 1) p_(j)),
 * returned in the input order. Reject at level α where p̃ ≤ α.
 */
export function holmAdjust(p: ArrayLike<number>): Float64Array {
  const m = p.length;
  const order = Array.from({ length: m }, (_, i) => i).sort((i, j) => p[i]! - p[j]!);
  const out = new Float64Array(m);
  let running = 0;
  order.forEach((i, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p[i]!));
    out[i] = running;
  });
  return out;
}

export interface PairwiseResult {
  a: string;
  b: string;
  U1: number;
  p: number;
  /** Holm-adjusted over all pairs of this call. */
  pHolm: number;
  method: 'exact' | 'asymptotic';
}

/** Mann–Whitney U for every pair of groups (in insertion order), Holm-corrected over the pairs. */
export function pairwiseMannWhitney(groups: Record<string, ArrayLike<number>>): PairwiseResult[] {
  const names = Object.keys(groups);
  const out: Omit<PairwiseResult, 'pHolm'>[] = [];
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      const r = mannWhitneyU(groups[names[i]!]!, groups[names[j]!]!);
      out.push({ a: names[i]!, b: names[j]!, U1: r.U1, p: r.p, method: r.method });
    }
  }
  const adjusted = holmAdjust(out.map((r) => r.p));
  return out.map((r, k) => ({ ...r, pHolm: adjusted[k]! }));
}

export interface BootstrapCI {
  estimate: number;
  lo: number;
  hi: number;
  level: number;
  /** Clusters (e.g. seeds) the estimate rests on. */
  clusters: number;
}

/**
 * Cluster bootstrap of the mean: the estimate is the mean of all values; the interval is the
 * percentile interval of that mean over `resamples` draws of the clusters with replacement
 * (values of one seed move together). Seeded, so a report is reproducible. NaN bounds with
 * fewer than 2 clusters.
 */
export function clusterBootstrapMean(clusters: ReadonlyArray<ArrayLike<number>>, o: { resamples?: number; level?: number; seed?: number } = {}): BootstrapCI {
  const level = o.level ?? 0.95;
  const sums = clusters.map((c) => Array.from(c).reduce((a, b) => a + b, 0));
  const counts = clusters.map((c) => c.length);
  const total = counts.reduce((a, b) => a + b, 0);
  const estimate = total ? sums.reduce((a, b) => a + b, 0) / total : NaN;
  const k = clusters.length;
  if (k < 2) return { estimate, lo: NaN, hi: NaN, level, clusters: k };
  const rng = new Rng(o.seed ?? 1, 'bootstrap');
  const B = o.resamples ?? 10000;
  const means = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    let s = 0;
    let n = 0;
    for (let i = 0; i < k; i++) {
      const j = rng.int(k);
      s += sums[j]!;
      n += counts[j]!;
    }
    means[b] = n ? s / n : NaN;
  }
  means.sort();
  const q = (p: number) => means[Math.min(B - 1, Math.max(0, Math.floor(p * B)))]!;
  return { estimate, lo: q((1 - level) / 2), hi: q((1 + level) / 2), level, clusters: k };
}

/**
 * Sign-flip permutation test of H0: the per-cluster mean differences d_i are symmetric about 0
 * (two-sided): p = fraction of the 2^k sign patterns whose |mean| ≥ the observed |mean|
 * (exact up to k = 16 clusters, else 2^16 random patterns). With k clusters the smallest
 * attainable p is 2/2^k: three seeds can never reach p < 0.25.
 */
export function signFlipTest(d: ArrayLike<number>, seed = 1): number {
  const k = d.length;
  if (!k) return NaN;
  const obs = Math.abs(Array.from(d).reduce((a, b) => a + b, 0));
  const exact = k <= 16;
  const patterns = exact ? 2 ** k : 2 ** 16;
  const rng = new Rng(seed, 'sign-flip');
  let hits = 0;
  for (let m = 0; m < patterns; m++) {
    let s = 0;
    for (let i = 0; i < k; i++) {
      const neg = exact ? (m >> i) & 1 : rng.int(2);
      s += neg ? -d[i]! : d[i]!;
    }
    if (Math.abs(s) >= obs - 1e-12) hits++;
  }
  return hits / patterns;
}

/** Up to this many clusters the one-sided sign-flip test enumerates every sign pattern. */
export const SIGN_FLIP_EXACT_MAX = 20;
/** Random sign patterns of the one-sided sign-flip test above SIGN_FLIP_EXACT_MAX clusters. */
export const SIGN_FLIP_DRAWS = 200_000;

/**
 * One-sided sign-flip permutation test of H0: the per-cluster mean differences d_i are symmetric
 * about 0, against the alternative that they lie `side` of it ('above': mean > 0; 'below': the
 * mirror). With x_i = d_i for 'above' and −d_i for 'below', x̄ the observed mean and ε ∈ {±1}^k:
 *   p = #{ε : mean(ε_i x_i) ≥ x̄} / 2^k,
 * the observed pattern (all +1) included, so p ≥ 2^−k: five clusters are the fewest that can
 * reach p < 0.05 (1/32). A pattern whose mean is within 1e-12 · max|d| of x̄ counts as ≥, so
 * exact ties are not lost to rounding. Exact (all 2^k patterns) for k ≤ SIGN_FLIP_EXACT_MAX = 20;
 * above that a seeded Monte Carlo of SIGN_FLIP_DRAWS random patterns, p = (1 + hits) / (1 + draws),
 * the observed pattern counted once so that p is never 0. NaN for no clusters.
 */
export function signFlipTestOneSided(d: ArrayLike<number>, side: 'above' | 'below' = 'above', seed = 1): number {
  const k = d.length;
  if (!k) return NaN;
  const x = Array.from(d, (v) => (side === 'above' ? v : -v));
  const observed = x.reduce((a, b) => a + b, 0);
  // a pattern ties when its mean is within 1e-12·max|d| of x̄: compared as sums, k times that
  const lowestCounted = observed - k * 1e-12 * Math.max(...x.map(Math.abs));
  const exact = k <= SIGN_FLIP_EXACT_MAX;
  const patterns = exact ? 2 ** k : SIGN_FLIP_DRAWS;
  const rng = new Rng(seed, 'sign-flip-one-sided');
  let hits = 0;
  for (let m = 0; m < patterns; m++) {
    let s = 0;
    for (let i = 0; i < k; i++) s += (exact ? (m >> i) & 1 : rng.int(2)) ? -x[i]! : x[i]!;
    if (s >= lowestCounted) hits++;
  }
  if (exact) return hits / patterns;
  return (1 + hits) / (1 + SIGN_FLIP_DRAWS);
}

// ---------------------------------------------------------------- two-sample comparison and OLS

/** Two-sided p of a Student-t statistic: P(|T| ≥ |t|) = I_{ν/(ν+t²)}(ν/2, ½), exact far into the tails. */
function studentTTwoSidedP(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) return NaN;
  if (!Number.isFinite(t)) return 0;
  return Math.min(1, regularizedBeta(df / (df + t * t), df / 2, 0.5));
}

/** Sample mean and variance (ddof = 1) of x. */
function meanVar(x: ArrayLike<number>): { n: number; mean: number; variance: number } {
  const n = x.length;
  let mean = 0;
  for (let k = 0; k < n; k++) mean += x[k]!;
  mean /= n;
  let ss = 0;
  for (let k = 0; k < n; k++) ss += (x[k]! - mean) ** 2;
  return { n, mean, variance: n > 1 ? ss / (n - 1) : NaN };
}

export interface WelchTTest {
  /** (x̄_a − x̄_b) / √(s_a²/n_a + s_b²/n_b). */
  t: number;
  /** Welch–Satterthwaite degrees of freedom. */
  df: number;
  /** Two-sided p. */
  p: number;
  nA: number;
  nB: number;
  meanA: number;
  meanB: number;
}

/**
 * Welch's two-sample t-test (unequal variances), two-sided, as scipy
 * `ttest_ind(a, b, equal_var=False)`. With s² the sample variances (ddof = 1):
 *   t = (x̄_a − x̄_b) / √(s_a²/n_a + s_b²/n_b),
 *   ν = (s_a²/n_a + s_b²/n_b)² / [(s_a²/n_a)²/(n_a − 1) + (s_b²/n_b)²/(n_b − 1)],
 *   p = P(|T_ν| ≥ |t|).
 * NaN with fewer than two values in either sample. Both variances 0: t = ±∞ and p = 0 when the
 * means differ, NaN when they are equal (scipy's answers there).
 */
export function welchTTest(a: ArrayLike<number>, b: ArrayLike<number>): WelchTTest {
  const A = meanVar(a);
  const B = meanVar(b);
  const base = { nA: A.n, nB: B.n, meanA: A.mean, meanB: B.mean };
  if (A.n < 2 || B.n < 2) return { t: NaN, df: NaN, p: NaN, ...base };
  const va = A.variance / A.n;
  const vb = B.variance / B.n;
  const t = (A.mean - B.mean) / Math.sqrt(va + vb);
  if (va + vb === 0) return { t, df: NaN, p: Number.isNaN(t) ? NaN : 0, ...base };
  const df = (va + vb) ** 2 / (va ** 2 / (A.n - 1) + vb ** 2 / (B.n - 1));
  return { t, df, p: studentTTwoSidedP(t, df), ...base };
}

/**
 * Cohen's d with the pooled standard deviation:
 *   d = (x̄_a − x̄_b) / s_p,  s_p = √[((n_a − 1) s_a² + (n_b − 1) s_b²) / (n_a + n_b − 2)],
 * s² the sample variances (ddof = 1). NaN when either sample is empty or n_a + n_b < 3; ±∞ when
 * s_p = 0 and the means differ.
 */
export function cohensD(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const A = meanVar(a);
  const B = meanVar(b);
  if (!A.n || !B.n || A.n + B.n < 3) return NaN;
  const ss = (A.n > 1 ? (A.n - 1) * A.variance : 0) + (B.n > 1 ? (B.n - 1) * B.variance : 0);
  return (A.mean - B.mean) / Math.sqrt(ss / (A.n + B.n - 2));
}

export interface TwoSampleBootstrapCI {
  /** The statistic of the samples themselves. */
  estimate: number;
  lo: number;
  hi: number;
  level: number;
  /** Resamples whose statistic was not NaN (the interval's basis). */
  resamples: number;
}

/**
 * Percentile bootstrap of a two-sample statistic: each of `resamples` draws resamples a and b
 * with replacement, each within itself (the groups stay apart, their sizes fixed); the interval
 * is the (1 ∓ level)/2 percentiles of the statistic over the draws (sorted[⌊q·B⌋], as
 * clusterBootstrapMean). Draws whose statistic is NaN (e.g. a draw of identical values) are left
 * out. Seeded, so a report is reproducible. NaN bounds when either sample has fewer than 2 values.
 */
export function twoSampleBootstrap(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  statistic: (a: number[], b: number[]) => number,
  o: { resamples?: number; level?: number; seed?: number } = {},
): TwoSampleBootstrapCI {
  const level = o.level ?? 0.95;
  const xa = Array.from(a);
  const xb = Array.from(b);
  const estimate = statistic(xa, xb);
  if (xa.length < 2 || xb.length < 2) return { estimate, lo: NaN, hi: NaN, level, resamples: 0 };
  const rng = new Rng(o.seed ?? 1, 'two-sample-bootstrap');
  const draw = (x: number[]) => x.map(() => x[rng.int(x.length)]!);
  const stats: number[] = [];
  for (let k = 0; k < (o.resamples ?? 10000); k++) {
    const s = statistic(draw(xa), draw(xb));
    if (!Number.isNaN(s)) stats.push(s);
  }
  const B = stats.length;
  if (!B) return { estimate, lo: NaN, hi: NaN, level, resamples: 0 };
  stats.sort((x, y) => x - y);
  const q = (p: number) => stats[Math.min(B - 1, Math.max(0, Math.floor(p * B)))]!;
  return { estimate, lo: q((1 - level) / 2), hi: q((1 + level) / 2), level, resamples: B };
}

/** Cohen's d (cohensD) with its percentile bootstrap interval, resampling within each sample. */
export function cohensDBootstrap(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  o: { resamples?: number; level?: number; seed?: number } = {},
): TwoSampleBootstrapCI {
  return twoSampleBootstrap(a, b, cohensD, o);
}

export interface OlsFit {
  /** β̂ = (XᵀX)⁻¹Xᵀy, one per column of X. */
  coef: number[];
  /** √(s² [(XᵀX)⁻¹]_jj), s² = RSS / (n − p). */
  se: number[];
  /** β̂_j / se_j. */
  t: number[];
  /** Two-sided p of t_j against Student t with n − p degrees of freedom. */
  p: number[];
  df: number;
  n: number;
  rss: number;
}

/** (M)⁻¹ of a small symmetric positive semi-definite matrix by Gauss–Jordan with partial pivoting; null when singular. */
function invertSmall(M: number[][]): number[][] | null {
  const p = M.length;
  const scale = Math.max(...M.map((row, i) => Math.abs(row[i]!)));
  const A = M.map((row, i) => [...row, ...Array.from({ length: p }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < p; c++) {
    let piv = c;
    for (let r = c + 1; r < p; r++) if (Math.abs(A[r]![c]!) > Math.abs(A[piv]![c]!)) piv = r;
    // a pivot lost to rounding means a column is a combination of the others
    if (!(Math.abs(A[piv]![c]!) > 1e-12 * scale)) return null;
    [A[c], A[piv]] = [A[piv]!, A[c]!];
    const pivot = A[c]![c]!;
    for (let j = 0; j < 2 * p; j++) A[c]![j]! /= pivot;
    for (let r = 0; r < p; r++) {
      if (r === c) continue;
      const f = A[r]![c]!;
      for (let j = 0; j < 2 * p; j++) A[r]![j]! -= f * A[c]![j]!;
    }
  }
  return A.map((row) => row.slice(p));
}

/**
 * Ordinary least squares y ~ X (X row-major, n rows of p columns; include a column of ones for
 * an intercept) by the normal equations, β̂ = (XᵀX)⁻¹Xᵀy, with the textbook standard errors
 * se_j = √(s² [(XᵀX)⁻¹]_jj), s² = Σ(y − Xβ̂)² / (n − p), t_j = β̂_j / se_j and two-sided p from
 * Student t with n − p degrees of freedom. Meant for a handful of columns. All NaN when XᵀX is
 * singular (a column is a combination of the others, e.g. a constant covariate beside the
 * intercept); se, t and p NaN when n ≤ p.
 */
export function olsFit(X: ReadonlyArray<ArrayLike<number>>, y: ArrayLike<number>): OlsFit {
  const n = X.length;
  const p = n ? X[0]!.length : 0;
  if (y.length !== n) throw new Error(`olsFit: ${n} rows of X but ${y.length} values of y`);
  const df = n - p;
  const XtX = Array.from({ length: p }, (_, i) => Array.from({ length: p }, (_, j) => X.reduce((s, row) => s + row[i]! * row[j]!, 0)));
  const Xty = Array.from({ length: p }, (_, i) => X.reduce((s, row, k) => s + row[i]! * y[k]!, 0));
  const inv = p ? invertSmall(XtX) : null;
  const nan = () => new Array<number>(p).fill(NaN);
  if (!inv) return { coef: nan(), se: nan(), t: nan(), p: nan(), df, n, rss: NaN };
  const coef = inv.map((row) => row.reduce((s, v, j) => s + v * Xty[j]!, 0));
  const rss = X.reduce((s, row, k) => s + (y[k]! - coef.reduce((f, b, j) => f + b * row[j]!, 0)) ** 2, 0);
  const s2 = df > 0 ? rss / df : NaN;
  const se = inv.map((row, j) => Math.sqrt(s2 * row[j]!));
  const t = coef.map((b, j) => b / se[j]!);
  return { coef, se, t, p: t.map((tj) => studentTTwoSidedP(tj, df)), df, n, rss };
}
