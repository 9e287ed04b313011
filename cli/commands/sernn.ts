/**
 * `cortical-rnn sernn [--strengths 8] [--seeds 5] [--out results/sernn]` runs the seRNN experiment
 * (experiments/sernn.ts): L1 and seRNN networks of 100 units on a 5 × 5 × 4 grid across
 * regularisation strengths, on the one-step inference task. It is the sweep with a preset plan, so
 * it resumes, batches and writes the same run directories; `report DIR` draws its figures.
 */
import type { CommandModule } from 'yargs';
import { resolveDataDir } from '../../connectome/datadir.ts';
import { withBackend, withBackendOption, BACKEND_CHOICES } from '../common.ts';
import { resolveProtocol } from '../../experiments/protocol.ts';
import { parseSeeds, sweep } from '../../experiments/sweep.ts';
import { parseSernnFill, parseSernnStrengths, sernnPlan, SERNN_PROTOCOL } from '../../experiments/sernn.ts';
import { formatDuration } from '../../experiments/progress.ts';
import { checkQueueName, parseQueueUrl, DEFAULT_QUEUE_NAME } from '../../experiments/queue_redis.ts';
import { queueSweep } from '../../experiments/queue_coordinator.ts';
import { REDO_CORRUPT_OPTION, overridesOf, withProtocolOptions, type ProtocolArgs } from '../../experiments/cli_options.ts';
import { OptionError } from '../../engine/errors.ts';

type Args = ProtocolArgs & {
  data?: string;
  strengths: string;
  fill?: string;
  seeds: string;
  seedStart: number;
  out: string;
  backend: (typeof BACKEND_CHOICES)[number];
  modelsPerBatch?: number;
  allowMixedCommits: boolean;
  redoCorrupt: boolean;
  queue?: string;
  queueName: string;
};

export const command: CommandModule<object, Args> = {
  command: 'sernn',
  describe: 'The seRNN experiment: L1 vs spatially embedded RNNs across regularisation strengths (resumable)',
  builder: (y) =>
    withProtocolOptions(withBackendOption(y))
      .option('strengths', {
        type: 'string',
        default: '8',
        describe:
          'ladder strengths per family, a count or FAMILY=COUNT each (L1=11,seRNN=8): 8 span two decades from the weakest (L1 3e-5, seRNN 0.01); more extend the range upward',
      })
      .option('fill', {
        type: 'string',
        describe: 'strengths added evenly spaced within a range, FAMILY=LO-HIxCOUNT[,…] (e.g. seRNN=0.07-0.3x8)',
      })
      .option('seeds', { type: 'string', default: '5', describe: 'a count (5 → seeds 1..5) or a comma list' })
      .option('seed-start', { type: 'number', default: 1, describe: 'first seed when --seeds is a count' })
      .option('out', { type: 'string', default: 'results/sernn', describe: 'results directory' })
      .option('models-per-batch', {
        type: 'number',
        describe: "networks trained together (default: as many as the adapter's memory allows, up to 64; 1 on the CPU reference backend)",
      })
      .option('allow-mixed-commits', { type: 'boolean', default: false, describe: 'resume a directory whose finished runs came from another commit' })
      .option('redo-corrupt', REDO_CORRUPT_OPTION)
      .option('queue', { type: 'string', describe: 'coordinate `cortical-rnn worker`s through this Redis instead of training here (see sweep --queue)' })
      .option('queue-name', { type: 'string', default: DEFAULT_QUEUE_NAME, describe: 'the BullMQ queue (one per sweep directory)' }) as never,
  handler: async (a) => {
    if ((a as { quick?: boolean }).quick || (a as { positive?: boolean }).positive)
      throw new OptionError('--quick/--positive', 'neither (the seRNN experiment has its own preset; shrink it with --strengths, --seeds, --epochs)', 'set');
    const plan = sernnPlan({ strengths: parseSernnStrengths(String(a.strengths)), fill: parseSernnFill(a.fill) }, parseSeeds(a.seeds, a.seedStart));
    const protocol = resolveProtocol(SERNN_PROTOCOL, overridesOf(a));
    // The grid field needs no data; a data directory is only recorded when there is one.
    const dataDir = a.data !== undefined ? resolveDataDir(a.data) : dataDirIfAny();
    if (a.queue !== undefined) {
      const r = await queueSweep({
        ...plan,
        queue: parseQueueUrl(a.queue),
        queueName: checkQueueName(a.queueName),
        out: a.out,
        dataDir,
        protocol,
        preset: 'sernn',
        allowMixedCommits: a.allowMixedCommits,
        redoCorrupt: a.redoCorrupt,
      });
      if (r.failed.length)
        throw new Error(`sernn --queue: expected every network to finish, got ${r.failed.length} failed: ${r.failed.map((f) => f.id).join('; ')}`);
      process.stdout.write(`sernn done: ${r.planned.length} networks (${r.ran.length} trained by the workers, ${r.skipped.length} already done) → ${a.out}\n`);
      return;
    }
    await withBackend(a, async (backend) => {
      if (a.modelsPerBatch !== undefined && (!Number.isInteger(a.modelsPerBatch) || a.modelsPerBatch < 1))
        throw new OptionError('--models-per-batch', 'a positive integer', `${a.modelsPerBatch}`);
      const r = await sweep({
        ...plan,
        out: a.out,
        dataDir,
        backend,
        protocol,
        preset: 'sernn',
        modelsPerBatch: a.modelsPerBatch,
        allowMixedCommits: a.allowMixedCommits,
        redoCorrupt: a.redoCorrupt,
      });
      const div = Object.values(r.manifest.runs).filter((x) => x.status === 'diverged').length;
      process.stdout.write(
        `sernn done: ${r.planned.length} networks (${r.ran.length} trained now, ${r.skipped.length} already done; ${div} diverged) in ${formatDuration(r.wallSeconds)} → ${a.out}\n`,
      );
    });
  },
};

function dataDirIfAny(): string {
  try {
    return resolveDataDir();
  } catch {
    return '';
  }
}
