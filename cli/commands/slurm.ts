/**
 * `cortical-rnn slurm --workers N --queue URL --out DIR [--partition P] [--gres gpu:1] [--time HH:MM:SS]`
 * writes an sbatch script that starts N queue workers as a Slurm job array and submits it;
 * with `--shard`, the N tasks run `sweep --shard I/N` with the sweep arguments given after `--`.
 * `--dry-run` prints the script instead.
 */
import { resolve, join } from 'node:path';
import type { CommandModule } from 'yargs';
import { resolveDataDir } from '../../connectome/datadir.ts';
import { BACKEND_CHOICES } from '../common.ts';
import { checkQueueName, parseQueueUrl, DEFAULT_QUEUE_NAME } from '../../experiments/queue_redis.ts';
import { checkSlurmOptions, sbatchScript, submit, waitForArray } from '../../experiments/slurm.ts';
import { makeDir, writeFileAtomic } from '../../experiments/files.ts';
import { OptionError } from '../../engine/errors.ts';

type Args = {
  _: (string | number)[];
  data?: string;
  workers: number;
  queue?: string;
  queueName: string;
  shard: boolean;
  out: string;
  partition?: string;
  gres?: string;
  time?: string;
  cpusPerTask?: number;
  jobName: string;
  backend?: (typeof BACKEND_CHOICES)[number];
  modelsPerBatch?: number;
  idleExit: number;
  script?: string;
  dryRun: boolean;
  wait: boolean;
};

/** How the nodes start this CLI: this node and this entry point (a shared install). */
function cliArgv(): string[] {
  const entry = process.argv[1];
  return entry && /cortical-rnn(\.js)?$/.test(entry) ? [process.execPath, resolve(entry)] : ['cortical-rnn'];
}

export const command: CommandModule<object, Args> = {
  command: 'slurm',
  describe: 'Start queue workers (or --shard sweeps) as a Slurm job array: write the sbatch script and submit it',
  builder: (y) =>
    y
      .usage('$0 slurm --workers N (--queue URL | --shard) --out DIR [options] [-- sweep or worker arguments]')
      .option('workers', { type: 'number', demandOption: true, describe: 'array size: workers, or shards with --shard' })
      .option('queue', { type: 'string', describe: 'the Redis of a `sweep --queue` the workers serve' })
      .option('queue-name', { type: 'string', default: DEFAULT_QUEUE_NAME, describe: 'the BullMQ queue' })
      .option('shard', { type: 'boolean', default: false, describe: 'static shards: task I runs `sweep --shard I/N` with the arguments after --' })
      .option('out', { type: 'string', demandOption: true, describe: 'results directory on a filesystem the nodes share (task logs go to DIR/slurm)' })
      .option('partition', { type: 'string', describe: 'Slurm partition' })
      .option('gres', { type: 'string', describe: 'generic resources per task, e.g. gpu:1' })
      .option('time', { type: 'string', describe: 'time limit per task (HH:MM:SS)' })
      .option('cpus-per-task', { type: 'number', describe: 'CPUs per task' })
      .option('job-name', { type: 'string', default: 'cortical-rnn', describe: 'Slurm job name' })
      .option('backend', { choices: BACKEND_CHOICES, describe: "the workers' backend (default: theirs, 'gpu')" })
      .option('models-per-batch', { type: 'number', describe: 'networks per batch on each worker (default: from its adapter)' })
      .option('idle-exit', { type: 'number', default: 60, describe: 'a worker exits once the queue has been idle this many seconds' })
      .option('script', { type: 'string', describe: 'where to write the sbatch script (default DIR/slurm/JOB-NAME-TIME.sbatch)' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'print the script, submit nothing' })
      .option('wait', { type: 'boolean', default: false, describe: 'wait until every task of the array has ended; fail if one did not complete' }) as never,
  handler: async (a) => {
    checkSlurmOptions({ workers: a.workers, partition: a.partition, gres: a.gres, time: a.time, jobName: a.jobName, cpusPerTask: a.cpusPerTask });
    if (a.shard === (a.queue !== undefined))
      throw new OptionError('--queue', 'a Redis URL for queue workers, or --shard for static shards (one of the two)', a.shard ? 'both' : 'neither');
    if (!Number.isFinite(a.idleExit) || a.idleExit <= 0) throw new OptionError('--idle-exit', 'a positive number of seconds', `${a.idleExit}`);
    const out = resolve(a.out);
    const data = resolve(resolveDataDir(a.data));
    const extra = a._.slice(1).map(String);
    const backend = a.backend ? ['--backend', a.backend] : [];
    const batch = a.modelsPerBatch !== undefined ? ['--models-per-batch', String(a.modelsPerBatch)] : [];
    const args = a.shard
      ? ['sweep', ...extra, ...backend, ...batch, '--out', out, '--data', data]
      : [
          'worker',
          '--queue',
          parseQueueUrl(a.queue!).url,
          '--queue-name',
          checkQueueName(a.queueName),
          '--out',
          out,
          '--data',
          data,
          '--idle-exit',
          String(a.idleExit),
          ...backend,
          ...batch,
          ...extra,
        ];
    const logDir = join(out, 'slurm');
    const script = sbatchScript({
      workers: a.workers,
      mode: a.shard ? 'shard' : 'queue',
      cli: cliArgv(),
      args,
      cwd: process.cwd(),
      logDir,
      jobName: a.jobName,
      partition: a.partition,
      gres: a.gres,
      time: a.time,
      cpusPerTask: a.cpusPerTask,
    });
    if (a.dryRun) {
      process.stdout.write(script);
      return;
    }
    await makeDir(logDir);
    const path = resolve(a.script ?? join(logDir, `${a.jobName}-${new Date().toISOString().replace(/[:.]/g, '-')}.sbatch`));
    await writeFileAtomic(path, script);
    const id = submit(path);
    process.stdout.write(`submitted array job ${id}: ${a.workers} ${a.shard ? 'shards' : 'workers'} (${path}; logs in ${logDir})\n`);
    if (!a.wait) return;
    await waitForArray(id);
    process.stdout.write(`array job ${id} done: ${a.workers} ${a.shard ? 'shards' : 'workers'}\n`);
  },
};
