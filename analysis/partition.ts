/**
 * How one partition of a network's neurons relates to another labelling of the same neurons:
 * normalised mutual information, the adjusted Rand index, and a permutation p-value for each.
 * A partition or labelling is any array of integer labels, one per neuron; label values carry
 * no meaning beyond equality.
 */
import { Rng } from '../engine/rng.ts';

/** Contingency table of two labellings: counts[i*nb + j] neurons with label i in a and j in b. */
interface Contingency {
  counts: Float64Array;
  rows: Float64Array;
  cols: Float64Array;
  n: number;
}

/** Maps arbitrary labels to 0..k−1 in order of first appearance. */
function denseLabels(labels: ArrayLike<number>): { dense: Int32Array; k: number } {
  const index = new Map<number, number>();
  const dense = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    let c = index.get(labels[i]!);
    if (c === undefined) index.set(labels[i]!, (c = index.size));
    dense[i] = c;
  }
  return { dense, k: index.size };
}

function contingency(a: Int32Array, ka: number, b: Int32Array, kb: number): Contingency {
  const counts = new Float64Array(ka * kb);
  const rows = new Float64Array(ka);
  const cols = new Float64Array(kb);
  for (let i = 0; i < a.length; i++) {
    counts[a[i]! * kb + b[i]!]! += 1;
    rows[a[i]!]! += 1;
    cols[b[i]!]! += 1;
  }
  return { counts, rows, cols, n: a.length };
}

function checkLengths(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  if (a.length !== b.length) throw new Error(`${what}: expected two labellings of the same neurons, got ${a.length} and ${b.length} labels`);
  if (a.length === 0) throw new Error(`${what}: expected at least one neuron, got none`);
}

/** Shannon entropy in nats of a distribution given by counts summing to n. */
function entropyOfCounts(counts: Float64Array, n: number): number {
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / n) * Math.log(c / n);
  return h;
}

/** I(A; B) = Σ_ij (n_ij/n) ln(n·n_ij / (a_i b_j)), in nats. */
function mutualInfoOf(t: Contingency): number {
  const kb = t.cols.length;
  let mi = 0;
  for (let i = 0; i < t.rows.length; i++)
    for (let j = 0; j < kb; j++) {
      const c = t.counts[i * kb + j]!;
      if (c > 0) mi += (c / t.n) * Math.log((t.n * c) / (t.rows[i]! * t.cols[j]!));
    }
  return Math.max(0, mi);
}

/**
 * NMI(A, B) = I(A; B) / ((H(A) + H(B)) / 2), the arithmetic normalisation (scikit-learn's
 * `normalized_mutual_info_score` default). 1 when both labellings put every neuron in one class
 * (nothing split, a perfect match), 0 when I = 0 otherwise. Range [0, 1].
 */
function nmiOf(t: Contingency): number {
  if (t.rows.length === 1 && t.cols.length === 1) return 1;
  const mi = mutualInfoOf(t);
  if (mi === 0) return 0;
  return Math.min(1, mi / ((entropyOfCounts(t.rows, t.n) + entropyOfCounts(t.cols, t.n)) / 2));
}

const pairs = (x: number) => (x * (x - 1)) / 2;

/**
 * Adjusted Rand index (Hubert & Arabie 1985): with n_ij the contingency counts, a_i and b_j its
 * margins and E = Σ C(a_i,2) Σ C(b_j,2) / C(n,2),
 *   ARI = (Σ C(n_ij,2) − E) / (½[Σ C(a_i,2) + Σ C(b_j,2)] − E).
 * 1 for identical partitions, about 0 for independent ones, negative below chance. When the
 * denominator vanishes (both labellings all in one class, or all singletons) the two are equal
 * and ARI = 1, as scikit-learn's `adjusted_rand_score`.
 */
function ariOf(t: Contingency): number {
  let sumIj = 0;
  for (const c of t.counts) sumIj += pairs(c);
  let sumA = 0;
  let sumB = 0;
  for (const a of t.rows) sumA += pairs(a);
  for (const b of t.cols) sumB += pairs(b);
  const expected = (sumA * sumB) / pairs(t.n);
  const denom = (sumA + sumB) / 2 - expected;
  if (denom === 0) return 1;
  return (sumIj - expected) / denom;
}

function table(a: ArrayLike<number>, b: ArrayLike<number>, what: string): Contingency {
  checkLengths(a, b, what);
  const da = denseLabels(a);
  const db = denseLabels(b);
  return contingency(da.dense, da.k, db.dense, db.k);
}

/** Mutual information I(A; B) in nats (scikit-learn's `mutual_info_score`). */
export function mutualInformation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return mutualInfoOf(table(a, b, 'mutualInformation'));
}

/** Normalised mutual information, arithmetic mean of the entropies (see `nmiOf`). */
export function normalizedMutualInfo(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return nmiOf(table(a, b, 'normalizedMutualInfo'));
}

/** Adjusted Rand index (see `ariOf`). */
export function adjustedRandIndex(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return ariOf(table(a, b, 'adjustedRandIndex'));
}

export interface PartitionAgreement {
  nmi: number;
  ari: number;
  /** Permutation p of the NMI: (1 + #{shuffles with NMI ≥ observed}) / (1 + shuffles). */
  p_nmi: number;
  /** Permutation p of the ARI, from the same shuffles. */
  p_ari: number;
  shuffles: number;
}

/**
 * NMI and ARI of `modules` against `labels`, each with a one-sided permutation p-value: the
 * labels are shuffled across neurons `shuffles` times (seeded), which keeps both partitions'
 * class sizes and breaks only their correspondence, and
 *   p = (1 + #{shuffles with statistic ≥ observed}) / (1 + shuffles)
 * (Phipson & Smyth 2010: never 0, exact under the null). A tolerance of 1e-12 counts ties as ≥.
 */
export function partitionAgreement(modules: ArrayLike<number>, labels: ArrayLike<number>, rng: Rng, shuffles = 1000): PartitionAgreement {
  if (!Number.isInteger(shuffles) || shuffles < 1) throw new Error(`partitionAgreement: shuffles: expected a positive integer, got ${shuffles}`);
  checkLengths(modules, labels, 'partitionAgreement');
  const m = denseLabels(modules);
  const l = denseLabels(labels);
  const observed = contingency(m.dense, m.k, l.dense, l.k);
  const nmi = nmiOf(observed);
  const ari = ariOf(observed);
  let aboveNmi = 0;
  let aboveAri = 0;
  const shuffled = Int32Array.from(l.dense);
  for (let s = 0; s < shuffles; s++) {
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const t = shuffled[i]!;
      shuffled[i] = shuffled[j]!;
      shuffled[j] = t;
    }
    const t = contingency(m.dense, m.k, shuffled, l.k);
    if (nmiOf(t) >= nmi - 1e-12) aboveNmi++;
    if (ariOf(t) >= ari - 1e-12) aboveAri++;
  }
  return { nmi, ari, p_nmi: (1 + aboveNmi) / (1 + shuffles), p_ari: (1 + aboveAri) / (1 + shuffles), shuffles };
}
