/**
 * The main job on the bundled defaults: name the adapter, check the engine against the shipped
 * float64 fixture, then the quick paper reproduction (`sweep --quick` on field 5_3_4 and its
 * report). About five minutes on a 2-core CPU machine; resumable like any sweep.
 */
import type { CommandModule } from 'yargs';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { verifyRnnFixture } from '../../engine/verify.ts';
import { rnnFixtureRegularizer } from '../../engine/verify_formats.ts';
import { resolveDataDir } from '../../connectome/datadir.ts';
import { QUICK_PRESET, resolveProtocol } from '../../experiments/protocol.ts';
import { parseSeeds, sweep } from '../../experiments/sweep.ts';
import { parseVariantList } from '../../experiments/variants.ts';
import { writeReport } from '../../experiments/report.ts';
import { formatDuration } from '../../experiments/progress.ts';
import { withBackend, withBackendOption, BACKEND_CHOICES } from '../common.ts';
import { REDO_CORRUPT_OPTION } from '../../experiments/cli_options.ts';

type Args = { backend: (typeof BACKEND_CHOICES)[number]; out: string; fixtures: string; data?: string; redoCorrupt: boolean };

export const command: CommandModule<object, Args> = {
  command: 'quickstart',
  describe: 'The main job on bundled defaults: adapter, fixture check, quick paper reproduction (sweep --quick + report)',
  builder: (y) =>
    withBackendOption(y)
      .option('out', { type: 'string', default: 'results/quick', describe: 'sweep and report directory' })
      .option('fixtures', { type: 'string', default: process.env.CORTICAL_RNN_FIXTURES ?? '../shared/fixtures', describe: 'reference fixtures directory' })
      .option('redo-corrupt', REDO_CORRUPT_OPTION) as never,
  handler: async (args) => {
    const dataDir = resolveDataDir(args.data);
    await withBackend(args, async (backend) => {
      console.log(`backend: ${backend.describe()}`);
      const fixture = `${args.fixtures}/rnn_bptt_ref.json`;
      if (existsSync(fixture)) {
        const report = await verifyRnnFixture(backend, JSON.parse(await readFile(fixture, 'utf8')), { makeRegularizer: rnnFixtureRegularizer }, fixture);
        const checked = report.quantities.filter((q) => q.status !== 'not checked');
        console.log(`fixture ${fixture}: ${report.pass ? 'pass' : 'FAIL'} (${checked.length} quantities against PyTorch float64)`);
        if (!report.pass) throw new Error('the engine does not reproduce the reference fixture; see `cortical-rnn verify`');
      } else {
        console.log(`fixture ${fixture} not found; skipping the reference check`);
      }
      console.log(
        `quick paper reproduction: field ${QUICK_PRESET.field}, tasks ${QUICK_PRESET.tasks.join(', ')}, variants ${QUICK_PRESET.variants}, ${QUICK_PRESET.seeds} seeds → ${args.out}`,
      );
      const r = await sweep({
        out: args.out,
        dataDir,
        backend,
        field: QUICK_PRESET.field,
        tasks: [...QUICK_PRESET.tasks],
        variants: parseVariantList(QUICK_PRESET.variants),
        seeds: parseSeeds(String(QUICK_PRESET.seeds), 1),
        modes: ['corrected'],
        positive: false,
        protocol: resolveProtocol(QUICK_PRESET.protocol, {}),
        preset: 'quick',
        redoCorrupt: args.redoCorrupt,
      });
      const out = await writeReport(args.out);
      console.log(`sweep: ${r.planned.length} runs (${r.ran.length} trained now) in ${formatDuration(r.wallSeconds)}; report: ${out.html}`);
    });
  },
};
