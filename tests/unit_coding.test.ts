import { describe, expect, it } from 'vitest';
import {
  windowedSelectivityCorrelation,
  codingPreference,
  colocalisation,
  etaSquared,
  partialEtaSquared,
  meanActivity,
  mixedSelectivity,
  totalWeight,
  unitTuning,
  weightDensity,
} from '../analysis/unit_coding.ts';
import { Rng } from '../engine/rng.ts';

describe('functional analyses (seRNN)', () => {
  it('η² is the between-group share of the variance', () => {
    // Two groups with means 1 and 3, within-group deviations ±1: SS_between = 4·1² + 4·1² = 8, SS_total = 8 + 8 = 16.
    const x = [0, 2, 0, 2, 2, 4, 2, 4];
    const g = [0, 0, 0, 0, 1, 1, 1, 1];
    expect(etaSquared(x, g)).toBeCloseTo(0.5, 12);
    expect(etaSquared([1, 1, 1], [0, 1, 2])).toBe(0);
    expect(etaSquared([0, 0, 5, 5], [0, 0, 1, 1])).toBeCloseTo(1, 12);
    expect(() => etaSquared([1, 2], [0])).toThrow(/2 values but 1 labels/);
  });

  it('partial η² counts only what a variable adds beyond another', () => {
    // b duplicates a: it adds nothing beyond it. c is independent of a and drives x.
    const a = [0, 0, 1, 1, 0, 0, 1, 1];
    const c = [0, 1, 0, 1, 0, 1, 0, 1];
    const x = [0, 2, 5, 7, 0, 2, 5, 7];
    expect(partialEtaSquared(x, a, a)).toBeCloseTo(0, 12);
    expect(etaSquared(x, c)).toBeCloseTo(partialEtaSquared(x, c, a), 12);
    expect(partialEtaSquared(x, c, a)).toBeGreaterThan(0.1);
  });

  it('tuning, mixed selectivity and preference follow the constructed units', () => {
    const rng = new Rng(3, 'test');
    const trials = 400;
    const a = Float64Array.from({ length: trials }, () => rng.int(4));
    const b = Float64Array.from({ length: trials }, () => rng.int(5));
    const n = 4; // unit 0 codes a, unit 1 codes b, unit 2 both, unit 3 silent
    const act = new Float64Array(trials * n);
    for (let k = 0; k < trials; k++) {
      act[k * n] = a[k]! + 0.1 * rng.normal();
      act[k * n + 1] = b[k]! + 0.1 * rng.normal();
      act[k * n + 2] = a[k]! + b[k]! + 0.1 * rng.normal();
    }
    const t = unitTuning(act, act, n, a, b);
    expect(Array.from(t.active)).toEqual([1, 1, 1, 0]);
    expect(t.etaA[0]).toBeGreaterThan(0.9);
    expect(t.etaB[0]).toBeLessThan(0.1);
    expect(t.etaB[1]).toBeGreaterThan(0.9);
    expect(t.etaA[2]).toBeGreaterThan(0.2);
    expect(t.etaB[2]).toBeGreaterThan(0.2);
    expect(mixedSelectivity(t)).toBeCloseTo(1 / 3, 12);
    const p = codingPreference(t);
    expect(p[0]).toBeGreaterThan(0.8);
    expect(p[1]).toBeLessThan(-0.8);
    expect(Number.isNaN(p[3]!)).toBe(true);
  });

  it('co-localisation is high when alike units are neighbours and near zero when shuffled', () => {
    // 40 units on a line: the left half prefers a (+1), the right half b (−1).
    const m = 40;
    const pos = new Float64Array(m * 3);
    for (let j = 0; j < m; j++) pos[j * 3] = j;
    const pref = Float64Array.from({ length: m }, (_, j) => (j < m / 2 ? 1 : -1));
    const clustered = colocalisation(pref, pos, { nPerm: 200, seed: 1 });
    expect(clustered.units).toBe(m);
    expect(clustered.r).toBeGreaterThan(0.3);
    expect(clustered.p).toBeLessThan(0.01);
    const alternating = Float64Array.from({ length: m }, (_, j) => (j % 2 ? 1 : -1));
    const mixed = colocalisation(alternating, pos, { nPerm: 200, seed: 1 });
    expect(Math.abs(mixed.r)).toBeLessThan(0.1);
    expect(mixed.p).toBeGreaterThan(0.05);
    expect(Number.isNaN(colocalisation([1, NaN, NaN], pos).r)).toBe(true);
  });

  it('energy, weight density and total weight', () => {
    expect(meanActivity([0, 1, 2, 3])).toBe(1.5);
    expect(weightDensity([0.5, -0.02, 0.005, 0, -0.011])).toBeCloseTo(3 / 5, 12);
    expect(totalWeight([0.5, -0.25, 0])).toBe(0.75);
  });
});

describe("mixed selectivity by the seRNN authors' measure", () => {
  // 8 trials: a = trial mod 2, b = floor(trial / 2) mod 2 (independent, balanced)
  const trials = 8;
  const a = Float64Array.from({ length: trials }, (_, k) => k % 2);
  const b = Float64Array.from({ length: trials }, (_, k) => Math.floor(k / 2) % 2);
  /** Activity [T, trials, N] from a per-unit rate function of (t, trial). */
  const activity = (T: number, N: number, rate: (t: number, k: number, j: number) => number) => {
    const H = new Float64Array(T * trials * N);
    for (let t = 0; t < T; t++) for (let k = 0; k < trials; k++) for (let j = 0; j < N; j++) H[(t * trials + k) * N + j] = rate(t, k, j);
    return H;
  };

  it('is +1 when the same units code both, −1 when units specialise', () => {
    const N = 6;
    // unit j codes a with weight j and b with weight j: η²_a = η²_b for every unit, but weights
    // differ, so both vectors vary across units
    const mixed = activity(10, N, (_t, k, j) => j * a[k]! + j * b[k]! + (j % 3) * 0.5 * a[k]! * b[k]!);
    const wm = windowedSelectivityCorrelation(mixed, { T: 10, trials, N }, a, b);
    expect(wm.map((w) => [w.start, w.end])).toEqual([
      [0, 5],
      [5, 10],
    ]);
    for (const w of wm) expect(w.r).toBeGreaterThan(0.5);
    // units 0-2 code only a, units 3-5 only b: η²_a = (1, 1, 1, 0, 0, 0), η²_b the reverse
    const split = activity(5, N, (_t, k, j) => (j < 3 ? (j + 1) * a[k]! : (j + 1) * b[k]!));
    const [ws] = windowedSelectivityCorrelation(split, { T: 5, trials, N }, a, b);
    expect(ws!.r).toBeCloseTo(-1, 12);
    expect(ws!.units).toBe(6);
  });

  it('averages each window over its steps, skips constant units, and says NaN below 3 units', () => {
    const N = 4;
    // unit 0 codes a in steps 0-2 and b in steps 3-4: its window mean is 0.6a + 0.4b; units 1, 2
    // code a only; unit 3 is constant and skipped
    const H = activity(5, N, (t, k, j) => (j === 0 ? (t < 3 ? a[k]! : b[k]!) : j === 3 ? 7 : a[k]! * j));
    const [w] = windowedSelectivityCorrelation(H, { T: 5, trials, N }, a, b);
    expect(w!.units).toBe(3);
    // by hand: η²_a = (0.36/4) / (0.52/4) = 9/13 for unit 0 and 1 for units 1, 2; η²_b = 4/13, 0, 0
    const ea = [9 / 13, 1, 1];
    const eb = [4 / 13, 0, 0];
    const mean = (x: number[]) => x.reduce((s, v) => s + v, 0) / x.length;
    const [ma, mb] = [mean(ea), mean(eb)];
    const cov = ea.reduce((s, v, i) => s + (v - ma) * (eb[i]! - mb), 0);
    const r = cov / Math.sqrt(ea.reduce((s, v) => s + (v - ma) ** 2, 0) * eb.reduce((s, v) => s + (v - mb) ** 2, 0));
    expect(w!.r).toBeCloseTo(r, 12);
    const two = activity(5, 2, (_t, k, j) => a[k]! * (j + 1));
    expect(windowedSelectivityCorrelation(two, { T: 5, trials, N: 2 }, a, b)[0]!.r).toBeNaN();
    expect(() => windowedSelectivityCorrelation(new Float64Array(3), { T: 5, trials, N: 2 }, a, b)).toThrow(/expected T·trials·N = 80/);
  });
});
