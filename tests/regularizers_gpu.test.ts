import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../engine/cpu/backend.ts';
import { emd, wd, wdc } from '../engine/regularizers/cpu.ts';
import { makeEmdTarget } from '../engine/regularizers/target.ts';
import { GpuBackend } from '../engine/gpu/backend.ts';
import { EmdRegularizer, WdcRegularizer, WdRegularizer } from '../engine/regularizers/communicability.ts';
import { encodeBitonic, sortLength } from '../engine/regularizers/gpu.ts';
import { uniformAt } from '../engine/rng.ts';
import type { Backend } from '../engine/tensor.ts';
import { verifyRegularizerFixture, type RegularizerFixture } from '../engine/verify_regularizer.ts';
import { dirSource, distanceMatrix, loadField, voxelsToUm } from '../connectome/index.ts';
import { hasAdapter, useGpu } from './helpers/gpu.ts';

const FIXTURES = process.env.CORTICAL_RNN_FIXTURES ?? resolve(process.cwd(), '../shared/fixtures');
const DATA = process.env.CORTICAL_RNN_DATA ?? resolve(process.cwd(), '../shared/data');
const haveFixtures = existsSync(resolve(FIXTURES, 'regularizer_n24.json'));
const haveField = existsSync(resolve(DATA, 'microns-fields'));

function randW(n: number, stream: number, zeroFrac = 0): Float64Array {
  const a = new Float64Array(n * n);
  for (let k = 0; k < n * n; k++) {
    a[k] = uniformAt(stream + 1, k) < zeroFrac ? 0 : Math.fround(-1 + 2 * uniformAt(stream, k));
  }
  return a;
}
function randD(n: number, stream: number): Float64Array {
  const d = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) d[i * n + j] = d[j * n + i] = Math.fround(0.1 + uniformAt(stream, i * n + j));
  }
  return d;
}
function nested(a: ArrayLike<number>, n: number): number[][] {
  return Array.from({ length: n }, (_, i) => Array.from(a as ArrayLike<number>).slice(i * n, (i + 1) * n));
}
/** A regularizer_ref/1 fixture made by the float64 oracle (the paper's settings). */
function makeFixture(W: Float64Array, D: Float64Array, K: Float64Array, n: number, lam: number, mu: number): RegularizerFixture {
  const t = makeEmdTarget(K, n, { target: 'paper' });
  const r1 = wd(W, D, n, { lambda: lam });
  const r2 = wdc(W, D, n, { lambda: lam, sMin: null, eps: 0 });
  const r3 = emd(W, D, t.Cemp, n, { lambda: lam, mu, sMin: null, eps: 1e-10 });
  return {
    format: 'regularizer_ref/1',
    n,
    lam,
    mu,
    W: nested(W, n),
    D: nested(D, n),
    K: nested(K, n),
    results: {
      wd: { R: r1.value, grad: nested(r1.grad, n) },
      wdc: { R: r2.value, grad: nested(r2.grad, n) },
      emd: { R: r3.value, grad: nested(r3.grad, n) },
    },
  };
}
async function compare(be: Backend, reg: { apply: WdcRegularizer['apply'] }, W: Float64Array, n: number, ref: { value: number; grad: Float64Array }) {
  const Wt = be.fromArray(W, [n, n]);
  const { value, grad } = reg.apply(be, Wt, n);
  const v = (await value.read())[0]!;
  const g = await grad.read();
  let e = 0;
  let m = 0;
  for (let k = 0; k < g.length; k++) {
    e = Math.max(e, Math.abs(g[k]! - ref.grad[k]!));
    m = Math.max(m, Math.abs(ref.grad[k]!));
  }
  Wt.dispose();
  return { valueRel: Math.abs(v - ref.value) / Math.abs(ref.value), gradRel: e / m, grad: g };
}

describe.runIf(haveFixtures)('regularizer_ref/1 fixtures on the CPU backend', () => {
  for (const f of ['regularizer_n24.json', 'regularizer_5_3_4.json']) {
    it(f, async () => {
      const r = await verifyRegularizerFixture(new CpuBackend(), readFileSync(resolve(FIXTURES, f), 'utf8'));
      expect(r.checks.map((c) => [c.name, c.pass])).toEqual([
        ['wd', true],
        ['wdc', true],
        ['emd', true],
      ]);
    });
  }
});

describe('verify catches a wrong fixture', () => {
  it('a perturbed value or gradient fails', async () => {
    const n = 12;
    const fx = makeFixture(randW(n, 1), randD(n, 2), randW(n, 3).map(Math.abs), n, 0.3, 0.1);
    const bad = structuredClone(fx);
    bad.results.wdc.R *= 1 + 1e-4;
    bad.results.emd.grad[3]![5]! += 0.01;
    const r = await verifyRegularizerFixture(new CpuBackend(), bad);
    expect(r.checks.map((c) => c.pass)).toEqual([true, false, false]);
    expect((await verifyRegularizerFixture(new CpuBackend(), fx)).pass).toBe(true);
  });
});

describe.runIf(hasAdapter)('regularisers on the GPU', () => {
  const gpu = useGpu();

  it.runIf(haveFixtures)('pass regularizer_n24.json and regularizer_5_3_4.json', async () => {
    for (const f of ['regularizer_n24.json', 'regularizer_5_3_4.json']) {
      const r = await verifyRegularizerFixture(gpu.get(), readFileSync(resolve(FIXTURES, f), 'utf8'));
      for (const c of r.checks) {
        expect(c.valueRelError, `${f} ${c.name} value`).toBeLessThanOrEqual(1e-5);
        expect(c.gradRelError, `${f} ${c.name} grad`).toBeLessThanOrEqual(1e-4);
      }
      expect(r.pass).toBe(true);
    }
  });

  it('random N = 160 fixture (oracle-made, paper settings, sparse K with silent neurons)', async () => {
    const n = 160;
    const K = randW(n, 7, 0.97).map((x) => Math.round(Math.abs(x) * 3));
    const fx = makeFixture(randW(n, 5, 0.3), randD(n, 6), K, n, 0.3, 0.1);
    const r = await verifyRegularizerFixture(gpu.get(), fx);
    expect(
      r.checks.every((c) => c.pass),
      JSON.stringify(r.checks),
    ).toBe(true);
  });

  it.runIf(haveField)(
    'real field 6_6_2 (N = 312): D from µm positions, K its synapse counts',
    async () => {
      const field = loadField(dirSource(DATA), '6_6_2');
      const n = field.n;
      expect(n).toBe(312);
      const Dum = distanceMatrix(voxelsToUm(field.neurons.positionsVox));
      let mx = 0;
      for (const v of Dum) mx = Math.max(mx, v);
      const D = Dum.map((v) => Math.fround(v / mx));
      const W = randW(n, 9, 0.5);
      const fx = makeFixture(W, D, field.counts, n, 0.3, 0.1);
      const r = await verifyRegularizerFixture(gpu.get(), fx);
      expect(
        r.checks.every((c) => c.pass),
        JSON.stringify(r.checks),
      ).toBe(true);
      // corrected settings: floor 1e-4, EMD target floor-one-synapse and active-only
      const be = gpu.get();
      const wdcReg = new WdcRegularizer({ lambda: 0.3, D });
      const a = await compare(be, wdcReg, W, n, wdc(W, D, n, { lambda: 0.3 }));
      expect(a.valueRel).toBeLessThan(1e-5);
      expect(a.gradRel).toBeLessThan(1e-4);
      for (const target of ['floor-one-synapse', 'active-only'] as const) {
        const reg = new EmdRegularizer({ lambda: 0.3, mu: 0.1, D, K: field.counts, target });
        const t = makeEmdTarget(field.counts, n, { target });
        const ref = emd(W, D, t.Cemp, n, { lambda: 0.3, mu: 0.1, active: t.active });
        const b = await compare(be, reg, W, n, ref);
        expect(b.valueRel, target).toBeLessThan(1e-5);
        expect(b.gradRel, target).toBeLessThan(1e-4);
      }
    },
    400_000,
  ); // the float64 oracle at N = 312 takes tens of seconds on a loaded 2-core machine

  it('strength floor: a zero column and zero weights (sign(0) = 0)', async () => {
    const be = gpu.get();
    const n = 30;
    const W = randW(n, 17, 0.2);
    for (let i = 0; i < n; i++) W[i * n + 4] = 0; // silent neuron 4: s floored
    W[7 * n + 9] = 1e-6 * 0; // explicit zero
    const D = randD(n, 18);
    const K = randW(n, 19, 0.8).map(Math.abs);
    for (const sMin of [1e-4, 0.5]) {
      const reg = new WdcRegularizer({ lambda: 0.7, D, sMin });
      expect(reg.describe()).toContain(`s_min = ${sMin}`);
      const r = await compare(be, reg, W, n, wdc(W, D, n, { lambda: 0.7, sMin }));
      expect(r.valueRel).toBeLessThan(1e-5);
      expect(r.gradRel).toBeLessThan(1e-4);
      for (let i = 0; i < n; i++) expect(r.grad[i * n + 4]).toBe(0);
      expect(r.grad[7 * n + 9]).toBe(0);
      const t = makeEmdTarget(K, n, { target: 'floor-one-synapse' });
      const e = await compare(be, new EmdRegularizer({ lambda: 0.2, mu: 0.5, D, K, sMin }), W, n, emd(W, D, t.Cemp, n, { lambda: 0.2, mu: 0.5, sMin }));
      expect(e.valueRel).toBeLessThan(1e-5);
      expect(e.gradRel).toBeLessThan(1e-4);
    }
    expect(new WdcRegularizer({ lambda: 1, D, paperCompat: true }).describe()).toContain('none');
    expect(new WdcRegularizer({ lambda: 1, D }).describe()).toContain('s_min = 0.0001');
  });

  it('WD on the GPU, and a view of a larger buffer as W', async () => {
    const be = gpu.get();
    const n = 20;
    const W = randW(n, 23, 0.1);
    const D = randD(n, 24);
    const r = await compare(be, new WdRegularizer({ lambda: 0.4, D }), W, n, wd(W, D, n, { lambda: 0.4 }));
    expect(r.valueRel).toBeLessThan(1e-6);
    expect(r.gradRel).toBeLessThan(1e-6);
    const big = new Float64Array(7 + n * n);
    big.set(W, 7);
    const arena = be.fromArray(big, [big.length]);
    const view = be.view(arena, [n, n], 7);
    const out = new WdcRegularizer({ lambda: 0.4, D }).apply(be, view, n);
    const ref = wdc(W, D, n, { lambda: 0.4 });
    expect(Math.abs((await out.value.read())[0]! - ref.value) / ref.value).toBeLessThan(1e-5);
  });

  it('gated squarings: lagged plan statistics; too few encoded steps are counted', async () => {
    const be = gpu.get();
    const n = 24;
    const W = randW(n, 25).map(Math.abs);
    W[0] = 500; // a large entry: ‖M‖₁ well above θ
    const D = randD(n, 26);
    const ref = wdc(W, D, n, { lambda: 0.3 });
    const reg = new WdcRegularizer({ lambda: 0.3, D });
    const a = await compare(be, reg, W, n, ref);
    await be.sync();
    await new Promise((r) => setTimeout(r, 50));
    expect(reg.stats.norm).not.toBeNull();
    expect(reg.stats.overflows).toBe(0);
    expect(a.gradRel).toBeLessThan(1e-4);
    const b = await compare(be, reg, W, n, ref); // now encodes needed + 2
    expect(reg.stats.encoded).toBe(reg.stats.squarings! + 2);
    expect(b.gradRel).toBeLessThan(1e-4);
    const few = new WdcRegularizer({ lambda: 0.3, D, squarings: 0 });
    const c = await compare(be, few, W, n, ref);
    await be.sync();
    await new Promise((r) => setTimeout(r, 50));
    if (few.stats.squarings! > 0) {
      expect(few.stats.overflows).toBe(1);
      expect(c.gradRel).toBeGreaterThan(1e-4); // truncation error shows
    }
  });

  it('bitonic sort is a stable ascending sort carrying the permutation', async () => {
    const be = gpu.get() as GpuBackend;
    for (const count of [5000, 70000]) {
      const len = sortLength(count);
      const keys = new Float32Array(len).fill(3.4e38);
      for (let i = 0; i < count; i++) keys[i] = Math.floor(uniformAt(33, i) * 1000) / 7; // many ties
      const kt = be.fromArray(keys, [len]) as ReturnType<GpuBackend['alloc']>;
      const it = be.alloc([len]);
      be.ctx.writeBuffer(
        it.buffer,
        0,
        Uint32Array.from({ length: len }, (_, i) => i),
      );
      encodeBitonic(be, kt, it, len);
      const sk = await kt.read();
      const si = new Uint32Array(await be.ctx.readBuffer(it.buffer, 0, len * 4));
      const order = Array.from({ length: len }, (_, i) => i).sort((a, b) => keys[a]! - keys[b]! || a - b);
      expect(Array.from(si)).toEqual(order);
      for (let i = 0; i < len; i++) expect(sk[i]).toBe(keys[order[i]!]);
    }
  });
});
