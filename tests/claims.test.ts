/**
 * The claims machinery: the cluster bootstrap and the sign-flip tests against hand-computed
 * values, the verdicts of the planned contrasts on constructed runs whose effects are known, the
 * Holm family and the seeds a claim would need.
 */
import { describe, expect, it } from 'vitest';
import { clusterBootstrapMean, holmAdjust, signFlipTest, signFlipTestOneSided, studentTQuantile } from '../analysis/stats.ts';
import { ALPHA, MIN_SEEDS_FOR_VERDICT, paperClaims, seedsNeededFor, verdictClass, type ClaimRun } from '../experiments/claims.ts';
import type { FinalRecord } from '../experiments/record.ts';

describe('cluster bootstrap and sign-flip test', () => {
  it('sign-flip p is the share of sign patterns at least as extreme (exact for few clusters)', () => {
    expect(signFlipTest([1, 1, 1])).toBeCloseTo(2 / 8, 12); // only all-plus and all-minus reach |3|
    expect(signFlipTest([3, -1, -1, -1])).toBeCloseTo(1, 12); // |sum| = 0: every pattern is as extreme
    expect(signFlipTest([5, 1, 1, 1, 1])).toBeCloseTo(2 / 32, 12);
  });
  it('one-sided sign-flip p: the share of sign patterns whose mean is at least the observed one', () => {
    // d = [1, 2, -0.5], observed sum 2.5; the 8 patterns ±1 ±2 ±0.5 sum to
    //   3.5, 2.5 (observed), 1.5, 0.5, -0.5, -1.5, -2.5, -3.5
    // 'above': sums ≥ 2.5 are 3.5 and 2.5 → 2/8; 'below' (sums ≤ 2.5): all but 3.5 → 7/8
    expect(signFlipTestOneSided([1, 2, -0.5], 'above')).toBe(2 / 8);
    expect(signFlipTestOneSided([1, 2, -0.5], 'below')).toBe(7 / 8);
    expect(signFlipTestOneSided([1, 1, 1])).toBe(1 / 8); // three seeds on one side: 0.125, not evidence
    expect(signFlipTestOneSided([1, 1, 1, 1, 1])).toBe(1 / 32); // five is the fewest below 0.05
  });
  it('bootstrap: the mean of all values, a percentile interval over clusters, NaN with one cluster', () => {
    const same = clusterBootstrapMean([[1, 1], [1], [1, 1, 1]]);
    expect([same.estimate, same.lo, same.hi]).toEqual([1, 1, 1]);
    const spread = clusterBootstrapMean([[0], [1], [2], [3]]);
    expect(spread.estimate).toBe(1.5);
    expect(spread.lo).toBeGreaterThanOrEqual(0);
    expect(spread.hi).toBeLessThanOrEqual(3);
    expect(spread.lo).toBeLessThan(1.5);
    expect(spread.hi).toBeGreaterThan(1.5);
    expect(clusterBootstrapMean([[0], [1], [2], [3]])).toEqual(spread); // seeded: reproducible
    const one = clusterBootstrapMean([[2, 4]]);
    expect(one.estimate).toBe(3);
    expect(Number.isNaN(one.lo)).toBe(true);
  });
});

/** Runs of every variant on two tasks and `seeds` seeds, accuracy from `acc`, metrics from `m`. */
function runs(
  seeds: number,
  acc: (variant: string, seed: number) => number,
  m: (variant: string, seed: number) => Record<string, unknown> = () => ({}),
): ClaimRun[] {
  const variants = ['W', 'WD', 'WD*', 'WDC', 'WD*C', 'W*D*C', 'W*D*C*', 'WD*C*', 'W*DC*'];
  const out: ClaimRun[] = [];
  for (const task of ['gonogo', 'pdm']) {
    for (const variant of variants) {
      for (let seed = 1; seed <= seeds; seed++) {
        const rec = { status: 'ok', accuracy: { test: acc(variant, seed), paper: 0, val: null }, metrics: m(variant, seed) } as unknown as FinalRecord;
        out.push({ variant, task, seed, rec });
      }
    }
  }
  return out;
}

describe('planned contrasts', () => {
  const jitter = (s: number) => ((s * 37) % 7) / 1000;
  const fullJittered = (v: string, s: number) => (v === 'W*D*C' || v === 'W*D*C*' ? 0.9 : 0.6) + jitter(s);
  it('a clear effect holds, the opposite does not, noise is undecided', () => {
    const full = (v: string) => (v === 'W*D*C' || v === 'W*D*C*' ? 0.9 : 0.6);
    const good = paperClaims(runs(5, (v, s) => full(v) + jitter(s)));
    expect(good.find((c) => c.id === 'full-vs-W-gonogo')!.verdict).toBe('holds');
    expect(good.find((c) => c.id === 'full-vs-W-gonogo')!.effect!.estimate).toBeCloseTo(0.3, 10);
    expect(good.find((c) => c.id === 'full-vs-partial-pdm')!.verdict).toBe('holds');
    const bad = paperClaims(runs(5, (v, s) => 1.5 - full(v) + jitter(s)));
    expect(bad.find((c) => c.id === 'full-vs-W-gonogo')!.verdict).toBe('does not hold');
    const noise = paperClaims(runs(5, (v, s) => 0.7 + (((s * 13 + v.length * 7) % 5) - 2) / 10));
    expect(noise.find((c) => c.id === 'full-vs-W-gonogo')!.verdict).toBe('undecided');
    expect(good.every((c) => c.seeds === 5 || c.effect === null)).toBe(true);
  });

  it(`fewer than ${MIN_SEEDS_FOR_VERDICT} seeds decide nothing, however clear the effect`, () => {
    const two = paperClaims(runs(MIN_SEEDS_FOR_VERDICT - 1, fullJittered)).find((c) => c.id === 'full-vs-W-gonogo')!;
    expect(two.effect!.lo).toBeGreaterThan(0); // the interval alone would call it
    expect(two.verdict).toBe('undecided');
    const three = paperClaims(runs(MIN_SEEDS_FOR_VERDICT, fullJittered)).find((c) => c.id === 'full-vs-W-gonogo')!;
    expect(three.verdict).toBe('consistent, not decided'); // the interval is on its side, but p = 1/8
  });

  it('a seed backs a claim only when it has every run of the contrast on every task', () => {
    const three = runs(3, fullJittered);
    const halfDone = three.filter((r) => r.seed < 3 || r.task === 'gonogo'); // seed 3 has only Go/NoGo
    const get = (c: ReturnType<typeof paperClaims>, id: string) => c.find((x) => x.id === id)!;
    expect(get(paperClaims(halfDone), 'full-vs-W-gonogo').seeds).toBe(3); // a one-task claim: seed 3 is whole
    expect(get(paperClaims(halfDone), 'full-vs-W-pdm').seeds).toBe(2);
    expect(get(paperClaims(halfDone), 'init-gain').seeds).toBe(2); // pools both tasks: seed 3 is half
    expect(get(paperClaims(halfDone), 'init-gain').verdict).toBe('undecided');
    expect(get(paperClaims(three), 'init-gain').seeds).toBe(3);
    const noW3 = three.filter((r) => !(r.seed === 3 && r.variant === 'W*D*C*' && r.task === 'pdm'));
    expect(get(paperClaims(noW3), 'full-vs-W-pdm').seeds).toBe(2); // a missing run of a pair's mean
    expect(get(paperClaims(noW3), 'init-gain').seeds).toBe(2);
  });

  it('names every seed a claim leaves out, and why: a run diverged, is missing, or lacks the value', () => {
    const get = (c: ReturnType<typeof paperClaims>, id: string) => c.find((x) => x.id === id)!;
    // module alignment: the modules follow space (NMI 0.5) more than the index (0.1)
    const alignment = {
      cnm: { labellings: { index_mod3: { nmi: 0.1 }, depth: { nmi: 0.3 }, spatial: { nmi: 0.5 }, functional: { nmi: 0.2 }, connectome: null } },
    };
    const three = runs(3, fullJittered, () => ({ Q_cnm: 0.4, entropy_kde_bits: 3, sigma_paper: 1.5, sigma_matched: 1.2, module_alignment: alignment }));
    expect(paperClaims(three).every((c) => c.leftOut.length === 0)).toBe(true);
    // max(depth, spatial, functional) − index = 0.5 − 0.1 on every seed
    expect(get(paperClaims(three), 'modules-follow-cortex').effect!.estimate).toBeCloseTo(0.4, 12);
    expect(get(paperClaims(three), 'modules-follow-cortex').verdict).toBe('consistent, not decided');
    const diverged = three.map((r) =>
      r.seed === 2 && r.variant === 'W' && r.task === 'pdm' ? { ...r, rec: { status: 'diverged', divergence: { step: 3 } } as unknown as FinalRecord } : r,
    );
    const halfDone = diverged.filter((r) => !(r.seed === 3 && r.task === 'pdm'));
    const claims = paperClaims(halfDone);
    expect(get(claims, 'full-vs-W-pdm').leftOut).toEqual([
      { seed: 2, why: 'run diverged' },
      { seed: 3, why: 'run missing' },
    ]);
    expect(get(claims, 'full-vs-W-pdm').seeds).toBe(1);
    expect(get(claims, 'full-vs-W-gonogo').leftOut).toEqual([]); // W diverged on PDM only
    expect(get(claims, 'full-vs-partial-pdm').leftOut).toEqual([{ seed: 3, why: 'run missing' }]); // W is not in it
    expect(get(claims, 'init-vs-geometry').leftOut).toEqual([{ seed: 3, why: 'run missing' }]);
    // a run that finished without the metric (σ of a disconnected graph, say)
    const noQ = three.map((r) =>
      r.seed === 1 && r.variant === 'W*D*C' && r.task === 'gonogo' ? { ...r, rec: { ...r.rec, metrics: {} } as unknown as FinalRecord } : r,
    );
    expect(get(paperClaims(noQ), 'modular').leftOut).toEqual([{ seed: 1, why: 'value missing' }]);
    expect(get(paperClaims(noQ), 'full-vs-W-gonogo').leftOut).toEqual([]);
  });

  it('the largest factor: init beats geometry and communicability when its pairs differ most', () => {
    // accuracy = 0.5 + 0.3·W* + 0.05·D* + 0.02·C
    const acc = (v: string) => 0.5 + (v.startsWith('W*') ? 0.3 : 0) + (v.includes('D*') ? 0.05 : 0) + (v.includes('C') ? 0.02 : 0);
    const c = paperClaims(runs(5, (v, s) => acc(v) + jitter(s)));
    const get = (id: string) => c.find((x) => x.id === id)!;
    expect(get('init-gain').effect!.estimate).toBeCloseTo(0.3, 10);
    expect(get('geometry-gain').effect!.estimate).toBeCloseTo(0.05, 10);
    expect(get('init-vs-geometry').verdict).toBe('holds');
    expect(get('init-vs-communicability').verdict).toBe('holds');
    expect(get('geometry-gain').verdict).toBe('holds');
    const four = paperClaims(runs(4, (v, s) => acc(v) + jitter(s)));
    expect(four.find((x) => x.id === 'init-gain')!.verdict).toBe('consistent, not decided'); // p = 1/16
  });

  it('our controls: W*D*C against each extra control, judged only where the control was run', () => {
    const ids = ['init-structure-vs-spectrum', 'function-vs-anatomy'];
    const acc = (v: string, s: number) => (v === 'W*D*C' ? 0.9 : v === 'Wctrl-D*C' ? 0.6 : v === 'Wanat-D*C' ? 0.9 + jitter(s) : 0.7);
    const base = runs(3, acc);
    expect(paperClaims(base).filter((c) => ids.includes(c.id))).toEqual([]);
    const controls = ['Wctrl-D*C', 'Wanat-D*C'].flatMap((variant) =>
      base
        .filter((r) => r.variant === 'W*D*C')
        .map((r) => ({ ...r, variant, rec: { status: 'ok', accuracy: { test: acc(variant, r.seed) } } as unknown as FinalRecord })),
    );
    const c = paperClaims([...base, ...controls]);
    const get = (id: string) => c.find((x) => x.id === id)!;
    expect(get('init-structure-vs-spectrum').effect!.estimate).toBeCloseTo(0.3, 10);
    expect(get('init-structure-vs-spectrum').verdict).toBe('consistent, not decided'); // 3 seeds: p = 1/8
    expect(get('init-structure-vs-spectrum').seeds).toBe(3);
    expect(get('function-vs-anatomy').effect!.estimate).toBeCloseTo(-0.004, 10); // −jitter: 2, 4, 6 thousandths
    expect(get('function-vs-anatomy').verdict).toBe('against, not decided');
    expect(get('full-vs-W-gonogo').seeds).toBe(3); // the controls change no paper claim
    const base5 = runs(5, acc);
    const controls5 = ['Wctrl-D*C', 'Wanat-D*C'].flatMap((variant) =>
      base5
        .filter((r) => r.variant === 'W*D*C')
        .map((r) => ({ ...r, variant, rec: { status: 'ok', accuracy: { test: acc(variant, r.seed) } } as unknown as FinalRecord })),
    );
    const five = paperClaims([...base5, ...controls5]);
    expect(five.find((x) => x.id === 'init-structure-vs-spectrum')!.verdict).toBe('holds');
    expect(five.find((x) => x.id === 'function-vs-anatomy')!.verdict).toBe('does not hold');
  });

  it('metric claims: modular, low entropy and σ > 1 against both nulls; positive-only retention', () => {
    const constrained = (v: string) => v === 'W*D*C' || v === 'W*D*C*';
    const metrics = (v: string, s: number) => ({
      Q_cnm: constrained(v) ? 0.5 + jitter(s) : 0.2,
      entropy_kde_bits: constrained(v) ? 3 : 5 + jitter(s),
      sigma_paper: constrained(v) ? 1.8 + jitter(s) : 1,
      sigma_matched: constrained(v) ? 0.95 + jitter(s) : 1,
    });
    const base = runs(5, () => 0.8, metrics);
    const pos = runs(5, (v, s) => 0.79 - jitter(s), metrics);
    const c = paperClaims(base, pos);
    const get = (id: string) => c.find((x) => x.id === id)!;
    expect(get('modular').verdict).toBe('holds');
    expect(get('low-entropy').verdict).toBe('holds');
    expect(get('small-world-paper').verdict).toBe('holds');
    expect(get('small-world-matched').verdict).toBe('does not hold');
    expect(get('positive-retained').verdict).toBe('holds');
    expect(
      paperClaims(
        base,
        runs(5, () => 0.5, metrics),
      ).find((x) => x.id === 'positive-retained')!.verdict,
    ).toBe('does not hold');
  });
});

describe('one-sided verdicts, the Holm family and the seeds needed', () => {
  /** The claim "fully constrained beat W (Go/NoGo)" with per-seed effect `effects[seed − 1]`. */
  const fullVsW = (effects: number[]) =>
    paperClaims(runs(effects.length, (v, s) => (v === 'W*D*C' || v === 'W*D*C*' ? 0.6 + effects[s - 1]! : 0.6))).find((c) => c.id === 'full-vs-W-gonogo')!;

  it('three seeds on its side with the interval above 0 are consistent, not decided (p = 1/8)', () => {
    const c = fullVsW([0.1, 0.2, 0.15]);
    expect(c.effect!.lo).toBeGreaterThan(0);
    expect(c.pOneSided).toBe(1 / 8);
    expect(c.verdict).toBe('consistent, not decided');
    expect(verdictClass(c.verdict)).toBe('consistent-not-decided');
  });

  it('five seeds on its side hold (p = 1/32); five against do not hold; three against are against, not decided', () => {
    const up = fullVsW([0.1, 0.2, 0.15, 0.12, 0.18]);
    expect([up.pOneSided, up.pAgainst, up.verdict]).toEqual([1 / 32, 1, 'holds']);
    const down = fullVsW([-0.1, -0.2, -0.15, -0.12, -0.18]);
    expect([down.pOneSided, down.pAgainst, down.verdict]).toEqual([1, 1 / 32, 'does not hold']);
    expect(down.effect!.hi).toBeLessThan(0);
    const downThree = fullVsW([-0.1, -0.2, -0.15]);
    expect([downThree.pAgainst, downThree.verdict]).toEqual([1 / 8, 'against, not decided']);
    expect(verdictClass(downThree.verdict)).toBe('against-not-decided');
  });

  it('mixed signs are undecided', () => {
    const c = fullVsW([0.1, -0.1, 0.05, -0.08, 0.02]);
    expect(c.effect!.lo).toBeLessThan(0);
    expect(c.effect!.hi).toBeGreaterThan(0);
    expect(c.pOneSided).toBeGreaterThan(ALPHA);
    expect(c.pAgainst).toBeGreaterThan(ALPHA);
    expect(c.verdict).toBe('undecided');
  });

  it('pHolm is holmAdjust of pOneSided over the claims of one call that have a p', () => {
    const jitter = (s: number) => ((s * 37) % 7) / 1000;
    const acc = (v: string, s: number) => 0.5 + (v.startsWith('W*') ? 0.3 : 0) + (v.includes('D*') ? 0.05 * s - 0.1 : 0) + jitter(s);
    const claims = paperClaims(runs(5, acc)); // no metrics: the metric claims have no seeds and no p
    const tested = claims.filter((c) => c.pOneSided !== null);
    expect(tested.length).toBeGreaterThan(5);
    expect(tested.length).toBeLessThan(claims.length);
    expect(tested.map((c) => c.pHolm)).toEqual(Array.from(holmAdjust(tested.map((c) => c.pOneSided!))));
    expect(claims.filter((c) => c.pOneSided === null).every((c) => c.pHolm === null && c.seedsNeeded === null)).toBe(true);
    expect(new Set(tested.map((c) => c.pOneSided)).size).toBeGreaterThan(1); // not a trivial family
  });

  it('seedsNeeded: the t-test projection at the Holm threshold, never below the sign-flip floor of 5', () => {
    // all seeds alike (sd 0): only the floor binds, 2^−n < level: 5 at 0.05, 9 at 0.05/17
    expect(seedsNeededFor([1, 1, 1], 0.05)).toBe(5);
    expect(seedsNeededFor([1, 1, 1], 0.05 / 17)).toBe(9);
    // mean 0.1, sd 0.2: t = 0.5·√n must pass the one-sided 95% t quantile on n − 1 df
    const n = seedsNeededFor([0.1, -0.1, 0.3], 0.05) as number;
    expect(0.5 * Math.sqrt(n)).toBeGreaterThan(studentTQuantile(0.95, n - 1));
    expect(0.5 * Math.sqrt(n - 1)).toBeLessThanOrEqual(studentTQuantile(0.95, n - 2));
    expect(n).toBe(13);
    expect(seedsNeededFor([0.001, -1, 1.002], 0.05)).toBe('>1000');
    for (const wrong of [[-1, -2], [1, -1], [1]]) expect(seedsNeededFor(wrong, 0.05)).toBeNull(); // wrong side, zero, one seed
  });

  it('seedsNeeded is at least 5 and falls as the effect grows', () => {
    const noise = [-0.2, 0.2, 0, -0.1, 0.1];
    const needed = [0.02, 0.05, 0.1, 0.2, 0.4].map(
      (shift) =>
        seedsNeededFor(
          noise.map((v) => v + shift),
          ALPHA,
        ) as number,
    );
    expect(needed.every((k) => k >= 5)).toBe(true);
    for (let i = 1; i < needed.length; i++) expect(needed[i]).toBeLessThanOrEqual(needed[i - 1]!);
    expect(needed[0]).toBeGreaterThan(needed[2]!);
    expect(needed.at(-1)).toBe(5);
    // in the report's family, through paperClaims: larger per-seed effects need fewer seeds
    const small = fullVsW(noise.map((v) => v + 0.05)).seedsNeeded as number;
    const large = fullVsW(noise.map((v) => v + 0.2)).seedsNeeded as number;
    expect(small).toBeGreaterThan(large);
    expect(large).toBeGreaterThanOrEqual(5);
    expect(fullVsW([-0.1, -0.2, -0.15]).seedsNeeded).toBeNull();
  });
});
