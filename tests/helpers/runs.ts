/**
 * "Byte-identical" results of two sweeps of the same grid on the same adapter, as the
 * distributed-sweep tests define it. In every run directory:
 *   - every file but config.json, final.json and metrics.csv is byte-identical (the weights of
 *     every epoch, the positions, every final parameter);
 *   - metrics.csv is byte-identical once its last column, `seconds` (wall time), is removed;
 *   - final.json is identical once `timings`, `finishedAt`, `backend`, `code` and each history
 *     epoch's `seconds` are removed;
 *   - config.json is identical once `backend` and `code` are removed.
 * These are the timing, timestamp, backend-description and code-provenance fields: they say
 * when, on what and from which checkout a run was made, never what it computed.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect } from 'vitest';
import { planRuns } from '../../experiments/sweep.ts';
import { parseVariantList } from '../../experiments/variants.ts';

/** Every file under dir (relative paths, sorted). */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/** The run directories (those with final.json) under out/runs, relative to out. */
export function runDirs(out: string): string[] {
  return listFiles(join(out, 'runs'))
    .filter((f) => f.endsWith('/final.json') || f === 'final.json')
    .map((f) => join('runs', f.replace(/\/?final\.json$/, '')))
    .sort();
}

function strip(path: string): unknown {
  const j = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  for (const k of ['timings', 'finishedAt', 'backend', 'code']) delete j[k];
  if (Array.isArray(j.history)) for (const h of j.history as Record<string, unknown>[]) delete h.seconds;
  return j;
}

function csvWithoutSeconds(path: string): string {
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((l) => l.split(',').slice(0, -1).join(','))
    .join('\n');
}

/** Asserts that two run directories hold the same results (see the header). */
export function expectSameRun(a: string, b: string): void {
  const files = listFiles(a);
  expect(listFiles(b), b).toEqual(files);
  for (const f of files) {
    const pa = join(a, f);
    const pb = join(b, f);
    if (f === 'final.json' || f === 'config.json') expect(strip(pb), `${b}/${f}`).toEqual(strip(pa));
    else if (f === 'metrics.csv') expect(csvWithoutSeconds(pb), `${b}/${f}`).toBe(csvWithoutSeconds(pa));
    else expect(readFileSync(pb).equals(readFileSync(pa)), `${b}/${f} differs`).toBe(true);
  }
}

/** The small grid the distributed-sweep tests share: 5_3_4, two tasks, three variants, two seeds (12 runs). */
export function smallGrid() {
  return planRuns({
    field: '5_3_4',
    tasks: ['gonogo', 'pdm'],
    variants: parseVariantList('W,WD*C,W*D*C'),
    seeds: [1, 2],
    modes: ['corrected'],
    positive: false,
  });
}
