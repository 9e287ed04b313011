/**
 * Every differentiable op of the tape against central finite differences in float64 on the
 * CPU backend, and the same tape on the GPU against the CPU.
 */
import { describe, expect, it } from 'vitest';
import { Tape, type Var } from '../engine/autograd.ts';
import { CpuBackend } from '../engine/cpu/backend.ts';
import type { Backend, Tensor } from '../engine/tensor.ts';
import { hasAdapter, useGpu } from './helpers/gpu.ts';
import { expectClose, randomArray } from './helpers/compare.ts';

const cpu = new CpuBackend('f64');

interface Case {
  name: string;
  inputs: { shape: number[]; lo?: number; hi?: number }[];
  f: (t: Tape, xs: Var[], consts: { labels: Tensor; mask: Tensor }) => Var;
}

const cases: Case[] = [
  {
    name: 'softmax cross-entropy with mask',
    inputs: [{ shape: [6, 3], lo: -2, hi: 2 }],
    f: (t, [z], c) => t.softmaxCrossEntropy(z!, c.labels, c.mask),
  },
  {
    name: 'add (same shape and a broadcast scalar) into the loss',
    inputs: [{ shape: [6, 3] }, { shape: [6, 3] }, { shape: [] }],
    f: (t, [z, y, s], c) => t.softmaxCrossEntropy(t.add(t.add(z!, y!), s!), c.labels, c.mask),
  },
  {
    name: 'K = 2 cross-entropy problems [K, R, C] and their sum with a second loss',
    inputs: [{ shape: [2, 3, 3], lo: -2, hi: 2 }, { shape: [2] }],
    f: (t, [z, r], c) => t.add(t.softmaxCrossEntropy(z!, c.labels, c.mask), r!),
  },
];

function build(be: Backend, c: Case, values: Float64Array[]) {
  const tape = new Tape(be);
  const xs = values.map((v, i) => tape.leaf(be.fromArray(v, c.inputs[i]!.shape), true, `x${i}`));
  const consts = { labels: be.fromArray([0, 2, 1, 1, 0, 2], [6]), mask: be.fromArray([1, 0, 1, 1, 0, 1], [6]) };
  return { tape, xs, out: c.f(tape, xs, consts) };
}

/** Σ of the output (backward's default seed is ones, so the gradient is of this sum). */
async function scalar(be: Backend, c: Case, values: Float64Array[]): Promise<number> {
  return Array.from(await build(be, c, values).out.value.read()).reduce((a, b) => a + b, 0);
}

describe('autograd against central finite differences (float64, CPU)', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const values = c.inputs.map((inp, i) =>
        randomArray(
          inp.shape.reduce((a, b) => a * b, 1),
          100 + i,
          inp.lo ?? -1,
          inp.hi ?? 1,
        ),
      );
      const { tape, xs, out } = build(cpu, c, values);
      tape.backward(out);
      const h = 1e-6;
      for (let k = 0; k < values.length; k++) {
        const analytic = await xs[k]!.grad!.read();
        for (let i = 0; i < values[k]!.length; i++) {
          const plus = values.map((v) => v.slice());
          const minus = values.map((v) => v.slice());
          plus[k]![i]! += h;
          minus[k]![i]! -= h;
          const fd = ((await scalar(cpu, c, plus)) - (await scalar(cpu, c, minus))) / (2 * h);
          expect(Math.abs(analytic[i]! - fd), `${c.name} d/dx${k}[${i}]: ${analytic[i]} vs ${fd}`).toBeLessThan(1e-6 * Math.max(1, Math.abs(fd)));
        }
      }
    });
  }

  it('records only ops with an input that needs a gradient; constants get none', async () => {
    const tape = new Tape(cpu);
    const w = tape.leaf(cpu.fromArray([1, 2], [2]), true);
    const k = tape.leaf(cpu.fromArray([3, 4], [2]), false);
    const constant = tape.add(k, k);
    expect(constant.requiresGrad).toBe(false);
    const z = tape.add(w, constant);
    tape.backward(z);
    expect(Array.from(await w.grad!.read())).toEqual([1, 1]);
    expect(k.grad).toBeNull();
  });
});

describe.skipIf(!hasAdapter)('autograd on the GPU matches the CPU', () => {
  const gpu = useGpu();
  for (const c of cases) {
    it(c.name, async () => {
      const values = c.inputs.map((inp, i) =>
        randomArray(
          inp.shape.reduce((a, b) => a * b, 1),
          200 + i,
          inp.lo ?? -1,
          inp.hi ?? 1,
        ),
      );
      const g = build(gpu.get(), c, values);
      g.tape.backward(g.out);
      const r = build(cpu, c, values);
      r.tape.backward(r.out);
      expectClose(await g.out.value.read(), await r.out.value.read(), 1e-5, `${c.name} value`);
      for (let k = 0; k < values.length; k++) {
        expectClose(await g.xs[k]!.grad!.read(), await r.xs[k]!.grad!.read(), 1e-5, `${c.name} grad ${k}`);
      }
    });
  }
});
