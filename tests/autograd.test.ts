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
  { name: 'matmul', inputs: [{ shape: [4, 3] }, { shape: [3, 5] }], f: (t, [a, b]) => t.sum(t.square(t.matmul(a!, b!))) },
  { name: 'matmul transA', inputs: [{ shape: [3, 4] }, { shape: [3, 5] }], f: (t, [a, b]) => t.sum(t.square(t.matmul(a!, b!, { transA: true }))) },
  { name: 'matmul transB', inputs: [{ shape: [4, 3] }, { shape: [5, 3] }], f: (t, [a, b]) => t.sum(t.square(t.matmul(a!, b!, { transB: true }))) },
  {
    name: 'matmul transA transB',
    inputs: [{ shape: [3, 4] }, { shape: [5, 3] }],
    f: (t, [a, b]) => t.sum(t.square(t.matmul(a!, b!, { transA: true, transB: true }))),
  },
  { name: 'batched matmul, broadcast B', inputs: [{ shape: [2, 4, 3] }, { shape: [3, 5] }], f: (t, [a, b]) => t.sum(t.square(t.matmul(a!, b!))) },
  { name: 'add sub', inputs: [{ shape: [6] }, { shape: [6] }], f: (t, [a, b]) => t.sum(t.square(t.sub(t.add(a!, b!), t.square(b!)))) },
  { name: 'mul div', inputs: [{ shape: [6] }, { shape: [6], lo: 0.5, hi: 2 }], f: (t, [a, b]) => t.sum(t.div(t.mul(a!, b!), t.square(b!))) },
  { name: 'scalar broadcast', inputs: [{ shape: [7] }, { shape: [] }], f: (t, [a, s]) => t.sum(t.square(t.mul(t.add(a!, s!), s!))) },
  { name: 'relu', inputs: [{ shape: [10] }], f: (t, [a]) => t.sum(t.square(t.relu(a!))) },
  { name: 'abs', inputs: [{ shape: [10] }], f: (t, [a]) => t.sum(t.mul(t.abs(a!), a!)) },
  { name: 'exp log', inputs: [{ shape: [5], lo: 0.2, hi: 2 }], f: (t, [a]) => t.sum(t.mul(t.exp(a!), t.log(a!))) },
  { name: 'affine mean', inputs: [{ shape: [3, 4] }], f: (t, [a]) => t.mean(t.square(t.affine(a!, -1.5, 0.25))) },
  {
    name: 'sumAxis 0/1/2',
    inputs: [{ shape: [2, 3, 4] }],
    f: (t, [a]) => t.add(t.add(t.sum(t.square(t.sumAxis(a!, 0))), t.sum(t.square(t.sumAxis(a!, 1)))), t.sum(t.square(t.sumAxis(a!, 2)))),
  },
  {
    name: 'transpose reshape',
    inputs: [{ shape: [3, 4] }, { shape: [4, 3] }],
    f: (t, [a, b]) => t.sum(t.square(t.mul(t.reshape(t.transpose(a!), [4, 3]), b!))),
  },
  {
    name: 'softmax cross-entropy with mask',
    inputs: [{ shape: [6, 3], lo: -2, hi: 2 }],
    f: (t, [z], c) => t.softmaxCrossEntropy(z!, c.labels, c.mask),
  },
];

function build(be: Backend, c: Case, values: Float64Array[]) {
  const tape = new Tape(be);
  const xs = values.map((v, i) => tape.leaf(be.fromArray(v, c.inputs[i]!.shape), true, `x${i}`));
  const consts = { labels: be.fromArray([0, 2, 1, 1, 0, 2], [6]), mask: be.fromArray([1, 0, 1, 1, 0, 1], [6]) };
  return { tape, xs, out: c.f(tape, xs, consts) };
}

async function scalar(be: Backend, c: Case, values: Float64Array[]): Promise<number> {
  return (await build(be, c, values).out.value.read())[0]!;
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

  it('noGrad records nothing and backward leaves constants without gradients', async () => {
    const tape = new Tape(cpu);
    const w = tape.leaf(cpu.fromArray([1, 2], [2]), true);
    const k = tape.leaf(cpu.fromArray([3, 4], [2]), false);
    const y = tape.noGrad(() => tape.sum(tape.mul(w, k)));
    expect(y.requiresGrad).toBe(false);
    const z = tape.sum(tape.mul(w, k));
    tape.backward(z);
    expect(Array.from(await w.grad!.read())).toEqual([3, 4]);
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
