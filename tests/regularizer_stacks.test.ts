/**
 * Stacks of networks through one wiring cost (Backend.wiringCosts): each network's value and
 * gradient are exactly its own call's, on the GPU bit for bit, with the networks' expm needing
 * different squaring counts; assembleScaled places scaled blocks as the per-network mul and
 * assemble did; and the trainer's stacks leave every model's trajectory unchanged.
 */
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../engine/cpu/backend.ts';
import { EmdRegularizer, WdcRegularizer, WdRegularizer } from '../engine/regularizers/communicability.ts';
import { checkStack, sameStack, stackableCost } from '../engine/regularizers/stack.ts';
import { L1Regularizer } from '../engine/regularizers/regularizer.ts';
import { uniformAt, Rng } from '../engine/rng.ts';
import { initParams } from '../engine/rnn/params.ts';
import type { Batch } from '../engine/data.ts';
import type { RnnConfig } from '../engine/rnn/params.ts';
import { RnnTrainer, type ModelSpec } from '../engine/rnn/trainer.ts';
import type { Backend, Tensor } from '../engine/tensor.ts';
import { hasAdapter, useGpu, withMatmulKernel } from './helpers/gpu.ts';

function randD(n: number, stream: number): Float64Array {
  const d = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) d[i * n + j] = d[j * n + i] = Math.fround(0.1 + uniformAt(stream, i * n + j));
  return d;
}
/**
 * G blocks of n×n weights after `pad` leading values. Block m is random at scale small[m] with
 * a column of ones: the smaller the rest, the larger ‖M‖₁ of the normalised |W| (about
 * 1/√small), so the networks' expm need different squaring counts.
 */
function arena(n: number, small: number[], pad: number, gap = 0): Float64Array {
  const a = new Float64Array(pad + small.length * (n * n + gap) + 5);
  small.forEach((e, m) => {
    const at = pad + m * (n * n + gap);
    for (let k = 0; k < n * n; k++) a[at + k] = Math.fround(e * (-1 + 2 * uniformAt(40 + m, k)) * (uniformAt(50 + m, k) < 0.2 ? 0 : 1));
    for (let i = 0; i < n; i++) a[at + i * n] = 1;
  });
  return a;
}

/** Each network of the stack against its own call; `gap` values between the blocks, or `order` to read them out of order. */
async function stackVsAlone(be: Backend, costs: (WdRegularizer | WdcRegularizer)[], n: number, small: number[], o: { gap?: number; order?: number[] } = {}) {
  const pad = 3;
  const gap = o.gap ?? 0;
  const data = arena(n, small, pad, gap);
  const W = be.fromArray(data, [data.length]);
  const at = (o.order ?? small.map((_, m) => m)).map((m) => pad + m * (n * n + gap));
  const stack = be.wiringCosts(costs, W, at, n);
  expect(stack.values.shape).toEqual([costs.length]);
  expect(stack.grads.shape).toEqual([costs.length, n, n]);
  const [values, grads] = [await stack.values.read(), await stack.grads.read()];
  for (let m = 0; m < costs.length; m++) {
    const alone = be.wiringCost(costs[m]!, be.slice(W, at[m]!, [n, n]), n);
    expect(values[m], `network ${m}: value`).toBe((await alone.value.read())[0]);
    expect(Array.from(grads.subarray(m * n * n, (m + 1) * n * n)), `network ${m}: gradient`).toEqual(Array.from(await alone.grad.read()));
  }
  return { values, grads };
}

describe('which costs share a stack', () => {
  const D = randD(6, 1);
  it('only WD and WDC costs that agree on all but W and λ', () => {
    const a = new WdcRegularizer({ lambda: 0.3, D, sMin: 1e-4 });
    expect(sameStack(a, new WdcRegularizer({ lambda: 0.3, D: Float64Array.from(D), sMin: 1e-4 }))).toBe(true);
    expect(sameStack(a, new WdcRegularizer({ lambda: 0.2, D, sMin: 1e-4 }))).toBe(true);
    expect(sameStack(a, new WdcRegularizer({ lambda: 0.3, D, sMin: 1e-3 }))).toBe(false);
    expect(sameStack(a, new WdcRegularizer({ lambda: 0.3, D, sMin: 1e-4, squarings: 4 }))).toBe(false);
    const D2 = Float64Array.from(D);
    D2[7] += 1e-9;
    expect(sameStack(a, new WdcRegularizer({ lambda: 0.3, D: D2, sMin: 1e-4 }))).toBe(false);
    expect(sameStack(a, new WdRegularizer({ lambda: 0.3, D }))).toBe(false);
    const emd = new EmdRegularizer({ lambda: 0.3, mu: 1, D, K: new Float64Array(36).fill(1) });
    expect(stackableCost(emd)).toBeNull();
    expect(stackableCost(new L1Regularizer(0.1))).toBeNull();
    expect(stackableCost(a)).toBe(a);
  });
  it('a stack that cannot run is refused in one line', () => {
    const a = new WdRegularizer({ lambda: 0.3, D });
    expect(() => checkStack([a, new WdRegularizer({ lambda: 0.4, D: randD(6, 9) })], [0, 36], 6, 72)).toThrow(
      /cost 1 \(WD\) differs from cost 0 \(WD\) in more than W and λ/,
    );
    expect(() => checkStack([a, a], [0, 40], 6, 72)).toThrow(/W block 1 at 40 overruns the 72 values of W/);
    expect(() => checkStack([a], [0, 36], 6, 72)).toThrow(/1 costs for 2 W blocks/);
    const cpu = new CpuBackend();
    const rows = [{ block: 0, scaleAt: 0, offset: 9 }];
    expect(() => cpu.assembleScaled(10, cpu.fromArray([1], [1]), [{ blocks: cpu.fromArray([1, 2], [2]), len: 2, rows }])).toThrow(
      /assembleScaled.*at 9 of \[10\]/,
    );
  });
  it('the CPU twin computes each network as wiringCost does', async () => {
    const be = new CpuBackend();
    const n = 9;
    const D = randD(n, 2);
    const costs = [0, 1, 2].map(() => new WdcRegularizer({ lambda: 0.3, D, sMin: 1e-4 }));
    await stackVsAlone(be, costs, n, [1, 1e-2, 1e-4]);
  });
});

describe.runIf(hasAdapter)('stacks on the GPU', () => {
  const gpu = useGpu();
  for (const tiles of ['workgroup', 'subgroup'] as const) {
    it(`WDC of 4 networks whose expm need different squarings is each network's own call, bit for bit (${tiles} tiles)`, () =>
      withMatmulKernel(gpu.get(), tiles, async () => {
        const be = gpu.get();
        const n = 37;
        const D = randD(n, 3);
        const costs = [0, 1, 2, 3].map(() => new WdcRegularizer({ lambda: 0.3, D, sMin: 1e-4 }));
        const small = [1, 1e-2, 1e-4, 1e-6];
        const { values } = await stackVsAlone(be, costs, n, small);
        // fresh costs for other data: a cost's lagged squaring count belongs to the W it last saw
        const fresh = () => [0, 1, 2, 3].map(() => new WdcRegularizer({ lambda: 0.3, D, sMin: 1e-4 }));
        await stackVsAlone(be, fresh(), n, small, { gap: 5 });
        // networks that differ in λ too (a sweep over strengths)
        await stackVsAlone(
          be,
          [0.3, 0.01, 1.7, 0.3].map((lambda) => new WdcRegularizer({ lambda, D, sMin: 1e-4 })),
          n,
          small,
        );
        await stackVsAlone(be, fresh(), n, small, { order: [3, 1, 0, 2] });
        // the stack alone again: each network's own plan is read back, and their counts differ
        for (const c of costs) c.stats.squarings = null;
        const data = arena(n, small, 3);
        be.wiringCosts(
          costs,
          be.fromArray(data, [data.length]),
          [0, 1, 2, 3].map((m) => 3 + m * n * n),
          n,
        );
        await be.sync();
        await new Promise((r) => setTimeout(r, 50));
        const counts = costs.map((c) => c.stats.squarings);
        expect(new Set(counts).size, `squarings ${counts.join(', ')}`).toBe(4);
        expect(values.every(Number.isFinite)).toBe(true);
      }));
  }
  it('WD of 3 networks, and against the float64 CPU twin', async () => {
    const be = gpu.get();
    const n = 20;
    const D = randD(n, 4);
    const costs = [0.4, 0.05, 2].map((lambda) => new WdRegularizer({ lambda, D }));
    const gpuOut = await stackVsAlone(be, costs, n, [1, 0.5, 2]);
    // blocks a stride apart are read in place; blocks in another order are gathered first
    await stackVsAlone(be, costs, n, [1, 0.5, 2], { gap: 7 });
    await stackVsAlone(be, costs, n, [1, 0.5, 2], { order: [2, 0, 1] });
    const cpu = new CpuBackend();
    const data = arena(n, [1, 0.5, 2], 3);
    const ref = cpu.wiringCosts(costs, cpu.fromArray(data, [data.length]), [3, 3 + n * n, 3 + 2 * n * n], n);
    const want = await ref.values.read();
    gpuOut.values.forEach((v, m) => expect(Math.abs(v - want[m]!) / want[m]!).toBeLessThan(1e-5));
  });
  it('assembleScaled on the GPU is its CPU twin', async () => {
    const be = gpu.get();
    const cpu = new CpuBackend('f32');
    const blocks = Array.from({ length: 3 * 5 }, (_, i) => Math.fround(uniformAt(7, i) - 0.5));
    const scale = [0.5, -3, 1.25, 7];
    const parts = (b: Backend, t: Tensor) => [
      {
        blocks: t,
        len: 5,
        rows: [
          { block: 2, scaleAt: 3, offset: 1 },
          { block: 0, scaleAt: 1, offset: 12 },
        ],
      },
      { blocks: b.fromArray(blocks.slice(5, 10), [5]), len: 5, rows: [{ block: 0, scaleAt: 0, offset: 6 }] },
    ];
    const got = await be.assembleScaled(20, be.fromArray(scale, [4]), parts(be, be.fromArray(blocks, [15]))).read();
    const want = await cpu.assembleScaled(20, cpu.fromArray(scale, [4]), parts(cpu, cpu.fromArray(blocks, [15]))).read();
    expect(Array.from(got)).toEqual(Array.from(want));
    expect(got[0]).toBe(0);
    expect(got[1]).toBe(Math.fround(blocks[10]! * 7));
  });
});

describe.runIf(hasAdapter)('the trainer with stacks', () => {
  const gpu = useGpu();
  it('models in stacks, beside L1 and EMD models, follow exactly their trajectories alone', () =>
    withMatmulKernel(gpu.get(), 'workgroup', async () => {
      const be = gpu.get();
      const N = 12;
      const cfg: RnnConfig = { nIn: 3, nHidden: N, nOut: 2, alpha: 0.5, outputBias: true };
      const D = randD(N, 5);
      const K = new Float64Array(N * N).map((_, i) => (uniformAt(9, i) < 0.3 ? 1 + Math.floor(3 * uniformAt(10, i)) : 0));
      const make = (): ModelSpec[] => [
        { params: initParams(cfg, new Rng(1)), regularizers: [new WdcRegularizer({ lambda: 0.05, D, sMin: 1e-4 })] },
        { params: initParams(cfg, new Rng(2)), regularizers: [new L1Regularizer(0.01)] },
        { params: initParams(cfg, new Rng(3)), regularizers: [new WdcRegularizer({ lambda: 0.2, D, sMin: 1e-4 })] },
        { params: initParams(cfg, new Rng(4)), regularizers: [new EmdRegularizer({ lambda: 0.05, mu: 1, D, K })] },
        { params: initParams(cfg, new Rng(5)), regularizers: [new WdRegularizer({ lambda: 0.1, D })] },
        { params: initParams(cfg, new Rng(6)), regularizers: [new WdcRegularizer({ lambda: 0.05, D, sMin: 1e-4 })] },
        { params: initParams(cfg, new Rng(7)) },
      ];
      const T = 6;
      const B = 4;
      const batch = (k: number): Batch => ({
        T,
        B,
        x: Float64Array.from({ length: T * B * cfg.nIn }, (_, i) => uniformAt(20 + k, i)),
        labels: Int32Array.from({ length: T * B }, (_, i) => Math.floor(2 * uniformAt(30 + k, i))),
        lossMask: new Float64Array(T * B).fill(1),
        scoreMask: new Float64Array(T * B).fill(1),
      });
      // the persistent design sums each model's recurrence alike at any K (the per-step one need not)
      const together = new RnnTrainer(be, cfg, make(), { design: 'persistent' });
      const models = make();
      const alone = models.map((m) => new RnnTrainer(be, cfg, [m], { design: 'persistent' }));
      for (let step = 0; step < 3; step++) {
        const all = await together.step(models.map((_, k) => batch(k)));
        for (let k = 0; k < models.length; k++) {
          const one = await alone[k]!.step([batch(k)]);
          expect(all[k]!.loss, `model ${k} step ${step}: loss`).toBe(one[0]!.loss);
          expect(all[k]!.reg, `model ${k} step ${step}: regulariser`).toBe(one[0]!.reg);
        }
      }
      for (let k = 0; k < models.length; k++) {
        const a = await together.getParams(k);
        const b = await alone[k]!.getParams(0);
        expect(Array.from(a.W_rec), `model ${k}: W_rec after 3 steps`).toEqual(Array.from(b.W_rec));
      }
    }));
});
