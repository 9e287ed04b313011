/**
 * `cortical-rnn tune [--task inference] [--units 312] [--batch 128] [--networks 1,55] [--json]` times every
 * recurrent design that fits the shape on this adapter (forward + BPTT) with each matmul design
 * that runs here, and the K networks' WDC cost with each (engine/gpu/tune.ts), prints the
 * table, and caches each winning pair where training looks for it. It always measures,
 * whatever CORTICAL_RNN_TUNE says, so a software adapter can be tuned on purpose too.
 */
import type { CommandModule } from 'yargs';
import { OptionError } from '../../engine/errors.ts';
import { GpuBackend } from '../../engine/gpu/backend.ts';
import { defaultDesign } from '../../engine/gpu/rnn_design.ts';
import { tuneRnnDesigns } from '../../engine/gpu/tune.ts';
import { TuneCache, type DesignTiming, type TuneEntry } from '../../engine/gpu/tune_cache.ts';
import { rnnConfigFor } from '../../experiments/setup.ts';
import { getTask } from '../../tasks/index.ts';
import { withBackend, withBackendOption, BACKEND_CHOICES } from '../common.ts';

type Args = {
  backend: (typeof BACKEND_CHOICES)[number];
  task: string;
  units: number;
  batch: number;
  networks: string;
  budget: number;
  json?: boolean;
};

function positiveInts(flag: string, text: string): number[] {
  const ks = text.split(',').map((x) => Number(x.trim()));
  if (!ks.length || ks.some((k) => !Number.isInteger(k) || k < 1)) throw new OptionError(flag, 'a comma list of positive integers', JSON.stringify(text));
  return ks;
}

/** The table of one tuned shape: each pair's forward + BPTT, its regulariser, their sum, against the untuned default pair. */
function printEntry(e: TuneEntry, fallback: { design: string; matmul: string }): void {
  const reg = (m: string) => e.regularizer.find((r) => r.matmul === m)?.ms ?? 0;
  const total = (t: DesignTiming) => t.ms + reg(t.matmul);
  const best = Math.min(...e.timings.map(total));
  const base = e.timings.find((t) => t.design === fallback.design && t.matmul === fallback.matmul);
  const isDefault = e.winner === fallback.design && e.matmul === fallback.matmul;
  const vs = isDefault
    ? ' (the untuned default)'
    : base
      ? ` (${(total(base) / best).toFixed(2)}x faster than the untuned default, ${fallback.design} with ${fallback.matmul} tiles)`
      : '';
  console.log(`N = ${e.shape.N}, B = ${e.shape.B}, T = ${e.shape.T}, K = ${e.shape.K}: winner ${e.winner} with ${e.matmul} tiles${vs}`);
  for (const r of e.regularizer)
    console.log(
      `    regulariser (WDC of ${e.shape.K})  ${r.matmul.padEnd(9)} ${r.ms.toFixed(2).padStart(10)} ms  (min ${r.min.toFixed(2)}, ${r.repeats} repeats)`,
    );
  console.log(`    ${'design'.padEnd(14)} ${'tiles'.padEnd(9)} ${'fwd+BPTT ms'.padStart(12)} ${'+ reg ms'.padStart(10)}`);
  for (const t of [...e.timings].sort((a, b) => total(a) - total(b))) {
    const mark = t.design === e.winner && t.matmul === e.matmul ? '*' : t === base ? 'd' : ' ';
    console.log(
      `  ${mark} ${t.design.padEnd(14)} ${t.matmul.padEnd(9)} ${t.ms.toFixed(2).padStart(12)} ${total(t).toFixed(2).padStart(10)}  (min ${t.min.toFixed(2)}, ${t.repeats} repeats, ${(total(t) / best).toFixed(2)}x)`,
    );
  }
}

export const command: CommandModule<object, Args> = {
  command: 'tune',
  describe: 'Time every recurrent kernel design and matmul tile design on this adapter for a shape, print the table and cache the winners',
  builder: (y) =>
    withBackendOption(y)
      .option('task', { type: 'string', default: 'inference', describe: 'the task whose T, inputs and outputs set the shape (inference: T = 50)' })
      .option('units', { type: 'number', default: 312, describe: 'hidden units N (field 6_6_2: 312)' })
      .option('batch', { type: 'number', default: 128, describe: 'trials per batch B' })
      .option('networks', { type: 'string', default: '1', describe: 'networks side by side K, a comma list (e.g. 1,55)' })
      .option('budget', { type: 'number', default: 1.5, describe: 'seconds of repeats per design (at least 3 repeats)' })
      .option('json', { type: 'boolean', describe: 'print the cache entries as JSON' }) as never,
  handler: async (a) => {
    const [n] = positiveInts('--units', String(a.units));
    const [B] = positiveInts('--batch', String(a.batch));
    const ks = positiveInts('--networks', a.networks);
    if (!(a.budget > 0)) throw new OptionError('--budget', 'seconds > 0', String(a.budget));
    const task = getTask(a.task);
    const cfg = rnnConfigFor(task, n!);
    await withBackend(a, async (b) => {
      if (!(b instanceof GpuBackend)) throw new OptionError('--backend', 'a WebGPU adapter (the CPU reference has one design)', a.backend);
      const cache = new TuneCache(undefined, (line) => process.stderr.write(line + '\n'));
      const entries: TuneEntry[] = [];
      for (const K of ks) {
        const log = a.json ? undefined : (line: string) => process.stderr.write(line + '\n');
        const e = await tuneRnnDesigns(b, { cfg, B: B!, T: task.T, K }, { cache, budgetMs: a.budget * 1000, log });
        entries.push(e);
        if (!a.json) printEntry(e, { design: defaultDesign(b.ctx, n!, B!), matmul: b.matmulDesign });
      }
      if (a.json) console.log(JSON.stringify(entries, null, 1));
      else console.log(`adapter ${b.describe()}; cached in ${cache.path ?? '(memory)'}`);
    });
  },
};
