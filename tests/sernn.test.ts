import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../engine/cpu/backend.ts';
import type { Backend } from '../engine/tensor.ts';
import { PAPER_PROTOCOL, type Protocol } from '../experiments/protocol.ts';
import { sweep } from '../experiments/sweep.ts';
import { readRunRecord } from '../experiments/run.ts';
import { runId, runRelDir } from '../experiments/record.ts';
import { writeReport } from '../experiments/report.ts';
import { hasAdapter, useGpu } from './helpers/gpu.ts';
import { parseSernnFill, parseSernnStrengths, sernnStrengths, sernnPlan, SERNN_FAMILIES } from '../experiments/sernn.ts';
import { planRuns } from '../experiments/sweep.ts';

import { syntheticGrid, initialRecurrent } from '../experiments/setup.ts';
import { prepareField } from '../experiments/prepare.ts';
import { getVariant } from '../experiments/variants.ts';
import { gridDistances } from '../connectome/geometry.ts';
import type { FinalRecord } from '../experiments/record.ts';
import { sernnSection, type SernnRun } from '../experiments/sernn_report.ts';

describe('seRNN preset', () => {
  it('climbs two decades in 8 strengths, and more strengths only extend the range', () => {
    const s = sernnStrengths(1e-2, 8);
    expect(s[0]).toBe(0.01);
    expect(s[7]).toBe(1);
    expect(s).toEqual([0.01, 0.0193, 0.0373, 0.072, 0.139, 0.268, 0.518, 1]);
    expect(sernnStrengths(1e-2, 11).slice(0, 8)).toEqual(s);
    expect(sernnStrengths(3e-5, 8)).toEqual([0.00003, 0.0000579, 0.000112, 0.000216, 0.000417, 0.000805, 0.00155, 0.003]);
    expect(() => sernnStrengths(1, 0)).toThrow(/--strengths/);
  });

  it('takes a ladder length per family and fills a range with evenly spaced strengths, keeping every ladder strength', () => {
    expect(parseSernnStrengths('8')).toEqual({ L1: 8, seRNN: 8 });
    expect(parseSernnStrengths('L1=11')).toEqual({ L1: 11, seRNN: 8 });
    expect(parseSernnStrengths('L1=11,seRNN=6')).toEqual({ L1: 11, seRNN: 6 });
    expect(() => parseSernnStrengths('L2=3')).toThrow(/--strengths: expected a count, or FAMILY=COUNT per family .*got "L2=3"/);
    expect(parseSernnFill('seRNN=0.07-0.3x5')).toEqual({ seRNN: [0.07, 0.128, 0.185, 0.242, 0.3] });
    expect(parseSernnFill(undefined)).toEqual({});
    for (const bad of ['seRNN=0.3-0.07x5', 'seRNN=0.07-0.3x1', 'L1=0-1x3', 'seRNN=0.07-0.3']) {
      expect(() => parseSernnFill(bad), bad).toThrow(/--fill: expected FAMILY=LO-HIxCOUNT/);
    }
    const plan = sernnPlan({ strengths: { L1: 11, seRNN: 8 }, fill: parseSernnFill('seRNN=0.07-0.3x5,seRNN=0.139-0.268x2') }, [1]);
    expect(plan.lambdas!.W).toEqual(sernnStrengths(3e-5, 11));
    // the ladder's 0.072, 0.139 and 0.268 stay; the fill adds what is new, once, in order
    expect(plan.lambdas!.WDC).toEqual([0.01, 0.0193, 0.0373, 0.07, 0.072, 0.128, 0.139, 0.185, 0.242, 0.268, 0.3, 0.518, 1]);
    expect(sernnPlan(8, [1]).lambdas).toEqual(sernnPlan({ strengths: { L1: 8, seRNN: 8 }, fill: {} }, [1]).lambdas);
  });

  it('plans families × strengths × seeds with λ in the run id', () => {
    const plan = sernnPlan(4, [1, 2]);
    const runs = planRuns(plan);
    expect(runs).toHaveLength(SERNN_FAMILIES.length * 4 * 2);
    expect(new Set(runs.map(runId)).size).toBe(runs.length);
    const r = runs.find((x) => x.variant === 'WDC' && x.seed === 2)!;
    expect(runId(r)).toBe(`corrected/grid-5x5x4/inference/WDC/lambda-${r.lambda}/seed-2`);
    expect(runRelDir(r)).toContain(`WDC/lambda-${r.lambda}/seed-2`);
    // Without λ the id is unchanged (the paper grid's committed runs keep their ids).
    expect(runId({ field: '6_6_2', task: 'pdm', variant: 'W', seed: 1, mode: 'paper', positive: false })).toBe('paper/6_6_2/pdm/W/seed-1');
  });

  it('builds the 5 × 5 × 4 grid field without data, and refuses variants that need data', () => {
    expect(syntheticGrid('grid-5x5x4')).toEqual([5, 5, 4]);
    expect(syntheticGrid('6_6_2')).toBeNull();
    expect(() => syntheticGrid('grid-0x5x4')).toThrow(/--field/);
    const ctx = prepareField('/nonexistent', 'grid-5x5x4');
    expect(ctx.n).toBe(100);
    expect(Array.from(ctx.grid.D)).toEqual(Array.from(gridDistances(100, [5, 5, 4]).D));
    // The notebook's meshgrid: unit k at (x, y, z) = ((k / 4) % 5, k / 20, k % 4), one unit apart.
    expect(Array.from(ctx.positionsUm.subarray(3 * 27, 3 * 27 + 3))).toEqual([1, 1, 3]);
    expect(ctx.grid.D[0 * 100 + 99]).toBeCloseTo(Math.sqrt(16 + 16 + 9), 12);
    expect(() => ctx.realD('corrected')).toThrow(/synthetic grid/);
    expect(() => initialRecurrent(getVariant('W*D*C'), ctx, 1)).toThrow(/W\*/);
    expect(() => initialRecurrent(getVariant('Wanat-D*C'), ctx, 1)).toThrow(/EM connectome/);
  });
});

/** The claims' ids: one modularity claim per Q definition, then the others. */
const CLAIM_IDS = [
  'Q_cnm',
  'Q_top5',
  'Q_top20',
  'Q_weighted',
  'Q_weighted_offdiag',
  'Q_directed',
  'Q_cnm_norm',
  'Q_cnm_z',
  'sigma_paper',
  'sigma_matched',
  'colocalisation',
  'mixed',
  'mixed_r',
  'energy',
];

/** scipy / numpy values of the constructed population below (make_sernn_stats_refs.py). */
const refs = JSON.parse(readFileSync(new URL('./fixtures/analysis/sernn_stats.json', import.meta.url), 'utf8')).sernn;

/** A finished run with chosen metric values; anything not given is absent, as in runs from before a metric existed. */
function constructedRun(variant: 'W' | 'WDC', lambda: number, seed: number, accuracy: number, metrics: Record<string, number>): SernnRun {
  const rec = { status: 'ok', accuracy: { test: accuracy, paper: accuracy, val: accuracy }, metrics } as unknown as FinalRecord;
  return { variant, lambda, seed, rec };
}

/**
 * Six accurate L1 and five accurate seRNN networks with every Q definition recorded; two accurate
 * networks analysed before the new Q fields existed (Q_cnm only); and two inaccurate networks with
 * extreme values that no comparison may use.
 *  - Q_weighted: the fixture's values, every seRNN above every L1 (scipy: t = 5.477, d = 3.354);
 *  - Q_directed: every seRNN below every L1; Q_top20: the same values in both families;
 *  - matching on density pairs seRNN 0.78, 0.70, 0.62, 0.52, 0.45 with L1 0.80, 0.70, 0.60, 0.55
 *    and the old L1 network at 0.46 (5 pairs, 4 with Q_weighted); matching on total weight pairs
 *    seRNN 640 with L1 650 and seRNN 560 with L1 550 (2 pairs).
 */
function constructedPopulation(): SernnRun[] {
  const l1TotalWeight = [800, 750, 700, 650, 600, 550];
  const seTotalWeight = [560, 490, 640, 310, 300];
  const top20 = [0.1, 0.2, 0.3, 0.1, 0.2, 0.3];
  const full = (i: number, family: 'l1' | 'seRNN', extra: Record<string, number>) => ({
    Q_cnm: 0.15 + 0.001 * i,
    Q_weighted: refs[family].Q_weighted[i],
    weight_density: refs[family].density[i],
    Q_top20: top20[i]!,
    Q_directed: (family === 'l1' ? 0.3 : 0.2) + 0.01 * i,
    ...extra,
  });
  return [
    ...l1TotalWeight.map((tw, i) => constructedRun('W', 1e-4, i + 1, 1, full(i, 'l1', { total_weight: tw, Q_cnm_z: i === 0 ? NaN : 2 + i }))),
    ...seTotalWeight.map((tw, i) => constructedRun('WDC', 0.1, i + 1, 1, full(i, 'seRNN', { total_weight: tw, Q_cnm_z: 4 + i }))),
    constructedRun('W', 1e-4, 7, 1, { Q_cnm: 0.15, weight_density: 0.46, total_weight: 2000 }),
    constructedRun('WDC', 0.2, 1, 1, { Q_cnm: 0.16, weight_density: 0.3, total_weight: 100 }),
    constructedRun('W', 1e-4, 8, 0.8, { Q_cnm: 10, Q_weighted: 10, Q_directed: -10, weight_density: 0.7, total_weight: 700 }),
    constructedRun('WDC', 0.1, 6, 0.85, { Q_cnm: -10, Q_weighted: -10, Q_directed: 10, weight_density: 0.7, total_weight: 700 }),
  ];
}

interface SernnJson {
  qByDefinition: { recorded: Record<string, number>; networks: number; rows: Record<string, { n: number; mean: number }>[] };
  matching: { pairs: number };
  matchingTotalWeight: { pairs: number; totalWeightRelative: number };
  population: { networks: { L1: number; seRNN: number }; rows: PopRow[] };
  regression: { rows: { key: string; n: { L1: number; seRNN: number }; df: number; family: Coef; density: Coef }[] };
  claims: Claim[];
}
interface PopRow {
  key: string;
  L1: { n: number; mean: number };
  seRNN: { n: number; mean: number };
  welch: { t: number; df: number; p: number };
  d: { estimate: number; lo: number; hi: number; resamples: number };
}
interface Coef {
  coef: number;
  se: number;
  t: number;
  p: number;
}
interface Paired {
  verdict: string;
  effect: { estimate: number; lo: number; hi: number } | null;
  p: number | null;
  pairs: number;
}
interface Claim {
  id: string;
  byDensity: Paired;
  byTotalWeight: Paired;
  population: { verdict: string; p: number; n: { L1: number; seRNN: number } };
}

describe('seRNN report on constructed runs', () => {
  const runs = constructedPopulation();
  const json: Record<string, unknown> = {};
  const html = sernnSection(runs, json);
  const j = json.sernn as SernnJson;
  const pop = (key: string) => j.population.rows.find((r) => r.key === key)!;
  const claim = (id: string) => j.claims.find((c) => c.id === id)!;
  const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

  it("population comparison: Welch's t and p as scipy, Cohen's d as numpy, over the accurate networks only", () => {
    expect(j.population.networks).toEqual({ L1: 7, seRNN: 6 });
    const q = pop('Q_weighted');
    expect([q.L1.n, q.seRNN.n]).toEqual([6, 5]);
    expect(rel(q.welch.t, refs.welch.t)).toBeLessThan(1e-12);
    expect(rel(q.welch.df, refs.welch.df)).toBeLessThan(1e-12);
    expect(rel(q.welch.p, refs.welch.p)).toBeLessThan(1e-10);
    expect(rel(q.d.estimate, refs.welch.d)).toBeLessThan(1e-12);
    // every seRNN value is above every L1 value: every resample keeps d > 0
    expect(q.d.lo).toBeGreaterThan(0);
    expect(q.d.resamples).toBeGreaterThanOrEqual(2000);
  });

  it('missing values: networks without a metric leave its n, never counted as 0', () => {
    // Q_cnm: the old networks count (7 L1, 6 seRNN); Q_cnm_z: one L1 network stored NaN
    expect([pop('Q_cnm').L1.n, pop('Q_cnm').seRNN.n]).toEqual([7, 6]);
    expect([pop('Q_cnm_z').L1.n, pop('Q_cnm_z').seRNN.n]).toEqual([5, 5]);
    expect(pop('Q_cnm_z').L1.mean).toBe(5); // 3, 4, 5, 6, 7
    const top5 = pop('Q_top5');
    expect([top5.L1.n, top5.seRNN.n]).toEqual([0, 0]);
    expect(Number.isNaN(top5.welch.p)).toBe(true);
    expect(pop('energy').L1.n).toBe(0);
    // Q by definition: recorded counts over the 15 finished networks, and the cells
    expect(j.qByDefinition.networks).toBe(15);
    expect(j.qByDefinition.recorded).toMatchObject({ Q_cnm: 15, Q_weighted: 13, Q_top5: 0, Q_cnm_z: 10 });
    const l1Cell = j.qByDefinition.rows.find((r) => (r.family as unknown) === 'L1')!;
    expect(l1Cell.Q_weighted).toEqual({ n: 7, mean: (refs.l1.Q_weighted as number[]).reduce((a, b) => a + b, 10) / 7 });
    expect(html).toContain('(7 of 8)');
    expect(html).toContain('not recorded in these runs');
    expect(html).toContain('Q_top5 in 0 of 15');
  });

  it('regression metric ~ 1 + family + density: the family coefficient as numpy lstsq and textbook SEs', () => {
    const r = j.regression.rows.find((x) => x.key === 'Q_weighted')!;
    expect(r.n).toEqual({ L1: 6, seRNN: 5 });
    expect(r.df).toBe(refs.regression.df);
    expect(rel(r.family.coef, refs.regression.coef[1])).toBeLessThan(1e-9);
    expect(rel(r.family.se, refs.regression.se[1])).toBeLessThan(1e-9);
    expect(rel(r.family.p, refs.regression.p[1])).toBeLessThan(1e-7);
    expect(rel(r.density.coef, refs.regression.coef[2])).toBeLessThan(1e-9);
    expect(j.regression.rows.map((x) => x.key)).not.toContain('weight_density');
    const none = j.regression.rows.find((x) => x.key === 'Q_top5')!;
    expect(none.n).toEqual({ L1: 0, seRNN: 0 });
    expect(Number.isNaN(none.family.coef)).toBe(true);
  });

  it('matches on density and on total weight, and counts the pairs that have each metric', () => {
    expect(j.matching.pairs).toBe(5);
    expect(j.matchingTotalWeight).toMatchObject({ pairs: 2, totalWeightRelative: 0.1 });
    const q = claim('Q_weighted');
    // density pairs: 0.170 − 0.140, 0.180 − 0.145, 0.175 − 0.155, 0.165 − 0.150 (the old L1 network has no Q_weighted)
    expect(q.byDensity.pairs).toBe(4);
    expect(q.byDensity.effect!.estimate).toBeCloseTo(0.025, 12);
    // total-weight pairs: 0.175 − 0.160, 0.170 − 0.150
    expect(q.byTotalWeight.pairs).toBe(2);
    expect(q.byTotalWeight.effect!.estimate).toBeCloseTo(0.0175, 12);
    expect(q.byTotalWeight.p).toBe(0.5);
    expect(claim('Q_cnm').byDensity.pairs).toBe(5);
  });

  it('verdicts per Q definition: holds, does not hold, undecided, and undecided where nothing is recorded', () => {
    expect(j.claims.map((c) => c.id)).toEqual(CLAIM_IDS);
    const verdicts = (id: string) => [claim(id).byDensity.verdict, claim(id).byTotalWeight.verdict, claim(id).population.verdict];
    expect(verdicts('Q_weighted')).toEqual(['holds', 'holds', 'holds']);
    expect(verdicts('Q_directed')).toEqual(['does not hold', 'does not hold', 'does not hold']);
    expect(claim('Q_top20').population.verdict).toBe('undecided');
    expect(claim('Q_top20').population.p).toBeGreaterThan(0.05);
    expect(verdicts('Q_top5')).toEqual(['undecided', 'undecided', 'undecided']);
    expect(claim('Q_top5').byDensity.pairs).toBe(0);
    expect(claim('Q_top5').population.n).toEqual({ L1: 0, seRNN: 0 });
  });
});

const tmp = mkdtempSync(join(tmpdir(), 'cortical-rnn-sernn-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const gpu = useGpu();
const backend = (): Backend => (hasAdapter ? gpu.get() : new CpuBackend('f64'));

describe('seRNN experiment end to end (tiny)', () => {
  /** A few steps: the plumbing, not the science. */
  const TINY: Protocol = { ...PAPER_PROTOCOL, epochs: 1, steps: 4, batchSize: 32, splits: { train: 128, test: 64, val: 64 }, nNull: 10, nMatched: 2 };

  it('trains both families across strengths, records the functional analyses, and the report draws the seRNN section', async () => {
    const out = join(tmp, 'sernn');
    const plan = sernnPlan(2, [1]);
    const r = await sweep({ ...plan, out, dataDir: '/nonexistent', backend: backend(), protocol: TINY, preset: 'sernn', quiet: true });
    expect(r.ran).toHaveLength(4);
    for (const spec of r.planned) {
      const rec = readRunRecord(join(out, runRelDir(spec)))!;
      expect(rec.status).toBe('ok');
      expect(rec.spec.lambda).toBe(spec.lambda);
      expect(rec.n).toBe(100);
      const fn = rec.function!;
      expect(fn.trials).toBe(1024);
      expect(fn.units_active).toBeGreaterThan(0);
      expect(fn.units_active).toBeLessThanOrEqual(100);
      expect(fn.mixed_selectivity).toBeGreaterThanOrEqual(0);
      expect(fn.mixed_selectivity).toBeLessThanOrEqual(1);
      // the authors' measure: a correlation, or null when no choice-period window has 3 active units
      if (fn.mixed_selectivity_r !== null) expect(Math.abs(fn.mixed_selectivity_r!)).toBeLessThanOrEqual(1);
      expect(fn).toHaveProperty('mixed_selectivity_r');
      expect(fn.energy).toBeGreaterThan(0);
      expect(rec.metrics!.weight_density).toBeGreaterThan(0);
      expect(rec.metrics!.weight_density).toBeLessThanOrEqual(1);
      const config = JSON.parse(readFileSync(join(out, runRelDir(spec), 'config.json'), 'utf8'));
      expect(config.regularizer).toContain(`λ = ${spec.lambda}`);
      expect(config.spec.lambda).toBe(spec.lambda);
    }
    const { report } = await writeReport(out);
    const ids = report.sections.map((x) => x.id);
    expect(ids).toEqual(['settings', 'sernn']);
    const sec = report.sections.find((x) => x.id === 'sernn')!.html;
    expect(sec.match(/<svg /g)).toHaveLength(7);
    const j = report.json.sernn as {
      rows: { family: string; lambda: number; networks: number }[];
      claims: { id: string; verdict: string }[];
      sweetSpot: { rows: unknown[] };
    };
    expect(j.rows.map((x) => `${x.family}:${x.lambda}`)).toEqual(SERNN_FAMILIES.flatMap((f) => sernnStrengths(f.lo, 2).map((l) => `${f.family}:${l}`)));
    expect(j.rows.every((x) => x.networks === 1)).toBe(true);
    expect(j.claims.map((c) => c.id)).toEqual(CLAIM_IDS);
    expect(j.sweetSpot.rows).toHaveLength(2);
  }, 600_000);
});
