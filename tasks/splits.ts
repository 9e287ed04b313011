/**
 * Train/test/validation splits of a task (batching is the engine's: engine/data.ts). Each split draws from its own forked RNG
 * stream, so changing one split's size never changes the trials of another.
 */
import { Rng } from '../engine/rng.ts';
import type { Splits } from '../engine/data.ts';
import type { Task } from './types.ts';

/** The paper's split sizes; training uses batches of 128. */
export const PAPER_SPLITS = { train: 5120, test: 2560, val: 2560 } as const;
export const PAPER_BATCH_SIZE = 128;

export function makeSplits(task: Task, seed: number, sizes: { train: number; test: number; val: number } = PAPER_SPLITS): Required<Splits> {
  const root = new Rng(seed, `task:${task.name}`);
  return {
    train: task.generate(sizes.train, root.fork('train')),
    test: task.generate(sizes.test, root.fork('test')),
    val: task.generate(sizes.val, root.fork('val')),
  };
}
