/**
 * Bad data is stopped when it is loaded, naming the file, the entry and what was expected:
 * functional matrices that break their format (asymmetric corr or precision, STTC filled above
 * the diagonal, NaN/Inf, constant), duplicate root ids. `data check` reads every file of a
 * field and fails naming the bad one.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadField } from '../connectome/fields.ts';
import { dirSource } from '../connectome/source.ts';
import { encodeNpy, parseNpy } from '../connectome/npy.ts';

const DATA = '../shared/data';
const FIELD = '5_3_4';
const haveData = existsSync(join(DATA, 'microns-fields', FIELD));
const tmp = mkdtempSync(join(tmpdir(), 'cortical-rnn-data-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A data directory holding only FIELD, with `corrupt` applied to a copy of its files. */
function corrupted(name: string, corrupt: (dir: string) => void): string {
  const root = join(tmp, name);
  const dir = join(root, 'microns-fields', FIELD);
  mkdirSync(dir, { recursive: true });
  cpSync(join(DATA, 'microns-fields', FIELD), dir, { recursive: true });
  const list = readFileSync(join(DATA, 'microns-fields', 'fields.csv'), 'utf8').split('\n');
  writeFileSync(join(root, 'microns-fields', 'fields.csv'), [list[0], ...list.filter((l) => l.startsWith(`${FIELD},`))].join('\n') + '\n');
  corrupt(dir);
  return root;
}

/** Rewrites one entry of an N×N .npy matrix. */
function setEntry(file: string, i: number, j: number, v: number | ((a: Float32Array) => void)) {
  const a = parseNpy(new Uint8Array(readFileSync(file)));
  const n = a.shape[0]!;
  const d = Float32Array.from(a.data as Float32Array);
  if (typeof v === 'function') v(d);
  else d[i * n + j] = v;
  writeFileSync(file, encodeNpy(d, [n, n], '<f4'));
}

describe.skipIf(!haveData)('data validated when loaded', () => {
  const cases: [string, (dir: string) => void, RegExp][] = [
    [
      'asymmetric corr',
      (d) => setEntry(join(d, 'corr.npy'), 2, 5, 0.777),
      /corr\.npy: entries \[2, 5\] and \[5, 2\]: expected a symmetric matrix \(equal entries\), got 0\.77/,
    ],
    ['asymmetric precision', (d) => setEntry(join(d, 'precision.npy'), 7, 1, 3), /precision\.npy: entries \[1, 7\] and \[7, 1\]: expected a symmetric matrix/],
    [
      'sttc filled above the diagonal',
      (d) => setEntry(join(d, 'sttc.npy'), 0, 3, 0.2),
      /sttc\.npy: entry \[0, 3\]: expected zero above the diagonal .*, got 0\.2/,
    ],
    ['NaN in corr', (d) => setEntry(join(d, 'corr.npy'), 4, 4, NaN), /corr\.npy: entry \[4, 4\]: expected a finite value, got NaN/],
    ['Inf in sttc', (d) => setEntry(join(d, 'sttc.npy'), 9, 2, Infinity), /sttc\.npy: entry \[9, 2\]: expected a finite value, got Infinity/],
    [
      'constant corr',
      (d) => setEntry(join(d, 'corr.npy'), 0, 0, (a) => a.fill(0.5)),
      /corr\.npy: entries below the diagonal: expected values that vary between pairs, got the constant 0\.5/,
    ],
    [
      'duplicate root id',
      (d) => {
        const p = join(d, 'neurons.csv');
        const lines = readFileSync(p, 'utf8').split('\n');
        const id = lines[1]!.split(',')[1]!;
        const row = lines[2]!.split(',');
        row[1] = id;
        lines[2] = row.join(',');
        writeFileSync(p, lines.join('\n'));
      },
      /neurons\.csv: line 3, field "root_id": expected a unique root id \(already on line 2\), got \d+/,
    ],
  ];
  for (const [name, corrupt, message] of cases) {
    it(`${name}: refused, naming the file and the entry`, () => {
      const root = corrupted(name.replace(/\W+/g, '-'), corrupt);
      expect(() => loadField(dirSource(root), FIELD)).toThrow(message);
    });
  }

  it('data check reads every file of a field and fails naming the bad one; the real data passes', { timeout: 120_000 }, () => {
    const root = corrupted('cli-check', (d) => setEntry(join(d, 'corr.npy'), 2, 5, 0.777));
    const bad = spawnSync(process.execPath, ['bin/cortical-rnn.js', 'data', 'check', FIELD, '--data', root], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(new RegExp(`^${FIELD}: INVALID: .*corr\\.npy: entries \\[2, 5\\] and \\[5, 2\\]`, 'm'));
    expect(bad.stderr.trim().split('\n')).toEqual([
      `cortical-rnn: data check: expected every checked field to be valid, got 1 invalid: ${FIELD} (each named above with its file)`,
    ]);
    const good = spawnSync(process.execPath, ['bin/cortical-rnn.js', 'data', 'check', FIELD, '6_6_2', '--data', DATA], { encoding: 'utf8' });
    expect(good.status, good.stderr).toBe(0);
    expect(good.stdout).toMatch(
      /^5_3_4: ok \(70 neurons, .*read corr\.npy, meta\.json, neurons\.csv, precision\.npy, spike_frames\.npy, spike_offsets\.npy, sttc\.npy, synapses\.csv\)$/m,
    );
    expect(good.stdout).toMatch(/^6_6_2: ok \(312 neurons/m);
  });
});
