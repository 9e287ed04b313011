/**
 * Static shards (`sweep --shard I/N`): N shards partition the plan exactly (every run in one
 * shard), deterministically, balanced by expected cost (T × N per run); I/N is validated.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assignShards, parseShard, shardRuns } from '../experiments/shards.ts';
import { planRuns, plannedRuns } from '../experiments/sweep.ts';
import { runId, type RunSpec } from '../experiments/record.ts';
import { parseVariantList } from '../experiments/variants.ts';
import { getTask } from '../tasks/index.ts';

const DATA = existsSync('../shared/data') ? '../shared/data' : (process.env.CORTICAL_RNN_DATA ?? '../shared/data');
const haveData = existsSync(join(DATA, 'microns-fields', '5_3_4'));
const PLAN = {
  field: '6_6_2',
  tasks: ['inference', 'gonogo', 'pdm'],
  variants: parseVariantList('all'),
  seeds: [1, 2, 3, 4, 5],
  modes: ['paper' as const, 'corrected' as const],
  positive: false,
};
const cost = (s: RunSpec) => getTask(s.task).T;

describe('static shards', () => {
  it('parses I/N and refuses anything else with one line naming --shard', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    expect(parseShard(' 1 / 1 ')).toEqual({ index: 1, count: 1 });
    for (const bad of ['0/2', '3/2', '1/0', 'a/b', '1', '1/2/3', '-1/2', '1.5/2', '']) {
      expect(() => parseShard(bad), bad).toThrow(/^--shard: expected I\/N with integers 1 ≤ I ≤ N/);
    }
  });

  it('N shards partition the plan exactly, the same way every time, balanced by cost', () => {
    const runs = planRuns(PLAN);
    expect(runs).toHaveLength(2 * 5 * 3 * 13);
    const total = runs.reduce((a, s) => a + cost(s), 0);
    const biggest = Math.max(...runs.map(cost));
    for (const n of [1, 2, 3, 7, 16, 500]) {
      const shards = Array.from({ length: n }, (_, i) => shardRuns(runs, { index: i + 1, count: n }, cost));
      const ids = shards.flat().map(runId);
      expect(ids.sort(), `${n} shards`).toEqual(runs.map(runId).sort()); // each run exactly once
      expect(new Set(ids).size).toBe(runs.length);
      // LPT: every shard's load is within one run's cost of the mean (the others' lower bound).
      const loads = shards.map((s) => s.reduce((a, r) => a + cost(r), 0));
      if (n <= runs.length) {
        expect(Math.max(...loads) - Math.min(...loads), `${n} shards: ${loads.join(', ')}`).toBeLessThanOrEqual(biggest);
        expect(Math.max(...loads)).toBeLessThanOrEqual(total / n + biggest);
      }
      // Deterministic: a second computation (another process) agrees.
      expect(assignShards(runs, n, cost)).toEqual(assignShards([...runs], n, cost));
      // In plan order within a shard.
      for (const s of shards) expect(s).toEqual(runs.filter((r) => s.includes(r)));
    }
  });

  it('costlier tasks are spread: with as many shards as tasks × seeds, no shard holds two of the longest', () => {
    const runs = planRuns({ ...PLAN, variants: parseVariantList('W'), modes: ['corrected'] });
    const n = runs.length;
    const owner = assignShards(runs, n, cost);
    expect(new Set(owner).size).toBe(n);
  });

  it.skipIf(!haveData)('plannedRuns of a shard is its share of the grid (cost T × N of the field)', () => {
    const grid = {
      field: '5_3_4',
      tasks: ['gonogo', 'pdm'],
      variants: parseVariantList('W,WD*C,W*D*C'),
      seeds: [1, 2],
      modes: ['corrected' as const],
      positive: false,
    };
    const a = plannedRuns({ ...grid, dataDir: DATA, shard: { index: 1, count: 2 } });
    const b = plannedRuns({ ...grid, dataDir: DATA, shard: { index: 2, count: 2 } });
    expect([...a, ...b].map(runId).sort()).toEqual(planRuns(grid).map(runId).sort());
    expect(Math.abs(a.length - b.length)).toBeLessThanOrEqual(1);
  });

  it('the CLI refuses a bad --shard, and --shard with --queue, as usage errors (one line, exit 2)', { timeout: 120_000 }, () => {
    for (const [args, re] of [
      [['sweep', '--quick', '--shard', '3/2'], /^cortical-rnn: --shard: expected I\/N with integers 1 ≤ I ≤ N \(e\.g\. 2\/4\), got "3\/2"$/],
      [['sweep', '--quick', '--shard', '1/2', '--queue', 'redis://127.0.0.1:1'], /^cortical-rnn: Arguments queue and shard are mutually exclusive$/],
    ] as [string[], RegExp][]) {
      const r = spawnSync(process.execPath, ['bin/cortical-rnn.js', ...args, '--out', '/tmp/cortical-rnn-shard-never'], { encoding: 'utf8', timeout: 60_000 });
      const lines = r.stderr.split('\n').filter(Boolean);
      expect(r.status, r.stderr).toBe(2);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(re);
    }
  });
});
