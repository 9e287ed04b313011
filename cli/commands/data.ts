/**
 * `cortical-rnn data summary [--data DIR]`: what the data directory lists. Reads only
 * fields.csv, each field's meta.json and file list, and the V1 set's line counts, so it runs
 * in well under a second; it says which files exist, not that they are sound.
 * `cortical-rnn data check [FIELD…]` reads and validates every file of the named fields (all
 * fields and the V1 set by default) and fails naming each bad file.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import { resolveDataDir } from '../../connectome/datadir.ts';
import { fields, FIELDS_DIR, loadField, readFieldMeta } from '../../connectome/fields.ts';
import { loadV1L234, V1_DIR } from '../../connectome/v1.ts';
import { dirSource } from '../../connectome/source.ts';

function countRows(path: string): number {
  const text = readFileSync(path, 'utf8');
  let lines = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lines++;
  if (text.length && !text.endsWith('\n')) lines++;
  return lines - 1; // minus the header
}

export function dataSummary(dataFlag?: string): string {
  const dir = resolveDataDir(dataFlag);
  const src = dirSource(dir);
  const list = fields(src);
  const out: string[] = [`Data directory: ${dir}`, '', `${FIELDS_DIR}: ${list.length} fields`];
  out.push(
    ['field', 'neurons', 'pairs', 'synapses', 'files present (listed, not read: `data check` validates them)']
      .map((h, i) => (i === 0 ? h.padEnd(7) : i === 4 ? h : h.padStart(8)))
      .join('  '),
  );
  let totN = 0,
    totPairs = 0,
    totSyn = 0;
  for (const f of list) {
    const meta = readFieldMeta(src, f.field);
    const files = new Set(readdirSync(join(dir, FIELDS_DIR, f.field)));
    // Each item only when its files are there: a listing that claims a missing file misleads.
    const has = [
      ...(files.has('neurons.csv') ? ['positions'] : []),
      ...(files.has('synapses.csv') ? ['synapse counts'] : []),
      ...(files.has('spike_frames.npy') && files.has('spike_offsets.npy') ? [`spikes (${meta.framePeriodS?.toFixed(4)} s frames)`] : []),
      ...['corr', 'sttc', 'precision'].filter((m) => files.has(`${m}.npy`)),
    ];
    if (meta.neurons !== f.neurons || meta.synapsePairs !== f.synapsePairs || meta.spikes !== f.spikes)
      has.push('WARNING: meta.json disagrees with fields.csv');
    totN += f.neurons;
    totPairs += f.synapsePairs;
    totSyn += f.synapses;
    out.push([f.field.padEnd(7), String(f.neurons).padStart(8), String(f.synapsePairs).padStart(8), String(f.synapses).padStart(8), has.join(', ')].join('  '));
  }
  out.push(['total'.padEnd(7), String(totN).padStart(8), String(totPairs).padStart(8), String(totSyn).padStart(8)].join('  '));
  const v1 = join(dir, V1_DIR);
  const v1Files = ['neurons.csv', 'synapses.csv', 'responses.csv'];
  if (!v1Files.every((f) => existsSync(join(v1, f)))) {
    const present = v1Files.filter((f) => existsSync(join(v1, f)));
    out.push('', `${V1_DIR}: not here (${present.length ? `only ${present.join(', ')}` : 'none of its files'})`);
    return out.join('\n');
  }
  const neurons = readFileSync(join(v1, 'neurons.csv'), 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => l.length);
  const withPos = neurons.filter((l) => l.split(',')[5] !== '').length;
  out.push(
    '',
    `${V1_DIR}: ${neurons.length} neurons (${withPos} with positions), ${countRows(join(v1, 'synapses.csv'))} synapse pairs (summed size), ${countRows(join(v1, 'responses.csv'))} responses (16 directions)`,
  );
  return out.join('\n');
}

/** Reads and validates every file of each field (and of the V1 set); one line per field. */
function dataCheck(dataFlag: string | undefined, names: string[]): { lines: string[]; failed: string[] } {
  const dir = resolveDataDir(dataFlag);
  const src = dirSource(dir);
  const all = fields(src).map((f) => f.field);
  const todo = names.length ? names : [...all, 'v1l234'];
  const lines: string[] = [];
  const failed: string[] = [];
  for (const name of todo) {
    try {
      if (name === 'v1l234') {
        const v = loadV1L234(src);
        lines.push(`v1l234: ok (${v.n} neurons)`);
        continue;
      }
      const f = loadField(src, name);
      const files = readdirSync(join(dir, FIELDS_DIR, name)).sort();
      lines.push(`${name}: ok (${f.n} neurons, ${f.synapses.pre.length} synapse pairs; read ${files.join(', ')})`);
    } catch (e) {
      failed.push(name);
      lines.push(`${name}: INVALID: ${(e as Error).message}`);
    }
  }
  return { lines, failed };
}

export const command: CommandModule<object, { data?: string; action: string; fields?: string[] }> = {
  command: 'data <action> [fields..]',
  describe: 'Inspect the MICrONS data directory: summary (what it lists), check [FIELD…] (read and validate every file)',
  builder: (y) =>
    y
      .positional('action', { choices: ['summary', 'check'] as const, describe: 'what to do' })
      .positional('fields', { type: 'string', array: true, describe: 'check: the fields (default: all, and the V1 set as v1l234)' }) as never,
  handler: (argv) => {
    if (argv.action === 'summary') {
      process.stdout.write(`${dataSummary(argv.data)}\n`);
      return;
    }
    const { lines, failed } = dataCheck(argv.data, (argv.fields ?? []).map(String));
    process.stdout.write(lines.join('\n') + '\n');
    if (failed.length)
      throw new Error(
        `data check: expected every checked field to be valid, got ${failed.length} invalid: ${failed.join(', ')} (each named above with its file)`,
      );
  },
};
