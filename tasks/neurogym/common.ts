/**
 * NeuroGym (v2, neurogym/envs/native) conventions shared by the NeuroGym-compatible tasks:
 * - dt = 100 ms; every period duration is floored to a multiple of dt: steps = ⌊ms / dt⌋.
 * - Input noise σ/√dt (σ = 1 by default, so 0.1 per step at dt = 100 ms).
 * - Action 0 = fixate. Every step inside the trial has a target: 0 (fixate) outside the
 *   decision period, the answer inside it.
 * - Performance is scored on the decision period only (mask = 1 there).
 * Trials whose periods vary in length are written from step 0 and padded at the end to the
 * task's T (the longest possible trial) with zero input, label −1 and mask 0.
 */
import type { Rng } from '../../engine/rng.ts';
import { emptyDataset, type Dataset, type Period, type Task } from '../types.ts';

export const NG_DT = 100;
export const NG_SIGMA = 1 / Math.sqrt(NG_DT);

/** A period duration in ms: fixed, or truncated-exponential like neurogym's TruncExp. */
export type Duration = number | { truncExp: { mean: number; min: number; max: number } };

/** neurogym's trunc_exp: draw Exp(mean) until min ≤ x < max (returns max if min ≥ max). */
function truncExp(rng: Rng, mean: number, min: number, max: number): number {
  if (min >= max) return max;
  for (;;) {
    const x = -mean * Math.log(rng.uniform());
    if (x >= min && x < max) return x;
  }
}

/** Python's `(t // dt)`: the number of whole steps in a duration. */
function stepsOf(ms: number, dt = NG_DT): number {
  return Math.floor(ms / dt);
}

/** The period table of a timing spec: fixed steps, or the step range of a random duration. */
export function periodTable(timing: Record<string, Duration>, dt = NG_DT): Period[] {
  return Object.entries(timing).map(([name, d]) => {
    if (typeof d === 'number') return { name, steps: stepsOf(d, dt) };
    const min = stepsOf(d.truncExp.min, dt);
    // x < max, so the largest floored value is ⌈max/dt⌉ − 1
    const max = Math.ceil(d.truncExp.max / dt) - 1;
    return { name, steps: max, variable: { min, max } };
  });
}

/** Draws one trial's period bounds [start, end) in steps. */
export function drawBounds(timing: Record<string, Duration>, rng: Rng, dt = NG_DT): Record<string, { start: number; end: number }> {
  const out: Record<string, { start: number; end: number }> = {};
  let t = 0;
  for (const [name, d] of Object.entries(timing)) {
    const ms = typeof d === 'number' ? d : truncExp(rng, d.truncExp.mean, d.truncExp.min, d.truncExp.max);
    const steps = stepsOf(ms, dt);
    out[name] = { start: t, end: t + steps };
    t += steps;
  }
  return out;
}

/** An empty NeuroGym dataset, with a loss mask. */
export function ngDataset(task: Task, nTrials: number, infoKeys: string[]): Dataset {
  const ds = emptyDataset(task, nTrials, [...infoKeys, 'steps']);
  ds.lossMask = new Float32Array(nTrials * task.T);
  return ds;
}

/**
 * Writes the targets of one trial of `len` steps: fixate (0) everywhere, `answer` on the
 * decision period, which is also the scored mask.
 */
export function setTargets(ds: Dataset, trial: number, len: number, decision: { start: number; end: number }, answer: number): void {
  const base = trial * ds.T;
  for (let t = 0; t < len; t++) {
    ds.labels[base + t] = 0;
    ds.lossMask![base + t] = 1;
  }
  for (let t = decision.start; t < decision.end; t++) {
    ds.labels[base + t] = answer;
    ds.mask[base + t] = 1;
  }
  ds.trialInfo.steps![trial] = len;
}

/** Adds `value` to inputs[trial, t, ch] over [start, end) (neurogym's add_ob). */
export function addInput(ds: Dataset, trial: number, b: { start: number; end: number }, ch: number, value: number): void {
  const base = trial * ds.T * ds.nIn;
  for (let t = b.start; t < b.end; t++) ds.inputs[base + t * ds.nIn + ch]! += value;
}

/** Adds N(0, sigma²) noise per step to a channel over [start, end) (neurogym's add_randn). */
export function addNoise(ds: Dataset, trial: number, b: { start: number; end: number }, ch: number, sigma: number, rng: Rng): void {
  const base = trial * ds.T * ds.nIn;
  for (let t = b.start; t < b.end; t++) ds.inputs[base + t * ds.nIn + ch]! += sigma * rng.normal();
}

export function totalSteps(periods: Period[]): number {
  return periods.reduce((s, p) => s + p.steps, 0);
}
