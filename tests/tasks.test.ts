import { describe, expect, it } from 'vitest';
import { Rng } from '../engine/rng.ts';
import { batchOrder as batches, gatherBatch } from '../engine/data.ts';
import { getTask, goNogoTask, inferenceTask, INFERENCE_PROBLEMS, makeSplits, pdmTask, PDM_COHERENCES, taskNames, type Dataset } from '../tasks/index.ts';

const at = (ds: Dataset, n: number, t: number, ch: number) => ds.inputs[(n * ds.T + t) * ds.nIn + ch]!;

/** Every trial has exactly one scored step, the last, with a label. */
function expectLastStepOnly(ds: Dataset) {
  const bad: string[] = [];
  for (let n = 0; n < ds.nTrials; n++) {
    for (let t = 0; t < ds.T; t++) {
      const k = n * ds.T + t;
      const last = t === ds.T - 1;
      const ok = last ? ds.mask[k] === 1 && ds.labels[k]! >= 0 && ds.labels[k]! < ds.nOut : ds.mask[k] === 0 && ds.labels[k] === -1;
      if (!ok) bad.push(`trial ${n} step ${t}: label ${ds.labels[k]}, mask ${ds.mask[k]}`);
    }
  }
  expect(bad.slice(0, 5)).toEqual([]);
}

function same(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Collects mismatches instead of asserting per element (thousands of expects are slow). */
function checker() {
  const bad: string[] = [];
  return {
    eq(got: number, want: number, where: string) {
      if (got !== want) bad.push(`${where}: got ${got}, want ${want}`);
    },
    done() {
      expect(bad.slice(0, 5)).toEqual([]);
    },
  };
}

/** |count/n − p| within 5 binomial standard deviations. */
function expectProportion(count: number, n: number, p: number) {
  expect(Math.abs(count / n - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n));
}

describe('registry', () => {
  it('finds tasks by name and alias, and refuses unknown names', () => {
    expect(getTask('one-step-inference')).toBe(inferenceTask);
    expect(getTask('go-nogo')).toBe(goNogoTask);
    expect(getTask('perceptual-decision-making')).toBe(pdmTask);
    expect(getTask('ng.DelayMatchSample').name).toBe('ng.DelayMatchSample');
    for (const n of taskNames) expect(getTask(n).name).toBe(n);
    expect(() => getTask('maze')).toThrow(/--task: expected one of .*inference.*, got "maze"/);
  });
  it('has period tables that add up to T', () => {
    for (const n of taskNames) {
      const t = getTask(n);
      expect(t.periods.reduce((s, p) => s + p.steps, 0)).toBe(t.T);
    }
  });
});

describe('one-step inference', () => {
  const ds = inferenceTask.generate(4000, new Rng(1, 'inf'));
  it('has the paper shape and timing', () => {
    expect([inferenceTask.nIn, inferenceTask.nOut, inferenceTask.T]).toEqual([8, 4, 50]);
    expect(inferenceTask.periods.map((p) => [p.name, p.steps])).toEqual([
      ['goal', 20],
      ['delay', 10],
      ['choices', 20],
    ]);
    expect(inferenceTask.description).toMatch(/5\/8 = 0\.625/);
  });
  it('writes exact inputs per period', () => {
    const goalCh: Record<number, number> = { 7: 0, 9: 1, 17: 2, 19: 3 };
    const dir = { l: 0, u: 1, r: 2, d: 3 };
    const c = checker();
    for (let n = 0; n < ds.nTrials; n++) {
      const p = INFERENCE_PROBLEMS[ds.trialInfo.problem![n]!]!;
      for (let t = 0; t < 50; t++) {
        for (let ch = 0; ch < 8; ch++) {
          let want = 0;
          if (t < 20 && ch === goalCh[p.goal]) want = 1;
          if (t >= 30 && ch >= 4 && p.choices.some((d) => dir[d] === ch - 4)) want = 1;
          c.eq(at(ds, n, t, ch), want, `trial ${n} t ${t} ch ${ch}`);
        }
      }
      c.eq(ds.labels[n * 50 + 49]!, dir[p.correct], `trial ${n} label`);
    }
    c.done();
    expectLastStepOnly(ds);
  });
  it('lists the 8 problems of the paper and draws them uniformly', () => {
    const written = INFERENCE_PROBLEMS.map((p) => `${p.goal},${[...p.choices].sort().join('')},${p.correct}`);
    expect(written).toEqual(['9,lu,u', '9,dr,r', '19,dl,d', '17,dr,d', '17,lu,l', '7,ru,u', '19,lr,r', '7,lr,l']);
    const counts = new Array(8).fill(0);
    for (const k of ds.trialInfo.problem!) counts[k]++;
    for (const c of counts) expectProportion(c, ds.nTrials, 1 / 8);
  });
  it('is solved at most 5/8 without the goal', () => {
    // best goal-blind policy: the majority answer of each choice pair
    const byPair = new Map<string, string[]>();
    for (const p of INFERENCE_PROBLEMS) {
      const key = [...p.choices].sort().join('');
      byPair.set(key, [...(byPair.get(key) ?? []), p.correct]);
    }
    let best = 0;
    for (const answers of byPair.values()) best += Math.max(...answers.map((a) => answers.filter((b) => b === a).length));
    expect(best / 8).toBe(0.625);
  });
});

describe('go/nogo', () => {
  const ds = goNogoTask.generate(5120, new Rng(2, 'gng'));
  it('writes exact inputs per period and labels at the last step', () => {
    expect([goNogoTask.nIn, goNogoTask.nOut, goNogoTask.T]).toEqual([3, 2, 40]);
    let go = 0;
    const c = checker();
    for (let n = 0; n < ds.nTrials; n++) {
      const g = ds.labels[n * 40 + 39]!;
      go += g;
      c.eq(g, ds.trialInfo.groundTruth![n]!, `trial ${n} label`);
      for (let t = 0; t < 40; t++) {
        let want = [0, 0, 0];
        if (t < 5 || (t >= 25 && t < 35)) want = [1, 0, 0];
        else if (t < 25) want = g === 1 ? [0, 0, 1] : [0, 1, 0];
        for (let ch = 0; ch < 3; ch++) c.eq(at(ds, n, t, ch), want[ch]!, `trial ${n} t ${t} ch ${ch}`);
      }
    }
    c.done();
    expectLastStepOnly(ds);
    expectProportion(go, ds.nTrials, 0.5);
  });
});

describe('perceptual decision making', () => {
  const ds = pdmTask.generate(5120, new Rng(3, 'pdm'));
  it('has the paper timing and states its ceiling', () => {
    expect([pdmTask.nIn, pdmTask.nOut, pdmTask.T, pdmTask.dt]).toEqual([3, 2, 41, 100]);
    expect(pdmTask.periods.map((p) => p.steps)).toEqual([1, 30, 10]);
    expect(pdmTask.ceiling!).toBeGreaterThan(0.88);
    expect(pdmTask.ceiling!).toBeLessThan(0.91);
    expect(pdmTask.description).toMatch(/coh = 0/);
  });
  it('writes exact fixation, blank and stimulus-mean inputs, with noise sd 0.1', () => {
    let sum = 0,
      sumSq = 0,
      count = 0;
    const c = checker();
    for (let n = 0; n < ds.nTrials; n++) {
      const gt = ds.trialInfo.groundTruth![n]!;
      const coh = ds.trialInfo.coh![n]!;
      c.eq(ds.labels[n * 41 + 40]!, gt, `trial ${n} label`);
      for (let t = 0; t < 41; t++) {
        c.eq(at(ds, n, t, 0), 1, `trial ${n} t ${t} fixation`);
        if (t === 0 || t >= 31) {
          c.eq(at(ds, n, t, 1), 0, `trial ${n} t ${t} ch 1`);
          c.eq(at(ds, n, t, 2), 0, `trial ${n} t ${t} ch 2`);
        } else {
          for (let k = 0; k < 2; k++) {
            const mean = 0.5 + (k === gt ? coh : -coh) / 200;
            const r = at(ds, n, t, 1 + k) - mean;
            sum += r;
            sumSq += r * r;
            count++;
          }
        }
      }
    }
    c.done();
    expect(Math.abs(sum / count)).toBeLessThan(0.002);
    expect(Math.sqrt(sumSq / count)).toBeCloseTo(0.1, 3);
    expectLastStepOnly(ds);
  });
  it('balances the labels and draws coh uniformly from the five levels', () => {
    let ones = 0;
    const counts = new Map<number, number>();
    for (let n = 0; n < ds.nTrials; n++) {
      ones += ds.trialInfo.groundTruth![n]!;
      const c = ds.trialInfo.coh![n]!;
      counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    expectProportion(ones, ds.nTrials, 0.5);
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([...PDM_COHERENCES]);
    // chi-square with 4 d.o.f.: P(χ² > 18.47) = 0.001
    const e = ds.nTrials / 5;
    const chi2 = [...counts.values()].reduce((s, c) => s + (c - e) ** 2 / e, 0);
    expect(chi2).toBeLessThan(18.47);
  });
});

describe('NeuroGym tasks', () => {
  it('use floored dt timings, fixate targets outside the decision and score the decision only', () => {
    const cases: [string, number, number, Record<string, number>][] = [
      ['ng.PerceptualDecisionMaking', 22, 3, { fixation: 1, stimulus: 20, delay: 0, decision: 1 }],
      ['ng.GoNogo', 15, 3, { fixation: 0, stimulus: 5, delay: 5, decision: 5 }],
      ['ng.DelayMatchSample', 32, 3, { fixation: 3, sample: 5, delay: 10, test: 5, decision: 9 }],
      ['ng.ContextDecisionMaking', 40, 5, { fixation: 3, stimulus: 7, delay: 29, decision: 1 }],
    ];
    for (const [name, T, nIn, steps] of cases) {
      const task = getTask(name);
      expect([task.T, task.nIn, task.dt]).toEqual([T, nIn, 100]);
      expect(Object.fromEntries(task.periods.map((p) => [p.name, p.steps]))).toEqual(steps);
      const ds = task.generate(400, new Rng(4, name));
      const c = checker();
      const answerOffset = name === 'ng.PerceptualDecisionMaking' ? 1 : 0;
      for (let n = 0; n < ds.nTrials; n++) {
        const len = ds.trialInfo.steps![n]!;
        let decision = 0;
        for (let t = 0; t < T; t++) {
          const k = n * T + t;
          if (t >= len) {
            c.eq(ds.labels[k]!, -1, `${name} trial ${n} t ${t} pad label`);
            c.eq(ds.mask[k]!, 0, `${name} trial ${n} t ${t} pad mask`);
            continue;
          }
          c.eq(ds.lossMask![k]!, 1, `${name} trial ${n} t ${t} loss mask`);
          if (ds.mask[k] === 1) {
            decision++;
            c.eq(ds.labels[k]!, ds.trialInfo.groundTruth![n]! + answerOffset, `${name} trial ${n} t ${t} answer`);
          } else c.eq(ds.labels[k]!, 0, `${name} trial ${n} t ${t} fixate target`);
        }
        c.eq(decision, steps.decision!, `${name} trial ${n} decision steps`);
        c.eq(ds.mask[n * T + len - 1]!, 1, `${name} trial ${n} ends in the decision`);
      }
      c.done();
    }
  });
  it('draws the ContextDecisionMaking delay from a truncated exponential in [3, 29] steps', () => {
    const ds = getTask('ng.ContextDecisionMaking').generate(2000, new Rng(5));
    const delays = Array.from(ds.trialInfo.steps!, (s) => s - 3 - 7 - 1);
    expect(Math.min(...delays)).toBe(3);
    expect(Math.max(...delays)).toBeLessThanOrEqual(29);
    const mean = delays.reduce((a, b) => a + b, 0) / delays.length;
    // Exp(600 ms) restricted to [300, 3000) ms has mean ≈ 896 ms; flooring removes ≈ 50 ms
    expect(mean).toBeGreaterThan(7.8);
    expect(mean).toBeLessThan(9.2);
  });
  it('DelayMatchSample test stimulus matches the sample exactly on match trials (up to noise)', () => {
    const ds = getTask('ng.DelayMatchSample').generate(300, new Rng(6));
    for (let n = 0; n < ds.nTrials; n++) {
      const s = ds.trialInfo.sample!,
        te = ds.trialInfo.test!;
      expect(te[n] === s[n]).toBe(ds.trialInfo.groundTruth![n] === 1);
      for (let t = 0; t < 32; t++) expect(at(ds, n, t, 0)).toBe(t < 23 ? 1 : 0);
    }
  });
});

describe('splits and batches', () => {
  it('makes paper-sized, reproducible, independent splits', () => {
    const a = makeSplits(goNogoTask, 7);
    const b = makeSplits(goNogoTask, 7);
    expect([a.train.nTrials, a.test.nTrials, a.val.nTrials]).toEqual([5120, 2560, 2560]);
    expect(same(a.train.inputs, b.train.inputs)).toBe(true);
    expect(same(a.test.labels, a.val.labels)).toBe(false);
    const small = makeSplits(goNogoTask, 7, { train: 10, test: 2560, val: 5 });
    expect(same(small.test.labels, a.test.labels)).toBe(true); // forked streams: sizes do not interact
    expect(same(makeSplits(goNogoTask, 8).train.labels, a.train.labels)).toBe(false);
  });
  it('covers every trial once in shuffled batches and gathers time-major', () => {
    const ds = pdmTask.generate(300, new Rng(9));
    const bs = batches(ds, 128, new Rng(10));
    expect(bs.map((b) => b.length)).toEqual([128, 128, 44]);
    const all = [...bs.flatMap((b) => [...b])].sort((x, y) => x - y);
    expect(all).toEqual([...Array(300).keys()]);
    expect(batches(ds, 128, new Rng(10), true).length).toBe(2);
    const g = gatherBatch(ds, bs[0]!);
    expect([g.T, g.B, g.x.length / (41 * 128)]).toEqual([41, 128, 3]);
    for (const [b, t, ch] of [
      [0, 0, 0],
      [5, 17, 1],
      [127, 40, 2],
      [64, 12, 2],
    ] as const) {
      const n = bs[0]![b]!;
      expect(g.x[(t * 128 + b) * 3 + ch]).toBe(at(ds, n, t, ch));
      expect(g.labels[t * 128 + b]).toBe(Math.max(0, ds.labels[n * 41 + t]!));
      expect(g.scoreMask[t * 128 + b]).toBe(ds.mask[n * 41 + t]);
      expect(g.lossMask[t * 128 + b]).toBe(ds.mask[n * 41 + t]); // the paper tasks' loss is the decision mask
    }
  });
});
