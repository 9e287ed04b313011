/**
 * What the trainer consumes: datasets of trials, their splits, and time-major batches. Tasks
 * (tasks/) produce Datasets; the engine only batches them, so it needs nothing from above.
 */
import { OptionError, ShapeError } from './errors.ts';
import type { Rng } from './rng.ts';

/** Trials of one task, row-major: inputs [trials, T, nIn], labels and masks [trials, T]. */
export interface Dataset {
  nTrials: number;
  T: number;
  nIn: number;
  nOut: number;
  /** [trials, T, nIn] row-major. */
  inputs: Float32Array;
  /** [trials, T]: the target class, or −1 where there is no target. */
  labels: Int32Array;
  /** [trials, T]: 1 at the decision steps that enter the loss and the score, else 0. */
  mask: Float32Array;
  /**
   * [trials, T]: 1 wherever a label exists (NeuroGym tasks supervise fixation too). Absent
   * for the paper tasks, whose loss is the decision mask alone.
   */
  lossMask?: Float32Array;
  /** Per-trial conditions (e.g. ground truth, coherence), one entry per trial. */
  trialInfo: Record<string, Float64Array>;
}

/** Training data and the held-out sets (validation is evaluated after each epoch). */
export interface Splits {
  train: Dataset;
  test?: Dataset;
  val?: Dataset;
}

/**
 * One batch in the engine's time-major layout (row t·B + b is trial b at step t):
 * x [T·B·nIn], labels [T·B] (class ids as floats, 0 where there is no target: never scored),
 * lossMask [T·B] (weights of the loss), scoreMask [T·B] (the decisions that are scored).
 */
export interface Batch {
  T: number;
  B: number;
  x: ArrayLike<number>;
  labels: ArrayLike<number>;
  lossMask: ArrayLike<number>;
  scoreMask: ArrayLike<number>;
}

/**
 * Shuffled trial-index batches covering every trial once. The last batch is smaller when
 * batchSize does not divide nTrials, unless `dropLast` is set.
 */
export function batchOrder(dataset: Dataset, batchSize: number, rng: Rng, dropLast = false): Int32Array[] {
  if (!Number.isInteger(batchSize) || batchSize <= 0) {
    throw new OptionError('batchSize', 'a positive integer', String(batchSize), { message: `batches: batchSize must be a positive integer, got ${batchSize}` });
  }
  const order = rng.permutation(dataset.nTrials);
  const out: Int32Array[] = [];
  for (let s = 0; s < order.length; s += batchSize) {
    const b = order.subarray(s, Math.min(s + batchSize, order.length));
    if (dropLast && b.length < batchSize) break;
    out.push(b.slice());
  }
  return out;
}

/**
 * Gathers trials `indices` into a time-major batch (out[t, b] = dataset[indices[b], t]), with
 * Gaussian input noise of σ = `noise` drawn from `rng` when noise > 0.
 */
export function gatherBatch(dataset: Dataset, indices: ArrayLike<number>, noise = 0, rng?: Rng): Batch {
  const { T, nIn } = dataset;
  const B = indices.length;
  const x = new Float32Array(T * B * nIn);
  const labels = new Float32Array(T * B);
  const scoreMask = new Float32Array(T * B);
  const lossMask = dataset.lossMask ? new Float32Array(T * B) : scoreMask;
  for (let b = 0; b < B; b++) {
    const n = indices[b]!;
    if (!Number.isInteger(n) || n < 0 || n >= dataset.nTrials) {
      throw new ShapeError('gatherBatch', { message: `gatherBatch: trial index ${n} out of range [0, ${dataset.nTrials})` });
    }
    for (let t = 0; t < T; t++) {
      const src = n * T + t;
      const dst = t * B + b;
      labels[dst] = Math.max(0, dataset.labels[src]!); // rows without a target are never scored
      scoreMask[dst] = dataset.mask[src]!;
      if (dataset.lossMask) lossMask[dst] = dataset.lossMask[src]!;
      x.set(dataset.inputs.subarray(src * nIn, src * nIn + nIn), dst * nIn);
    }
  }
  if (noise > 0) {
    if (!rng) throw new OptionError('rng', 'an Rng when noise > 0', 'none', { message: 'gatherBatch: input noise needs an rng' });
    for (let i = 0; i < x.length; i++) x[i]! += noise * rng.normal();
  }
  return { T, B, x, labels, lossMask, scoreMask };
}

/** Loss mask for 'last' (only t = T−1) or 'all' steps. */
export function stepMask(T: number, B: number, on: 'last' | 'all'): Float32Array {
  const m = new Float32Array(T * B);
  if (on === 'all') m.fill(1);
  else m.fill(1, (T - 1) * B);
  return m;
}
