/**
 * Functional analyses of a trained network's activity (the seRNN paper's functional findings):
 * what each unit codes, whether units that code alike sit close together, and what the activity
 * costs. One function per measure, its formula in the doc comment.
 *
 * Input throughout: `activity`, row-major [trials, N], one value per unit and trial (for example
 * the unit's mean rate over a trial period), and per-trial labels of a task variable.
 */
import { Rng } from '../engine/rng.ts';

/**
 * One-way η² of a unit's activity by a categorical variable:
 *   η² = Σ_g n_g (x̄_g − x̄)² / Σ_k (x_k − x̄)²
 * the share of the unit's trial-to-trial variance that the variable explains (0 for a constant unit).
 */
export function etaSquared(x: ArrayLike<number>, groups: ArrayLike<number>): number {
  const n = x.length;
  if (groups.length !== n) throw new Error(`etaSquared: ${n} values but ${groups.length} labels`);
  let mean = 0;
  for (let k = 0; k < n; k++) mean += x[k]!;
  mean /= n;
  const sum = new Map<number, { s: number; c: number }>();
  let ssTotal = 0;
  for (let k = 0; k < n; k++) {
    const d = x[k]! - mean;
    ssTotal += d * d;
    const g = sum.get(groups[k]!) ?? { s: 0, c: 0 };
    g.s += x[k]!;
    g.c += 1;
    sum.set(groups[k]!, g);
  }
  if (!(ssTotal > 1e-20 * Math.max(1, n * mean * mean))) return 0;
  let ssBetween = 0;
  for (const { s, c } of sum.values()) ssBetween += c * (s / c - mean) ** 2;
  return Math.min(1, ssBetween / ssTotal);
}

/**
 * Partial η² of a variable beyond another: the share of the variance that `groups` explains once
 * `within` is known,
 *   η²(g | w) = (SS_between(g × w cells) − SS_between(w)) / SS_total.
 * Needed when two task variables are confounded (in the inference task, the options pair hints
 * at the goal): only what a variable adds counts as coding it.
 */
export function partialEtaSquared(x: ArrayLike<number>, groups: ArrayLike<number>, within: ArrayLike<number>): number {
  const cells = Float64Array.from({ length: x.length }, (_, k) => within[k]! * 1e6 + groups[k]!);
  return Math.max(0, etaSquared(x, cells) - etaSquared(x, within));
}

/** A unit codes a variable when the variable explains at least this share of its variance (η²). */
export const CODING_ETA2 = 0.1;

export interface UnitTuning {
  /** η² of each unit by variable a, and partial η² by variable b beyond a. */
  etaA: Float64Array;
  etaB: Float64Array;
  /** Units whose activity varies across trials (in either window). */
  active: Uint8Array;
}

/**
 * Tuning of every unit to two task variables: η² by `a` of `activityA` (a window where only a is
 * known), and partial η² by `b` beyond `a` of `activityB` (a window where both are). Activities
 * are [trials, N]; labels one per trial.
 */
export function unitTuning(activityA: ArrayLike<number>, activityB: ArrayLike<number>, n: number, a: ArrayLike<number>, b: ArrayLike<number>): UnitTuning {
  const trials = a.length;
  for (const act of [activityA, activityB])
    if (act.length !== trials * n) throw new Error(`unitTuning: activity has ${act.length} values, expected ${trials} trials × ${n} units`);
  const etaA = new Float64Array(n);
  const etaB = new Float64Array(n);
  const active = new Uint8Array(n);
  const xa = new Float64Array(trials);
  const xb = new Float64Array(trials);
  const varies = (x: Float64Array) => Math.max(...x) - Math.min(...x) > 1e-9;
  for (let j = 0; j < n; j++) {
    for (let k = 0; k < trials; k++) {
      xa[k] = activityA[k * n + j]!;
      xb[k] = activityB[k * n + j]!;
    }
    const va = varies(xa);
    const vb = varies(xb);
    if (!va && !vb) continue;
    active[j] = 1;
    etaA[j] = va ? etaSquared(xa, a) : 0;
    etaB[j] = vb ? partialEtaSquared(xb, b, a) : 0;
  }
  return { etaA, etaB, active };
}

/**
 * Mixed selectivity: the share of active units that code both variables,
 *   #{j active : η²_a(j) ≥ θ and η²_b(j) ≥ θ} / #{j active},  θ = CODING_ETA2.
 * 0 when no unit is active.
 */
export function mixedSelectivity(t: UnitTuning, theta = CODING_ETA2): number {
  let act = 0;
  let both = 0;
  for (let j = 0; j < t.active.length; j++) {
    if (!t.active[j]) continue;
    act++;
    if (t.etaA[j]! >= theta && t.etaB[j]! >= theta) both++;
  }
  return act ? both / act : 0;
}

/**
 * Coding preference of each unit that codes at least one variable (NaN for the others):
 *   p_j = (η²_a − η²_b) / (η²_a + η²_b) ∈ [−1, 1]   (+1: codes only a, −1: only b).
 */
export function codingPreference(t: UnitTuning, theta = CODING_ETA2): Float64Array {
  const p = new Float64Array(t.active.length).fill(NaN);
  for (let j = 0; j < p.length; j++) {
    const a = t.etaA[j]!;
    const b = t.etaB[j]!;
    if (t.active[j] && (a >= theta || b >= theta)) p[j] = (a - b) / (a + b);
  }
  return p;
}

export interface Colocalisation {
  /**
   * r = corr(|p_i − p_j|, d_ij) over pairs of coding units: positive when units with similar
   * preferences sit closer together than units with different ones. NaN with fewer than 3 coding units.
   */
  r: number;
  /** One-sided permutation p of r (preferences shuffled over the coding units' positions). */
  p: number;
  /** Coding units compared. */
  units: number;
}

/** Pearson correlation of two equal-length arrays (NaN when either is constant). */
function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let k = 0; k < n; k++) {
    mx += x[k]!;
    my += y[k]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let k = 0; k < n; k++) {
    const a = x[k]! - mx;
    const b = y[k]! - my;
    sxy += a * b;
    sxx += a * a;
    syy += b * b;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
}

/** Selectivity in one window of steps [start, end): its correlation r across units, and the units it used. */
export interface WindowSelectivity {
  start: number;
  end: number;
  r: number;
  units: number;
}

/**
 * Mixed selectivity as the seRNN authors measure it: in each window of `width` steps, the
 * share of each unit's trial-to-trial variance of its window-mean rate explained by variable a
 * and by variable b (one-way η² of each), and the Pearson correlation of the two across the
 * units active in the window:
 *   r_w = corr_j( η²_a(j, w), η²_b(j, w) )
 * r > 0: the units that code one variable also code the other (mixed selectivity); r < 0: units
 * specialise in one. H is [T, trials, N] (time-major, as the forward pass writes it); a window
 * with fewer than 3 active units, or a constant η² across them, has r = NaN.
 */
export function windowedSelectivityCorrelation(
  H: ArrayLike<number>,
  dims: { T: number; trials: number; N: number },
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  width = 5,
): WindowSelectivity[] {
  const { T, trials, N } = dims;
  if (H.length !== T * trials * N) throw new Error(`windowedSelectivityCorrelation: H has ${H.length} values, expected T·trials·N = ${T * trials * N}`);
  const out: WindowSelectivity[] = [];
  const x = new Float64Array(trials);
  for (let start = 0; start + width <= T; start += width) {
    const ea: number[] = [];
    const eb: number[] = [];
    for (let j = 0; j < N; j++) {
      x.fill(0);
      for (let t = start; t < start + width; t++) for (let k = 0; k < trials; k++) x[k]! += H[(t * trials + k) * N + j]! / width;
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of x) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      if (!(hi > lo)) continue; // a unit constant over trials explains nothing
      ea.push(etaSquared(x, a));
      eb.push(etaSquared(x, b));
    }
    out.push({ start, end: start + width, r: ea.length >= 3 ? pearson(ea, eb) : NaN, units: ea.length });
  }
  return out;
}

/**
 * Spatial co-localisation of function: r = corr_{i<j}(|p_i − p_j|, ‖x_i − x_j‖) over units that
 * code a variable (p from `codingPreference`, x the positions [N, 3]), with a permutation test that
 * shuffles the preferences across those units `nPerm` times (seeded).
 */
export function colocalisation(pref: ArrayLike<number>, positions: ArrayLike<number>, o: { nPerm?: number; seed?: number } = {}): Colocalisation {
  const units: number[] = [];
  for (let j = 0; j < pref.length; j++) if (Number.isFinite(pref[j]!)) units.push(j);
  const m = units.length;
  if (m < 3) return { r: NaN, p: NaN, units: m };
  const pairs = (m * (m - 1)) / 2;
  const dist = new Float64Array(pairs);
  let k = 0;
  for (let a = 0; a < m; a++) {
    for (let b = a + 1; b < m; b++) {
      const i = units[a]!;
      const j = units[b]!;
      let s = 0;
      for (let d = 0; d < 3; d++) s += (positions[i * 3 + d]! - positions[j * 3 + d]!) ** 2;
      dist[k++] = Math.sqrt(s);
    }
  }
  const diff = new Float64Array(pairs);
  const stat = (p: ArrayLike<number>) => {
    let q = 0;
    for (let a = 0; a < m; a++) for (let b = a + 1; b < m; b++) diff[q++] = Math.abs(p[a]! - p[b]!);
    return pearson(diff, dist);
  };
  const own = Float64Array.from(units, (j) => pref[j]!);
  const r = stat(own);
  const nPerm = o.nPerm ?? 200;
  const rng = new Rng(o.seed ?? 1, 'colocalisation');
  const perm = Float64Array.from(own);
  let atLeast = 0;
  for (let t = 0; t < nPerm; t++) {
    for (let i = m - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const tmp = perm[i]!;
      perm[i] = perm[j]!;
      perm[j] = tmp;
    }
    if (stat(perm) >= r) atLeast++;
  }
  return { r, p: Number.isFinite(r) ? (atLeast + 1) / (nPerm + 1) : NaN, units: m };
}

/** Energy: the mean activity Σ_k,t,j h / (trials · steps · N) of the values given. */
export function meanActivity(h: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < h.length; k++) s += h[k]!;
  return h.length ? s / h.length : 0;
}

/** The share of weights with |W_ij| above a threshold (the paper's sparsity axis; 1 − sparsity). */
export function weightDensity(W: ArrayLike<number>, threshold = 0.01): number {
  let c = 0;
  for (let k = 0; k < W.length; k++) if (Math.abs(W[k]!) > threshold) c++;
  return W.length ? c / W.length : 0;
}

/** The total weight Σ_ij |W_ij|. */
export function totalWeight(W: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < W.length; k++) s += Math.abs(W[k]!);
  return s;
}
