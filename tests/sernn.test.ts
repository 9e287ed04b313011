import { describe, expect, it } from 'vitest';
import { logStrengths, sernnPlan, SERNN_FAMILIES } from '../experiments/sernn.ts';
import { planRuns } from '../experiments/sweep.ts';
import { runId, runRelDir } from '../experiments/run.ts';
import { prepareField, syntheticGrid, initialRecurrent } from '../experiments/setup.ts';
import { getVariant } from '../experiments/variants.ts';
import { gridDistances } from '../connectome/geometry.ts';

describe('seRNN preset', () => {
  it('spreads strengths log-evenly over each family range', () => {
    const s = logStrengths(1e-2, 1, 3);
    expect(s).toEqual([0.01, 0.1, 1]);
    expect(logStrengths(3e-5, 3e-3, 8)).toHaveLength(8);
    expect(() => logStrengths(1, 2, 0)).toThrow(/--strengths/);
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
