/**
 * `cortical-rnn plan`: the FLOP and memory counts of a training step against counts made by
 * hand from the shapes, their scaling with B, K and the regulariser, and, on an adapter,
 * against what a real step does (the dispatches' declared costs, the bytes the context
 * allocates); then the command as a user meets it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { gatherBatch } from '../engine/data.ts';
import { expmProducts } from '../engine/expm/gpu.ts';
import { grid1d } from '../engine/gpu/tensor.ts';
import { EmdRegularizer, WdcRegularizer } from '../engine/regularizers/communicability.ts';
import { L1Regularizer } from '../engine/regularizers/regularizer.ts';
import { Rng } from '../engine/rng.ts';
import { arenaLayout, initParams } from '../engine/rnn/params.ts';
import { RnnTrainer } from '../engine/rnn/trainer.ts';
import { FIRST_CALL_SQUARINGS, planBatch, planStep, readoutRange, type StepShape } from '../experiments/plan.ts';
import type { RegularizerKind } from '../experiments/variants.ts';
import { rnnConfigFor } from '../experiments/setup.ts';
import { getTask } from '../tasks/index.ts';
import { hasAdapter, useGpu } from './helpers/gpu.ts';

const haveData = existsSync('../shared/data/microns-fields/5_3_4');
const gonogo = getTask('gonogo');

/** N = 70 (field 5_3_4's size), B = 64, Go/NoGo, one network on a float32 device. */
function shape(o: Partial<StepShape> = {}): StepShape {
  const r = readoutRange(gonogo);
  return {
    cfg: rnnConfigFor(gonogo, 70),
    T: gonogo.T,
    B: 64,
    K: 1,
    regularizer: 'L1',
    readoutSteps: r.to - r.from,
    squarings: 0,
    encodedSquarings: FIRST_CALL_SQUARINGS,
    design: 'per-step',
    valueBytes: 4,
    ...o,
  };
}

describe('one step counted by hand (N = 70, B = 64, Go/NoGo)', () => {
  const N = 70;
  const B = 64;
  const { T, nIn, nOut } = gonogo;

  it('reads out at the decision step only', () => {
    expect(readoutRange(gonogo)).toEqual({ from: T - 1, to: T });
  });

  it('recurrence, BPTT and Adam FLOPs', () => {
    const p = planStep(shape());
    // each step: the [B, N] x [N, N] product (2BN²) and the cell (5BN), forward and back
    expect(p.flops.recurrence).toBe(T * (2 * B * N * N + 5 * B * N));
    expect(p.flops.bptt).toBe(T * (2 * B * N * N + 5 * B * N));
    // dW_rec over steps 1…T−1, dW_in, db, then dW_out, dH and db_out at the one read-out step
    expect(p.flops.weightGrads).toBe(2 * N * N * (T - 1) * B + 2 * N * T * B * nIn + T * B * N + 4 * B * nOut * N + B * nOut);
    expect(p.flops.inputReadout).toBe(2 * T * B * nIn * N + 2 * B * N * nOut);
    const S = arenaLayout(rnnConfigFor(gonogo, N)).total;
    expect(p.flops.adam).toBe(16 * S);
  });

  it('the parameter arenas, states and batch, in bytes', () => {
    const p = planStep(shape());
    const S = arenaLayout(rnnConfigFor(gonogo, N)).total;
    const block = (size: number) => 64 * Math.ceil(size / 64); // each parameter starts on a 64-float boundary
    expect(S).toBe(block(N * nIn) + block(N * N) + block(N) + block(nOut * N) + block(nOut));
    expect(p.memory.parameters).toBe(4 * S);
    expect(p.memory.adam).toBe(2 * 4 * S + 2 * 16); // m, v, and the flags and status words
    expect(p.memory.gradients).toBe(3 * 4 * S);
    expect(p.memory.states).toBe(3 * 4 * T * B * N); // U, H, R
    expect(p.memory.bptt).toBe(3 * 4 * T * B * N); // dH, δ, G
    expect(p.memory.batch).toBe(4 * T * B * (nIn + 2));
    expect(p.largest.bytes).toBe(4 * T * B * N);
  });

  it('WDC: the expm and its Fréchet adjoint at s squarings, plus its elementwise kernels', () => {
    const S = arenaLayout(rnnConfigFor(gonogo, N)).total;
    const partials = grid1d(N * N).groups[0];
    for (const s of [0, 3]) {
      const p = planStep(shape({ regularizer: 'WDC', squarings: s }));
      const products = (6 + s + (12 + 2 * s)) * 2 * N ** 3;
      expect(expmProducts(s).forward + expmProducts(s).frechet).toBe(18 + 3 * s);
      // epilogues 2N² per term (17 forward, 13 Fréchet); strength 2, normalise 6, gs 4, grad 12;
      // the value's sum; g·dR/dW; adding the regulariser's gradient arena to the RNN's
      const elementwise = 2 * N * N * 30 + (2 + 6 + 4 + 12) * N * N + partials + N * N + S;
      expect(p.flops.regulariser).toBe(products + elementwise);
    }
  });
});

describe('how the counts scale', () => {
  it('doubling B doubles the activations and the recurrence FLOPs', () => {
    const one = planStep(shape({ B: 64 }));
    const two = planStep(shape({ B: 128 }));
    expect(two.memory.states / one.memory.states).toBeCloseTo(2, 6);
    expect(two.memory.bptt / one.memory.bptt).toBeCloseTo(2, 6);
    expect(two.flops.recurrence / one.flops.recurrence).toBeCloseTo(2, 6);
    expect(two.flops.bptt / one.flops.bptt).toBeCloseTo(2, 6);
    expect(two.memory.parameters).toBe(one.memory.parameters);
  });

  it('the communicability regularisers cost O(N³), W and WD O(N²)', () => {
    const reg = (r: RegularizerKind) => planStep(shape({ regularizer: r })).flops;
    const [w, wd, wdc, emd] = (['L1', 'WD', 'WDC', 'EMD'] as const).map(reg);
    expect(wdc.total).toBeGreaterThan(wd.total);
    expect(wdc.total).toBeGreaterThan(w.total);
    expect(wdc.regulariser).toBeGreaterThan(18 * 2 * 70 ** 3);
    expect(emd.regulariser).toBeGreaterThan(18 * 2 * 70 ** 3);
    // W (four unfused kernels) and WD (one fused kernel) are a few N² each, beside the N³ above
    for (const f of [w, wd]) expect(f.regulariser).toBeLessThan(10 * 70 * 70 + arenaLayout(rnnConfigFor(gonogo, 70)).total + 100);
    // each squaring the data need adds three N×N products
    expect(planStep(shape({ regularizer: 'WDC', squarings: 1 })).flops.total - wdc.total).toBe(3 * 2 * 70 ** 3);
  });

  it('K networks: K times the FLOPs, and K times the per-network memory plus what they share', () => {
    for (const regularizer of ['L1', 'WDC', 'EMD'] as const) {
      const one = planStep(shape({ regularizer }));
      const four = planStep(shape({ regularizer, K: 4 }));
      expect(four.flops.total).toBe(4 * one.flops.total);
      const b = planBatch(shape({ regularizer, K: 4 }));
      expect(b.all.memory.total).toBe(four.memory.total);
      // 16-byte rounding of the [K]-sized buffers is all that may differ
      expect(Math.abs(four.memory.total - (4 * b.perNetwork + b.shared))).toBeLessThanOrEqual(256);
      expect(b.perNetwork + b.shared).toBe(one.memory.total);
    }
    // WDC's stack holds every network's expm and Fréchet operands at once: they are per-network memory
    expect(planBatch(shape({ regularizer: 'WDC', K: 4 })).perNetwork).toBeGreaterThan(20 * 4 * 70 * 70);
  });
});

describe.skipIf(!hasAdapter)('against a real training step on the adapter', () => {
  const gpu = useGpu();

  async function measure(regularizer: 'L1' | 'WDC' | 'EMD', K: number) {
    const be = gpu.get();
    const s = shape({ regularizer, K, squarings: FIRST_CALL_SQUARINGS });
    const n = s.cfg.nHidden;
    const D = Float64Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 0 : 1 + (i % 7) / 7));
    const syn = Float64Array.from({ length: n * n }, (_, i) => ((i * 7919) % 5 === 0 ? 1 : 0));
    const reg = () =>
      regularizer === 'L1'
        ? new L1Regularizer(0.3)
        : regularizer === 'WDC'
          ? new WdcRegularizer({ lambda: 0.3, D })
          : new EmdRegularizer({ lambda: 0.3, mu: 0.1, D, K: syn });
    const ds = gonogo.generate(s.B, new Rng(3, 'plan-test'));
    const batch = gatherBatch(
      ds,
      Int32Array.from({ length: s.B }, (_, i) => i),
    );
    be.ctx.trimPool(); // an empty pool: every buffer the step needs is a new one
    const before = be.ctx.allocatedBytes;
    const models = Array.from({ length: K }, (_, k) => ({ params: initParams(s.cfg, new Rng(k, 'plan-test')), regularizers: [reg()] }));
    const trainer = new RnnTrainer(be, s.cfg, models, { design: 'per-step' });
    const spans = await be.ctx.profile(() => trainer.step(Array<typeof batch>(K).fill(batch), { returnLogits: 'masked' }).then(() => undefined));
    const bytes = be.ctx.allocatedBytes - before;
    await trainer.step(Array<typeof batch>(K).fill(batch), { returnLogits: 'masked' });
    const later = be.ctx.allocatedBytes - before;
    trainer.dispose();
    // the first step encodes 16 gated squarings, and each dispatch declares its work as if it ran
    return { plan: planStep(s), bytes, later, flops: spans ? spans.reduce((a, x) => a + (x.cost?.flops ?? 0), 0) : null };
  }

  for (const [regularizer, K] of [
    ['L1', 1],
    ['WDC', 2],
    ['EMD', 1],
  ] as const) {
    it(`${regularizer}, K = ${K}: the bytes allocated and the FLOPs declared are the plan's`, async () => {
      const m = await measure(regularizer, K);
      expect(m.bytes).toBe(m.plan.memory.total);
      expect(m.later).toBe(m.bytes); // later steps draw from the pool
      if (m.flops !== null) expect(m.flops).toBe(m.plan.flops.total);
    });
  }
});

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['bin/cortical-rnn.js', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, lines: r.stderr.split('\n').filter((l) => l.length > 0) };
}

describe.skipIf(!haveData)('cortical-rnn plan', () => {
  const run = ['plan', '--field', '5_3_4', '--variant', 'W*D*C', '--task', 'gonogo', '--batch-size', '64'];

  it('prints the shapes, FLOPs and memory as a table', () => {
    const r = cli([...run, '--backend', 'cpu']);
    expect(r.code, r.lines.join('\n')).toBe(0);
    expect(r.stdout).toMatch(/^network: +N = 70 units \(field 5_3_4\)/m);
    expect(r.stdout).toMatch(/^task: +gonogo: T = 40 steps, nIn = 3, nOut = 2/m);
    expect(r.stdout).toMatch(/^batch: +B = 64 trials/m);
    expect(r.stdout).toMatch(/^FLOPs per training step \(expm at s = 0\) +1 network +K = 1$/m);
    expect(r.stdout).toMatch(/^ {2}total +\d/m);
    expect(r.stdout).toMatch(/^memory \(estimate, host\)/m);
  });

  it('--json gives the same numbers as the plan', () => {
    const r = cli([...run, '--backend', 'cpu', '--models-per-batch', '3', '--json']);
    expect(r.code, r.lines.join('\n')).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.run).toMatchObject({ field: '5_3_4', N: 70, task: 'gonogo', T: 40, variant: 'W*D*C', regularizer: 'WDC' });
    expect(j.protocol).toMatchObject({ batchSize: 64, K: 3, kSource: '--models-per-batch' });
    const b = planBatch(shape({ regularizer: 'WDC', K: 3, valueBytes: 8 }));
    expect(j.flops.all.total).toBe(b.all.flops.total);
    expect(j.memory.all.total).toBe(b.all.memory.total);
    expect(j.memory).toMatchObject({ estimate: true, fits: null });
  });

  it.skipIf(!hasAdapter)("names the adapter's limits and whether the largest buffer fits", () => {
    const fits = cli([...run, '--models-per-batch', '2']);
    expect(fits.code, fits.lines.join('\n')).toBe(0);
    expect(fits.stdout).toMatch(/^ {2}maxStorageBufferBindingSize +\S/m);
    expect(fits.stdout).toMatch(/^ {2}largest buffer +.*: fits$/m);
    // 64 networks of the paper's 6_6_2 at B = 1024: the [K·T·B·N] states outgrow any binding
    const big = cli(['plan', '--field', '6_6_2', '--variant', 'W', '--batch-size', '1024', '--models-per-batch', '64', '--json']);
    expect(big.code, big.lines.join('\n')).toBe(0);
    expect(JSON.parse(big.stdout).memory.fits).toBe(false);
  });

  for (const [args, line] of [
    [['--models-per-batch', '0'], /^cortical-rnn: --models-per-batch: expected a positive integer, got 0$/],
    [['--squarings', '40'], /^cortical-rnn: --squarings: expected an integer from 0 to 16, got 40$/],
    [['--epochs', '0'], /^cortical-rnn: --epochs: expected a positive integer, got 0$/],
  ] as const) {
    it(`${args.join(' ')}: one line, exit status 2`, () => {
      const r = cli([...run, ...args, '--backend', 'cpu']);
      expect(r.code).toBe(2);
      expect(r.lines).toHaveLength(1);
      expect(r.lines[0]).toMatch(line);
    });
  }

  it('an unknown variant: one line naming the flag', () => {
    const r = cli(['plan', '--field', '5_3_4', '--variant', 'W*X', '--backend', 'cpu']);
    expect(r.code).toBe(2);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatch(/^cortical-rnn: --variant: expected one of W, .*, got "W\*X"$/);
  });
});
