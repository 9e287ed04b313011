/**
 * The claims machinery: the cluster bootstrap and the sign-flip test against hand-computed
 * values, and the verdicts of the planned contrasts on constructed runs whose effects are known.
 */
import { describe, expect, it } from 'vitest';
import { clusterBootstrapMean, signFlipTest } from '../analysis/stats.ts';
import { MIN_SEEDS_FOR_VERDICT, paperClaims, type ClaimRun } from '../experiments/claims.ts';
import type { FinalRecord } from '../experiments/record.ts';

describe('cluster bootstrap and sign-flip test', () => {
  it('sign-flip p is the share of sign patterns at least as extreme (exact for few clusters)', () => {
    expect(signFlipTest([1, 1, 1])).toBeCloseTo(2 / 8, 12); // only all-plus and all-minus reach |3|
    expect(signFlipTest([3, -1, -1, -1])).toBeCloseTo(1, 12); // |sum| = 0: every pattern is as extreme
    expect(signFlipTest([5, 1, 1, 1, 1])).toBeCloseTo(2 / 32, 12);
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
  m: (variant: string, seed: number) => Record<string, number> = () => ({}),
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
    expect(three.verdict).toBe('holds');
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
    const three = runs(3, fullJittered, () => ({ Q_cnm: 0.4, entropy_kde_bits: 3, sigma_paper: 1.5, sigma_matched: 1.2 }));
    expect(paperClaims(three).every((c) => c.leftOut.length === 0)).toBe(true);
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
    const c = paperClaims(runs(4, (v, s) => acc(v) + jitter(s)));
    const get = (id: string) => c.find((x) => x.id === id)!;
    expect(get('init-gain').effect!.estimate).toBeCloseTo(0.3, 10);
    expect(get('geometry-gain').effect!.estimate).toBeCloseTo(0.05, 10);
    expect(get('init-vs-geometry').verdict).toBe('holds');
    expect(get('init-vs-communicability').verdict).toBe('holds');
    expect(get('geometry-gain').verdict).toBe('holds');
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
    expect(get('init-structure-vs-spectrum').verdict).toBe('holds');
    expect(get('init-structure-vs-spectrum').seeds).toBe(3);
    expect(get('function-vs-anatomy').effect!.estimate).toBeCloseTo(-0.004, 10); // −jitter: 2, 4, 6 thousandths
    expect(get('function-vs-anatomy').verdict).toBe('does not hold');
    expect(get('full-vs-W-gonogo').seeds).toBe(3); // the controls change no paper claim
  });

  it('metric claims: modular, low entropy and σ > 1 against both nulls; positive-only retention', () => {
    const constrained = (v: string) => v === 'W*D*C' || v === 'W*D*C*';
    const metrics = (v: string, s: number) => ({
      Q_cnm: constrained(v) ? 0.5 + jitter(s) : 0.2,
      entropy_kde_bits: constrained(v) ? 3 : 5 + jitter(s),
      sigma_paper: constrained(v) ? 1.8 + jitter(s) : 1,
      sigma_matched: constrained(v) ? 0.95 + jitter(s) : 1,
    });
    const base = runs(4, () => 0.8, metrics);
    const pos = runs(4, (v, s) => 0.79 - jitter(s), metrics);
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
        runs(4, () => 0.5, metrics),
      ).find((x) => x.id === 'positive-retained')!.verdict,
    ).toBe('does not hold');
  });
});
