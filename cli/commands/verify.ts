import type { CommandModule } from 'yargs';
import { readFile } from 'node:fs/promises';
import { verifyRnnFixture, type VerifyReport } from '../../engine/verify.ts';
import { rnnDesignOf, withBackend, withBackendOption, withDesignOption, BACKEND_CHOICES } from '../common.ts';
import { rnnFixtureRegularizer, verifyRegularizerFormat } from '../../engine/verify_formats.ts';
import { fsProblem } from '../../experiments/files.ts';

type Args = { fixture: string; backend: (typeof BACKEND_CHOICES)[number]; rnnDesign?: string };

export const command: CommandModule<object, Args> = {
  command: 'verify <fixture>',
  describe: 'Check the engine against a reference fixture (formats rnn_bptt_ref/1, regularizer_ref/1); prints JSON, exits non-zero on failure',
  builder: (y) => withDesignOption(withBackendOption(y)).positional('fixture', { type: 'string', demandOption: true, describe: 'fixture JSON file' }),
  handler: async (args) => {
    let fx: Record<string, unknown>;
    try {
      fx = JSON.parse(await readFile(args.fixture, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`${args.fixture}: expected a fixture JSON file, got ${fsProblem(e) ?? `unparseable text (${(e as Error).message})`}`, { cause: e });
    }
    const design = rnnDesignOf(args);
    const report: VerifyReport = await withBackend(args, async (backend) => {
      switch (fx.format) {
        case 'rnn_bptt_ref/1':
          return verifyRnnFixture(backend, fx, { makeRegularizer: rnnFixtureRegularizer, design }, args.fixture);
        case 'regularizer_ref/1':
          return verifyRegularizerFormat(backend, fx, args.fixture);
        default:
          throw new Error(`${args.fixture}: unknown fixture format '${String(fx.format)}' (known: rnn_bptt_ref/1, regularizer_ref/1)`);
      }
    });
    console.log(JSON.stringify(report, null, 2));
    if (!report.pass) process.exitCode = 1;
  },
};
