import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  anatomical,
  diagonalShare,
  fractionNear,
  functionalFromSpikes,
  hasDirectedCycle,
  loadField,
  mean,
  minMaxNormalise,
  mirrorLower,
  scaleLikeWStar,
  spectrumMatchedControl,
  sttcPair,
  tilingFraction,
  wBang,
  wStar,
  floorNonzero,
  scaleToMean,
  dirSource,
} from '../connectome/index.ts';
import { matmul } from '../engine/dense.ts';
import { Rng } from '../engine/rng.ts';

const DATA = '../shared/data';
if (!existsSync(DATA) && process.env.CI) throw new Error(`connectome tests: data directory ${DATA} is missing (CI is set)`);
const haveData = existsSync(DATA);

/**
 * Spectral radius by a dense eigen-solver independent of power iteration: the characteristic
 * polynomial (Faddeev–LeVerrier) and all its complex roots (Durand–Kerner). Small N only.
 */
function denseSpectralRadius(a: Float64Array, n: number): number {
  // p(λ) = λⁿ + c1 λⁿ⁻¹ + … + cn
  const c = [1];
  let m: Float64Array = new Float64Array(n * n);
  for (let k = 1; k <= n; k++) {
    const am = matmul(a, m, n, n, n);
    for (let i = 0; i < n; i++) am[i * n + i]! += c[k - 1]!;
    m = am; // M_k = A M_{k−1} + c_{k−1} I
    const amk = matmul(a, m, n, n, n);
    let tr = 0;
    for (let i = 0; i < n; i++) tr += amk[i * n + i]!;
    c.push(-tr / k);
  }
  let re = Array.from({ length: n }, (_, k) => 0.9 * Math.cos((2 * Math.PI * k) / n + 0.4));
  let im = Array.from({ length: n }, (_, k) => 0.9 * Math.sin((2 * Math.PI * k) / n + 0.4));
  for (let it = 0; it < 2000; it++) {
    const nr = re.slice(),
      ni = im.slice();
    for (let k = 0; k < n; k++) {
      // p(z) by Horner
      let pr = 1,
        pi = 0;
      for (let d = 1; d <= n; d++) {
        const t = pr * re[k]! - pi * im[k]! + c[d]!;
        pi = pr * im[k]! + pi * re[k]!;
        pr = t;
      }
      let qr = 1,
        qi = 0;
      for (let j = 0; j < n; j++)
        if (j !== k) {
          const dr = re[k]! - re[j]!,
            di = im[k]! - im[j]!;
          const t = qr * dr - qi * di;
          qi = qr * di + qi * dr;
          qr = t;
        }
      const den = qr * qr + qi * qi;
      nr[k] = re[k]! - (pr * qr + pi * qi) / den;
      ni[k] = im[k]! - (pi * qr - pr * qi) / den;
    }
    re = nr;
    im = ni;
  }
  return Math.max(...re.map((r, k) => Math.hypot(r, im[k]!)));
}

describe('STTC building blocks', () => {
  it('computes T, P and STTC on hand-checked trains', () => {
    const a = Float64Array.from([1, 1.15, 5]);
    const b = Float64Array.from([1.05, 9]);
    // windows ±0.1 on [0, 10]: [0.9, 1.25] ∪ [4.9, 5.1] = 0.35 + 0.2
    expect(tilingFraction(a, 0.1, 0, 10)).toBeCloseTo(0.055, 14);
    expect(tilingFraction(Float64Array.from([0.05, 9.95]), 0.1, 0, 10)).toBeCloseTo(0.03, 14); // clipped at both ends
    expect(fractionNear(a, b, 0.1)).toBeCloseTo(2 / 3, 14); // 1 and 1.15 are within 0.1 of 1.05
    expect(fractionNear(b, a, 0.1)).toBeCloseTo(1 / 2, 14);
    const ta = 0.055,
      tb = 0.04;
    const want = 0.5 * ((2 / 3 - tb) / (1 - (2 / 3) * tb) + (1 / 2 - ta) / (1 - (1 / 2) * ta));
    expect(sttcPair(a, b, ta, tb, 0.1)).toBeCloseTo(want, 14);
    expect(sttcPair(a, a, ta, ta, 0.1)).toBeCloseTo(1, 14);
  });
});

describe('corr and STTC from spikes reproduce the release', { skip: !haveData }, () => {
  for (const name of ['5_3_4', '5_6_8']) {
    it(`on ${name}: corr within 3e-4, STTC lower triangle within 2e-5`, () => {
      const f = loadField(dirSource(DATA), name);
      const { corr, sttc } = functionalFromSpikes(f.spikes!);
      const n = f.n;
      let ec = 0,
        es = 0;
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) {
          ec = Math.max(ec, Math.abs(corr[i * n + j]! - f.matrices!.corr[i * n + j]!));
          if (j < i) es = Math.max(es, Math.abs(sttc[i * n + j]! - f.matrices!.sttc[i * n + j]!));
        }
      console.log(`[functional] ${name} (end = last event): max |Δcorr| = ${ec.toExponential(2)}, max |Δsttc| = ${es.toExponential(2)}`);
      expect(ec).toBeLessThan(3e-4);
      expect(es).toBeLessThan(2e-5);
    });
  }
  it('ending at the last frame reproduces 5_3_4 more tightly', () => {
    const f = loadField(dirSource(DATA), '5_3_4');
    const { corr, sttc } = functionalFromSpikes(f.spikes!, { end: 'last-frame' });
    let ec = 0,
      es = 0;
    const n = f.n;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < i; j++) {
        ec = Math.max(ec, Math.abs(corr[i * n + j]! - f.matrices!.corr[i * n + j]!));
        es = Math.max(es, Math.abs(sttc[i * n + j]! - f.matrices!.sttc[i * n + j]!));
      }
    console.log(`[functional] 5_3_4 (end = last frame): max |Δcorr| = ${ec.toExponential(2)}, max |Δsttc| = ${es.toExponential(2)}`);
    expect(ec).toBeLessThan(1e-7);
    expect(es).toBeLessThan(5e-6);
  });
});

/** A small random symmetric "functional" input for fast property tests. */
function smallInput(n: number, seed: number) {
  const r = new Rng(seed, 'fn');
  const corr = new Float64Array(n * n),
    sttc = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    corr[i * n + i] = 1;
    sttc[i * n + i] = 1;
    for (let j = 0; j < i; j++) {
      const c = 0.3 * r.uniform() - 0.05;
      corr[i * n + j] = c;
      corr[j * n + i] = c;
      sttc[i * n + j] = 0.2 * r.uniform() - 0.05; // upper triangle left 0, as shipped
    }
  }
  return { n, corr, sttc };
}

describe('W* (functional init)', () => {
  it('follows the seven steps: mirror, min-max, L∘corr∘sttc, mean 0.1, floor 0.01, ρ 0.95', () => {
    const inp = smallInput(7, 1);
    const n = 7;
    const w = wStar(inp, new Rng(5, 'L'));
    // rebuild by hand from the same L draws
    const rng = new Rng(5, 'L');
    const s = minMaxNormalise(mirrorLower(inp.sttc, n));
    const c = minMaxNormalise(inp.corr);
    const raw = new Float64Array(n * n);
    for (let k = 0; k < n * n; k++) raw[k] = rng.lognormal(-0.5, 0.5) * c[k]! * s[k]!;
    const meaned = scaleToMean(raw.slice(), 0.1);
    expect(mean(meaned)).toBeCloseTo(0.1, 14);
    const floored = floorNonzero(meaned.slice(), 0.01);
    let minNonzero = Infinity,
      zeros = 0;
    for (const v of floored)
      if (v === 0) zeros++;
      else minNonzero = Math.min(minNonzero, v);
    expect(minNonzero).toBeGreaterThanOrEqual(0.01);
    expect(zeros).toBeGreaterThan(0); // the min-max zeros survive the floor
    const rho = denseSpectralRadius(w, n);
    expect(rho).toBeCloseTo(0.95, 9);
    // W is the floored matrix times one positive factor
    const f = w[0]! / floored[0]!;
    for (let k = 0; k < n * n; k++) expect(w[k]).toBeCloseTo(floored[k]! * f, 12);
    expect(Math.min(...w)).toBeGreaterThanOrEqual(0);
    // the sttc mirror: W is built from a symmetric relation
    expect(s[1 * n + 4]).toBe(s[4 * n + 1]);
  });
  it('draws a fresh L per seed and supports the sttc-only and precision variants', () => {
    const inp = smallInput(6, 2);
    const a = wStar(inp, new Rng(1)),
      b = wStar(inp, new Rng(2));
    expect(Array.from(a)).not.toEqual(Array.from(b));
    const s = wStar(inp, new Rng(1), { relation: 'sttc' });
    expect(denseSpectralRadius(s, 6)).toBeCloseTo(0.95, 9);
    const p = wStar({ ...inp, precision: inp.corr.map((v, k) => (k % 7 === 0 ? 3 : v)) }, new Rng(1), { relation: 'precision-sttc' });
    expect(denseSpectralRadius(p, 6)).toBeCloseTo(0.95, 9);
    expect(() => wStar({ n: 6, sttc: inp.sttc }, new Rng(1))).toThrow(/needs a corr matrix/);
  });
  it('on 6_6_2 is nonnegative with Perron root 0.95', { skip: !haveData }, () => {
    const f = loadField(dirSource(DATA), '6_6_2');
    const w = wStar({ n: f.n, corr: f.matrices!.corr, sttc: f.matrices!.sttc }, new Rng(0, 'wstar'));
    expect(Math.min(...w)).toBeGreaterThanOrEqual(0);
    // Perron check independent of perronRoot: v = W·v for the Perron vector gives 0.95 v
    let v = new Float64Array(f.n).fill(1);
    for (let it = 0; it < 600; it++) {
      const nv = matmul(w, v, f.n, f.n, 1);
      const s = nv.reduce((x, y) => x + y, 0);
      v = nv.map((x) => x / s);
    }
    const wv = matmul(w, v, f.n, f.n, 1);
    for (let i = 0; i < f.n; i += 37) expect(wv[i]! / v[i]!).toBeCloseTo(0.95, 6);
  });
});

describe('W!, anatomical and the spectrum-matched control', () => {
  it('W! is a simultaneous permutation: W!_ij = W_p(i)p(j), same spectrum', () => {
    const n = 6;
    const w = wStar(smallInput(n, 3), new Rng(3));
    const { W: wb, perm } = wBang(w, n, new Rng(4));
    expect([...perm].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect([...perm]).not.toEqual([0, 1, 2, 3, 4, 5]);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(wb[i * n + j]).toBe(w[perm[i]! * n + perm[j]!]);
    // P W Pᵀ with P_{i,p(i)} = 1
    const P = new Float64Array(n * n);
    for (let i = 0; i < n; i++) P[i * n + perm[i]!] = 1;
    const Pt = new Float64Array(n * n);
    for (let i = 0; i < n; i++) Pt[perm[i]! * n + i] = 1;
    const pwp = matmul(matmul(P, w, n, n, n), Pt, n, n, n);
    expect(Array.from(pwp)).toEqual(Array.from(wb));
    expect(denseSpectralRadius(wb, n)).toBeCloseTo(0.95, 9);
    expect(diagonalShare(wb, n)).toBeCloseTo(diagonalShare(w, n), 14);
  });
  it('anatomical init is scaled like W* and refuses acyclic connectomes', () => {
    const n = 5;
    const k = new Float64Array(n * n);
    k[1 * n + 0] = 2;
    k[2 * n + 1] = 1;
    k[0 * n + 2] = 3;
    k[3 * n + 4] = 1; // cycle 0→1→2→0 and 4→3
    const w = anatomical(k, n);
    expect(denseSpectralRadius(w, n)).toBeCloseTo(0.95, 9);
    for (let i = 0; i < n * n; i++) expect(w[i] === 0).toBe(k[i] === 0);
    const acyclic = new Float64Array(n * n);
    acyclic[1 * n + 0] = 1;
    acyclic[2 * n + 1] = 1;
    expect(hasDirectedCycle(acyclic, n)).toBe(false);
    expect(hasDirectedCycle(k, n)).toBe(true);
    expect(() => anatomical(acyclic, n)).toThrow(/no directed cycle/);
    expect(denseSpectralRadius(anatomical(acyclic, n, { symmetric: true }), n)).toBeCloseTo(0.95, 9);
  });
  it('scaleLikeWStar applies mean, floor and radius in that order', () => {
    const n = 4;
    const w = Float64Array.from([5, 0, 1e-4, 2, 1, 1, 0, 3, 2, 0, 1, 1, 4, 1, 0.001, 2]);
    const out = scaleLikeWStar(w.slice(), n);
    expect(denseSpectralRadius(out, n)).toBeCloseTo(0.95, 9);
    const ref = floorNonzero(scaleToMean(w.slice(), 0.1), 0.01);
    for (let k = 0; k < n * n; k++) expect(out[k]! / out[0]!).toBeCloseTo(ref[k]! / ref[0]!, 12);
  });
  it('the control matches W*’s mean, diagonal share and spectral radius but not its entries', () => {
    const n = 8;
    const w = wStar(smallInput(n, 6), new Rng(6));
    const c = spectrumMatchedControl(w, n, new Rng(7));
    expect(mean(c)).toBeCloseTo(mean(w), 12);
    expect(diagonalShare(c, n)).toBeCloseTo(diagonalShare(w, n), 12);
    expect(denseSpectralRadius(c, n)).toBeCloseTo(0.95, 7);
    expect(Math.min(...c)).toBeGreaterThan(0);
    // no structure carried over: entries are uncorrelated with W*'s off-diagonal
    let same = 0;
    for (let k = 0; k < n * n; k++) if (Math.abs(c[k]! - w[k]!) < 1e-12) same++;
    expect(same).toBe(0);
  });
  it('the control works on a real field (5_6_8)', { skip: !haveData }, () => {
    const f = loadField(dirSource(DATA), '5_6_8');
    const w = wStar({ n: f.n, corr: f.matrices!.corr, sttc: f.matrices!.sttc }, new Rng(1));
    const c = spectrumMatchedControl(w, f.n, new Rng(2));
    expect(mean(c)).toBeCloseTo(mean(w), 12);
    expect(diagonalShare(c, f.n)).toBeCloseTo(diagonalShare(w, f.n), 12);
  });
});
