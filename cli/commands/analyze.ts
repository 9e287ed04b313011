/**
 * `cortical-rnn analyze RUN_DIR [--epoch final|init|K] [--accuracy]`: recompute a saved network's
 * metrics. `cortical-rnn analyze SWEEP_DIR`: fill in what every finished run's modules follow.
 */
import type { CommandModule } from 'yargs';
import { withBackend, withBackendOption, BACKEND_CHOICES } from '../common.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { reanalyzeRunDir } from '../../experiments/reanalyze.ts';
import { fillModuleAlignment } from '../../experiments/modules_follow.ts';
import { resolveDataDir } from '../../connectome/datadir.ts';
import { OptionError } from '../../engine/errors.ts';

type Args = { run: string; data?: string; epoch: string; accuracy: boolean; nNull?: number; nMatched?: number; backend: (typeof BACKEND_CHOICES)[number] };

export const command: CommandModule<object, Args> = {
  command: 'analyze <run>',
  describe:
    "Recompute a saved run's network metrics (Q, σ, entropy, what its modules follow, …) from its W_rec into RUN/analysis.json; given a sweep directory, write what every finished run's recorded modules follow into its final.json",
  builder: (y) =>
    withBackendOption(y)
      .positional('run', {
        type: 'string',
        demandOption: true,
        describe: 'a run directory (…/runs/<mode>/<field>/<task>/<variant>/seed-<k>), or a sweep directory (one holding runs/)',
      })
      .option('data', { type: 'string', describe: 'the data directory the runs were trained on (default: $CORTICAL_RNN_DATA, else ../shared/data)' })
      .option('epoch', { type: 'string', default: 'final', describe: "'final', 'init' or an epoch number" })
      .option('accuracy', { type: 'boolean', default: false, describe: 'also re-evaluate the held-out test accuracy from params_final/' })
      .option('n-null', { type: 'number', describe: 'paper null graphs (default: the run protocol)' })
      .option('n-matched', { type: 'number', describe: 'rewired null graphs (default: the run protocol)' }) as never,
  handler: async (a) => {
    if (existsSync(join(a.run, 'runs'))) return fillSweep(a.run, resolveDataDir(a.data));
    const epoch = a.epoch === 'final' || a.epoch === 'init' ? a.epoch : Number(a.epoch);
    if (typeof epoch === 'number' && !(Number.isInteger(epoch) && epoch >= 1))
      throw new OptionError('--epoch', `'final', 'init' or an epoch number ≥ 1`, `"${a.epoch}"`);
    const go = async (backend?: import('../../engine/tensor.ts').Backend) => {
      const r = await reanalyzeRunDir(a.run, { epoch, nNull: a.nNull, nMatched: a.nMatched, backend, dataDir: resolveDataDir(a.data) });
      const m = r.metrics;
      const lines = [
        `${r.dir} (${r.file})`,
        `  Q_cnm ${m.Q_cnm.toFixed(4)}  Q_louvain ${m.Q_louvain.toFixed(4)}  modules ${m.n_modules_cnm}`,
        `  σ_paper ${m.sigma_paper.toFixed(4)}  σ_matched ${m.sigma_matched.toFixed(4)}  SWP ${m.swp.toFixed(4)}`,
        `  entropy ${m.entropy_kde_bits.toFixed(4)} bits (KDE), ${m.entropy_rowwise_bits.toFixed(4)} bits (row-wise)`,
        `  clustering ${m.clustering.toFixed(4)}  efficiency ${m.efficiency.toFixed(4)}  density ${m.density.toFixed(4)}`,
      ];
      for (const [name, v] of Object.entries(m.module_alignment?.cnm.labellings ?? {}))
        if (v) lines.push(`  modules vs ${name}: NMI ${v.nmi.toFixed(3)}  ARI ${v.ari.toFixed(3)}  p ${v.p_nmi.toFixed(3)}`);
      if (r.accuracy) lines.push(`  test accuracy ${r.accuracy.test.toFixed(4)} (loss ${r.accuracy.loss.toFixed(4)})`);
      if (r.differences) {
        const worst = Object.entries(r.differences).sort((x, y) => y[1] - x[1])[0];
        lines.push(`  vs final.json: largest difference ${worst ? `${worst[0]} ${worst[1].toExponential(2)}` : 'none'}`);
      }
      lines.push(`  → ${r.dir}/analysis.json`);
      process.stdout.write(lines.join('\n') + '\n');
    };
    if (a.accuracy) await withBackend(a, (b) => go(b));
    else await go();
  },
};

/** Fills in what the modules follow for every finished run of a sweep directory. */
async function fillSweep(dir: string, dataDir: string): Promise<void> {
  const r = await fillModuleAlignment(dir, dataDir, (line) => process.stdout.write(line + '\n'));
  const skipped = r.skipped.length ? `, ${r.skipped.length} skipped (${[...new Set(r.skipped.map((s) => s.why))].join('; ')})` : '';
  process.stdout.write(`analyze: module alignment written to ${r.written} final.json files, ${r.unchanged} already current${skipped}\n`);
}
