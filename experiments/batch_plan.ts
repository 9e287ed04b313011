/**
 * Which runs train together in one trainer, and how many at a time: the one decision the local
 * sweep (and its shards) and the queue's workers share.
 *
 * Runs may share a trainer (`runGroup`) when they have the same
 *   - field: the network size N (and the neuron positions) is the field's;
 *   - task: T, the input and output sizes, and the trials' structure are the task's;
 *   - protocol: the trainer takes one epoch count, step cap, batch size B, learning rate, input
 *     noise and split sizes for all its networks. Its other numbers (λ, μ, nNull, nMatched) are
 *     read per run, but a sweep directory holds one protocol, so the whole protocol is compared.
 * The mode and positivity need not match: they change only a network's own regulariser (its D,
 * strength floor, EMD target, whether L1 scales with λ) and its positive-only projection, and
 * the trainer takes both per network (RnnTrainer's `regularizers` and Adam's `positiveOnly`), as
 * it takes the variants' different regularisers (one sweep batches L1, WD, WDC and EMD runs).
 * Each network then follows the trajectory it follows alone, so batching changes run times only.
 */
import type { Backend } from '../engine/tensor.ts';
import { modelsPerBatch } from '../engine/rnn/trainer.ts';
import { getTask } from '../tasks/index.ts';
import { prepareField } from './prepare.ts';
import type { Protocol } from './protocol.ts';
import type { RunSpec } from './record.ts';
import { rnnConfigFor } from './setup.ts';

/** A run as the planner sees it: what it is and the protocol it trains under. */
export interface BatchRun {
  spec: RunSpec;
  protocol: Protocol;
}

/** Runs with equal keys can train in one trainer (see the header for why these fields). */
export function batchKey(run: BatchRun): string {
  return `${run.spec.field}|${run.spec.task}|${JSON.stringify(run.protocol)}`;
}

export interface BatchSizeOptions {
  backend: Backend;
  dataDir: string;
  /** Networks per batch (--models-per-batch); default: what the adapter allows for the run's shape. */
  modelsPerBatch?: number;
}

/**
 * Networks trained together for runs like `run`: the option when given, otherwise
 * `modelsPerBatch` of the adapter for its N, T and B (up to 64 within its memory; 1 on the CPU
 * reference backend); at least 1.
 */
export function batchSizeFor(run: BatchRun, o: BatchSizeOptions): number {
  if (o.modelsPerBatch !== undefined) return Math.max(1, o.modelsPerBatch);
  const task = getTask(run.spec.task);
  const cfg = rnnConfigFor(task, prepareField(o.dataDir, run.spec.field).n);
  return Math.max(1, modelsPerBatch(o.backend, cfg, task.T, run.protocol.batchSize));
}

/**
 * The batches of `items`: compatible runs (equal `batchKey`) in order of their first item's
 * appearance, each kind's runs in their order, `size` at a time (asked once per kind, of its
 * first run). Incompatible runs never share a batch; every item is in exactly one.
 */
export function planBatches<T>(items: readonly T[], runOf: (item: T) => BatchRun, size: (run: BatchRun) => number): T[][] {
  const byKey = new Map<string, T[]>();
  for (const item of items) {
    const key = batchKey(runOf(item));
    const same = byKey.get(key);
    if (same) same.push(item);
    else byKey.set(key, [item]);
  }
  const batches: T[][] = [];
  for (const same of byKey.values()) {
    const k = sizeOf(same[0]!, runOf, size);
    for (let i = 0; i < same.length; i += k) batches.push(same.slice(i, i + k));
  }
  return batches;
}

/**
 * The first batch `planBatches` would form (the first item's kind, `size` of them), without
 * sizing the other kinds: what a queue worker trains next from the jobs it holds.
 */
export function nextBatch<T>(items: readonly T[], runOf: (item: T) => BatchRun, size: (run: BatchRun) => number): T[] {
  if (!items.length) return [];
  const key = batchKey(runOf(items[0]!));
  return items.filter((item) => batchKey(runOf(item)) === key).slice(0, sizeOf(items[0]!, runOf, size));
}

function sizeOf<T>(first: T, runOf: (item: T) => BatchRun, size: (run: BatchRun) => number): number {
  return Math.max(1, Math.floor(size(runOf(first))));
}
