/**
 * `cortical-rnn sweep --field 6_6_2 --tasks all --variants paper --seeds 20 [--positive] [--mode …] [--out DIR] [--quick]`
 * runs the grid, resumably: a killed sweep rerun with the same arguments continues where it
 * stopped (runs with a final.json are skipped, partial ones redone). A corrupt final.json stops
 * it; `--redo-corrupt` retrains such runs, keeping the old file aside.
 *
 * `--queue redis://HOST:PORT` makes it the coordinator of `cortical-rnn worker`s (it enqueues
 * the runs and waits); `--shard I/N` runs a deterministic 1/N of the grid.
 */
import type { CommandModule } from 'yargs';
import { resolveDataDir } from '../../connectome/datadir.ts';
import { rnnDesignOf, withBackend, withBackendOption, withDesignOption, BACKEND_CHOICES } from '../common.ts';
import { PAPER_PROTOCOL, QUICK_PRESET, parseModes, resolveProtocol } from '../../experiments/protocol.ts';
import { parseLambdas, parseSeeds, parseTaskList, sweep } from '../../experiments/sweep.ts';
import { parseVariantList } from '../../experiments/variants.ts';
import { formatDuration } from '../../experiments/progress.ts';
import { REDO_CORRUPT_OPTION, overridesOf, withProtocolOptions, type ProtocolArgs } from '../../experiments/cli_options.ts';
import { OptionError } from '../../engine/errors.ts';
import { checkQueueName, parseQueueUrl, DEFAULT_QUEUE_NAME } from '../../experiments/queue_redis.ts';
import { queueSweep } from '../../experiments/queue_coordinator.ts';
import { parseShard } from '../../experiments/shards.ts';

type Args = ProtocolArgs & {
  data?: string;
  field?: string;
  tasks?: string;
  variants?: string;
  seeds?: string;
  seedStart: number;
  mode: string;
  positive: boolean;
  out: string;
  quick: boolean;
  backend: (typeof BACKEND_CHOICES)[number];
  rnnDesign?: string;
  modelsPerBatch?: number;
  allowMixedCommits: boolean;
  redoCorrupt: boolean;
  lambdas?: string;
  queue?: string;
  queueName: string;
  shard?: string;
};

export const command: CommandModule<object, Args> = {
  command: 'sweep',
  describe: 'Run the grid of tasks × variants × seeds (resumable); --quick for a few-minute CPU run',
  builder: (y) =>
    withDesignOption(withProtocolOptions(withBackendOption(y)))
      .option('field', { type: 'string', describe: 'imaging field (default 6_6_2; quick: 5_3_4)' })
      .option('tasks', { type: 'string', describe: "'all' (inference, gonogo, pdm) or a comma list (default all; quick: gonogo,pdm)" })
      .option('variants', {
        type: 'string',
        describe: "'paper' (11), 'extra' (2 controls), 'all', or a comma list (default paper; quick: W,WD*C,W*D*C,W*D*C*)",
      })
      .option('seeds', { type: 'string', describe: 'a count (20 → seeds 1..20) or a comma list (default 20; quick: 2)' })
      .option('seed-start', { type: 'number', default: 1, describe: 'first seed when --seeds is a count' })
      .option('mode', { type: 'string', default: 'corrected', describe: "'paper', 'corrected' or 'both'" })
      .option('models-per-batch', {
        type: 'number',
        describe:
          "networks trained together in the same dispatches (default: as many as the adapter's memory allows, up to 64; 1 on the CPU reference backend)",
      })
      .option('lambdas', { type: 'string', describe: "regularisation strengths, e.g. '0.001,0.01,0.1': one run per λ and variant (default: the protocol's λ)" })
      .option('allow-mixed-commits', { type: 'boolean', default: false, describe: 'resume a directory whose finished runs came from another commit' })
      .option('redo-corrupt', REDO_CORRUPT_OPTION)
      .option('queue', {
        type: 'string',
        describe:
          'coordinate `cortical-rnn worker`s through this Redis (redis://[USER:PASSWORD@]HOST:PORT[/DB], rediss:// for TLS): enqueue the runs, wait for them',
      })
      .option('queue-name', { type: 'string', default: DEFAULT_QUEUE_NAME, describe: 'the BullMQ queue (one per sweep directory)' })
      .option('shard', { type: 'string', describe: 'run only shard I of N of the grid (I/N, 1 ≤ I ≤ N; shards balanced by expected cost)' })
      .conflicts('queue', 'shard') as never,
  handler: async (a) => {
    const q = a.quick;
    const field = a.field ?? (q ? QUICK_PRESET.field : '6_6_2');
    const tasks = parseTaskList(a.tasks ?? (q ? QUICK_PRESET.tasks.join(',') : 'all'));
    const variants = parseVariantList(a.variants ?? (q ? QUICK_PRESET.variants : 'paper'));
    const seeds = parseSeeds(a.seeds ?? (q ? String(QUICK_PRESET.seeds) : '20'), a.seedStart);
    const modes = parseModes(a.mode);
    const protocol = resolveProtocol(q ? QUICK_PRESET.protocol : PAPER_PROTOCOL, overridesOf(a));
    const dataDir = resolveDataDir(a.data);
    const lambdas = a.lambdas === undefined ? undefined : parseLambdas(a.lambdas);
    const shard = a.shard !== undefined ? parseShard(a.shard) : undefined;
    // The plan and settings shared by the queue coordinator and the local sweep.
    const common = {
      out: a.out,
      dataDir,
      field,
      tasks,
      variants,
      seeds,
      modes,
      positive: a.positive,
      ...(lambdas ? { lambdas: Object.fromEntries(variants.map((v) => [v.name, lambdas])) } : {}),
      protocol,
      preset: q ? 'quick' : null,
      allowMixedCommits: a.allowMixedCommits,
      redoCorrupt: a.redoCorrupt,
    };
    if (a.queue !== undefined) {
      // The coordinator trains nothing: no adapter, only Redis and the shared --out.
      const queue = parseQueueUrl(a.queue);
      const r = await queueSweep({
        queue,
        queueName: checkQueueName(a.queueName),
        ...common,
      });
      if (r.failed.length) {
        throw new Error(
          `sweep --queue: expected every run to finish, got ${r.failed.length} failed: ${r.failed.map((f) => `${f.id} (${f.reason})`).join('; ')}`,
        );
      }
      process.stdout.write(
        `sweep done: ${r.planned.length} runs${shard ? ` of shard ${shard.index}/${shard.count}` : ''} (${r.ran.length} run by the workers, ${r.skipped.length} already done) in ${formatDuration(r.wallSeconds)} → ${a.out}\n`,
      );
      return;
    }
    const design = rnnDesignOf(a);
    await withBackend(a, async (backend) => {
      if (a.modelsPerBatch !== undefined && (!Number.isInteger(a.modelsPerBatch) || a.modelsPerBatch < 1))
        throw new OptionError('--models-per-batch', 'a positive integer', `${a.modelsPerBatch}`);
      const r = await sweep({
        ...common,
        backend,
        design,
        modelsPerBatch: a.modelsPerBatch,
        shard,
      });
      const runs = Object.values(r.manifest.runs);
      const div = runs.filter((x) => x.status === 'diverged').length;
      process.stdout.write(
        `sweep done: ${r.planned.length} runs${shard ? ` of shard ${shard.index}/${shard.count}` : ''} (${r.ran.length} run now, ${r.skipped.length} already done; ${div} diverged in the directory) in ${formatDuration(r.wallSeconds)} → ${a.out}\n`,
      );
    });
  },
};
