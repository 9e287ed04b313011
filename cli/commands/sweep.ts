/**
 * `cortical-rnn sweep --field 6_6_2 --tasks all --variants paper --seeds 20 [--positive] [--mode …] [--out DIR] [--quick]`
 * runs the grid, resumably: a killed sweep rerun with the same arguments continues where it
 * stopped (runs with a final.json are skipped, partial ones redone).
 */
import type { CommandModule } from 'yargs';
import { resolveDataDir } from '../../connectome/datadir.ts';
import { withBackend, withBackendOption, BACKEND_CHOICES } from '../common.ts';
import { PAPER_PROTOCOL, QUICK_PRESET, parseModes, resolveProtocol } from '../../experiments/protocol.ts';
import { parseLambdas, parseSeeds, parseTaskList, sweep } from '../../experiments/sweep.ts';
import { parseVariantList } from '../../experiments/variants.ts';
import { formatDuration } from '../../experiments/progress.ts';
import { overridesOf, withProtocolOptions, type ProtocolArgs } from '../../experiments/cli_options.ts';
import { OptionError } from '../../engine/errors.ts';

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
  modelsPerBatch?: number;
  allowMixedCommits: boolean;
  lambdas?: string;
};

export const command: CommandModule<object, Args> = {
  command: 'sweep',
  describe: 'Run the grid of tasks × variants × seeds (resumable); --quick for a few-minute CPU run',
  builder: (y) =>
    withProtocolOptions(withBackendOption(y))
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
        describe: 'networks trained together in the same dispatches (default: from the adapter; 1 on CPU adapters)',
      })
      .option('lambdas', { type: 'string', describe: "regularisation strengths, e.g. '0.001,0.01,0.1': one run per λ and variant (default: the protocol's λ)" })
      .option('allow-mixed-commits', { type: 'boolean', default: false, describe: 'resume a directory whose finished runs came from another commit' }) as never,
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
    await withBackend(a, async (backend) => {
      if (a.modelsPerBatch !== undefined && (!Number.isInteger(a.modelsPerBatch) || a.modelsPerBatch < 1))
        throw new OptionError('--models-per-batch', 'a positive integer', `${a.modelsPerBatch}`);
      const r = await sweep({
        out: a.out,
        dataDir,
        backend,
        field,
        tasks,
        variants,
        seeds,
        modes,
        positive: a.positive,
        ...(lambdas ? { lambdas: Object.fromEntries(variants.map((v) => [v.name, lambdas])) } : {}),
        protocol,
        preset: q ? 'quick' : null,
        modelsPerBatch: a.modelsPerBatch,
        allowMixedCommits: a.allowMixedCommits,
      });
      const runs = Object.values(r.manifest.runs);
      const div = runs.filter((x) => x.status === 'diverged').length;
      process.stdout.write(
        `sweep done: ${r.planned.length} runs (${r.ran.length} run now, ${r.skipped.length} already done; ${div} diverged in the directory) in ${formatDuration(r.wallSeconds)} → ${a.out}\n`,
      );
    });
  },
};
