/**
 * `cortical-rnn slurm` on a real (one-node) Slurm cluster: an array of 2 queue workers
 * completes the small grid of a `sweep --queue`, and an array of 2 static shards completes it
 * too; in each the union of runs is exactly the plan. The script itself is checked with
 * --dry-run (no cluster needed).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readRunRecord } from '../experiments/run.ts';
import { runRelDir } from '../experiments/record.ts';
import { cliProc, cliRun, haveRedis, haveSlurm, killStarted, redisUrl, dataEnv, GRID, haveData, TINY } from './helpers/services.ts';
import { listFiles, runDirs, smallGrid } from './helpers/runs.ts';

const env = dataEnv;
const tmp = mkdtempSync(join(tmpdir(), 'cortical-rnn-slurm-'));
afterAll(() => {
  killStarted();
  rmSync(tmp, { recursive: true, force: true });
});

const PLAN = smallGrid();

const cli = (args: string[]) => cliRun(args, env);

function expectExactly(out: string): void {
  expect(runDirs(out)).toEqual(PLAN.map((s) => runRelDir(s)).sort());
  for (const s of PLAN) expect(readRunRecord(join(out, runRelDir(s)))?.status, runRelDir(s)).toMatch(/^(ok|diverged)$/);
}

describe('slurm scripts', () => {
  it('--dry-run prints a job array of workers with the partition, GPUs and time asked for', { timeout: 120_000 }, async () => {
    const r = await cli([
      'slurm',
      '--workers',
      '8',
      '--queue',
      'redis://:pw@head:6379/2',
      '--out',
      join(tmp, 'dry'),
      '--partition',
      'gpu',
      '--gres',
      'gpu:1',
      '--time',
      '04:00:00',
      '--dry-run',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const s = r.stdout;
    expect(s).toMatch(/^#!\/bin\/bash\n/);
    expect(s).toContain('#SBATCH --array=0-7\n');
    expect(s).toContain('#SBATCH --partition=gpu\n');
    expect(s).toContain('#SBATCH --gres=gpu:1\n');
    expect(s).toContain('#SBATCH --time=04:00:00\n');
    expect(s).toMatch(
      /\nexec \S+node\S* \S+cortical-rnn\.js worker --queue redis:\/\/:pw@head:6379\/2 --queue-name cortical-rnn --out \S+dry --data \S+ --idle-exit 60\n$/,
    );
    expect(existsSync(join(tmp, 'dry'))).toBe(false); // nothing written, nothing submitted
  });

  it('--shard --dry-run runs `sweep --shard $((SLURM_ARRAY_TASK_ID+1))/N` with the sweep arguments', { timeout: 120_000 }, async () => {
    const r = await cli(['slurm', '--workers', '3', '--shard', '--out', join(tmp, 'dry'), '--dry-run', '--', '--quick', '--variants', 'W*D*C']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('#SBATCH --array=0-2\n');
    expect(r.stdout).toMatch(/cortical-rnn\.js sweep --quick --variants 'W\*D\*C' --out \S+ --data \S+ --shard "\$\(\(SLURM_ARRAY_TASK_ID \+ 1\)\)\/3"\n$/);
  });

  it('bad options are one-line usage errors', { timeout: 120_000 }, async () => {
    for (const [args, re] of [
      [['slurm', '--workers', '0', '--shard', '--out', tmp, '--dry-run'], /^cortical-rnn: --workers: expected an integer from 1 to 100,000, got 0$/],
      [['slurm', '--workers', '2', '--shard', '--out', tmp, '--time', '4h', '--dry-run'], /^cortical-rnn: --time: expected a Slurm time limit .*, got "4h"$/],
      [['slurm', '--workers', '2', '--out', tmp, '--dry-run'], /^cortical-rnn: --queue: expected a Redis URL for queue workers, or --shard .*, got neither$/],
      [
        ['slurm', '--workers', '2', '--shard', '--out', tmp, '--gres', 'gpu;rm', '--dry-run'],
        /^cortical-rnn: --gres: expected a generic resource .*, got "gpu;rm"$/,
      ],
    ] as [string[], RegExp][]) {
      const r = await cli(args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.lines, r.stderr).toHaveLength(1);
      expect(r.lines[0]).toMatch(re);
    }
  });
});

describe.skipIf(!haveSlurm || !haveData)('job arrays on the local Slurm', () => {
  const timings: Record<string, number> = {};
  afterAll(() => console.log(`[slurm timings] ${JSON.stringify(timings)}`));

  it.skipIf(!haveRedis)('an array of 2 queue workers completes the sweep of a coordinator', { timeout: 600_000 }, async () => {
    const out = join(tmp, 'queue');
    const name = `slurm-${process.pid}`;
    const t0 = Date.now();
    const coord = cliProc(['sweep', ...GRID, ...TINY, '--queue', redisUrl, '--queue-name', name, '--out', out], env);
    await coord.waitFor(/runs planned/);
    const r = await cli([
      'slurm',
      '--workers',
      '2',
      '--queue',
      redisUrl,
      '--queue-name',
      name,
      '--out',
      out,
      '--idle-exit',
      '3',
      '--models-per-batch',
      '1',
      '--wait',
    ]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/array job \d+ done: 2 workers/);
    const c = await coord.exit;
    expect(c.code, coord.out()).toBe(0);
    timings.slurm_queue_2_workers_s = (Date.now() - t0) / 1000;
    expectExactly(out);
    // Both tasks of the array ran a worker and exited when the queue was idle.
    const logs = listFiles(join(out, 'slurm')).filter((f) => f.endsWith('.out'));
    expect(logs).toHaveLength(2);
    for (const l of logs) expect(readFileSync(join(out, 'slurm', l), 'utf8')).toMatch(/worker done: \d+ runs completed, 0 failed/);
  });

  it('--wait fails naming the tasks that did not complete', { timeout: 300_000 }, async () => {
    const out = join(tmp, 'failing');
    const r = await cli(['slurm', '--workers', '2', '--shard', '--out', out, '--wait', '--', '--field', 'nope', ...TINY]);
    expect(r.code, r.stderr + r.stdout).toBe(1);
    expect(r.lines, r.stderr).toHaveLength(1);
    expect(r.lines[0]).toMatch(
      /^cortical-rnn: slurm: expected every task of array job \d+ to complete, got task [01] FAILED \(exit 1:0\), task [01] FAILED \(exit 1:0\); see the task logs$/,
    );
    const logs = listFiles(join(out, 'slurm')).filter((f) => f.endsWith('.out'));
    expect(logs).toHaveLength(2);
    for (const l of logs) expect(readFileSync(join(out, 'slurm', l), 'utf8')).toMatch(/field "nope": expected one of the \d+ listed fields/);
  });

  it('an array of 2 static shards completes the grid, each run once', { timeout: 600_000 }, async () => {
    const out = join(tmp, 'shards');
    const t0 = Date.now();
    const r = await cli(['slurm', '--workers', '2', '--shard', '--out', out, '--wait', '--', ...GRID, ...TINY]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    timings.slurm_2_shards_s = (Date.now() - t0) / 1000;
    expectExactly(out);
    const m = JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8')) as { runs: object; invocations: { shard?: string; planned: number; ran: number }[] };
    expect(m.invocations.map((i) => i.shard).sort()).toEqual(['1/2', '2/2']);
    expect(m.invocations.reduce((a, i) => a + i.ran, 0)).toBe(PLAN.length);
    expect(Object.keys(m.runs)).toHaveLength(PLAN.length);
  });
});
