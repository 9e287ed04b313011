import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../engine/cpu/backend.ts';
import type { Backend } from '../engine/tensor.ts';
import { PAPER_PROTOCOL, type Protocol } from '../experiments/protocol.ts';
import { sweep } from '../experiments/sweep.ts';
import { readFinal } from '../experiments/run.ts';
import { writeReport } from '../experiments/report.ts';
import { hasAdapter, useGpu } from './helpers/gpu.ts';
import { sernnStrengths, sernnPlan, SERNN_FAMILIES } from '../experiments/sernn.ts';
import { planRuns } from '../experiments/sweep.ts';
import { runRelDir } from '../experiments/run.ts';
import { runId } from '../experiments/record.ts';
import { syntheticGrid, initialRecurrent } from '../experiments/setup.ts';
import { prepareField } from '../experiments/prepare.ts';
import { getVariant } from '../experiments/variants.ts';
import { gridDistances } from '../connectome/geometry.ts';

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
      const rec = readFinal(join(out, runRelDir(spec)))!;
      expect(rec.status).toBe('ok');
      expect(rec.spec.lambda).toBe(spec.lambda);
      expect(rec.n).toBe(100);
      const fn = rec.function!;
      expect(fn.trials).toBe(1024);
      expect(fn.units_active).toBeGreaterThan(0);
      expect(fn.units_active).toBeLessThanOrEqual(100);
      expect(fn.mixed_selectivity).toBeGreaterThanOrEqual(0);
      expect(fn.mixed_selectivity).toBeLessThanOrEqual(1);
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
    expect(j.claims.map((c) => c.id)).toEqual(['Q', 'sigma_paper', 'sigma_matched', 'colocalisation', 'mixed', 'energy']);
    expect(j.sweetSpot.rows).toHaveLength(2);
  }, 600_000);
});
