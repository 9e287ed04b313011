/**
 * The paper's claims (arXiv 2606.14975), each as a planned contrast between variants that differ
 * in the factor the claim is about, paired by task and seed. The evidence is the mean paired
 * difference with a cluster-bootstrap 95% interval over seeds (all of one seed's pairs move
 * together), and an exact sign-flip test on the per-seed mean differences d_i (effect minus the
 * claim's threshold).
 *
 * The claims are directional and fixed in advance, so the test is one-sided: pOneSided is the
 * share of the 2^k sign patterns of the k seeds whose mean is at least the observed one, oriented
 * so that the claim's side is positive (every pattern up to 20 seeds; a seeded Monte Carlo above,
 * see signFlipTestOneSided); pAgainst is the same test in the other direction. A claim
 * holds only when pOneSided < ALPHA and the interval lies on its side; with the interval on its
 * side but pOneSided ≥ ALPHA it is "consistent, not decided". Mirrored, pAgainst < ALPHA with the
 * interval on the other side is "does not hold", and the interval alone there "against, not
 * decided". Anything else is undecided. With k seeds the least one-sided p is 2^−k, so five
 * seeds are the fewest that can decide (1/32 < 0.05); three seeds all on one side give only
 * 1/8. Below MIN_SEEDS_FOR_VERDICT seeds a claim stays undecided whatever its interval: with two
 * clusters the bootstrap interval is only the range of the two seed means.
 *
 * Each paperClaims call is one family: pHolm is pOneSided Holm-adjusted over its claims that
 * have a p, and seedsNeeded says how many seeds a claim would need to pass Holm's level for its
 * rank at the effect and spread observed (see seedsNeededFor).
 */
import { clusterBootstrapMean, holmAdjust, signFlipTest, signFlipTestOneSided, studentTCdf, type BootstrapCI } from '../analysis/stats.ts';
import type { FinalRecord } from './record.ts';

/** A finished run as the claims see it. */
export interface ClaimRun {
  variant: string;
  task: string;
  seed: number;
  rec: FinalRecord;
}

/** From decided for the claim to decided against it; the two "not decided" have their interval on a side but their one-sided p ≥ ALPHA. */
export type Verdict = 'holds' | 'consistent, not decided' | 'undecided' | 'against, not decided' | 'does not hold';

/** The verdict as an HTML class name: 'consistent, not decided' → 'consistent-not-decided'. */
export const verdictClass = (v: Verdict): string => v.replace(/,/g, '').replace(/ /g, '-');

/** Seed counts past which seedsNeeded stops looking. */
export const SEEDS_NEEDED_CAP = 1000;
/** A seed count; '>1000' when more than SEEDS_NEEDED_CAP; null when no count would do (see seedsNeededFor). */
export type SeedsNeeded = number | `>${typeof SEEDS_NEEDED_CAP}` | null;

export interface ClaimResult {
  id: string;
  claim: string;
  /** How the effect is computed (which variants minus which). */
  contrast: string;
  verdict: Verdict;
  effect: BootstrapCI | null;
  /** Two-sided sign-flip p over the per-seed mean differences, for reference; the verdict does not use it. */
  p: number | null;
  /** One-sided exact sign-flip p in the claim's direction (≥ 2^−seeds). */
  pOneSided: number | null;
  /** One-sided exact sign-flip p in the opposite direction: the evidence that the claim fails. */
  pAgainst: number | null;
  /** pOneSided Holm-adjusted over the claims of one paperClaims call that have a p. */
  pHolm: number | null;
  /** Seeds this claim would need to pass Holm's level at its observed effect (seedsNeededFor). */
  seedsNeeded: SeedsNeeded;
  seeds: number;
  /** The seeds of this mode that do not back the claim, and why, so that none drops out silently. */
  leftOut: { seed: number; why: Absent }[];
}

const FULL = ['W*D*C', 'W*D*C*'];
const PARTIAL = ['WD', 'WD*', 'WDC', 'WD*C', 'WD*C*', 'W*DC*'];
/** Pairs that differ in one factor only (the first has it, the second does not). */
const FACTORS: Record<'init' | 'geometry' | 'communicability', [string, string][]> = {
  init: [
    ['W*D*C', 'WD*C'],
    ['W*D*C*', 'WD*C*'],
  ],
  geometry: [
    ['WD*', 'WD'],
    ['WD*C', 'WDC'],
    ['W*D*C*', 'W*DC*'],
  ],
  communicability: [
    ['WDC', 'WD'],
    ['WD*C', 'WD*'],
  ],
};
/**
 * Our two extra controls (not claims of the paper), each against W*D*C, which differs from it in
 * the initialisation only: the spectrum-matched random control asks whether W*'s gain comes from
 * its structure or only from its mean, diagonal share and spectral radius; the anatomical init asks
 * whether function beats EM synapse counts. Judged only when the control was run.
 */
const CONTROLS: { id: string; claim: string; variant: string }[] = [
  {
    id: 'init-structure-vs-spectrum',
    claim: "Control (ours): W*'s gain is its structure, not its spectrum (W*D*C beats the spectrum-matched random control)",
    variant: 'Wctrl-D*C',
  },
  {
    id: 'function-vs-anatomy',
    claim: 'Control (ours): functional initialisation beats anatomical (EM synapse count) initialisation',
    variant: 'Wanat-D*C',
  },
];
/** Positive-only performance is retained when it loses less than this much test accuracy. */
const RETAINED_MARGIN = 0.05;

type Value = (r: FinalRecord) => number | null;
const testAcc: Value = (r) => (r.status === 'ok' ? r.accuracy!.test : null);
const metric =
  (key: string): Value =>
  (r) => {
    const v = r.status === 'ok' && r.metrics ? (r.metrics as unknown as Record<string, unknown>)[key] : null;
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  };

/**
 * How much more the CNM modules follow the best of the real labellings (depth, spatial,
 * functional) than the index residue mod 3 that paper mode's coordinate construction imposes:
 * max(NMI_b, NMI_c, NMI_d) − NMI_a. Positive when the modules follow the cortex more.
 */
const followsCortexMoreThanIndex: Value = (r) => {
  const l = r.status === 'ok' ? r.metrics?.module_alignment?.cnm.labellings : undefined;
  const real = l ? [l.depth, l.spatial, l.functional].flatMap((a) => (a ? [a.nmi] : [])) : [];
  return l?.index_mod3 && real.length ? Math.max(...real) - l.index_mod3.nmi : null;
};

/** Why a seed does not back a claim, worst first: a run of the contrast diverged, is not there, or lacks the value. */
const ABSENT = ['run diverged', 'run missing', 'value missing'] as const;
type Absent = (typeof ABSENT)[number];
/** A value, or why there is none. */
type Cell = number | Absent;
const worst = (cells: (Cell | number[])[]): Absent | null => ABSENT.find((a) => cells.includes(a)) ?? null;
/** f of the values, or the worst reason one is absent. */
function combine(cells: Cell[], f: (xs: number[]) => number): Cell {
  return worst(cells) ?? f(cells as number[]);
}
const mean = (xs: number[]) => xs.reduce((p, q) => p + q, 0) / xs.length;

/** The value of (variant, task, seed), or why there is none. */
function lookup(runs: ClaimRun[], value: Value) {
  const m = new Map<string, Cell>();
  for (const r of runs) m.set(`${r.variant}|${r.task}|${r.seed}`, r.rec.status === 'diverged' ? 'run diverged' : (value(r.rec) ?? 'value missing'));
  return (variant: string, task: string, seed: number): Cell => m.get(`${variant}|${task}|${seed}`) ?? 'run missing';
}

/** Per seed of the runs: the values a claim rests on, or why that seed does not back it. */
type BySeed = Map<number, number[] | Absent>;

const seedsOf = (runs: ClaimRun[]) => [...new Set(runs.map((r) => r.seed))].sort((x, y) => x - y);

/**
 * Per seed, the values `of(seed)` returns when all are there. This is the one place a seed is
 * admitted to a claim: a half-finished seed would otherwise count as a whole seed while backing
 * the claim with one task, and a diverged run leaves its seed out (the claim says so).
 */
function completeSeeds(runs: ClaimRun[], of: (seed: number) => Cell[]): BySeed {
  const out: BySeed = new Map();
  for (const s of seedsOf(runs)) {
    const cells = of(s);
    out.set(s, cells.length ? (worst(cells) ?? (cells as number[])) : 'run missing');
  }
  return out;
}

/** Per seed, the differences a − b over the given pairs and tasks (or why the seed has none). */
function pairedBySeed(runs: ClaimRun[], value: Value, pairs: [string | string[], string | string[]][], tasks: string[], other: ClaimRun[] = runs): BySeed {
  const a = lookup(runs, value);
  const b = lookup(other, value);
  const meanOf = (get: typeof a, vs: string | string[], t: string, s: number) =>
    combine(
      [vs].flat().map((v) => get(v, t, s)),
      mean,
    );
  return completeSeeds(runs, (s) => tasks.flatMap((t) => pairs.map(([pa, pb]) => combine([meanOf(a, pa, t, s), meanOf(b, pb, t, s)], ([x, y]) => x! - y!))));
}

/** Per seed, one value minus another contrast's (both per-seed means), for "a is larger than b". */
function differenceOfContrasts(x: BySeed, y: BySeed): BySeed {
  const out: BySeed = new Map();
  for (const [s, dx] of x) {
    const dy = y.get(s) ?? 'run missing';
    out.set(s, worst([dx, dy]) ?? [mean(dx as number[]) - mean(dy as number[])]);
  }
  return out;
}

/**
 * The fewest seeds behind any verdict: with two the bootstrap interval is only the range of the
 * two seed means. (The one-sided test needs five for p < ALPHA in any case.)
 */
export const MIN_SEEDS_FOR_VERDICT = 3;
/** The level of the one-sided tests and of Holm's correction. */
export const ALPHA = 0.05;

/** A claim's result before its family is known, with its per-seed differences oriented so that the claim's side is positive. */
interface Judged {
  result: ClaimResult;
  oriented: number[];
}

/** The verdict from the seeds, the interval oriented to the claim's side [lo, hi], and the two one-sided p. */
function verdictOf(seeds: number, lo: number, hi: number, pOneSided: number, pAgainst: number): Verdict {
  if (seeds < MIN_SEEDS_FOR_VERDICT) return 'undecided';
  if (lo > 0) return pOneSided < ALPHA ? 'holds' : 'consistent, not decided';
  if (hi < 0) return pAgainst < ALPHA ? 'does not hold' : 'against, not decided';
  return 'undecided';
}

/** One claim's evidence: the bootstrap interval, the two one-sided p and the verdict; `side` is where the claim puts the effect against `threshold`. */
function judge(id: string, claim: string, contrast: string, bySeed: BySeed, threshold = 0, side: 'above' | 'below' = 'above'): Judged {
  const clusters = [...bySeed.values()].filter((v): v is number[] => typeof v !== 'string');
  const leftOut = [...bySeed].flatMap(([seed, v]) => (typeof v === 'string' ? [{ seed, why: v }] : []));
  const noFamily = { pHolm: null, seedsNeeded: null };
  if (!clusters.length) {
    const none = { verdict: 'undecided' as const, effect: null, p: null, pOneSided: null, pAgainst: null, seeds: 0 };
    return { result: { id, claim, contrast, ...none, ...noFamily, leftOut }, oriented: [] };
  }
  const effect = clusterBootstrapMean(clusters, { seed: 7 });
  const seedMeans = clusters.map((c) => mean(c) - threshold);
  const pOneSided = signFlipTestOneSided(seedMeans, side);
  const pAgainst = signFlipTestOneSided(seedMeans, side === 'above' ? 'below' : 'above');
  const [lo, hi] = side === 'above' ? [effect.lo - threshold, effect.hi - threshold] : [threshold - effect.hi, threshold - effect.lo];
  const verdict = verdictOf(clusters.length, lo, hi, pOneSided, pAgainst);
  const p = signFlipTest(seedMeans);
  const result = { id, claim, contrast, verdict, effect, p, pOneSided, pAgainst, ...noFamily, seeds: clusters.length, leftOut };
  return { result, oriented: seedMeans.map((d) => (side === 'above' ? d : -d)) };
}

/**
 * The seeds a claim would need to pass `level` at its observed effect: the smallest n such that
 *   (a) a one-sided one-sample t-test on n seed means with the observed mean x̄ and standard
 *       deviation s (k − 1 in the denominator, k seeds observed) of the oriented per-seed differences,
 *       t = x̄ / (s / √n) on n − 1 degrees of freedom, gives P(T ≥ t) < level, and
 *   (b) 2^−n < level: the exact sign-flip p is at least 2^−n, so fewer seeds cannot pass
 *       whatever the effect (n ≥ 5 for level ≤ 0.05).
 * s = 0 leaves (b) alone. A projection, not a power calculation: it assumes the next seeds look
 * like these. null when x̄ ≤ 0 (the effect is zero or on the wrong side) or with one seed (no s);
 * `>${SEEDS_NEEDED_CAP}` when no n up to SEEDS_NEEDED_CAP passes.
 */
export function seedsNeededFor(oriented: number[], level: number): SeedsNeeded {
  const k = oriented.length;
  const xBar = k ? mean(oriented) : NaN;
  if (k < 2 || !(xBar > 0)) return null;
  const sd = Math.sqrt(oriented.reduce((a, v) => a + (v - xBar) ** 2, 0) / (k - 1));
  let n = 2;
  while (n <= SEEDS_NEEDED_CAP && 2 ** -n >= level) n++;
  for (; n <= SEEDS_NEEDED_CAP; n++) if (studentTCdf(-xBar / (sd / Math.sqrt(n)), n - 1) < level) return n;
  return `>${SEEDS_NEEDED_CAP}`;
}

/**
 * The claims of one paperClaims call as a family: pHolm is pOneSided Holm-adjusted over those that
 * have a p, and seedsNeeded uses Holm's threshold for each claim's rank r among the m of them
 * (ascending pOneSided, ties in claim order): ALPHA / (m − r + 1).
 */
function asFamily(judged: Judged[]): ClaimResult[] {
  const tested = judged.filter((j) => j.result.pOneSided !== null);
  const adjusted = holmAdjust(tested.map((j) => j.result.pOneSided!));
  const m = tested.length;
  const rank = new Map(
    tested
      .map((j, i) => ({ j, i }))
      .sort((a, b) => a.j.result.pOneSided! - b.j.result.pOneSided! || a.i - b.i)
      .map(({ j }, r) => [j, r + 1]),
  );
  return judged.map((j) => {
    const i = tested.indexOf(j);
    if (i < 0) return j.result;
    return { ...j.result, pHolm: adjusted[i]!, seedsNeeded: seedsNeededFor(j.oriented, ALPHA / (m - rank.get(j)! + 1)) };
  });
}

/**
 * The claims for one mode: `runs` of that mode (recurrence unconstrained in sign) and, when
 * present, `positive` runs of the same mode and field.
 */
export function paperClaims(runs: ClaimRun[], positive: ClaimRun[] = []): ClaimResult[] {
  const tasks = [...new Set(runs.map((r) => r.task))].sort();
  return asFamily([...accuracyClaims(runs, tasks), ...factorClaims(runs, tasks), ...networkClaims(runs, tasks), ...controlClaims(runs, positive, tasks)]);
}

/** Per task: the fully constrained networks against W and against the partially constrained ones. */
function accuracyClaims(runs: ClaimRun[], tasks: string[]): Judged[] {
  return tasks.flatMap((t) => [
    judge(
      `full-vs-W-${t}`,
      `Fully constrained networks beat the baseline W (${t})`,
      'mean(W*D*C, W*D*C*) − W, test accuracy',
      pairedBySeed(runs, testAcc, [[FULL, 'W']], [t]),
    ),
    judge(
      `full-vs-partial-${t}`,
      `Fully constrained networks beat the partially constrained ones (${t})`,
      'mean(W*D*C, W*D*C*) − mean(WD, WD*, WDC, WD*C, WD*C*, W*DC*), test accuracy',
      pairedBySeed(runs, testAcc, [[FULL, PARTIAL]], [t]),
    ),
  ]);
}

/** The three factors' gains (initialisation, geometry, communicability) and their order. */
function factorClaims(runs: ClaimRun[], tasks: string[]): Judged[] {
  const factor = (f: keyof typeof FACTORS) => pairedBySeed(runs, testAcc, FACTORS[f], tasks);
  const describe = (f: keyof typeof FACTORS) => FACTORS[f].map(([a, b]) => `${a} − ${b}`).join(', ');
  const init = factor('init');
  const geometry = factor('geometry');
  const comm = factor('communicability');
  return [
    judge('init-gain', 'Functional initialisation (W* instead of orthogonal) raises accuracy', `${describe('init')}; all tasks`, init),
    judge(
      'init-vs-geometry',
      'Functional initialisation gains more than real geometry',
      'per seed: init gain − geometry gain',
      differenceOfContrasts(init, geometry),
    ),
    judge(
      'init-vs-communicability',
      'Functional initialisation gains more than communicability',
      'per seed: init gain − communicability gain',
      differenceOfContrasts(init, comm),
    ),
    judge('geometry-gain', 'Real spatial embedding (D* instead of grid D) gives a further gain', `${describe('geometry')}; all tasks`, geometry),
    judge('communicability-gain', 'Communicability (C) adds to the distance cost', `${describe('communicability')}; all tasks`, comm),
  ];
}

/** What the constrained networks look like: modular, modules that follow the cortex, low entropy, small-world. */
function networkClaims(runs: ClaimRun[], tasks: string[]): Judged[] {
  const vsW = (key: string) => pairedBySeed(runs, metric(key), [[FULL, 'W']], tasks);
  return [
    judge('modular', 'Constrained networks are more modular than W', 'Q (CNM): mean(W*D*C, W*D*C*) − W', vsW('Q_cnm')),
    judge(
      'modules-follow-cortex',
      'The modules follow anatomy (b, c) or function (d) more than the index construction (a)',
      'NMI of the CNM modules: max(depth, spatial, functional) − index mod 3, of W*D*C, W*D*C*',
      absolute(runs, followsCortexMoreThanIndex, tasks),
    ),
    judge(
      'low-entropy',
      'Constrained networks have lower weight entropy than W',
      'entropy (KDE, bits): mean(W*D*C, W*D*C*) − W',
      vsW('entropy_kde_bits'),
      0,
      'below',
    ),
    judge(
      'small-world-paper',
      'Constrained networks are small-world (paper null)',
      'σ (paper null) of W*D*C, W*D*C* − 1',
      absolute(runs, metric('sigma_paper'), tasks),
      1,
    ),
    judge(
      'small-world-matched',
      'Constrained networks are small-world (degree-matched null)',
      'σ (degree-matched null) of W*D*C, W*D*C* − 1',
      absolute(runs, metric('sigma_matched'), tasks),
      1,
    ),
  ];
}

/** Our controls where they were run, and positive-only recurrence where its runs are given. */
function controlClaims(runs: ClaimRun[], positive: ClaimRun[], tasks: string[]): Judged[] {
  const out = CONTROLS.filter((c) => runs.some((r) => r.variant === c.variant)).map((c) =>
    judge(c.id, c.claim, `W*D*C − ${c.variant}, test accuracy; all tasks`, pairedBySeed(runs, testAcc, [['W*D*C', c.variant]], tasks)),
  );
  if (positive.length)
    out.push(
      judge(
        'positive-retained',
        `Performance is retained with positive-only recurrence (loss < ${RETAINED_MARGIN})`,
        'test accuracy of W*D*C, W*D*C* positive-only − the same unconstrained in sign',
        pairedBySeed(positive, testAcc, [[FULL, FULL]], tasks, runs),
        -RETAINED_MARGIN,
      ),
    );
  return out;
}

/** Per seed, the values themselves (of the fully constrained variants on every task), for a level claim. */
function absolute(runs: ClaimRun[], value: Value, tasks: string[]): BySeed {
  const get = lookup(runs, value);
  return completeSeeds(runs, (s) => tasks.flatMap((t) => FULL.map((v) => get(v, t, s))));
}
