import { describe, expect, it } from 'vitest';
import {
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
