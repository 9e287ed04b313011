import { maxAbs, maxAbsDiff, maxRelError } from './helpers/compare.ts';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { uniformAt } from '../engine/rng.ts';
import { expm } from '../engine/expm/cpu.ts';
import { fromNested } from '../engine/dense.ts';
import { DEFAULT_S_MIN } from '../engine/regularizers/constants.ts';
import {
  backpropCommunicability,
  communicability,
  emd,
  l1,
  rnnRegularizer,
  rnnRegularizerFromFixture,
  wd,
  wdc,
  type RnnFixtureLike,
} from '../engine/regularizers/cpu.ts';
import { activeNeurons, empiricalCommunicability, empiricalCommunicabilityFull, makeEmdTarget } from '../engine/regularizers/target.ts';

// ── helpers ──────────────────────────────────────────────────────────────────────────────────
const FIXTURES = process.env.CORTICAL_RNN_FIXTURES ?? resolve(process.cwd(), '../shared/fixtures');
const haveFixtures = existsSync(FIXTURES);
if (!haveFixtures) console.warn(`regularizers_cpu: fixtures not found at ${FIXTURES}; fixture tests skipped`);

function loadFixture<T>(name: string): T {
  return JSON.parse(readFileSync(resolve(FIXTURES, name), 'utf8')) as T;
}

function randMat(n: number, stream: number, lo = -1, hi = 1): Float64Array {
  const a = new Float64Array(n * n);
  for (let k = 0; k < n * n; k++) a[k] = lo + (hi - lo) * uniformAt(stream, k);
  return a;
}
function randDist(n: number, stream: number): Float64Array {
  const d = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const v = 0.1 + uniformAt(stream, i * n + j);
      d[i * n + j] = v;
      d[j * n + i] = v;
    }
  }
  return d;
}

/** Central finite differences of f at W, every entry; the step never flips a sign. */
function fdGrad(f: (w: Float64Array) => number, W: Float64Array, hMax = 1e-6): Float64Array {
  const g = new Float64Array(W.length);
  for (let k = 0; k < W.length; k++) {
    const h = W[k] === 0 ? hMax : Math.min(hMax, 0.1 * Math.abs(W[k]!));
    const wp = Float64Array.from(W);
    const wm = Float64Array.from(W);
    wp[k]! += h;
    wm[k]! -= h;
    g[k] = (f(wp) - f(wm)) / (2 * h);
  }
  return g;
}

interface RegFixture {
  format: string;
  n: number;
  lam: number;
  mu: number;
  W: number[][];
  D: number[][];
  K: number[][];
  C: number[][];
  results: Record<'wd' | 'wdc' | 'emd', { R: number; grad: number[][] }>;
}

interface RnnFixture extends RnnFixtureLike {
  format: string;
  outputs: { M: number[][]; C: number[][]; reg_value: number; grad_reg_W_rec: number[][] };
}

// ── conventions ──────────────────────────────────────────────────────────────────────────────
describe('communicability conventions', () => {
  it('normalises by column sums (out-strength) of |W|', () => {
    // W[i][j]: j → i. Column sums of |W|: s = [1+3, 2+4] = [4, 6] (not the row sums [3, 7]).
    const W = [1, -2, 3, 4];
    const c = communicability(W, 2, { sMin: null });
    expect(Array.from(c.sRaw)).toEqual([4, 6]);
    expect(Array.from(c.s)).toEqual([4, 6]);
    const M = [1 / 4, 2 / Math.sqrt(24), 3 / Math.sqrt(24), 4 / 6];
    expect(maxAbsDiff(c.M, M)).toBeLessThan(1e-15);
    expect(maxAbsDiff(c.expM, expm(M, 2))).toBeLessThan(1e-15);
    expect(c.C[0]).toBe(0);
    expect(c.C[3]).toBe(0);
    expect(c.C[1]).toBe(c.expM[1]);
  });

  it('floors the strengths at sMin (default 1e-4) and adds eps first', () => {
    const W = [0, 1e-5, 0, 2e-5];
    expect(DEFAULT_S_MIN).toBe(1e-4);
    const c = communicability(W, 2);
    expect(Array.from(c.s)).toEqual([1e-4, 1e-4]);
    expect(Array.from(c.floored)).toEqual([1, 1]);
    const paper = communicability(W, 2, { sMin: null });
    expect(Number.isNaN(paper.M[0]!)).toBe(true); // 0 / sqrt(0 · 0): the paper's formula breaks
    const withEps = communicability([1, 0, 0, 0], 2, { sMin: null, eps: 1e-10 });
    expect(withEps.s[0]).toBe(1 + 1e-10);
    expect(withEps.s[1]).toBe(1e-10);
    expect(Array.from(withEps.floored)).toEqual([0, 0]);
  });
});

// ── finite differences on small random cases ─────────────────────────────────────────────────
describe('gradients vs central finite differences (float64)', () => {
  const n = 6;
  const D = randDist(n, 21);

  it('l1 (and the paper-compat setting that ignores λ)', () => {
    const W = randMat(n, 30);
    W[7] = 0;
    const r = l1(W, n, { lambda: 0.3 });
    const fd = fdGrad((w) => l1(w, n, { lambda: 0.3 }).value, W);
    expect(maxAbsDiff(r.grad, fd)).toBeLessThan(1e-9);
    expect(r.grad[7]).toBe(0);
    const p = l1(W, n, { lambda: 0.3, ignoreLambda: true });
    expect(p.value).toBeCloseTo(r.value / 0.3, 13);
    expect(maxAbs(p.grad)).toBe(1);
  });

  it('backpropCommunicability: any upstream G_C (its diagonal ignored, as C has a constant 0 there)', () => {
    const W = randMat(n, 35);
    const G = randMat(n, 36); // nonzero diagonal on purpose
    for (const sMin of [null, 0.5]) {
      const f = (w: Float64Array): number => {
        const C = communicability(w, n, { sMin }).C;
        return C.reduce((acc, c, k) => acc + c * G[k]!, 0);
      };
      const comm = communicability(W, n, { sMin });
      const grad = backpropCommunicability(comm, G).map((g, k) => g * Math.sign(W[k]!));
      const fd = fdGrad(f, W);
      expect(maxAbsDiff(grad, fd), `sMin=${sMin}`).toBeLessThan(1e-8 * maxAbs(grad));
    }
  });

  it('wd', () => {
    const W = randMat(n, 31);
    const r = wd(W, D, n, { lambda: 0.7 });
    const fd = fdGrad((w) => wd(w, D, n, { lambda: 0.7 }).value, W);
    expect(maxAbsDiff(r.grad, fd)).toBeLessThan(1e-9 * maxAbs(r.grad));
  });

  for (const sMin of [null, 1e-4] as const) {
    it(`wdc, sMin = ${sMin}`, () => {
      const W = randMat(n, 32);
      const opts = { lambda: 0.3, sMin };
      const r = wdc(W, D, n, opts);
      const fd = fdGrad((w) => wdc(w, D, n, opts).value, W);
      expect(maxAbsDiff(r.grad, fd)).toBeLessThan(1e-8 * maxAbs(r.grad));
    });
  }

  // A floor well above the machine scale keeps M (and so C) of moderate size, so that finite
  // differences stay accurate; the code path (floored → no gradient through s) is the same as
  // for the default 1e-4, whose rows of silent units are ~100× larger.
  it('wdc with a column below the floor: no gradient through s there', () => {
    const W = randMat(n, 33);
    for (let i = 0; i < n; i++) W[i * n + 2]! *= 0.02; // Σ|col 2| ≈ 0.06 < sMin
    const opts = { lambda: 0.3, sMin: 0.5 };
    const r = wdc(W, D, n, opts);
    expect(Array.from(r.comm.floored)).toEqual([0, 0, 1, 0, 0, 0]);
    const fd = fdGrad((w) => wdc(w, D, n, opts).value, W);
    expect(maxAbsDiff(r.grad, fd)).toBeLessThan(1e-8 * maxAbs(r.grad));
    // the floor matters here: without it the value differs
    const unfloored = wdc(W, D, n, { lambda: 0.3, sMin: null });
    expect(Math.abs(unfloored.value - r.value)).toBeGreaterThan(1e-3);
  });

  it('wdc with an all-zero column: finite with a floor, NaN in paper mode', () => {
    const W = randMat(n, 34);
    for (let i = 0; i < n; i++) W[i * n + 4] = 0;
    for (const sMin of [0.5, DEFAULT_S_MIN]) {
      const r = wdc(W, D, n, { lambda: 0.3, sMin });
      expect(Number.isFinite(r.value)).toBe(true);
      expect(r.grad.every(Number.isFinite)).toBe(true);
      for (let i = 0; i < n; i++) expect(r.grad[i * n + 4]).toBe(0); // d|w|/dw at 0 is 0
    }
    const opts = { lambda: 0.3, sMin: 0.5 };
    const r = wdc(W, D, n, opts);
    const fd = fdGrad((w) => wdc(w, D, n, opts).value, W);
    expect(maxAbsDiff(r.grad, fd)).toBeLessThan(1e-8 * maxAbs(r.grad));
    expect(Number.isNaN(wdc(W, D, n, { lambda: 0.3, sMin: null }).value)).toBe(true);
  });

  /** EMD cases built so that no two compared entries are tied within the FD step. */
  function checkNoTies(W: Float64Array, Cemp: Float64Array, active: Uint8Array | null, sMin: number | null): void {
    const c = emd(W, D, Cemp, n, { lambda: 0, mu: 1, sMin, active }).comm.C;
    const idx: number[] = [];
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (!active || (active[i] && active[j])) idx.push(i * n + j);
    const cs = idx.map((k) => c[k]!).sort((a, b) => a - b);
    const es = idx.map((k) => Cemp[k]!).sort((a, b) => a - b);
    for (let k = 1; k < cs.length; k++) if (cs[k] !== 0) expect(cs[k]! - cs[k - 1]!).toBeGreaterThan(1e-4);
    for (let k = 0; k < cs.length; k++) {
      if (cs[k] !== 0) expect(Math.abs(cs[k]! - es[k]!)).toBeGreaterThan(1e-4); // cs[k] = 0: diagonal, constant
    }
  }

  // sparse integer K with two silent neurons (zero columns): the case the paper's rule mishandles
  function sparseK(stream: number): Float64Array {
    const K = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        if (i === j || j === 1 || j === 4) continue;
        const u = uniformAt(stream, i * n + j);
        K[i * n + j] = u < 0.4 ? 0 : Math.floor(1 + 3 * uniformAt(stream + 1, i * n + j));
      }
    }
    return K;
  }

  for (const target of ['paper', 'floor-one-synapse', 'active-only'] as const) {
    for (const sMin of [null, 1e-4] as const) {
      it(`emd, target ${target}, sMin = ${sMin}`, () => {
        // |W| in [0.2, 1]: no entry of C near the zeros of C_emp
        const W = randMat(n, 40).map((v) => Math.sign(v) * (0.2 + 0.8 * Math.abs(v)));
        const K = sparseK(50);
        const { Cemp, active } = makeEmdTarget(K, n, { target });
        checkNoTies(W, Cemp, active, sMin);
        for (const [lambda, mu] of [
          [0.3, 0.1],
          [0, 1], // the sorted term alone, so its gradient is not hidden behind λD
        ] as const) {
          const opts = { lambda, mu, sMin, active };
          const r = emd(W, D, Cemp, n, opts);
          const h = 1e-6;
          const fd = fdGrad((w) => emd(w, D, Cemp, n, opts).value, W, h);
          // + the finite differences' own rounding, 8u|R|/h: the paper target's spikes (~1e5 in
          // C_emp) make R ~ 1e3, so its last bit alone is 2e-13 / h = 2e-7 of gradient here
          const tol = 1e-8 * maxAbs(r.grad) + (8 * 2.2e-16 * Math.abs(r.value)) / h;
          expect(maxAbsDiff(r.grad, fd), `λ=${lambda} μ=${mu}, R=${r.value}`).toBeLessThan(tol);
          expect(r.value).toBeCloseTo(r.wdPart + r.emdPart, 14);
        }
      });
    }
  }

  it('emd gradient is zero on the diagonal of C and routed by the sort permutation', () => {
    const W = randMat(n, 41);
    const K = sparseK(51);
    const Cemp = empiricalCommunicability(K, n, { target: 'floor-one-synapse' });
    const r = emd(W, D, Cemp, n, { lambda: 0, mu: 1 });
    // recompute G_C by hand and back-propagate it: must reproduce the gradient
    const c = Array.from(r.comm.C);
    const order = c.map((_, k) => k).sort((a, b) => c[a]! - c[b]! || a - b);
    const es = Array.from(Cemp).sort((a, b) => a - b);
    const GC = new Float64Array(n * n);
    order.forEach((k, rank) => (GC[k] = Math.sign(c[k]! - es[rank]!) / (n * n)));
    const GA = backpropCommunicability(r.comm, GC);
    const expected = GA.map((g, k) => g * Math.sign(W[k]!));
    expect(maxAbsDiff(r.grad, expected)).toBeLessThan(1e-15);
  });
});

// ── empirical targets ────────────────────────────────────────────────────────────────────────
describe('empirical communicability targets', () => {
  it('active-only: the silent neurons are sinks, so the active block ignores the 1e-10 rule', () => {
    const n = 7;
    const K = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j && j % 3 !== 0) K[i * n + j] = 1 + ((i + 2 * j) % 3);
    const act = activeNeurons(K, n);
    expect(Array.from(act)).toEqual([0, 1, 1, 0, 1, 1, 0]);
    const paper = empiricalCommunicabilityFull(K, n, { target: 'paper' });
    expect(maxAbs(paper.C)).toBeGreaterThan(1e4); // the paper's spike: rows of silent neurons ×1e5
    const I = [1, 2, 4, 5];
    const m = I.length;
    const Msub = new Float64Array(m * m);
    I.forEach((i, a) => I.forEach((j, b) => (Msub[a * m + b] = paper.M[i * n + j]!)));
    const Esub = expm(Msub, m);
    const target = empiricalCommunicability(K, n, { target: 'active-only' });
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const a = I.indexOf(i);
        const b = I.indexOf(j);
        if (a < 0 || b < 0) {
          expect(Number.isNaN(target[i * n + j]!)).toBe(true);
          continue;
        }
        const ref = a === b ? 0 : Esub[a * m + b]!;
        expect(Math.abs(target[i * n + j]! - ref)).toBeLessThan(1e-15);
        expect(Math.abs(paper.C[i * n + j]! - ref)).toBeLessThan(1e-15);
      }
    }
    const W = randMat(n, 70);
    expect(() => emd(W, new Float64Array(n * n), target, n, { lambda: 0, mu: 1 })).toThrow(/active/);
    expect(Number.isFinite(emd(W, new Float64Array(n * n), target, n, { lambda: 0, mu: 1, active: act }).value)).toBe(true);
    const floor1 = empiricalCommunicability(K, n, { target: 'floor-one-synapse' });
    expect(maxAbs(floor1)).toBeLessThan(10);
  });
});

// ── reference fixtures ───────────────────────────────────────────────────────────────────────
describe.skipIf(!haveFixtures)('regularizer_ref/1 fixtures', () => {
  for (const file of ['regularizer_n24.json', 'regularizer_5_3_4.json']) {
    describe(file, () => {
      const fx = loadFixture<RegFixture>(file);
      const n = fx.n;
      const W = fromNested(fx.W);
      const D = fromNested(fx.D);
      const K = fromNested(fx.K);
      const paper = { sMin: null };

      it('has the expected format', () => {
        expect(fx.format).toBe('regularizer_ref/1');
        expect(W.length).toBe(n * n);
      });

      it('C (no floor, no epsilon)', () => {
        const c = communicability(W, n, paper);
        const err = maxAbsDiff(c.C, fromNested(fx.C));
        console.log(`${file} C: max abs err ${err.toExponential(2)}`);
        expect(err).toBeLessThan(1e-13);
      });

      it('wd', () => {
        const r = wd(W, D, n, { lambda: fx.lam });
        const ref = fx.results.wd;
        expect(Math.abs(r.value - ref.R) / Math.abs(ref.R)).toBeLessThan(1e-12);
        expect(maxRelError(r.grad, fromNested(ref.grad))).toBeLessThan(1e-12);
      });

      it('wdc (paper: no floor), and unchanged by the default floor here', () => {
        const ref = fx.results.wdc;
        for (const opts of [{ lambda: fx.lam, ...paper }, { lambda: fx.lam }] as Array<{ lambda: number; sMin?: null }>) {
          const r = wdc(W, D, n, opts);
          const ev = Math.abs(r.value - ref.R) / Math.abs(ref.R);
          const eg = maxRelError(r.grad, fromNested(ref.grad));
          console.log(`${file} wdc sMin=${String(opts.sMin)}: value rel ${ev.toExponential(2)}, grad ${eg.toExponential(2)}·max|g|`);
          expect(ev).toBeLessThan(1e-10);
          expect(eg).toBeLessThan(1e-9);
        }
      });

      it('emd (paper target: C_emp with zero strengths replaced by 1e-10, C with s + 1e-10)', () => {
        const ref = fx.results.emd;
        const Cemp = empiricalCommunicability(K, n, { target: 'paper' });
        const r = emd(W, D, Cemp, n, { lambda: fx.lam, mu: fx.mu, sMin: null });
        const ev = Math.abs(r.value - ref.R) / Math.abs(ref.R);
        const eg = maxRelError(r.grad, fromNested(ref.grad));
        // the sorted term's share of the gradient, checked on its own scale
        const gEmdRef = fromNested(ref.grad).map((g, k) => g - fx.lam * D[k]! * Math.sign(W[k]!));
        const gEmd = r.grad.map((g, k) => g - fx.lam * D[k]! * Math.sign(W[k]!));
        const egEmd = maxRelError(gEmd, gEmdRef);
        console.log(
          `${file} emd: value rel ${ev.toExponential(2)}, grad ${eg.toExponential(2)}·max|g|, ` +
            `sorted-term grad ${egEmd.toExponential(2)}·max|g_sorted|, max C_emp ${maxAbs(Cemp).toExponential(4)}`,
        );
        expect(ev).toBeLessThan(1e-10);
        expect(eg).toBeLessThan(1e-9);
        expect(egEmd).toBeLessThan(1e-9);
      });
    });
  }

  it('regularizer_5_3_4: the paper rule spikes C_emp, the corrected targets do not', () => {
    const fx = loadFixture<RegFixture>('regularizer_5_3_4.json');
    const n = fx.n;
    const K = fromNested(fx.K);
    const act = activeNeurons(K, n);
    const nActive = act.reduce((a, b) => a + b, 0);
    expect(nActive).toBe(12); // 58 of the field's 70 neurons have no outgoing synapse in K
    const paper = empiricalCommunicability(K, n, { target: 'paper' });
    expect(maxAbs(paper)).toBeGreaterThan(1e5);
    const floor1 = empiricalCommunicability(K, n, { target: 'floor-one-synapse' });
    expect(maxAbs(floor1)).toBeLessThan(10);
    let activeMax = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (act[i] && act[j]) activeMax = Math.max(activeMax, paper[i * n + j]!);
    expect(activeMax).toBeLessThan(10);
  });
});

describe.skipIf(!haveFixtures)('rnn_bptt_ref/1 fixture: R = λ Σ |W_rec|∘D∘C0, floored strengths', () => {
  it('M, C, reg_value and grad_reg_W_rec', () => {
    const fx = loadFixture<RnnFixture>('rnn_bptt_ref.json');
    expect(fx.format).toBe('rnn_bptt_ref/1');
    const r = rnnRegularizerFromFixture(fx);
    const n = fx.config.N;
    expect(maxAbsDiff(r.comm.M, fromNested(fx.outputs.M))).toBeLessThan(1e-15);
    expect(maxAbsDiff(r.comm.expM, fromNested(fx.outputs.C))).toBeLessThan(1e-13);
    const ev = Math.abs(r.value - fx.outputs.reg_value) / Math.abs(fx.outputs.reg_value);
    const eg = maxRelError(r.grad, fromNested(fx.outputs.grad_reg_W_rec));
    console.log(`rnn_bptt_ref: value rel ${ev.toExponential(2)}, grad ${eg.toExponential(2)}·max|g|`);
    expect(ev).toBeLessThan(1e-10);
    expect(eg).toBeLessThan(1e-9);
    // the same thing through the array API
    const r2 = rnnRegularizer(fromNested(fx.params.W_rec), fromNested(fx.inputs.D), n, {
      lambda: fx.config.lambda,
      sFloor: fx.config.s_floor,
    });
    expect(r2.value).toBe(r.value);
  });
});

describe('performance', () => {
  it('C_emp and the wdc gradient at N = 312', () => {
    const n = 312;
    const W = randMat(n, 60).map((v) => v / Math.sqrt(n));
    const D = randDist(n, 61);
    const K = randMat(n, 62, 0, 1).map((v) => (v < 0.9 ? 0 : Math.round(v * 5)));
    let t = performance.now();
    const Cemp = empiricalCommunicability(K, n, { target: 'floor-one-synapse' });
    const tC = performance.now() - t;
    t = performance.now();
    const r = wdc(W, D, n, { lambda: 0.01 });
    const tW = performance.now() - t;
    console.log(`N=312: C_emp ${tC.toFixed(0)} ms, wdc value+grad ${tW.toFixed(0)} ms`);
    expect(Number.isFinite(r.value) && Number.isFinite(Cemp[1]!)).toBe(true);
    expect(tC).toBeLessThan(3000);
    expect(tW).toBeLessThan(10000);
  });
});
