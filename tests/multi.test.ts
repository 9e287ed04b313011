/**
 * Many networks in the same dispatches: K batched models equal K separate runs (bit for bit
 * where the arithmetic is identical, else to 1e-6), with different weights, batches,
 * regularisers, distance matrices and constraints per model.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../engine/rng.ts';
import { initParams, type HostParams, type RnnConfig } from '../engine/rnn/params.ts';
import { RnnTrainer, type ModelSpec } from '../engine/rnn/trainer.ts';
import { stepMask, type Batch } from '../engine/data.ts';
import { L1Regularizer } from '../engine/regularizers/regularizer.ts';
import { WdcRegularizer, WdRegularizer } from '../engine/regularizers/communicability.ts';
import { hasAdapter, useGpu, withMatmulKernel } from './helpers/gpu.ts';

function batch(cfg: RnnConfig, T: number, B: number, seed: number): Batch {
  const rng = new Rng(seed, 'batch');
  return {
    T,
    B,
    x: Float32Array.from({ length: T * B * cfg.nIn }, () => rng.uniformIn(-1, 1)),
    labels: Float32Array.from({ length: T * B }, () => rng.int(cfg.nOut)),
    lossMask: stepMask(T, B, seed % 2 ? 'all' : 'last'),
    scoreMask: stepMask(T, B, seed % 2 ? 'all' : 'last'),
  };
}

function distances(n: number, seed: number): Float64Array {
  const rng = new Rng(seed, 'coords');
  const p = Array.from({ length: n }, () => [rng.uniform(), rng.uniform(), rng.uniform()]);
  return Float64Array.from({ length: n * n }, (_, k) => Math.hypot(...p[Math.floor(k / n)]!.map((v, d) => v - p[k % n]![d]!)));
}

function maxDiff(a: HostParams, b: HostParams): number {
  let worst = 0;
  for (const k of Object.keys(a) as (keyof HostParams)[]) for (let i = 0; i < a[k]!.length; i++) worst = Math.max(worst, Math.abs(a[k]![i]! - b[k]![i]!));
  return worst;
}

describe.skipIf(!hasAdapter)('many networks at once', () => {
  const gpu = useGpu();

  const variants = [
    ['per-step', 'workgroup'],
    ['per-step', 'subgroup'],
    ['persistent', 'workgroup'],
  ] as const;
  for (const [design, tiles] of variants) {
    it(`K = 4 batched models equal 4 separate runs (${design}, ${tiles} tiles)`, () =>
      withMatmulKernel(gpu.get(), tiles, async () => {
        const cfg: RnnConfig = { nIn: 3, nHidden: 24, nOut: 3, alpha: 0.5, outputBias: true };
        const N = cfg.nHidden;
        const mask = Float64Array.from({ length: N * N }, (_, i) => (i % 7 === 0 ? 0 : 1));
        const specs = (): ModelSpec[] => [
          { params: initParams(cfg, new Rng(1)) },
          { params: initParams(cfg, new Rng(2)), regularizers: [new L1Regularizer(0.01)], positiveOnly: true },
          { params: initParams(cfg, new Rng(3)), regularizers: [new WdcRegularizer({ lambda: 0.05, D: distances(N, 3), sMin: 1e-4 })] },
          { params: initParams(cfg, new Rng(4)), regularizers: [new WdRegularizer({ lambda: 0.1, D: distances(N, 4) })], recurrentMask: mask },
        ];
        const multi = new RnnTrainer(gpu.get(), cfg, specs(), { design });
        const singles = specs().map((s) => new RnnTrainer(gpu.get(), cfg, [s], { design }));
        for (let step = 0; step < 4; step++) {
          const batches = [0, 1, 2, 3].map((k) => batch(cfg, 7, 5, 10 * step + k));
          const rm = await multi.step(batches);
          for (let k = 0; k < 4; k++) {
            const rs = (await singles[k]!.step([batches[k]!]))[0]!;
            expect(rm[k]!.diverged).toBeUndefined();
            expect(Math.abs(rm[k]!.ce - rs.ce)).toBeLessThanOrEqual(1e-6 * Math.max(1, rs.ce));
            expect(Math.abs(rm[k]!.reg - rs.reg)).toBeLessThanOrEqual(1e-6 * Math.max(1, rs.reg));
          }
        }
        const batched = await multi.getAllParams();
        let worst = 0;
        for (let k = 0; k < 4; k++) worst = Math.max(worst, maxDiff(batched[k]!, await singles[k]!.getParams()));
        expect(worst).toBeLessThanOrEqual(1e-6);
        console.log(`[multi ${design}, ${tiles} tiles] max |batched - separate| over all parameters after 4 steps: ${worst}`);
        expect(batched[1]!.W_rec.every((w) => w >= 0)).toBe(true);
        expect(batched[3]!.W_rec.every((w, i) => mask[i] === 1 || w === 0)).toBe(true);
        multi.dispose();
        singles.forEach((s) => s.dispose());
      }));
  }

  it('a diverging model is reported without stopping the others', async () => {
    const cfg: RnnConfig = { nIn: 2, nHidden: 8, nOut: 2, alpha: 1, outputBias: false };
    const bad = initParams(cfg, new Rng(5));
    bad.W_out[0] = Number.NaN;
    const multi = new RnnTrainer(gpu.get(), cfg, [{ params: initParams(cfg, new Rng(6)) }, { params: bad }]);
    const r = await multi.step([batch(cfg, 4, 3, 1), batch(cfg, 4, 3, 2)]);
    expect(r[0]!.diverged).toBeUndefined();
    expect(Number.isFinite(r[0]!.loss)).toBe(true);
    expect(r[1]!.diverged?.step).toBe(1);
    expect(r[1]!.diverged?.model).toBe(1);
    expect(r[1]!.diverged?.message).toMatch(/in '\w+' of model 1 at training step 1/);
    multi.dispose();
  });
});
