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
import { rnnForwardCpu } from '../engine/cpu/rnn.ts';
import { NonFiniteError } from '../engine/errors.ts';
import { GpuBackend } from '../engine/gpu/backend.ts';
import { Rng } from '../engine/rng.ts';
import { arenaLayout, initParams, packArena, type HostParams, type RnnConfig } from '../engine/rnn/params.ts';
import { RnnTrainer } from '../engine/rnn/trainer.ts';
import { stepMask, type Batch } from '../engine/data.ts';
import { evaluate, train, type EpochInfo } from '../engine/rnn/train.ts';
import type { GradientResult, StepResult } from '../engine/rnn/trainer.ts';
import { verifyRnnFixture } from '../engine/verify.ts';
import { RNN_DESIGNS } from '../engine/gpu/rnn_design.ts';
import { rnnFixtureRegularizer } from '../engine/verify_formats.ts';
import { L1Regularizer } from '../engine/regularizers/regularizer.ts';
import type { Backend, RnnDesign, RnnNet, StepRange } from '../engine/tensor.ts';
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

/**
 * The fused RNN on `be` straight through the backend: logits with the read-out at `readout`,
 * and the gradient arena from dL/dlogits = g at the read-out's rows (0 elsewhere).
 */
async function readoutRun(
  be: Backend,
  cfg: RnnConfig,
  p: HostParams,
  batch: Batch,
  readout?: StepRange,
  design: RnnDesign | 'auto' = 'auto',
  lossSteps = readout,
) {
  const { T, B } = batch;
  const layout = arenaLayout(cfg);
  const net: RnnNet = { cfg, layout, K: 1, design };
  const rows = T * B;
  const range = lossSteps ?? { from: 0, to: T };
  const g = Float64Array.from({ length: rows * cfg.nOut }, (_, i) => {
    const t = Math.floor(i / cfg.nOut / B);
    return t >= range.from && t < range.to ? Math.sin(i + 1) : 0;
  });
  return be.scope(() => {
    const theta = be.fromArray(packArena(cfg, p, layout), [layout.total]);
    const fwd = be.rnnForward(net, theta, be.fromArray(batch.x, [batch.x.length]), T, B, readout);
    const grad = be.rnnBackward(net, theta, fwd, be.fromArray(g, [1, rows, cfg.nOut]));
    return { reads: be.readAll([fwd.logits, grad]) };
  }).reads;
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

  it('the read-out at some steps gives those logits and the gradients of a loss on them exactly', async () => {
    const cfg: RnnConfig = { nIn: 3, nHidden: 6, nOut: 3, alpha: 0.7, outputBias: true };
    const p = params(cfg, 21);
    const batch = randomBatch(cfg, 6, 3, 22);
    const [logitsAll, gradAll] = await readoutRun(cpu, cfg, p, batch, undefined, 'auto', { from: 2, to: 5 });
    const [logits, grad] = await readoutRun(cpu, cfg, p, batch, { from: 2, to: 5 });
    // g is 0 outside steps 2..4 in both runs: the same loss, so the same gradients, bit for bit
    expect(Array.from(grad!)).toEqual(Array.from(gradAll!));
    // and a gradient at the other steps' (constant) logits changes nothing
    const [, gradOff] = await readoutRun(cpu, cfg, p, batch, { from: 2, to: 5 }, 'auto', { from: 0, to: 6 });
    expect(Array.from(gradOff!)).toEqual(Array.from(grad!));
    const inRange = (i: number) => Math.floor(i / cfg.nOut / batch.B) >= 2 && Math.floor(i / cfg.nOut / batch.B) < 5;
    expect(Array.from(logits!)).toEqual(Array.from(logitsAll!, (v, i) => (inRange(i) ? v : 0)));
    // the trainer runs the read-out at the masked steps, and says so in the logits it returns
    const rowsOf = (from: number, to: number) => Float32Array.from({ length: 6 * 3 }, (_, i) => (i >= from * 3 && i < to * 3 ? 1 : 0));
    const masked: Batch = { ...batch, lossMask: rowsOf(2, 4), scoreMask: rowsOf(4, 5) };
    const trainer = new RnnTrainer(cpu, cfg, [{ params: p }]);
    const [full] = await trainer.logits([masked]);
    const [part] = await trainer.logits([masked], 'masked');
    expect(Array.from(part!)).toEqual(Array.from(full!, (v, i) => (inRange(i) ? v : 0)));
    const twin = new RnnTrainer(cpu, cfg, [{ params: p }]);
    const [a] = (await trainer.step([masked], { returnLogits: true })) as [StepResult];
    const [b] = (await twin.step([masked], { returnLogits: 'masked' })) as [StepResult];
    expect(b.loss).toBe(a.loss);
    expect(Array.from(b.logits!)).toEqual(Array.from(a.logits!, (v, i) => (inRange(i) ? v : 0)));
    expect(await twin.getParams()).toEqual(await trainer.getParams());
  });

  it('the forward of a batch is, bit for bit, that of each trial alone (4-trial passes and the remainder)', () => {
    const cfg: RnnConfig = { nIn: 3, nHidden: 37, nOut: 2, alpha: 0.6, outputBias: true };
    const p = params(cfg, 31);
    const T = 5;
    const B = 7;
    const x = Float64Array.from(new Rng(32, 'x').normals(T * B * cfg.nIn));
    const all = rnnForwardCpu(cfg, p, x, T, B, { from: 1, to: T });
    for (let b = 0; b < B; b++) {
      const xb = new Float64Array(T * cfg.nIn);
      for (let t = 0; t < T; t++) xb.set(x.subarray((t * B + b) * cfg.nIn, (t * B + b + 1) * cfg.nIn), t * cfg.nIn);
      const one = rnnForwardCpu(cfg, p, xb, T, 1, { from: 1, to: T });
      const rows = (a: Float64Array, width: number) =>
        Array.from({ length: T }, (_, t) => Array.from(a.subarray((t * B + b) * width, (t * B + b + 1) * width)));
      const alone = (a: Float64Array, width: number) => Array.from({ length: T }, (_, t) => Array.from(a.subarray(t * width, (t + 1) * width)));
      expect(rows(all.H, cfg.nHidden)).toEqual(alone(one.H, cfg.nHidden));
      expect(rows(all.R, cfg.nHidden)).toEqual(alone(one.R, cfg.nHidden));
      expect(rows(all.logits, cfg.nOut)).toEqual(alone(one.logits, cfg.nOut));
    }
    expect(all.H.some((v) => v !== 0)).toBe(true);
  });

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
  // The blocked designs: one trial and one unit per thread; trials and units that leave a
  // partial last workgroup (B = 5, 3) and a partial last unit block (N = 130 over 4 x 64).
  const variants = [
    ['per-step', 'workgroup'],
    ['per-step', 'subgroup'],
    ['persistent', 'workgroup'],
    ['blocked-1x1', 'workgroup'],
    ['blocked-4x2', 'workgroup'],
    ['blocked-8x4', 'workgroup'],
    ['blocked-16x2', 'workgroup'],
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

  for (const [design, tiles] of variants) {
    it(`${design} (${tiles} tiles): the read-out at some steps matches the CPU twin's`, async () => {
      await withMatmulKernel(gpu.get(), tiles, async () => {
        const cfg: RnnConfig = { nIn: 3, nHidden: 36, nOut: 2, alpha: 1, outputBias: true };
        const p = params(cfg, 23);
        const batch = randomBatch(cfg, 7, 5, 24);
        for (const readout of [
          { from: 6, to: 7 },
          { from: 2, to: 4 },
          { from: 3, to: 3 },
        ]) {
          const [gl, gg] = await readoutRun(gpu.get(), cfg, p, batch, readout, design);
          const [cl, cg] = await readoutRun(cpu, cfg, p, batch, readout);
          expectClose(gl!, cl!, 1e-5, `logits, steps ${readout.from}..${readout.to}`);
          expect(gl!.every((v, i) => v === 0 || (Math.floor(i / 2 / 5) >= readout.from && Math.floor(i / 2 / 5) < readout.to))).toBe(true);
          expectClose(gg!, cg!, 2e-5, `gradients, steps ${readout.from}..${readout.to}`);
          // a gradient at the other steps' (constant) logits changes nothing
          const [, gAll] = await readoutRun(gpu.get(), cfg, p, batch, readout, design, { from: 0, to: 7 });
          expectClose(gAll!, cg!, 2e-5, `gradients, steps ${readout.from}..${readout.to}, dL/dy everywhere`);
        }
        // K = 2 with the loss at steps 3..4 (read-out products at an offset, per model block)
        const masked = (seed: number): Batch => {
          const b = randomBatch(cfg, 7, 5, seed);
          const m = Float32Array.from({ length: 35 }, (_, i) => (i >= 15 && i < 25 ? 1 : 0));
          return { ...b, lossMask: m, scoreMask: m };
        };
        const spec = (seed: number) => ({ params: params(cfg, seed) });
        const pair = new RnnTrainer(gpu.get(), cfg, [spec(31), spec(32)], { design });
        const alone = [new RnnTrainer(gpu.get(), cfg, [spec(31)], { design }), new RnnTrainer(gpu.get(), cfg, [spec(32)], { design })];
        const cpuAlone = new RnnTrainer(cpu, cfg, [spec(31)]);
        const rp = await pair.step([masked(33), masked(34)]);
        for (const k of [0, 1]) expect(rp[k]!.loss).toBeCloseTo((await alone[k]!.step([masked(33 + k)]))[0]!.loss, 6);
        expect(Math.abs(rp[0]!.loss - (await cpuAlone.step([masked(33)]))[0]!.loss)).toBeLessThan(1e-5);
        const after = await pair.getAllParams();
        for (const k of [0, 1]) {
          const want = await alone[k]!.getParams();
          for (const name of Object.keys(want) as (keyof HostParams)[]) expectClose(after[k]![name]!, want[name]!, 1e-6, `K = 2, model ${k}: ${name}`);
        }
        for (const t of [pair, ...alone]) t.dispose();
      });
    });
  }

  // Every design within the fixture's tolerances: they differ only in float32 summation order.
  for (const f of fixtures) {
    it(`matches the float64 fixture ${f.split('/').pop()} on the GPU in every design`, async () => {
      const fx = JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>;
      for (const design of RNN_DESIGNS) {
        const report = await verifyRnnFixture(gpu.get(), fx, { makeRegularizer: rnnFixtureRegularizer, design });
        expect(report.pass, `${design}: ${JSON.stringify(report.quantities.filter((q) => q.status === 'fail'))}`).toBe(true);
        expect(report.quantities.filter((q) => q.status !== 'pass')).toEqual([]);
      }
    }, 120_000);
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
    expect(result.history.map((h) => h.epoch)).toEqual([1, 2, 3, 4]); // numbered from 1
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
