/**
 * Shared task types. A task turns a seeded RNG into a dataset of trials with a fixed length T.
 * Layouts are row-major: inputs [trials, T, nIn], labels and mask [trials, T].
 */
import type { Rng } from '../engine/rng.ts';
import type { Dataset } from '../engine/data.ts';

/** One period of a trial. `steps` is its length (the maximum when the length varies). */
export interface Period {
  name: string;
  steps: number;
  /** Present when the length is drawn per trial: the inclusive range of steps. */
  variable?: { min: number; max: number };
}

export type { Dataset };

export interface Task {
  name: string;
  description: string;
  nIn: number;
  nOut: number;
  T: number;
  /** Milliseconds per step, where the task defines one. */
  dt?: number;
  periods: Period[];
  /** The best expected accuracy of an ideal observer, when below 1. */
  ceiling?: number;
  generate(nTrials: number, rng: Rng): Dataset;
}

/** Allocates an all-zero dataset with labels −1 everywhere. */
export function emptyDataset(task: Pick<Task, 'T' | 'nIn' | 'nOut'>, nTrials: number, infoKeys: string[]): Dataset {
  if (!Number.isInteger(nTrials) || nTrials < 0) throw new Error(`generate: nTrials must be a non-negative integer, got ${nTrials}`);
  const trialInfo: Record<string, Float64Array> = {};
  for (const k of infoKeys) trialInfo[k] = new Float64Array(nTrials);
  return {
    nTrials,
    T: task.T,
    nIn: task.nIn,
    nOut: task.nOut,
    inputs: new Float32Array(nTrials * task.T * task.nIn),
    labels: new Int32Array(nTrials * task.T).fill(-1),
    mask: new Float32Array(nTrials * task.T),
    trialInfo,
  };
}

/** Step ranges [start, end) of each period, in order. */
export function periodBounds(periods: Period[]): Record<string, { start: number; end: number }> {
  const out: Record<string, { start: number; end: number }> = {};
  let t = 0;
  for (const p of periods) {
    out[p.name] = { start: t, end: t + p.steps };
    t += p.steps;
  }
  return out;
}

/** Sets inputs[trial, t, ch] = value for t in [start, end). */
export function fillInput(ds: Dataset, trial: number, start: number, end: number, ch: number, value: number): void {
  const base = trial * ds.T * ds.nIn;
  for (let t = start; t < end; t++) ds.inputs[base + t * ds.nIn + ch] = value;
}

/** Labels the last step of a trial with `cls` and marks it as the only scored step. */
export function labelLastStep(ds: Dataset, trial: number, cls: number): void {
  const k = trial * ds.T + ds.T - 1;
  ds.labels[k] = cls;
  ds.mask[k] = 1;
}

/** Standard normal CDF Φ(x) = erfc(−x/√2)/2. */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

/** Complementary error function; Numerical Recipes' Chebyshev fit, |error| < 1.2e-7. */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}
