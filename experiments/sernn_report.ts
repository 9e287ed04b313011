/**
 * The report's seRNN section (experiments/sernn.ts): the paper's comparisons of L1 and seRNN
 * networks across regularisation strength λ, and the same comparisons as the seRNN authors make
 * them (populations of accurate networks), side by side.
 *
 *  - per family and λ: accuracy, weight density, total weight, Q_cnm, σ (both nulls),
 *    co-localisation, mixed selectivity and energy (means over seeds);
 *  - Q by every recorded definition per family and λ (binary CNM at 5/10/20 %, weighted and
 *    directed spectral Q on |W|, Q_cnm against rewired nulls), with how many networks have each;
 *  - figures: accuracy, weight density, co-localisation, mixed selectivity and energy against λ;
 *    Q_cnm and σ against weight density;
 *  - the authors' population comparison: all networks with test accuracy ≥ 0.9 per family,
 *    Welch's t and Cohen's d (bootstrap interval) per metric, and an OLS of each metric on family
 *    and weight density over the same networks;
 *  - matched comparison: each seRNN network paired with the nearest unused L1 network of equal
 *    weight density (±0.05), and separately of equal total weight Σ|W| (±10 %), and test accuracy
 *    (±0.03), both at least 0.9 accurate; the effect is the mean paired difference with a
 *    bootstrap 95% interval over pairs and a sign-flip p; the claims show both matchings and the
 *    population comparison;
 *  - what the modules follow: per family and λ, the NMI of the CNM modules with the grid's
 *    spatial clusters, its depth bins and the index residue;
 *  - the sweet spot: the λ where seRNNs are accurate (≥ 0.9), small-world (σ > 1), more modular
 *    (Q_cnm) than at the family's weakest λ, and co-localised (interval of r above 0), all at once.
 */
import {
  clusterBootstrapMean,
  cohensDBootstrap,
  meanCI,
  olsFit,
  signFlipTest,
  welchTTest,
  type BootstrapCI,
  type TwoSampleBootstrapCI,
} from '../analysis/stats.ts';
import type { FinalRecord } from './record.ts';
import { sernnFamily } from './sernn.ts';
import { lineChart, type Series } from './svg.ts';
import { ALIGNMENT_P, LABELLING_NAMES, alignmentOf, fmt, fmtP } from './tables.ts';
import type { LabellingName } from '../analysis/module_alignment.ts';
import { esc } from './style.ts';

/** A finished seRNN-sweep run as this section reads it. */
export interface SernnRun {
  variant: string;
  lambda: number;
  seed: number;
  rec: FinalRecord;
}

/** Accuracy that counts as solving the task (a goal-blind network scores at most 0.625). */
const HIGH_ACCURACY = 0.9;
/** Matching tolerances in weight density and test accuracy. */
const MATCH_DENSITY = 0.05;
const MATCH_ACCURACY = 0.03;
/** Matching on total weight: the L1 network's Σ|W| within this share of the seRNN network's. */
const MATCH_TOTAL_WEIGHT_RELATIVE = 0.1;
/** The population comparison decides a claim at Welch p below this. */
const POPULATION_ALPHA = 0.05;
/** Bootstrap of Cohen's d: resamples within each family, seeded so the report is reproducible. */
const D_BOOTSTRAP = { resamples: 10_000, level: 0.95, seed: 1 };

type Family = 'L1' | 'seRNN';
const FAMILIES: Family[] = ['L1', 'seRNN'];
const COLOUR: Record<Family, string> = { L1: '#4e79a7', seRNN: '#e15759' };

/**
 * The values the section compares, per network (null when the run has none: runs analysed before
 * a metric existed lack it, and NaN, e.g. Q_cnm_z without nulls, is stored as null).
 */
const VALUES = {
  accuracy: (r: FinalRecord) => (r.status === 'ok' ? r.accuracy!.test : null),
  density: (r: FinalRecord) => r.metrics?.weight_density ?? null,
  total_weight: (r: FinalRecord) => r.metrics?.total_weight ?? null,
  Q_cnm: (r: FinalRecord) => r.metrics?.Q_cnm ?? null,
  Q_top5: (r: FinalRecord) => r.metrics?.Q_top5 ?? null,
  Q_top20: (r: FinalRecord) => r.metrics?.Q_top20 ?? null,
  Q_weighted: (r: FinalRecord) => r.metrics?.Q_weighted ?? null,
  Q_weighted_offdiag: (r: FinalRecord) => r.metrics?.Q_weighted_offdiag ?? null,
  Q_directed: (r: FinalRecord) => r.metrics?.Q_directed ?? null,
  Q_cnm_norm: (r: FinalRecord) => r.metrics?.Q_cnm_norm ?? null,
  Q_cnm_z: (r: FinalRecord) => r.metrics?.Q_cnm_z ?? null,
  sigma_paper: (r: FinalRecord) => r.metrics?.sigma_paper ?? null,
  sigma_matched: (r: FinalRecord) => r.metrics?.sigma_matched ?? null,
  colocalisation: (r: FinalRecord) => r.function?.colocalisation ?? null,
  mixed_selectivity: (r: FinalRecord) => r.function?.mixed_selectivity ?? null,
  mixed_selectivity_r: (r: FinalRecord) => r.function?.mixed_selectivity_r ?? null,
  energy: (r: FinalRecord) => r.function?.energy ?? null,
} as const;
type Key = keyof typeof VALUES;

const LABEL: Record<Key, string> = {
  accuracy: 'test accuracy',
  density: 'weight density (|W| > 0.01)',
  total_weight: 'total weight Σ|W|',
  Q_cnm: 'Q_cnm',
  Q_top5: 'Q_top5',
  Q_top20: 'Q_top20',
  Q_weighted: 'Q_weighted',
  Q_weighted_offdiag: 'Q_weighted_offdiag',
  Q_directed: 'Q_directed',
  Q_cnm_norm: 'Q_cnm_norm',
  Q_cnm_z: 'Q_cnm_z',
  sigma_paper: 'σ (paper null)',
  sigma_matched: 'σ (degree-matched null)',
  colocalisation: 'co-localisation r',
  mixed_selectivity: 'mixed selectivity',
  mixed_selectivity_r: 'mixed selectivity r (authors’ measure)',
  energy: 'energy (mean rate)',
};

/** The modularity definitions the runs record (analysis/metrics.ts), Q_cnm being this project's. */
const Q_KEYS = ['Q_cnm', 'Q_top5', 'Q_top20', 'Q_weighted', 'Q_weighted_offdiag', 'Q_directed', 'Q_cnm_norm', 'Q_cnm_z'] as const;
type QKey = (typeof Q_KEYS)[number];
const Q_DEFINITION: Record<QKey, string> = {
  Q_cnm: 'binary top 10 % of |W|, CNM modules; this project’s and arXiv 2606.14975’s convention',
  Q_top5: 'binary top 5 % of |W|, CNM modules',
  Q_top20: 'binary top 20 % of |W|, CNM modules',
  Q_weighted: 'Newman spectral Q on the full weighted |W| (symmetrised), diagonal kept: the seRNN authors’ modularity_und(abs(W))',
  Q_weighted_offdiag: 'the same with the diagonal zeroed',
  Q_directed: 'Leicht–Newman directed spectral Q on |W|: modularity_dir(abs(W))',
  Q_cnm_norm: 'Q_cnm over the mean Q_cnm of degree-preserving rewired nulls',
  Q_cnm_z: 'z-score of Q_cnm against degree-preserving rewired nulls',
};

/** A short name of each Q definition for column headers (Q_DEFINITION has the full one). */
const Q_SHORT: Record<QKey, string> = {
  Q_cnm: 'binary top 10 %, CNM',
  Q_top5: 'binary top 5 %, CNM',
  Q_top20: 'binary top 20 %, CNM',
  Q_weighted: 'weighted |W|, spectral, diagonal kept',
  Q_weighted_offdiag: 'weighted |W|, spectral, diagonal zeroed',
  Q_directed: 'directed |W|, spectral',
  Q_cnm_norm: 'Q_cnm / rewired-null mean',
  Q_cnm_z: 'Q_cnm z against rewired nulls',
};
/** The per-λ table's columns after accuracy. */
const LAMBDA_TABLE_KEYS: Key[] = ['density', 'total_weight', 'Q_cnm', 'sigma_paper', 'sigma_matched', 'colocalisation', 'mixed_selectivity', 'energy'];
/** The metrics of the population comparison. */
const POPULATION_KEYS: Key[] = [
  ...Q_KEYS,
  'sigma_paper',
  'sigma_matched',
  'density',
  'total_weight',
  'colocalisation',
  'mixed_selectivity',
  'mixed_selectivity_r',
  'energy',
  'accuracy',
];
/**
 * Regressed on family and density: all but density itself (the covariate) and accuracy (every
 * network of the population is near 1, so its fit is rounding noise).
 */
const REGRESSION_KEYS: Key[] = POPULATION_KEYS.filter((k) => k !== 'density' && k !== 'accuracy');

const value = (k: Key, r: FinalRecord): number | null => {
  const v = VALUES[k](r);
  return v === null || v === undefined || !Number.isFinite(v) ? null : v;
};
const finite = (xs: (number | null)[]) => xs.filter((x): x is number => x !== null);
const meanOf = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const familyOf = (r: SernnRun): Family | null => sernnFamily(r.variant);
/** The networks of a family that solve the task: the authors' population. */
const accurate = (runs: SernnRun[], f: Family) =>
  runs.filter((r) => familyOf(r) === f && r.rec.status === 'ok' && (value('accuracy', r.rec) ?? 0) >= HIGH_ACCURACY);

interface Cell {
  family: Family;
  lambda: number;
  runs: SernnRun[];
  ok: SernnRun[];
}

function cells(runs: SernnRun[]): Cell[] {
  const out: Cell[] = [];
  for (const family of FAMILIES) {
    const mine = runs.filter((r) => familyOf(r) === family);
    for (const lambda of [...new Set(mine.map((r) => r.lambda))].sort((a, b) => a - b)) {
      const rs = mine.filter((r) => r.lambda === lambda);
      out.push({ family, lambda, runs: rs, ok: rs.filter((r) => r.rec.status === 'ok') });
    }
  }
  return out;
}

const cellMean = (c: Cell, k: Key) => meanOf(finite(c.ok.map((r) => value(k, r.rec))));

// ---------------------------------------------------------------- matched pairs

/** What a matching holds equal besides accuracy: normalised so that a distance ≤ 1 matches. */
interface MatchAxis {
  key: 'density' | 'total_weight';
  distance: (seRNN: number, l1: number) => number;
}
const BY_DENSITY: MatchAxis = { key: 'density', distance: (a, b) => Math.abs(a - b) / MATCH_DENSITY };
const BY_TOTAL_WEIGHT: MatchAxis = { key: 'total_weight', distance: (a, b) => Math.abs(a - b) / (MATCH_TOTAL_WEIGHT_RELATIVE * a) };

type Pairs = [SernnRun, SernnRun][];

/** Greedy nearest matching of seRNN to L1 networks on (the axis, accuracy), without reuse. */
function matchNetworks(runs: SernnRun[], axis: MatchAxis): Pairs {
  const eligible = (f: Family) => accurate(runs, f).filter((r) => value(axis.key, r.rec) !== null);
  const se = eligible('seRNN');
  const l1 = eligible('L1');
  const cand: { i: number; j: number; d: number }[] = [];
  se.forEach((a, i) =>
    l1.forEach((b, j) => {
      const dx = axis.distance(value(axis.key, a.rec)!, value(axis.key, b.rec)!);
      const da = Math.abs(value('accuracy', a.rec)! - value('accuracy', b.rec)!) / MATCH_ACCURACY;
      if (dx <= 1 && da <= 1) cand.push({ i, j, d: Math.hypot(dx, da) });
    }),
  );
  cand.sort((x, y) => x.d - y.d || x.i - y.i || x.j - y.j);
  const usedI = new Set<number>();
  const usedJ = new Set<number>();
  const pairs: Pairs = [];
  for (const c of cand) {
    if (usedI.has(c.i) || usedJ.has(c.j)) continue;
    usedI.add(c.i);
    usedJ.add(c.j);
    pairs.push([se[c.i]!, l1[c.j]!]);
  }
  return pairs;
}

type Verdict = 'holds' | 'does not hold' | 'undecided';

interface PairedEffect {
  verdict: Verdict;
  effect: BootstrapCI | null;
  p: number | null;
  /** Pairs where both networks have the metric. */
  pairs: number;
}

/** seRNN − L1 of `key` over matched pairs; it holds when the interval lies on `sign`'s side of 0. */
function pairedEffect(key: Key, sign: 1 | -1, pairs: Pairs): PairedEffect {
  const d = finite(pairs.map(([a, b]) => (value(key, a.rec) !== null && value(key, b.rec) !== null ? value(key, a.rec)! - value(key, b.rec)! : null)));
  if (!d.length) return { verdict: 'undecided', effect: null, p: null, pairs: 0 };
  const effect = clusterBootstrapMean(
    d.map((x) => [x]),
    { seed: 1 },
  );
  const lo = sign * effect.lo;
  const hi = sign * effect.hi;
  const verdict = !Number.isFinite(lo) ? 'undecided' : Math.min(lo, hi) > 0 ? 'holds' : Math.max(lo, hi) < 0 ? 'does not hold' : 'undecided';
  return { verdict, effect, p: signFlipTest(d, 1), pairs: d.length };
}

// ---------------------------------------------------------------- the authors' population comparison

interface FamilySummary {
  /** Accurate networks of the family that have the metric. */
  n: number;
  mean: number;
}

interface PopulationRow {
  key: Key;
  metric: string;
  L1: FamilySummary;
  seRNN: FamilySummary;
  /** Welch's t of seRNN against L1 (positive: seRNNs higher), its df and two-sided p. */
  welch: { t: number; df: number; p: number };
  /** Cohen's d of seRNN against L1 (pooled SD) with its percentile bootstrap interval. */
  d: TwoSampleBootstrapCI;
}

/** One metric over the accurate networks of each family; those without the metric are left out of its n. */
function populationRow(key: Key, l1Runs: SernnRun[], seRuns: SernnRun[]): PopulationRow {
  const l1 = finite(l1Runs.map((r) => value(key, r.rec)));
  const se = finite(seRuns.map((r) => value(key, r.rec)));
  const w = welchTTest(se, l1);
  return {
    key,
    metric: LABEL[key],
    L1: { n: l1.length, mean: meanOf(l1) },
    seRNN: { n: se.length, mean: meanOf(se) },
    welch: { t: w.t, df: w.df, p: w.p },
    d: cohensDBootstrap(se, l1, D_BOOTSTRAP),
  };
}

function populationComparison(runs: SernnRun[]): PopulationRow[] {
  const l1 = accurate(runs, 'L1');
  const se = accurate(runs, 'seRNN');
  return POPULATION_KEYS.map((k) => populationRow(k, l1, se));
}

/**
 * A population claim holds when Welch p < POPULATION_ALPHA and d's interval lies on `sign`'s side
 * of 0, does not hold when p < POPULATION_ALPHA and it lies on the other side, else undecided.
 */
function populationVerdict(row: PopulationRow, sign: 1 | -1): Verdict {
  const lo = sign * row.d.lo;
  const hi = sign * row.d.hi;
  if (!(row.welch.p < POPULATION_ALPHA) || Number.isNaN(lo) || Number.isNaN(hi)) return 'undecided';
  return Math.min(lo, hi) > 0 ? 'holds' : Math.max(lo, hi) < 0 ? 'does not hold' : 'undecided';
}

interface Coefficient {
  coef: number;
  se: number;
  t: number;
  p: number;
}

interface RegressionRow {
  key: Key;
  metric: string;
  n: Record<Family, number>;
  /** n − 3 (NaN with 3 networks or fewer). */
  df: number;
  /** seRNN − L1 at equal weight density. */
  family: Coefficient;
  density: Coefficient;
}

/** OLS metric ~ 1 + family (seRNN = 1) + weight density over the accurate networks that have both. */
function regressionRow(key: Key, runs: SernnRun[]): RegressionRow {
  const points = runs.flatMap((r) => {
    const y = value(key, r.rec);
    const density = value('density', r.rec);
    return y === null || density === null ? [] : [{ family: familyOf(r)!, x: [1, familyOf(r) === 'seRNN' ? 1 : 0, density], y }];
  });
  const fit = olsFit(
    points.map((p) => p.x),
    points.map((p) => p.y),
  );
  const coefficient = (j: number): Coefficient => ({ coef: fit.coef[j] ?? NaN, se: fit.se[j] ?? NaN, t: fit.t[j] ?? NaN, p: fit.p[j] ?? NaN });
  return {
    key,
    metric: LABEL[key],
    n: { L1: points.filter((p) => p.family === 'L1').length, seRNN: points.filter((p) => p.family === 'seRNN').length },
    df: points.length > 3 ? points.length - 3 : NaN,
    family: coefficient(1),
    density: coefficient(2),
  };
}

function regressionRows(runs: SernnRun[]): RegressionRow[] {
  const pool = [...accurate(runs, 'L1'), ...accurate(runs, 'seRNN')];
  return REGRESSION_KEYS.map((k) => regressionRow(k, pool));
}

// ---------------------------------------------------------------- claims

interface ClaimSpec {
  id: string;
  claim: string;
  key: Key;
  /** +1: seRNNs higher; −1: lower. */
  sign: 1 | -1;
}

const CLAIMS: ClaimSpec[] = [
  ...Q_KEYS.map((k): ClaimSpec => ({ id: k, claim: `seRNNs are more modular by ${LABEL[k]} (${Q_SHORT[k]})`, key: k, sign: 1 })),
  { id: 'sigma_paper', claim: 'seRNNs are more small-world (σ, paper null)', key: 'sigma_paper', sign: 1 },
  { id: 'sigma_matched', claim: 'seRNNs are more small-world (σ, degree-matched null)', key: 'sigma_matched', sign: 1 },
  { id: 'colocalisation', claim: 'units with similar coding sit closer together in seRNNs (functional co-localisation)', key: 'colocalisation', sign: 1 },
  { id: 'mixed', claim: 'seRNN units are more often mixed-selective (code goal and options)', key: 'mixed_selectivity', sign: 1 },
  {
    id: 'mixed_r',
    claim: 'seRNN units are more mixed-selective by the authors’ measure (goal and options variance correlate across units)',
    key: 'mixed_selectivity_r',
    sign: 1,
  },
  { id: 'energy', claim: 'seRNNs use less energy (lower mean activity)', key: 'energy', sign: -1 },
];

interface SernnClaim {
  id: string;
  claim: string;
  metric: Key;
  direction: 'higher' | 'lower';
  /** Pairs matched on weight density and accuracy. */
  byDensity: PairedEffect;
  /** Pairs matched on total weight and accuracy. */
  byTotalWeight: PairedEffect;
  /** The accurate networks of each family (the authors' comparison). */
  population: { d: TwoSampleBootstrapCI; p: number; n: Record<Family, number>; verdict: Verdict };
}

function claimsOf(pairs: { density: Pairs; totalWeight: Pairs }, population: PopulationRow[]): SernnClaim[] {
  return CLAIMS.map((c) => {
    const row = population.find((r) => r.key === c.key)!;
    return {
      id: c.id,
      claim: c.claim,
      metric: c.key,
      direction: c.sign > 0 ? 'higher' : 'lower',
      byDensity: pairedEffect(c.key, c.sign, pairs.density),
      byTotalWeight: pairedEffect(c.key, c.sign, pairs.totalWeight),
      population: { d: row.d, p: row.welch.p, n: { L1: row.L1.n, seRNN: row.seRNN.n }, verdict: populationVerdict(row, c.sign) },
    };
  });
}

// ---------------------------------------------------------------- sweet spot, per-λ rows, Q by definition

interface SweetSpotRow {
  lambda: number;
  accurate: boolean;
  smallWorld: boolean;
  modular: boolean;
  colocalised: boolean;
  inSpot: boolean;
}

/** Per seRNN λ, the four properties and whether they hold together. */
function sweetSpot(cs: Cell[]): SweetSpotRow[] {
  const se = cs.filter((c) => c.family === 'seRNN' && c.ok.length);
  if (!se.length) return [];
  const baseQ = cellMean(se[0]!, 'Q_cnm');
  return se.map((c) => {
    const co = finite(c.ok.map((r) => value('colocalisation', r.rec)));
    const ci = co.length >= 2 ? meanCI(co) : null;
    const row = {
      lambda: c.lambda,
      accurate: cellMean(c, 'accuracy') >= HIGH_ACCURACY,
      smallWorld: cellMean(c, 'sigma_paper') > 1,
      modular: c !== se[0] && cellMean(c, 'Q_cnm') > baseQ,
      colocalised: ci !== null && ci.lo > 0,
    };
    return { ...row, inSpot: row.accurate && row.smallWorld && row.modular && row.colocalised };
  });
}

type LambdaRow = Record<string, unknown> & { family: Family; lambda: number; networks: number; diverged: number; accuracy: ReturnType<typeof meanCI> | null };

function lambdaRows(cs: Cell[]): LambdaRow[] {
  return cs.map((c) => {
    const acc = finite(c.ok.map((r) => value('accuracy', r.rec)));
    return {
      family: c.family,
      lambda: c.lambda,
      networks: c.runs.length,
      diverged: c.runs.length - c.ok.length,
      accuracy: acc.length ? meanCI(acc) : null,
      ...Object.fromEntries(LAMBDA_TABLE_KEYS.map((k) => [k, cellMean(c, k)])),
    };
  });
}

interface QByDefinition {
  definitions: Record<QKey, string>;
  /** Finished networks that have each definition, of `networks`. */
  recorded: Record<QKey, number>;
  networks: number;
  rows: ({ family: Family; lambda: number; networks: number } & Record<QKey, FamilySummary>)[];
}

function qByDefinition(cs: Cell[]): QByDefinition {
  const summary = (rs: SernnRun[], k: QKey): FamilySummary => {
    const xs = finite(rs.map((r) => value(k, r.rec)));
    return { n: xs.length, mean: meanOf(xs) };
  };
  const ok = cs.flatMap((c) => c.ok);
  return {
    definitions: Q_DEFINITION,
    recorded: Object.fromEntries(Q_KEYS.map((k) => [k, summary(ok, k).n])) as Record<QKey, number>,
    networks: ok.length,
    rows: cs.map((c) => ({
      family: c.family,
      lambda: c.lambda,
      networks: c.ok.length,
      ...(Object.fromEntries(Q_KEYS.map((k) => [k, summary(c.ok, k)])) as Record<QKey, FamilySummary>),
    })),
  };
}

// ---------------------------------------------------------------- figures and HTML

const isQ = (k: Key): k is QKey => (Q_KEYS as readonly Key[]).includes(k);
/** A column header: the metric, and for a Q its definition in brief. */
const header = (k: Key) => `${esc(LABEL[k])}${isQ(k) ? `<br><small>${esc(Q_SHORT[k])}</small>` : ''}`;
const interval = (e: { estimate: number; lo: number; hi: number } | null) =>
  !e ? '—' : `${fmt(e.estimate)}${Number.isFinite(e.lo) ? ` [${fmt(e.lo)}, ${fmt(e.hi)}]` : Number.isFinite(e.estimate) ? ' (no interval)' : ''}`;
const verdictCell = (v: Verdict) => `<td class="verdict ${v.replace(/ /g, '-')}">${esc(v)}</td>`;

function figures(cs: Cell[], runs: SernnRun[]): string[] {
  const byLambda = (k: Key): Series[] =>
    FAMILIES.map((family) => {
      const mine = cs.filter((c) => c.family === family && c.ok.length);
      return { name: family, x: mine.map((c) => Math.log10(c.lambda)), y: mine.map((c) => cellMean(c, k)), colour: COLOUR[family] };
    });
  const vsDensity = (k: Key): Series[] =>
    FAMILIES.map((family) => {
      const mine = runs.filter((r) => familyOf(r) === family && r.rec.status === 'ok' && value(k, r.rec) !== null && value('density', r.rec) !== null);
      return { name: family, x: mine.map((r) => value('density', r.rec)!), y: mine.map((r) => value(k, r.rec)!), colour: COLOUR[family], markers: true };
    });
  const line = (k: Key) => lineChart({ title: `${LABEL[k]} against λ (mean over seeds)`, xLabel: 'log10 λ', yLabel: LABEL[k], series: byLambda(k) });
  const scatter = (k: Key) =>
    lineChart({ title: `${LABEL[k]} against weight density (each network)`, xLabel: LABEL.density, yLabel: LABEL[k], series: vsDensity(k) });
  return [line('accuracy'), line('density'), scatter('Q_cnm'), scatter('sigma_paper'), line('colocalisation'), line('mixed_selectivity'), line('energy')];
}

function intro(runs: SernnRun[]): string {
  return `<p>L1 (λ·Σ|W|) against seRNN (λ·Σ|W|∘C∘D) networks of 100 units on a 5 × 5 × 4 grid, trained on the one-step inference task across regularisation strengths (Achterberg, Akarca et al. 2023). ${runs.length} networks. Weight density is the share of |W<sub>ij</sub>| above 0.01 (sparsity = 1 − density); total weight is Σ|W<sub>ij</sub>|. Q in the first table, the figures, the sweet spot and the grid table is <strong>Q_cnm</strong> (${esc(Q_DEFINITION.Q_cnm)}); σ is on the same top-10 % graph; the tables further down say which Q definition each column uses. Co-localisation is the correlation between two units' difference in coding preference (goal vs options) and their distance over coding units (positive: alike units are neighbours); mixed selectivity is the share of active units coding both goal and options (η² ≥ 0.1 each, choice period); energy is the mean rate over units, steps and trials.</p>`;
}

function lambdaTableHtml(rows: LambdaRow[]): string {
  const head = `<tr><th>family</th><th>λ</th><th>networks</th><th>${esc(LABEL.accuracy)} [95% CI]</th>${LAMBDA_TABLE_KEYS.map((k) => `<th>${header(k)}</th>`).join('')}</tr>`;
  const body = rows
    .map(
      (r) =>
        `<tr><td>${r.family}</td><td>${esc(String(r.lambda))}</td><td>${r.networks}${r.diverged ? ` <span class="div">(${r.diverged} diverged)</span>` : ''}</td><td>${
          r.accuracy ? `${fmt(r.accuracy.mean)}${Number.isFinite(r.accuracy.lo) ? ` [${fmt(r.accuracy.lo)}, ${fmt(r.accuracy.hi)}]` : ''}` : '—'
        }</td>${LAMBDA_TABLE_KEYS.map((k) => `<td>${fmt(r[k] as number)}</td>`).join('')}</tr>`,
    )
    .join('');
  return `<table><thead>${head}</thead><tbody>${body}</tbody></table>`;
}

function qByDefinitionHtml(q: QByDefinition): string {
  const cell = (s: FamilySummary, of: number) =>
    !s.n ? '<td title="not recorded">—</td>' : `<td>${fmt(s.mean)}${s.n < of ? ` <small>(${s.n} of ${of})</small>` : ''}</td>`;
  const head = `<tr><th>family</th><th>λ</th><th>networks</th>${Q_KEYS.map((k) => `<th>${header(k)}<br><small>recorded: ${q.recorded[k]}/${q.networks}</small></th>`).join('')}</tr>`;
  const body = q.rows
    .map((r) => `<tr><td>${r.family}</td><td>${esc(String(r.lambda))}</td><td>${r.networks}</td>${Q_KEYS.map((k) => cell(r[k], r.networks)).join('')}</tr>`)
    .join('');
  const missing = Q_KEYS.filter((k) => q.recorded[k] < q.networks);
  return [
    `<h3>Modularity by every definition</h3><p>The mean of each Q definition per family and λ over the finished networks that record it. The definitions: ${Q_KEYS.map((k) => `<strong>${esc(k)}</strong>: ${esc(Q_DEFINITION[k])}`).join('; ')}. ${
      missing.length
        ? `Not every network records every definition (${missing.map((k) => `${esc(k)} in ${q.recorded[k]} of ${q.networks}`).join(', ')}): runs analysed before a definition existed lack it; they are left out of its means and counts, never counted as 0 (“—”: none in the cell; “(k of n)”: only k of the cell's n).`
        : 'Every network records every definition.'
    }</p>`,
    `<table><thead>${head}</thead><tbody>${body}</tbody></table>`,
  ].join('\n');
}

function populationHtml(rows: PopulationRow[], accurateCount: Record<Family, number>): string {
  const body = rows
    .map((r) => {
      const name = `<td>${header(r.key)}</td>`;
      if (!r.L1.n && !r.seRNN.n) return `<tr>${name}<td>0</td><td colspan="7">not recorded in these runs</td></tr>`;
      return `<tr>${name}<td>${r.L1.n}</td><td>${fmt(r.L1.mean)}</td><td>${r.seRNN.n}</td><td>${fmt(r.seRNN.mean)}</td><td>${fmt(r.welch.t, 2)}</td><td>${fmt(r.welch.df, 1)}</td><td>${fmtP(r.welch.p)}</td><td>${interval(r.d)}</td></tr>`;
    })
    .join('');
  return [
    `<h3>The authors' comparison: populations of accurate networks</h3><p>As Achterberg, Akarca et al. compare the families: not pairs but every network with test accuracy ≥ ${HIGH_ACCURACY} of each family (${accurateCount.L1} L1 and ${accurateCount.seRNN} seRNN networks here), with weight density and total weight Σ|W| shown alongside since the families reach accuracy at different sparsity. Per metric: n per family (networks without the metric are left out of its n, never counted as 0), the means, Welch's t of seRNN against L1 (unequal variances; positive: seRNNs higher) with its Welch–Satterthwaite df and two-sided p, and Cohen's d = (x̄<sub>seRNN</sub> − x̄<sub>L1</sub>) / s<sub>p</sub>, s<sub>p</sub> = √[((n<sub>1</sub> − 1)s<sub>1</sub>² + (n<sub>2</sub> − 1)s<sub>2</sub>²) / (n<sub>1</sub> + n<sub>2</sub> − 2)] (pooled SD, sample variances), with a percentile bootstrap ${D_BOOTSTRAP.level * 100}% interval (${D_BOOTSTRAP.resamples.toLocaleString('en')} resamples within each family, seed ${D_BOOTSTRAP.seed}).</p>`,
    `<table><thead><tr><th>metric</th><th>L1 n</th><th>L1 mean</th><th>seRNN n</th><th>seRNN mean</th><th>Welch t</th><th>df</th><th>p</th><th>Cohen's d [95% CI]</th></tr></thead><tbody>${body}</tbody></table>`,
  ].join('\n');
}

function regressionHtml(rows: RegressionRow[]): string {
  const pm = (c: Coefficient) => (Number.isFinite(c.coef) ? `${fmt(c.coef, 4)} ± ${fmt(c.se, 4)}` : '—');
  const body = rows
    .map((r) => {
      const name = `<td>${header(r.key)}</td>`;
      if (!r.n.L1 && !r.n.seRNN) return `<tr>${name}<td>0</td><td colspan="5">not recorded in these runs</td></tr>`;
      return `<tr>${name}<td>${r.n.L1} + ${r.n.seRNN}</td><td>${pm(r.family)}</td><td>${fmt(r.family.t, 2)}</td><td>${Number.isFinite(r.df) ? r.df : '—'}</td><td>${fmtP(r.family.p)}</td><td>${pm(r.density)}</td></tr>`;
    })
    .join('');
  return [
    `<h3>Family at equal density: metric ~ 1 + family + weight density</h3><p>Ordinary least squares over the same accurate networks (those with the metric and a weight density), family coded seRNN = 1, L1 = 0: the family coefficient is the seRNN − L1 difference at equal weight density, with its standard error √(s² [(XᵀX)⁻¹]<sub>jj</sub>), s² = RSS / (n − 3), t = coefficient / SE and the two-sided p of Student t with n − 3 degrees of freedom. Weight density itself (the covariate) and test accuracy (at or near 1 throughout the population) are not regressed.</p>`,
    `<table><thead><tr><th>metric</th><th>networks (L1 + seRNN)</th><th>family (seRNN − L1) ± SE</th><th>t</th><th>df</th><th>p</th><th>density slope ± SE</th></tr></thead><tbody>${body}</tbody></table>`,
  ].join('\n');
}

function claimsHtml(claims: SernnClaim[], pairs: { density: number; totalWeight: number }): string {
  const paired = (e: PairedEffect) => `<td>${interval(e.effect)}</td><td>${fmtP(e.p ?? NaN)}</td><td>${e.pairs}</td>${verdictCell(e.verdict)}`;
  const body = claims
    .map((c) => {
      const pop = c.population;
      return `<tr><td>${esc(c.claim)}</td>${paired(c.byDensity)}${paired(c.byTotalWeight)}<td>${interval(pop.d)}</td><td>${fmtP(pop.p)}</td><td>${pop.n.L1} / ${pop.n.seRNN}</td>${verdictCell(pop.verdict)}</tr>`;
    })
    .join('');
  const group = `<tr><th rowspan="2">claim</th><th colspan="4">pairs matched on weight density (${pairs.density} pairs)</th><th colspan="4">pairs matched on total weight Σ|W| (${pairs.totalWeight} pairs)</th><th colspan="4">populations (accurate networks)</th></tr>`;
  const cols = `<tr>${'<th>effect [95% CI]</th><th>sign-flip p</th><th>pairs</th><th>verdict</th>'.repeat(2)}<th>Cohen's d [95% CI]</th><th>Welch p</th><th>n L1 / seRNN</th><th>verdict</th></tr>`;
  return [
    `<h3>Claims: matched pairs on two axes, and populations</h3><p>Matched on density: each seRNN network is paired with the nearest unused L1 network whose weight density is within ${MATCH_DENSITY} and test accuracy within ${MATCH_ACCURACY}, both at least ${HIGH_ACCURACY} accurate (${pairs.density} pairs). Matched on total weight: the same with Σ|W| in place of density, the L1 network's Σ|W| within ${MATCH_TOTAL_WEIGHT_RELATIVE * 100} % of the seRNN network's own (${pairs.totalWeight} pairs); nearest means the smallest √(Δ² + Δ<sub>acc</sub>²) with each difference over its tolerance. A paired effect is the mean seRNN − L1 difference over the pairs where both networks have the metric, with a bootstrap 95% interval over pairs and a sign-flip p; the claim <em>holds</em> when the interval lies on its side of 0, <em>does not hold</em> when on the other. Populations: Cohen's d and Welch's p from the table above; the claim holds when p &lt; ${POPULATION_ALPHA} and d's interval lies on its side of 0, does not hold when p &lt; ${POPULATION_ALPHA} and it lies on the other side, and is undecided otherwise. One modularity claim per Q definition; a definition no network records has 0 pairs and stays undecided.</p>`,
    `<table><thead>${group}${cols}</thead><tbody>${body}</tbody></table>`,
  ].join('\n');
}

function sweetSpotHtml(spot: SweetSpotRow[]): string {
  const inSpot = spot.filter((s) => s.inSpot).map((s) => s.lambda);
  const tick = (b: boolean) => (b ? '✓' : '·');
  const rows = spot
    .map(
      (s) =>
        `<tr${s.inSpot ? ' class="sig"' : ''}><td>${esc(String(s.lambda))}</td><td>${tick(s.accurate)}</td><td>${tick(s.smallWorld)}</td><td>${tick(s.modular)}</td><td>${tick(s.colocalised)}</td></tr>`,
    )
    .join('');
  return [
    `<h3>The sweet spot</h3><p>seRNN strengths where the networks are accurate (mean test accuracy ≥ ${HIGH_ACCURACY}), small-world (mean σ > 1, paper null), more modular (Q_cnm) than at the weakest λ, and co-localised (95% interval of r over seeds above 0), all at once: <strong>${
      inSpot.length ? inSpot.map((l) => `λ = ${esc(String(l))}`).join(', ') : 'none here'
    }</strong>.</p>`,
    `<table><thead><tr><th>λ (seRNN)</th><th>accurate</th><th>small-world</th><th>more modular (Q_cnm)</th><th>co-localised</th></tr></thead><tbody>${rows}</tbody></table>`,
  ].join('\n');
}

/** The seRNN section's HTML; its numbers go to json.sernn. */
export function sernnSection(runs: SernnRun[], json: Record<string, unknown>): string {
  const cs = cells(runs);
  const rows = lambdaRows(cs);
  const qDefs = qByDefinition(cs);
  const pairs = { density: matchNetworks(runs, BY_DENSITY), totalWeight: matchNetworks(runs, BY_TOTAL_WEIGHT) };
  const population = populationComparison(runs);
  const regression = regressionRows(runs);
  const claims = claimsOf(pairs, population);
  const spot = sweetSpot(cs);
  const accurateCount = { L1: accurate(runs, 'L1').length, seRNN: accurate(runs, 'seRNN').length };
  json.sernn = {
    rows,
    qByDefinition: qDefs,
    matching: { highAccuracy: HIGH_ACCURACY, density: MATCH_DENSITY, accuracy: MATCH_ACCURACY, pairs: pairs.density.length },
    matchingTotalWeight: {
      highAccuracy: HIGH_ACCURACY,
      totalWeightRelative: MATCH_TOTAL_WEIGHT_RELATIVE,
      accuracy: MATCH_ACCURACY,
      pairs: pairs.totalWeight.length,
    },
    population: { highAccuracy: HIGH_ACCURACY, networks: accurateCount, alpha: POPULATION_ALPHA, bootstrap: D_BOOTSTRAP, rows: population },
    regression: { model: 'metric ~ 1 + family (seRNN = 1) + weight_density', rows: regression },
    claims,
    sweetSpot: { rows: spot, lambdas: spot.filter((s) => s.inSpot).map((s) => s.lambda) },
  };
  return [
    intro(runs),
    lambdaTableHtml(rows),
    ...figures(cs, runs).map((s) => `<figure class="curve">${s}</figure>`),
    qByDefinitionHtml(qDefs),
    populationHtml(population, accurateCount),
    regressionHtml(regression),
    claimsHtml(claims, { density: pairs.density.length, totalWeight: pairs.totalWeight.length }),
    modulesOnTheGrid(cs, json),
    sweetSpotHtml(spot),
  ].join('\n');
}

/** The labellings that a grid of units has: positions only, no activity or synapses. */
const GRID_LABELLINGS: LabellingName[] = ['spatial', 'depth', 'index_mod3'];

/**
 * Do the modules follow the units' places on the grid? Per family and λ, the mean NMI of the CNM
 * modules with each grid labelling over the networks that have one, and how many follow it at
 * p < ALIGNMENT_P.
 */
function modulesOnTheGrid(cs: Cell[], json: Record<string, unknown>): string {
  const rows = cs.map((c) => {
    const byLabelling = Object.fromEntries(
      GRID_LABELLINGS.map((name) => {
        const a = c.ok.flatMap((r) => alignmentOf(r.rec, name) ?? []);
        return [name, { nmi: meanOf(a.map((x) => x.nmi)), significant: a.filter((x) => x.p < ALIGNMENT_P).length, networks: a.length }];
      }),
    );
    return { family: c.family, lambda: c.lambda, ...byLabelling } as { family: Family; lambda: number } & Record<
      LabellingName,
      { nmi: number; significant: number; networks: number }
    >;
  });
  if (!rows.some((r) => GRID_LABELLINGS.some((name) => r[name].networks))) return '';
  (json.sernn as Record<string, unknown>).modules = rows;
  const names = GRID_LABELLINGS.map((name) => LABELLING_NAMES[name].replace(/ \(construction\)$/, ''));
  const body = rows
    .map(
      (r) =>
        `<tr><td>${r.family}</td><td>${esc(String(r.lambda))}</td>${GRID_LABELLINGS.map((name) => `<td>${fmt(r[name].nmi)} <small>(${r[name].significant}/${r[name].networks} p&lt;${ALIGNMENT_P})</small></td>`).join('')}</tr>`,
    )
    .join('');
  return [
    `<h3>What the modules follow on the grid</h3><p>The CNM modules of each network against labellings of its 100 units by their place on the 5 × 5 × 4 grid: k-means of the grid coordinates (k = the modules with at least two units), the y coordinate in three equal-count bins (units of one y level split by index where a bin boundary falls inside it), and the index mod 3 as a check that carries no meaning here. NMI as in the paper grid's section, mean over the networks of each cell; in brackets, the networks whose modules follow the labelling at p &lt; ${ALIGNMENT_P} (1,000 shuffles).</p>`,
    `<table><thead><tr><th>family</th><th>λ</th>${names.map((n) => `<th>${esc(n)}</th>`).join('')}</tr></thead><tbody>${body}</tbody></table>`,
  ].join('\n');
}
