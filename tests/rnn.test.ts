/**
 * The recurrent core: the CPU twin against finite differences and the float64 fixtures, the
 * GPU kernels (both designs) against the CPU twin, Adam and the W_rec constraints, divergence
 * reporting, and a network that learns.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { Tape } from '../engine/autograd.ts';
import { WdRegularizer } from '../engine/regularizers/communicability.ts';
import { CpuBackend } from '../engine/cpu/backend.ts';
import { NonFiniteError } from '../engine/errors.ts';
import { GpuBackend } from '../engine/gpu/backend.ts';
import { Rng } from '../engine/rng.ts';
import { initParams, type HostParams, type RnnConfig } from '../engine/rnn/params.ts';
import { RnnTrainer } from '../engine/rnn/trainer.ts';
import { stepMask, type Batch } from '../engine/data.ts';
import { evaluate, train, type EpochInfo } from '../engine/rnn/train.ts';
import type { GradientResult, StepResult } from '../engine/rnn/trainer.ts';
import { verifyRnnFixture } from '../engine/verify.ts';
import { rnnFixtureRegularizer } from '../engine/verify_formats.ts';
import { L1Regularizer } from '../engine/regularizers/regularizer.ts';
import type { Backend } from '../engine/tensor.ts';
import { getTask } from '../tasks/index.ts';
import { makeSplits } from '../tasks/splits.ts';
import { hasAdapter, useGpu, withMatmulKernel } from './helpers/gpu.ts';
import { expectClose } from './helpers/compare.ts';

const cpu = new CpuBackend('f64');

function randomBatch(cfg: RnnConfig, T: number, B: number, seed: number, lossOn: 'all' | 'last' = 'all'): Batch {
  const rng = new Rng(seed, 'batch');
  const mask = stepMask(T, B, lossOn);
  return {
    T,
    B,
    x: Float32Array.from({ length: T * B * cfg.nIn }, () => rng.uniformIn(-1, 1)),
    labels: Float32Array.from({ length: T * B }, () => rng.int(cfg.nOut)),
    lossMask: mask,
    scoreMask: mask,
  };
}

/** Small random weights in float32-exact values, with a positive bias so units are active. */
function params(cfg: RnnConfig, seed: number): HostParams {
  const p = initParams(cfg, new Rng(seed, 'init'));
  const rng = new Rng(seed, 'bias');
  for (const k of Object.keys(p) as (keyof HostParams)[]) p[k] = p[k]!.map((v) => Math.fround(v));
  p.b = p.b.map(() => Math.fround(rng.uniformIn(0, 0.3)));
  if (p.b_out) p.b_out = p.b_out.map(() => Math.fround(rng.uniformIn(-0.2, 0.2)));
  return p;
}

const fixtureDir = process.env.CORTICAL_RNN_FIXTURES ?? '../shared/fixtures';
const fixtures = [`${fixtureDir}/rnn_bptt_ref.json`, 'tests/fixtures/rnn/elman_n48_last.json', 'tests/fixtures/rnn/leaky_n70_all.json'];

describe('CPU twin of the fused RNN', () => {
  it('gradients match central finite differences (float64)', async () => {
    const cfg: RnnConfig = { nIn: 2, nHidden: 5, nOut: 3, alpha: 0.5, outputBias: true };
    const p = params(cfg, 1);
    const batch = randomBatch(cfg, 4, 2, 2);
    batch.lossMask = Float32Array.from(batch.lossMask, (_, i) => (i % 3 === 0 ? 0 : 1));
    const trainer = new RnnTrainer(cpu, cfg, [{ params: p, regularizers: [new L1Regularizer(0.01)] }]);
    const [g] = await trainer.gradients([batch]);
    const h = 1e-6;
    for (const name of ['W_in', 'W_rec', 'b', 'W_out', 'b_out'] as const) {
      for (let i = 0; i < p[name]!.length; i++) {
        const plus = { ...p, [name]: p[name]!.slice() } as HostParams;
        const minus = { ...p, [name]: p[name]!.slice() } as HostParams;
        plus[name]![i]! += h;
        minus[name]![i]! -= h;
        trainer.setParams(plus);
        const lp = (await trainer.gradients([batch]))[0]!.loss;
        trainer.setParams(minus);
        const lm = (await trainer.gradients([batch]))[0]!.loss;
        const fd = (lp - lm) / (2 * h);
        expect(Math.abs(g!.grads[name]![i]! - fd), `${name}[${i}]`).toBeLessThan(1e-7);
      }
    }
  });

  it("the tape is the gradient path: K = 2 gradients match finite differences, and each entry's backward is needed", async () => {
    const cfg: RnnConfig = { nIn: 2, nHidden: 5, nOut: 3, alpha: 0.5, outputBias: true };
    const D = Float64Array.from({ length: 25 }, (_, i) => 0.1 + ((i * 7) % 11) / 10);
    const specs = [
      { params: params(cfg, 11), regularizers: [new L1Regularizer(0.02)] },
      { params: params(cfg, 12), regularizers: [new WdRegularizer({ lambda: 0.05, D })] },
    ];
    const batches = [randomBatch(cfg, 4, 2, 13), randomBatch(cfg, 4, 2, 14, 'last')];
    const trainer = new RnnTrainer(cpu, cfg, specs);
    // Worst |analytic − central difference| over a sample of entries of every parameter, both models.
    const fdError = async (): Promise<number> => {
      const g = await trainer.gradients(batches);
      let worst = 0;
      for (let k = 0; k < 2; k++) {
        for (const name of ['W_in', 'W_rec', 'b', 'W_out', 'b_out'] as const) {
          for (const i of [0, 1, 2]) {
            const h = 1e-6;
            const p = specs[k]!.params;
            const at = (d: number) => ({ ...p, [name]: Float64Array.from(p[name]!, (v, j) => (j === i ? v + d : v)) }) as HostParams;
            trainer.setParams(at(h), k);
            const lp = (await trainer.gradients(batches))[k]!.loss;
            trainer.setParams(at(-h), k);
            const lm = (await trainer.gradients(batches))[k]!.loss;
            trainer.setParams(p, k);
            worst = Math.max(worst, Math.abs(g[k]!.grads[name]![i]! - (lp - lm) / (2 * h)));
          }
        }
      }
      return worst;
    };
    expect(await fdError()).toBeLessThan(1e-7);
    // Drop the backward of one tape entry at a time (0: the fused RNN, 1: the loss, 2: the
    // regularisers, 3: their sum): the gradients then fail the same check.
    for (const dropped of [0, 1, 2, 3]) {
      const counts = new WeakMap<Tape, number>();
      const record = Tape.prototype.record;
      const spy = vi.spyOn(Tape.prototype, 'record').mockImplementation(function (this: Tape, value, inputs, backward) {
        const n = counts.get(this) ?? 0;
        counts.set(this, n + 1);
        return record.call(this, value, inputs, n === dropped ? () => inputs.map(() => null) : backward);
      });
      try {
        expect(await fdError(), `entry ${dropped} without its backward`).toBeGreaterThan(1e-4);
      } finally {
        spy.mockRestore();
      }
    }
  });

  for (const f of fixtures) {
    it(`matches the float64 fixture ${f.split('/').pop()}`, async () => {
      const report = await verifyRnnFixture(cpu, JSON.parse(readFileSync(f, 'utf8')), { makeRegularizer: rnnFixtureRegularizer });
      expect(report.pass, JSON.stringify(report.quantities.filter((q) => q.status === 'fail'))).toBe(true);
      // Losses, BPTT gradients, the regulariser's value and gradient, and post-Adam weights.
      expect(report.quantities.filter((q) => q.status !== 'pass')).toEqual([]);
      expect(report.quantities.length).toBe(16);
    });
  }

  it('without a regulariser, its fields are reported as not checked, never as passed', async () => {
    const report = await verifyRnnFixture(cpu, JSON.parse(readFileSync(fixtures[0]!, 'utf8')));
    const reg = report.quantities.filter(
      (q) =>
        q.name.startsWith('reg_') ||
        q.name === 'total_loss' ||
        q.name.startsWith('grad_reg') ||
        q.name.startsWith('grads_total') ||
        q.name.startsWith('params_after'),
    );
    expect(reg.length).toBe(11);
    expect(reg.every((q) => q.status === 'not checked')).toBe(true);
  });

  it('a seed reproduces a training run bit for bit', async () => {
    const cfg: RnnConfig = { nIn: 3, nHidden: 12, nOut: 2, alpha: 1, outputBias: true };
    const task = getTask('gonogo');
    const run = async () => {
      const splits = makeSplits(task, 4, { train: 64, test: 0, val: 0 });
      const c2: RnnConfig = { ...cfg, nIn: task.nIn, nOut: task.nOut };
      const r = await train(
        cpu,
        c2,
        { params: initParams(c2, new Rng(4, 'init')), splits: { train: splits.train }, seed: 4 },
        { epochs: 2, batchSize: 16, inputNoise: 0.05 },
      );
      return (await r.trainer.getParams()).W_rec;
    };
    expect(Array.from(await run())).toEqual(Array.from(await run()));
  });

  it('a non-finite loss stops training with an error naming the step and the tensor', async () => {
    const cfg: RnnConfig = { nIn: 2, nHidden: 4, nOut: 2, alpha: 1, outputBias: false };
    const p = params(cfg, 3);
    const trainer = new RnnTrainer(cpu, cfg, [{ params: p }]);
    const batch = randomBatch(cfg, 3, 2, 4);
    expect((await trainer.step([batch]))[0]!.diverged).toBeUndefined();
    p.W_out[0] = Number.POSITIVE_INFINITY;
    p.W_out[1] = Number.NEGATIVE_INFINITY;
    trainer.setParams(p);
    expect((await trainer.step([batch]))[0]!.diverged).toBeInstanceOf(NonFiniteError);
    expect((await trainer.step([batch]))[0]!.diverged?.message).toMatch(/non-finite value .* in 'loss' at training step 3/);
    // the training loop stops a network at its first non-finite step and `train` throws it
    const task = getTask('gonogo');
    const c2: RnnConfig = { ...cfg, nIn: task.nIn, nOut: task.nOut };
    const splits = makeSplits(task, 4, { train: 32, test: 0, val: 0 });
    const inf = initParams(c2, new Rng(4, 'init'));
    inf.W_rec[5] = Number.POSITIVE_INFINITY;
    await expect(train(cpu, c2, { params: inf, splits: { train: splits.train }, seed: 4 }, { epochs: 2, batchSize: 16 })).rejects.toThrow(
      /non-finite value .* at training step 1;/,
    );
  });
});

describe.skipIf(!hasAdapter)('GPU RNN kernels against the CPU twin', () => {
  const gpu = useGpu();

  const cases: [string, RnnConfig, number, number][] = [
    ['tiny, output bias', { nIn: 2, nHidden: 7, nOut: 3, alpha: 0.3, outputBias: true }, 5, 3],
    ['workload-like N=100 B=32', { nIn: 3, nHidden: 100, nOut: 3, alpha: 0.2, outputBias: false }, 12, 32],
    ['Elman N=130 (not a tile multiple)', { nIn: 8, nHidden: 130, nOut: 4, alpha: 1, outputBias: true }, 9, 5],
    // more than 8 inputs and outputs: the read-out and input products leave the skinny kernels
    ['wide input and read-out (nIn 10, nOut 9)', { nIn: 10, nHidden: 36, nOut: 9, alpha: 0.5, outputBias: true }, 4, 6],
  ];
  // Design (a) comes with workgroup-memory or subgroup register tiles (the backend's matmul design).
  const variants = [
    ['per-step', 'workgroup'],
    ['per-step', 'subgroup'],
    ['persistent', 'workgroup'],
  ] as const;
  for (const [design, tiles] of variants) {
    for (const [name, cfg, T, B] of cases) {
      it(`${design} (${tiles} tiles): ${name}`, async () => {
        await withMatmulKernel(gpu.get(), tiles, async () => {
          const p = params(cfg, 5);
          const batch = randomBatch(cfg, T, B, 6);
          const gpuTrainer = new RnnTrainer(gpu.get(), cfg, [{ params: p }], { design });
          const cpuTrainer = new RnnTrainer(cpu, cfg, [{ params: p }]);
          expectClose((await gpuTrainer.logits([batch]))[0]!, (await cpuTrainer.logits([batch]))[0]!, 1e-5, 'logits');
          const [g] = (await gpuTrainer.gradients([batch])) as [GradientResult];
          const [c] = (await cpuTrainer.gradients([batch])) as [GradientResult];
          expect(Math.abs(g.loss - c.loss)).toBeLessThan(1e-5 * Math.max(1, c.loss));
          for (const k of Object.keys(c.grads) as (keyof HostParams)[]) expectClose(g.grads[k]!, c.grads[k]!, 2e-5, `grad ${k}`);
          gpuTrainer.dispose();
        });
      });
    }
  }

  for (const f of fixtures) {
    it(`matches the float64 fixture ${f.split('/').pop()} on the GPU`, async () => {
      const report = await verifyRnnFixture(gpu.get(), JSON.parse(readFileSync(f, 'utf8')), { makeRegularizer: rnnFixtureRegularizer });
      expect(report.pass, JSON.stringify(report.quantities.filter((q) => q.status === 'fail'))).toBe(true);
      expect(report.quantities.filter((q) => q.status !== 'pass')).toEqual([]);
    });
  }

  it('fused Adam with positive-only and masked W_rec equals the float64 update', async () => {
    const cfg: RnnConfig = { nIn: 3, nHidden: 20, nOut: 3, alpha: 0.5, outputBias: true };
    const p = params(cfg, 8);
    const mask = Float64Array.from({ length: 400 }, (_, i) => ((i * 7) % 5 === 0 ? 0 : 1));
    const spec = { params: p, positiveOnly: true, recurrentMask: mask, regularizers: [new L1Regularizer(0.05)] };
    const g = new RnnTrainer(gpu.get(), cfg, [spec]);
    const c = new RnnTrainer(cpu, cfg, [spec]);
    for (let s = 0; s < 5; s++) {
      const batch = randomBatch(cfg, 6, 4, 100 + s);
      const [rg] = (await g.step([batch])) as [StepResult];
      const [rc] = (await c.step([batch])) as [StepResult];
      expect(Math.abs(rg.loss - rc.loss)).toBeLessThan(1e-5);
    }
    const pg = await g.getParams();
    const pc = await c.getParams();
    for (const k of Object.keys(pc) as (keyof HostParams)[]) {
      let worst = 0;
      for (let i = 0; i < pc[k]!.length; i++) worst = Math.max(worst, Math.abs(pg[k]![i]! - pc[k]![i]!));
      expect(worst, k).toBeLessThan(2e-5);
    }
    expect(pg.W_rec.every((w) => w >= 0)).toBe(true);
    expect(pg.W_rec.every((w, i) => mask[i] === 1 || w === 0)).toBe(true);
    expect(pg.W_rec.some((w) => w > 0)).toBe(true);
    g.dispose();
  });

  it('a NaN weight on the GPU stops training and names the step and the tensor', async () => {
    const cfg: RnnConfig = { nIn: 2, nHidden: 8, nOut: 2, alpha: 1, outputBias: false };
    const p = params(cfg, 9);
    p.W_in[3] = Number.NaN;
    const t = new RnnTrainer(gpu.get(), cfg, [{ params: p }]);
    expect((await t.step([randomBatch(cfg, 4, 2, 1)]))[0]!.diverged?.message).toMatch(/non-finite value .* at training step 1/);
    t.dispose();
  });

  it('learns Go/NoGo (a delayed-response task): held-out accuracy above 0.95', async () => {
    const task = getTask('gonogo');
    const splits = makeSplits(task, 1, { train: 1024, test: 256, val: 0 });
    const be: Backend = gpu.get();
    // A leaky cell (α = 0.5) learns this reliably at N = 32; a 32-unit Elman relu cell often
    // loses all its units during the delay and stays at chance.
    const cfg: RnnConfig = { nIn: task.nIn, nHidden: 32, nOut: task.nOut, alpha: 0.5, outputBias: true };
    const epochLosses: number[] = [];
    const network = {
      params: initParams(cfg, new Rng(1, 'init')),
      splits: { train: splits.train, test: splits.test },
      seed: 1,
      onEpoch: (info: EpochInfo) => void epochLosses.push(info.meanLoss),
    };
    const result = await train(be, cfg, network, { epochs: 4, batchSize: 32, lr: 3e-3, inputNoise: 0.05, snapshots: true });
    const [ev] = (await evaluate(result.trainer, [splits.test], 128)) as [{ accuracy: number; loss: number }];
    expect(result.snapshots.length).toBe(4);
    expect(result.history[3]!.evalAccuracy).toBeCloseTo(ev.accuracy, 10);
    expect(epochLosses[3]!).toBeLessThan(epochLosses[0]!);
    expect(ev.accuracy).toBeGreaterThan(0.95);
    result.trainer.dispose();
  });
});

describe('GPU backend type', () => {
  it('is a GpuBackend when an adapter exists', () => {
    expect(typeof GpuBackend).toBe('function');
  });
});
