/**
 * Slurm job arrays that start the sweep's processes on a cluster: N queue workers (each pulls
 * jobs until the queue is idle), or N static shards (`sweep --shard $((SLURM_ARRAY_TASK_ID+1))/N`).
 * Slurm does the scheduling; this only writes the sbatch script and hands it to sbatch.
 */
import { spawnSync } from 'node:child_process';
import { OptionError } from '../engine/errors.ts';

export interface SlurmOptions {
  /** Array size: workers or shards. */
  workers: number;
  /** 'queue': each task is a worker; 'shard': each task runs `sweep --shard I/N` with sweepArgs. */
  mode: 'queue' | 'shard';
  /** The command that starts cortical-rnn on the nodes, as argv (e.g. [node, /path/bin/cortical-rnn.js]). */
  cli: string[];
  /** Arguments of each task after the command (`worker …` or `sweep …`, without --shard). */
  args: string[];
  /** Directory the tasks start in. */
  cwd: string;
  /** Where Slurm writes each task's output (%A = array job, %a = task). */
  logDir: string;
  jobName?: string;
  partition?: string;
  gres?: string;
  time?: string;
  cpusPerTask?: number;
}

/** Single-quoted for bash: any string, verbatim. */
function sh(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Checks the options a user types (one-line errors naming the flag). */
export function checkSlurmOptions(o: Pick<SlurmOptions, 'workers' | 'partition' | 'gres' | 'time' | 'jobName' | 'cpusPerTask'>): void {
  if (!Number.isInteger(o.workers) || o.workers < 1 || o.workers > 100_000) throw new OptionError('--workers', 'an integer from 1 to 100,000', `${o.workers}`);
  if (o.partition !== undefined && !/^[A-Za-z0-9_.,-]{1,64}$/.test(o.partition))
    throw new OptionError('--partition', 'a partition name (letters, digits, _ . , -)', `"${o.partition}"`);
  if (o.gres !== undefined && !/^[A-Za-z0-9_.:,-]{1,128}$/.test(o.gres))
    throw new OptionError('--gres', 'a generic resource such as gpu:1 or gpu:a100:2', `"${o.gres}"`);
  if (o.time !== undefined && !/^(\d{1,4}-)?\d{1,3}(:\d{2}){0,2}$/.test(o.time))
    throw new OptionError('--time', 'a Slurm time limit such as HH:MM:SS, MM or D-HH:MM:SS', `"${o.time}"`);
  if (o.jobName !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(o.jobName))
    throw new OptionError('--job-name', 'a name of letters, digits, _ . -', `"${o.jobName}"`);
  if (o.cpusPerTask !== undefined && (!Number.isInteger(o.cpusPerTask) || o.cpusPerTask < 1))
    throw new OptionError('--cpus-per-task', 'a positive integer', `${o.cpusPerTask}`);
}

/** The sbatch script of the array. */
export function sbatchScript(o: SlurmOptions): string {
  checkSlurmOptions(o);
  const lines = [
    '#!/bin/bash',
    `# cortical-rnn: ${o.workers} ${o.mode === 'queue' ? 'queue workers' : 'static shards'} as a Slurm job array.`,
    `#SBATCH --job-name=${o.jobName ?? 'cortical-rnn'}`,
    `#SBATCH --array=0-${o.workers - 1}`,
    `#SBATCH --output=${o.logDir}/%x-%A_%a.out`,
    '#SBATCH --ntasks=1',
    ...(o.cpusPerTask ? [`#SBATCH --cpus-per-task=${o.cpusPerTask}`] : []),
    ...(o.partition ? [`#SBATCH --partition=${o.partition}`] : []),
    ...(o.gres ? [`#SBATCH --gres=${o.gres}`] : []),
    ...(o.time ? [`#SBATCH --time=${o.time}`] : []),
    'set -euo pipefail',
    // sbatch exports the submitter's environment: not the CLI's own wrapper state.
    'unset CORTICAL_RNN_FILTERED CORTICAL_RNN_FILTER_PID CORTICAL_RNN_STDERR_TTY',
    `cd ${sh(o.cwd)}`,
  ];
  const cmd = [...o.cli, ...o.args].map(sh).join(' ');
  if (o.mode === 'queue') lines.push(`exec ${cmd}`);
  else lines.push(`exec ${cmd} --shard "$((SLURM_ARRAY_TASK_ID + 1))/${o.workers}"`);
  return lines.join('\n') + '\n';
}

/** Submits a script with sbatch; returns the (array) job id. */
export function submit(scriptPath: string): string {
  const r = spawnSync('sbatch', ['--parsable', scriptPath], { encoding: 'utf8' });
  if (r.error) {
    const code = (r.error as { code?: string }).code;
    throw new Error(
      `sbatch: expected Slurm's sbatch on the PATH, got ${code === 'ENOENT' ? 'no such command (install slurm-client, or use --dry-run)' : r.error.message}`,
    );
  }
  const id = r.stdout.trim().split('\n')[0]?.split(';')[0] ?? '';
  if (r.status !== 0 || !/^\d+$/.test(id)) {
    const msg = (r.stderr || r.stdout).trim().split('\n').join('; ');
    throw new Error(`sbatch ${scriptPath}: expected the job to be accepted, got ${msg || `exit status ${r.status}`}`);
  }
  return id;
}

const ACTIVE = new Set(['PENDING', 'CONFIGURING', 'RUNNING', 'COMPLETING', 'SUSPENDED', 'REQUEUED', 'REQUEUE_HOLD', 'RESIZING', 'SIGNALING', 'STAGE_OUT']);

/**
 * Waits until every task of an array job has ended, polling `scontrol show job` (sbatch --wait
 * polls at up to 30 s intervals), and fails naming the tasks that did not complete.
 */
export async function waitForArray(id: string, pollMs = 1000): Promise<void> {
  for (;;) {
    const r = spawnSync('scontrol', ['show', 'job', '-o', id], { encoding: 'utf8' });
    if (r.status !== 0)
      throw new Error(
        `scontrol show job ${id}: expected the state of the array job, got ${(r.stderr || `exit status ${r.status}`).trim().split('\n').join('; ')}`,
      );
    const tasks = r.stdout
      .split('\n')
      .filter((l) => l.includes('JobState='))
      .map((l) => ({ task: /ArrayTaskId=(\S+)/.exec(l)?.[1] ?? '?', state: /JobState=(\S+)/.exec(l)![1]!, exit: /\bExitCode=(\S+)/.exec(l)?.[1] ?? '?' }));
    if (tasks.length && tasks.every((t) => !ACTIVE.has(t.state))) {
      const bad = tasks.filter((t) => t.state !== 'COMPLETED');
      if (bad.length)
        throw new Error(
          `slurm: expected every task of array job ${id} to complete, got ${bad.map((t) => `task ${t.task} ${t.state} (exit ${t.exit})`).join(', ')}; see the task logs`,
        );
      return;
    }
    await new Promise((res) => setTimeout(res, pollMs));
  }
}
