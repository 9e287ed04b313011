#!/usr/bin/env node
/**
 * The cortical-rnn command line: a thin layer over the library. Each command lives in
 * cli/commands/<name>.ts and exports a yargs CommandModule named `command`.
 *
 * Every failure ends as one line on stderr, `cortical-rnn: <what>: expected <…>, got <…>`, with
 * exit status 2 for usage errors (unknown commands, bad or missing flags) and 1 for the rest;
 * the stack trace only under --verbose or DEBUG=cortical-rnn.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { OptionError } from '../engine/errors.ts';
import { commands } from './commands/index.ts';

/** A command line yargs could not make sense of. */
class UsageError extends Error {}

/** Path options and positionals: an empty value is an unset shell variable, never a path. */
const PATH_ARGS: Record<string, string> = { data: '--data', out: '--out', dir: 'DIR', run: 'RUN_DIR', fixture: 'FIXTURE', results: '--results' };

export async function main(argv: string[]): Promise<void> {
  let cli = yargs(argv)
    .scriptName('cortical-rnn')
    .usage('$0 <command> [options]')
    .option('data', {
      type: 'string',
      describe: 'MICrONS data directory (default: $CORTICAL_RNN_DATA or ../shared/data)',
      global: true,
    })
    .option('verbose', { type: 'boolean', global: true, describe: 'stack traces on errors, and the WebGPU driver’s start-up warnings' })
    .middleware((a) => {
      for (const [k, name] of Object.entries(PATH_ARGS)) {
        if (a[k] === '') throw new OptionError(name, 'a path', 'an empty string (an unset shell variable?)');
      }
    })
    .strictCommands()
    .demandCommand(1, 'Name a command; see --help.')
    .recommendCommands()
    .showHelpOnFail(false)
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    })
    .help()
    .wrap(Math.min(110, process.stdout.columns ?? 100));
  for (const c of commands) cli = cli.command(c);
  await cli.parseAsync();
}

const verbose = process.argv.includes('--verbose') || /(^|,)cortical-rnn(,|$)/.test(process.env.DEBUG ?? '') || Boolean(process.env.CORTICAL_RNN_DEBUG);

main(hideBin(process.argv)).catch((err: unknown) => {
  const e = err instanceof Error ? err : new Error(String(err));
  // One line: a multi-line message (a WGSL compiler's) keeps its lines, joined.
  const line = e.message
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join('; ');
  process.stderr.write(`cortical-rnn: ${line}\n`);
  if (verbose && e.stack) process.stderr.write(`${e.stack}\n`);
  process.exitCode = err instanceof UsageError || err instanceof OptionError ? 2 : 1;
});
