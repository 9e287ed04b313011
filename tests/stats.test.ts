/**
 * Statistics against textbook values and against scipy.stats 1.10 (numbers stored by
 * tests/fixtures/analysis/make_refs.py in tests/fixtures/analysis/stats.json, and for the
 * two-sample comparison and OLS by make_sernn_stats_refs.py in sernn_stats.json).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  chiSquareSf,
  cohensD,
  cohensDBootstrap,
  holmAdjust,
  kruskalWallis,
  kruskalWallisByFactor,
  lnGamma,
  mannWhitneyCounts,
  mannWhitneyU,
  meanCI,
  normalSf,
  olsFit,
  pairwiseMannWhitney,
  rankWithTies,
  regularizedBeta,
  regularizedGammaP,
  SIGN_FLIP_EXACT_MAX,
  signFlipTestOneSided,
  studentTCdf,
  studentTQuantile,
  twoSampleBootstrap,
  welchTTest,
} from '../analysis/index.ts';

const ref = JSON.parse(readFileSync(new URL('./fixtures/analysis/stats.json', import.meta.url), 'utf8'));
const twoSampleRef = JSON.parse(readFileSync(new URL('./fixtures/analysis/sernn_stats.json', import.meta.url), 'utf8'));

function relErr(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
}

describe('special functions', () => {
  it('lnGamma matches factorials and Γ(1/2) = √π', () => {
    let fact = 1;
    for (let k = 1; k <= 20; k++) {
      fact *= k;
      expect(relErr(lnGamma(k + 1), Math.log(fact))).toBeLessThan(1e-13);
    }
    expect(lnGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 13);
  });

  it('regularized incomplete beta matches scipy.special.betainc', () => {
    let worst = 0;
    for (const r of ref.betainc) worst = Math.max(worst, Math.abs(regularizedBeta(r.x, r.a, r.b) - r.I));
    expect(worst).toBeLessThan(1e-13);
    // closed form: I_x(1, b) = 1 − (1 − x)^b
    expect(regularizedBeta(0.3, 1, 4)).toBeCloseTo(1 - 0.7 ** 4, 14);
  });

  it('regularized incomplete gamma matches scipy.special.gammainc', () => {
    let worst = 0;
    for (const r of ref.gammainc) worst = Math.max(worst, Math.abs(regularizedGammaP(r.a, r.x) - r.P));
    expect(worst).toBeLessThan(1e-13);
    // closed form: P(1, x) = 1 − e^{−x}
    expect(regularizedGammaP(1, 2.5)).toBeCloseTo(1 - Math.exp(-2.5), 14);
  });
});

describe('distributions', () => {
  it('Student-t quantiles: textbook table values', () => {
    expect(studentTQuantile(0.975, 9)).toBeCloseTo(2.262157, 6);
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(12.706205, 5);
    expect(studentTQuantile(0.95, 10)).toBeCloseTo(1.812461, 6);
    expect(studentTQuantile(0.995, 29)).toBeCloseTo(2.756386, 6);
    expect(studentTQuantile(0.025, 9)).toBeCloseTo(-2.262157, 6);
    expect(studentTQuantile(0.5, 7)).toBe(0);
  });

  it('Student-t quantiles: closed forms for 1 and 2 degrees of freedom', () => {
    // ν = 1 (Cauchy): t = tan(π (p − ½)); ν = 2: t = (2p − 1) / sqrt(2 p (1 − p))
    for (const p of [0.001, 0.025, 0.3, 0.6, 0.9, 0.975, 0.9995]) {
      expect(relErr(studentTQuantile(p, 1), Math.tan(Math.PI * (p - 0.5)))).toBeLessThan(1e-12);
      expect(relErr(studentTQuantile(p, 2), (2 * p - 1) / Math.sqrt(2 * p * (1 - p)))).toBeLessThan(1e-12);
    }
  });

  it('Student-t quantiles and CDF match scipy.stats.t', () => {
    // scipy 1.10's t.ppf (cephes stdtri) is itself only good to ~1e-9 relative: at ν = 2,
    // p = 0.6 it is off the closed form by 3e-10, while ours agrees to 1e-16.
    let worstQ = 0;
    for (const r of ref.t_quantile)
      worstQ = Math.max(worstQ, r.p === 0.5 ? Math.abs(studentTQuantile(r.p, r.df) - r.q) : relErr(studentTQuantile(r.p, r.df), r.q));
    expect(worstQ).toBeLessThan(1e-8);
    let worstC = 0;
    for (const r of ref.t_cdf) worstC = Math.max(worstC, Math.abs(studentTCdf(r.t, r.df) - r.cdf));
    expect(worstC).toBeLessThan(1e-13);
  });

  it('chi-square and normal upper tails match scipy (relative error, deep tails included)', () => {
    expect(chiSquareSf(3.841458820694124, 1)).toBeCloseTo(0.05, 12);
    expect(chiSquareSf(5.991464547107979, 2)).toBeCloseTo(0.05, 12);
    let worst = 0;
    for (const r of ref.chi2_sf) worst = Math.max(worst, relErr(chiSquareSf(r.x, r.k), r.sf));
    expect(worst).toBeLessThan(1e-10);
    let worstN = 0;
    for (const r of ref.norm_sf) worstN = Math.max(worstN, relErr(normalSf(r.z), r.sf));
    expect(worstN).toBeLessThan(1e-10);
  });
});

describe('mean with a t-based CI', () => {
  it('matches scipy t.interval', () => {
    for (const r of ref.mean_ci) {
      const ci = meanCI(r.x);
      expect(ci.mean).toBeCloseTo(r.mean, 12);
      expect(relErr(ci.lo, r.lo)).toBeLessThan(1e-10);
      expect(relErr(ci.hi, r.hi)).toBeLessThan(1e-10);
    }
  });

  it('hand example: 1..10 gives 5.5 ± 2.262157·√(55/6)/√10', () => {
    const ci = meanCI([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const half = (2.2621571628 * Math.sqrt(55 / 6)) / Math.sqrt(10);
    expect(ci.mean).toBe(5.5);
    expect(ci.hi - ci.mean).toBeCloseTo(half, 8);
  });
});

describe('rank tests', () => {
  it('ranks ties by their average', () => {
    const { ranks, tieTerm } = rankWithTies([10, 20, 20, 5, 20]);
    expect(Array.from(ranks)).toEqual([2, 4, 4, 1, 4]);
    expect(tieTerm).toBe(27 - 3);
  });

  it('Kruskal–Wallis: textbook example and scipy values', () => {
    // scipy docs: kruskal([1,3,5,7,9], [2,4,6,8,10]) → H = 0.2727, p = 0.6015
    const docs = kruskalWallis([
      [1, 3, 5, 7, 9],
      [2, 4, 6, 8, 10],
    ]);
    expect(docs.H).toBeCloseTo(3 / 11, 12); // 12/(10·11)·(25²/5 + 30²/5) − 33 = 3/11
    expect(docs.p).toBeCloseTo(0.6015, 4);
    for (const r of ref.kruskal) {
      const out = kruskalWallis(r.groups);
      expect(relErr(out.H, r.H)).toBeLessThan(1e-12);
      expect(relErr(out.p, r.p)).toBeLessThan(1e-10);
      expect(out.df).toBe(r.groups.length - 1);
    }
  });

  it('Kruskal–Wallis per factor holds the other factors fixed', () => {
    const tests = kruskalWallisByFactor(ref.design, 'reg', 'acc', ['size']);
    expect(tests).toHaveLength(ref.kruskal_by_factor.length);
    for (const want of ref.kruskal_by_factor) {
      const got = tests.find((t) => t.fixed.size === want.fixed.size)!;
      expect(got.levels).toEqual(['none', 'l1', 'se']);
      expect(got.n).toEqual([6, 6, 6]);
      expect(relErr(got.H, want.H)).toBeLessThan(1e-12);
      expect(relErr(got.p, want.p)).toBeLessThan(1e-10);
    }
  });

  it('Mann–Whitney exact null distribution: small cases by enumeration', () => {
    // m = n = 2: the 6 orderings give U = 0,1,2,2,3,4
    expect(Array.from(mannWhitneyCounts(2, 2))).toEqual([1, 1, 2, 1, 1]);
    // m = 3, n = 4: total C(7,3) = 35, symmetric
    const c = mannWhitneyCounts(3, 4);
    expect(c.reduce((s, x) => s + x, 0)).toBe(35);
    for (let k = 0; k <= 12; k++) expect(c[k]).toBe(c[12 - k]);
  });

  it('Mann–Whitney U: scipy docs example and scipy values', () => {
    // scipy docs: males vs females → U1 = 17, exact p = 0.1111
    const docs = mannWhitneyU([19, 22, 16, 29, 24], [20, 11, 17, 12]);
    expect(docs.U1).toBe(17);
    expect(docs.method).toBe('exact');
    expect(docs.p).toBeCloseTo(0.1111, 4);
    for (const r of ref.mannwhitneyu) {
      const out = mannWhitneyU(r.x, r.y);
      expect(out.U1).toBe(r.U1);
      expect(relErr(out.p, r.p)).toBeLessThan(1e-12);
      const asym = mannWhitneyU(r.x, r.y, { method: 'asymptotic' });
      expect(relErr(asym.p, r.p_asymptotic)).toBeLessThan(1e-10);
    }
  });

  it('Holm–Bonferroni: hand example and reference implementation', () => {
    // sorted 0.005, 0.01, 0.03, 0.04 → 4·0.005, 3·0.01, 2·0.03, max(0.06, 1·0.04)
    const adj = holmAdjust([0.01, 0.04, 0.03, 0.005]);
    expect(adj[0]).toBeCloseTo(0.03, 15);
    expect(adj[1]).toBeCloseTo(0.06, 15);
    expect(adj[2]).toBeCloseTo(0.06, 15);
    expect(adj[3]).toBeCloseTo(0.02, 15);
    for (const r of ref.holm) expect(Array.from(holmAdjust(r.p))).toEqual(r.adjusted);
  });

  it('pairwise Mann–Whitney with Holm matches scipy + Holm', () => {
    const out = pairwiseMannWhitney(ref.pairwise_groups);
    expect(out).toHaveLength(ref.pairwise.length);
    ref.pairwise.forEach((want: { a: string; b: string; U1: number; p: number; pHolm: number }, k: number) => {
      expect([out[k]!.a, out[k]!.b]).toEqual([want.a, want.b]);
      expect(out[k]!.U1).toBe(want.U1);
      expect(relErr(out[k]!.p, want.p)).toBeLessThan(1e-12);
      expect(relErr(out[k]!.pHolm, want.pHolm)).toBeLessThan(1e-12);
    });
  });
});

describe('one-sided sign-flip test', () => {
  it('hand cases: the share of the 2^k sign patterns whose mean is at least the observed one', () => {
    // ±1 ±2 ±0.5 sum to 3.5, 2.5 (observed), 1.5, 0.5, −0.5, −1.5, −2.5, −3.5: two reach 2.5
    expect(signFlipTestOneSided([1, 2, -0.5], 'above')).toBe(2 / 8);
    // 'below' tests −d: sums ≤ 2.5 are all but 3.5
    expect(signFlipTestOneSided([1, 2, -0.5], 'below')).toBe(7 / 8);
    expect(signFlipTestOneSided([-1, -2, 0.5], 'below')).toBe(2 / 8); // the mirror
    expect(signFlipTestOneSided([1, 1, 1, 1, 1])).toBe(1 / 32); // the observed pattern alone
    expect(signFlipTestOneSided([1, 1, 1, 1, 1], 'below')).toBe(1); // every pattern is ≥ −5
    expect(signFlipTestOneSided([0, 0, 0])).toBe(1); // every pattern ties
    expect(Number.isNaN(signFlipTestOneSided([]))).toBe(true);
  });

  it('rounding does not break ties: 0.1 + 0.2 − 0.3 ties with −0.1 − 0.2 + 0.3', () => {
    // exact sums 0.6, 0.4, 0.2, 0 (observed), 0, −0.2, −0.4, −0.6: five are ≥ 0
    expect(signFlipTestOneSided([0.1, 0.2, -0.3])).toBe(5 / 8);
    expect(signFlipTestOneSided([0.1, 0.2, -0.3], 'below')).toBe(5 / 8);
  });

  it(`is exact up to k = ${SIGN_FLIP_EXACT_MAX}: counts a Monte Carlo could not give`, () => {
    expect(SIGN_FLIP_EXACT_MAX).toBe(20);
    expect(signFlipTestOneSided(new Array(20).fill(1))).toBe(2 ** -20);
    // 19 ones and a −1 (sum 18): a pattern's sum is 20 − 2·(number of −1s), ≥ 18 with at most one: 1 + 20 patterns
    expect(signFlipTestOneSided([...new Array(19).fill(1), -1])).toBe(21 / 2 ** 20);
    // 6 ones and 6 minus ones (sum 0): P(sum ≥ 0) = (2^12 + C(12, 6)) / 2 / 2^12
    expect(signFlipTestOneSided([...new Array(6).fill(1), ...new Array(6).fill(-1)])).toBe((4096 + 924) / 2 / 4096);
  });

  it('above 20 clusters: a seeded Monte Carlo close to the exact value, reproducible, never 0', () => {
    const d = [...new Array(12).fill(1), ...new Array(12).fill(-1)];
    const exact = 0.5 + 2704156 / 2 ** 25; // (2^24 + C(24, 12)) / 2 / 2^24
    const p = signFlipTestOneSided(d);
    expect(Math.abs(p - exact)).toBeLessThan(0.01);
    expect(signFlipTestOneSided(d)).toBe(p);
    expect(signFlipTestOneSided(new Array(24).fill(1))).toBeGreaterThan(0);
  });
});

describe("Welch's t-test and Cohen's d", () => {
  it('hand cases: t = −13/√91 for 1..4 against 2, 5, 7; d = −3 for 1, 2, 3 against 4, 5, 6', () => {
    // means 5/2 and 14/3, variances 5/3 and 19/3: t = (−13/6) / √(5/12 + 19/9) = −13/√91
    const w = welchTTest([1, 2, 3, 4], [2, 5, 7]);
    expect(w.t).toBeCloseTo(-13 / Math.sqrt(91), 14);
    // ν = (91/36)² / ((5/12)²/3 + (19/9)²/2)
    expect(w.df).toBeCloseTo((91 / 36) ** 2 / ((5 / 12) ** 2 / 3 + (19 / 9) ** 2 / 2), 12);
    expect([w.nA, w.nB, w.meanA, w.meanB]).toEqual([4, 3, 2.5, 14 / 3]);
    // equal means: t = 0, p = 1
    expect(welchTTest([1, 2, 3], [0, 2, 4]).p).toBeCloseTo(1, 14);
    // means 2 and 5, both variances 1: pooled SD 1
    expect(cohensD([1, 2, 3], [4, 5, 6])).toBe(-3);
    expect(cohensD([4, 5, 6], [1, 2, 3])).toBe(3);
  });

  it('degenerate samples: NaN below two values, ±∞ and p = 0 with no spread, as scipy', () => {
    expect(Number.isNaN(welchTTest([1], [1, 2, 3]).t)).toBe(true);
    expect(Number.isNaN(welchTTest([], []).p)).toBe(true);
    const flat = welchTTest([1, 1, 1], [2, 2, 2]);
    expect(flat.t).toBe(-Infinity);
    expect(flat.p).toBe(0);
    expect(Number.isNaN(welchTTest([1, 1, 1], [1, 1, 1]).p)).toBe(true);
    expect(Number.isNaN(cohensD([], [1, 2]))).toBe(true);
    expect(Number.isNaN(cohensD([1], [2]))).toBe(true);
    expect(cohensD([1], [2, 4])).toBeCloseTo(-2 / Math.SQRT2, 14); // s_p² = (1·2)/1
  });

  it('match scipy.stats.ttest_ind(equal_var=False) and the pooled-SD d', () => {
    for (const r of twoSampleRef.welch) {
      const w = welchTTest(r.a, r.b);
      expect(relErr(w.t, r.t)).toBeLessThan(1e-12);
      expect(relErr(w.df, r.df)).toBeLessThan(1e-12);
      expect(relErr(w.p, r.p)).toBeLessThan(1e-10);
      expect(relErr(cohensD(r.a, r.b), r.d)).toBeLessThan(1e-12);
    }
  });
});

describe('two-sample percentile bootstrap', () => {
  it('resamples within each sample: a constant shift gives a zero-width interval', () => {
    const diff = (a: number[], b: number[]) => a.reduce((s, x) => s + x, 0) / a.length - b.reduce((s, x) => s + x, 0) / b.length;
    const ci = twoSampleBootstrap([1, 1, 1], [0, 0, 0, 0], diff, { resamples: 500 });
    expect([ci.estimate, ci.lo, ci.hi, ci.resamples]).toEqual([1, 1, 1, 500]);
    // separated samples: every resample keeps the sign
    const sep = twoSampleBootstrap([5, 6, 7], [1, 2, 3], diff, { resamples: 2000 });
    expect(sep.lo).toBeGreaterThan(0);
    expect(sep.hi).toBeLessThanOrEqual(6);
  });

  it("Cohen's d: seeded and reproducible, NaN bounds below two values, draws of identical values left out", () => {
    const a = [0.3, 0.5, 0.2, 0.6, 0.4, 0.55];
    const b = [0.1, 0.25, 0.15, 0.3, 0.2];
    const ci = cohensDBootstrap(a, b, { seed: 3 });
    expect(ci.estimate).toBe(cohensD(a, b));
    expect(cohensDBootstrap(a, b, { seed: 3 })).toEqual(ci);
    expect(ci.lo).toBeLessThan(ci.estimate);
    expect(ci.hi).toBeGreaterThan(ci.estimate);
    expect(Number.isNaN(cohensDBootstrap([1], [1, 2]).lo)).toBe(true);
    // two values each: some draws repeat one value in both samples (s_p = 0, equal means: NaN)
    const small = cohensDBootstrap([1, 2], [1, 2], { resamples: 4000 });
    expect(small.resamples).toBeLessThan(4000);
    expect(small.resamples).toBeGreaterThan(0);
  });

  it("Cohen's d interval agrees with scipy.stats.bootstrap (percentile) within Monte Carlo error", () => {
    for (const r of twoSampleRef.bootstrap) {
      const ci = cohensDBootstrap(r.a, r.b, { resamples: 40_000 });
      expect(relErr(ci.estimate, r.d)).toBeLessThan(1e-12);
      expect(Math.abs(ci.lo - r.lo)).toBeLessThan(0.03);
      expect(Math.abs(ci.hi - r.hi)).toBeLessThan(0.03);
    }
  });
});

describe('ordinary least squares', () => {
  it('hand cases: an exact line, a singular design, too few rows', () => {
    const X = [0, 1, 2, 3].map((x) => [1, x]);
    const exact = olsFit(X, [2, 5, 8, 11]);
    expect(exact.coef[0]).toBeCloseTo(2, 12);
    expect(exact.coef[1]).toBeCloseTo(3, 12);
    expect(exact.rss).toBeLessThan(1e-20);
    expect(exact.df).toBe(2);
    // a covariate constant beside the intercept: XᵀX is singular
    const singular = olsFit(
      [0, 1, 2].map((x) => [1, x, 0.5]),
      [1, 2, 4],
    );
    expect(singular.coef.every(Number.isNaN)).toBe(true);
    // as many rows as columns: a fit but no standard errors
    const square = olsFit(
      [
        [1, 0],
        [1, 1],
      ],
      [1, 3],
    );
    expect(square.coef[1]).toBeCloseTo(2, 12);
    expect(square.se.every(Number.isNaN)).toBe(true);
    expect(() => olsFit([[1], [1]], [1])).toThrow(/olsFit/);
  });

  it('matches numpy lstsq and the textbook standard errors, t and p', () => {
    for (const r of twoSampleRef.ols) {
      const fit = olsFit(r.X, r.y);
      expect(fit.df).toBe(r.df);
      expect(relErr(fit.rss, r.rss)).toBeLessThan(1e-9);
      r.coef.forEach((c: number, j: number) => {
        expect(Math.abs(fit.coef[j]! - c)).toBeLessThan(1e-9 * Math.max(1, Math.abs(c)));
        expect(relErr(fit.se[j]!, r.se[j])).toBeLessThan(1e-9);
        expect(Math.abs(fit.t[j]! - r.t[j])).toBeLessThan(1e-8 * Math.max(1, Math.abs(r.t[j])));
        expect(relErr(fit.p[j]!, r.p[j])).toBeLessThan(1e-7);
      });
    }
  });
});
