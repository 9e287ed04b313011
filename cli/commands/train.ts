/**
 * `cortical-rnn train --field 6_6_2 --task pdm --variant 'W*D*C' --seed 1 [--positive] [--mode …]`
 * trains one network and writes its run directory (config.json, metrics.csv, W_rec per epoch as
 * .npy, final.json) under --out/runs/…. Progress goes to stderr.
 */
import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import { resolveDataDir } from '../../connectome/datadir.ts';
import { rnnDesignOf, withBackend, withBackendOption, withDesignOption, BACKEND_CHOICES } from '../common.ts';
import { PAPER_PROTOCOL, QUICK_PRESET, modeSettings, resolveProtocol, type Mode } from '../../experiments/protocol.ts';
import { readResumable, redoCorrupt, runOne } from '../../experiments/run.ts';
import { runRelDir } from '../../experiments/record.ts';
import { withDirLock } from '../../experiments/lock.ts';
import { prepareField } from '../../experiments/prepare.ts';
import { checkFieldMode } from '../../experiments/setup.ts';
import { getVariant } from '../../experiments/variants.ts';
import { getTask } from '../../tasks/index.ts';
import { REDO_CORRUPT_OPTION, overridesOf, withProtocolOptions, type ProtocolArgs } from '../../experiments/cli_options.ts';
import { OptionError } from '../../engine/errors.ts';

type Args = ProtocolArgs & {
  data?: string;
  field?: string;
  task: string;
  variant: string;
  seed: number;
  mode: string;
  positive: boolean;
  out: string;
  quick: boolean;
  backend: (typeof BACKEND_CHOICES)[number];
  rnnDesign?: string;
  overwrite: boolean;
  redoCorrupt: boolean;
  lambda?: number;
};

export const command: CommandModule<object, Args> = {
  command: 'train',
  describe: 'Train one network of the paper (field, task, variant, seed) and write its run directory',
  builder: (y) =>
    withDesignOption(withProtocolOptions(withBackendOption(y)))
      .option('field', { type: 'string', describe: 'imaging field (default 6_6_2; 5_3_4 with --quick)' })
      .option('task', { type: 'string', demandOption: true, describe: 'inference | gonogo | pdm (or any task name)' })
      .option('variant', { type: 'string', demandOption: true, describe: "variant, e.g. 'W*D*C' (quote it in the shell)" })
      .option('seed', { type: 'number', default: 1, describe: 'simulation seed' })
      .option('mode', {
        choices: ['paper', 'corrected'] as const,
        default: 'corrected' as const,
        describe: 'paper: the released code (bugs included); corrected: fixed geometry, floors and targets',
      })
      .option('lambda', { type: 'number', describe: "this run's regularisation strength λ (default: the protocol's 0.3); the run id gets lambda-<λ>" })
      .option('overwrite', { type: 'boolean', default: false, describe: 'replace a finished run in the run directory' })
      .option('redo-corrupt', REDO_CORRUPT_OPTION) as never,
  handler: async (a) => {
    if (!Number.isInteger(a.seed) || a.seed < 0) throw new OptionError('--seed', 'an integer ≥ 0', `${a.seed}`);
    const mode = modeSettings(a.mode as Mode).mode;
    const variant = getVariant(a.variant);
    const task = getTask(a.task);
    const field = a.field ?? (a.quick ? QUICK_PRESET.field : '6_6_2');
    const protocol = resolveProtocol(a.quick ? QUICK_PRESET.protocol : PAPER_PROTOCOL, overridesOf(a));
    const dataDir = resolveDataDir(a.data);
    checkFieldMode(prepareField(dataDir, field), mode); // a bad field, data file or mode fails here, before anything is announced
    if (a.lambda !== undefined && !(Number.isFinite(a.lambda) && a.lambda >= 0)) throw new OptionError('--lambda', 'a number ≥ 0', `${a.lambda}`);
    const spec = {
      field,
      task: task.name,
      variant: variant.name,
      seed: a.seed,
      mode,
      positive: a.positive,
      ...(a.lambda !== undefined ? { lambda: a.lambda } : {}),
    };
    const dir = join(a.out, runRelDir(spec));
    const design = rnnDesignOf(a);

    const trainOne = () =>
      withBackend(a, async (backend) => {
        process.stderr.write(
          `train: ${variant.name} on ${task.name}, field ${field}, seed ${a.seed}, ${mode} mode${a.positive ? ', positive-only' : ''} → ${dir}\n`,
        );
        const rec = await runOne(spec, { dataDir, backend, protocol, dir, design });
        if (rec.status === 'ok') {
          process.stdout.write(
            `${dir}: test accuracy ${rec.accuracy!.test.toFixed(4)}, paper accuracy (running, noise on) ${rec.accuracy!.paper.toFixed(4)}, Q ${rec.metrics!.Q_cnm.toFixed(3)}\n`,
          );
        } else {
          process.stdout.write(`${dir}: diverged at step ${rec.divergence!.step} (${rec.divergence!.tensor})\n`);
        }
      });
    const log = (l: string) => process.stderr.write(l + '\n');
    await withDirLock(a.out, 'train', log, async () => {
      const done = readResumable(dir, a.redoCorrupt ? (e) => redoCorrupt(dir, e, 'train', log) : undefined);
      if (done && !a.overwrite) {
        throw new Error(
          `${join(dir, 'final.json')}: expected no finished run here, got run ${done.id} (finished ${done.finishedAt}); pass --overwrite to replace it, or another --out`,
        );
      }
      await trainOne();
    });
  },
};
