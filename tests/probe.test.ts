/**
 * The probe estimator of the WDC cost (engine/regularizers/probe.ts) against the exact cost: with
 * the identity as probes it is the exact value and gradient; with random probes its gradient
 * matches finite differences of itself, and its mean over draws is the exact value.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../engine/rng.ts';
import { wdc } from '../engine/regularizers/cpu.ts';
import { rademacherProbes, taylorTerms, wdcProbe } from '../engine/regularizers/probe.ts';

/** A random sparse-ish signed W (one silent column, to exercise the strength floor) and a distance matrix. */
function problem(n: number, seed: number): { W: Float64Array; D: Float64Array } {
  const rng = new Rng(seed, 'probe-test');
  const W = new Float64Array(n * n);
  for (let k = 0; k < n * n; k++) W[k] = rng.uniform() < 0.5 ? 0 : rng.normal() * 0.4;
  for (let i = 0; i < n; i++) W[i * n + (n - 1)] = 0; // neuron n-1 sends nothing
  const pos = Array.from({ length: n }, () => [rng.uniform(), rng.uniform(), rng.uniform()]);
  const D = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) D[i * n + j] = Math.hypot(...pos[i]!.map((x, a) => x - pos[j]![a]!));
  return { W, D };
}

/** √n·I: n probes with (1/n)·Z Zᵀ = I exactly, as Rademacher probes have it in expectation. */
const scaledIdentity = (n: number) => Float64Array.from({ length: n * n }, (_, k) => (Math.floor(k / n) === k % n ? Math.sqrt(n) : 0));

describe('the probe estimator of the WDC cost', () => {
  it('is the exact cost and gradient with √n times the identity as probes', () => {
    const n = 14;
    const { W, D } = problem(n, 1);
    const exact = wdc(W, D, n, { lambda: 0.3 });
    const est = wdcProbe(W, D, n, { lambda: 0.3, probes: scaledIdentity(n), p: n });
    expect(Math.abs(est.value - exact.value) / exact.value).toBeLessThan(1e-12);
    let worst = 0;
    let scale = 0;
    for (let k = 0; k < n * n; k++) {
      worst = Math.max(worst, Math.abs(est.grad[k]! - exact.grad[k]!));
      scale = Math.max(scale, Math.abs(exact.grad[k]!));
    }
    expect(worst / scale).toBeLessThan(1e-11);
    expect(est.terms).toBeGreaterThan(5);
  });

  it('has the gradient of its own value for fixed random probes (central differences)', () => {
    const n = 9;
    const { W, D } = problem(n, 2);
    const probes = rademacherProbes(n, 3, new Rng(5, 'z'));
    const f = (w: Float64Array) => wdcProbe(w, D, n, { lambda: 0.5, probes, p: 3 }).value;
    const { grad } = wdcProbe(W, D, n, { lambda: 0.5, probes, p: 3 });
    const h = 1e-6;
    for (const k of [1, 5, 13, 22, 40, 61, 70]) {
      if (W[k] === 0) continue; // |w| has a kink at 0
      const up = Float64Array.from(W);
      const down = Float64Array.from(W);
      up[k]! += h;
      down[k]! -= h;
      const fd = (f(up) - f(down)) / (2 * h);
      expect(Math.abs(fd - grad[k]!), `entry ${k}`).toBeLessThan(1e-6 * Math.max(1, Math.abs(fd)));
    }
  });

  it('is unbiased: its mean over Rademacher draws is the exact cost', () => {
    const n = 30;
    const { W, D } = problem(n, 3);
    const exact = wdc(W, D, n, { lambda: 1 }).value;
    const rng = new Rng(7, 'draws');
    const draws = Array.from({ length: 800 }, () => wdcProbe(W, D, n, { lambda: 1, probes: rademacherProbes(n, 1, rng), p: 1 }).value);
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
    const sd = Math.sqrt(draws.reduce((a, b) => a + (b - mean) ** 2, 0) / (draws.length - 1));
    expect(sd).toBeGreaterThan(0); // a real estimator, not the exact value in disguise
    expect(Math.abs(mean - exact)).toBeLessThan(4 * (sd / Math.sqrt(draws.length)));
  });

  it('refuses probes of the wrong size and a norm beyond the series, in one line', () => {
    const { W, D } = problem(5, 4);
    expect(() => wdcProbe(W, D, 5, { lambda: 1, probes: new Float64Array(7), p: 2 })).toThrow('probes: expected 5 × 2 values, got 7');
    expect(() => taylorTerms(1001)).toThrow(/‖M‖₁: expected at most 1000 for the probe estimator, got 1001/);
    expect(taylorTerms(1)).toBe(18); // 1/18! < 1e-15 < 1/17!
  });
});
