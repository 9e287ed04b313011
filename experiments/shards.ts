/**
 * Static shards for sites without Redis: `sweep --shard I/N` runs a deterministic 1/N of the
 * grid, so N independent processes (a Slurm array, a Kubernetes Indexed Job) cover it exactly
 * once. Runs are dealt by expected cost (greedy longest-processing-time: the costliest run
 * first, each to the least-loaded shard), so shards finish at about the same time even though
 * a run's time grows with its task's trial length T.
 */
import { OptionError } from '../engine/errors.ts';
import type { RunSpec } from './record.ts';

export interface Shard {
  /** 1-based. */
  index: number;
  count: number;
}

/** '--shard I/N' with 1 ≤ I ≤ N. */
export function parseShard(spec: string, flag = '--shard'): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(spec);
  const expected = 'I/N with integers 1 ≤ I ≤ N (e.g. 2/4)';
  if (!m) throw new OptionError(flag, expected, `"${spec}"`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || count > 100_000) throw new OptionError(flag, `${expected}, N at most 100,000`, `"${spec}"`);
  if (index < 1 || index > count) throw new OptionError(flag, expected, `"${spec}"`);
  return { index, count };
}

/**
 * The shard of each run (0-based), by greedy LPT on `cost`: ties are broken by plan order and
 * then by the lowest shard, so every process computes the same assignment.
 */
export function assignShards(runs: readonly RunSpec[], count: number, cost: (s: RunSpec) => number): number[] {
  const order = runs.map((s, i) => ({ i, c: cost(s) })).sort((a, b) => b.c - a.c || a.i - b.i);
  const load = new Array<number>(count).fill(0);
  const out = new Array<number>(runs.length).fill(0);
  for (const { i, c } of order) {
    let best = 0;
    for (let k = 1; k < count; k++) if (load[k]! < load[best]!) best = k;
    out[i] = best;
    load[best]! += c;
  }
  return out;
}

/** The runs of shard `s`, in plan order. */
export function shardRuns(runs: readonly RunSpec[], s: Shard, cost: (spec: RunSpec) => number): RunSpec[] {
  const owner = assignShards(runs, s.count, cost);
  return runs.filter((_, i) => owner[i] === s.index - 1);
}
