/**
 * Where the MICrONS data lives: --data flag, else $CORTICAL_RNN_DATA, else ../shared/data
 * relative to the working directory, else ../shared/data relative to the package root.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataError } from './errors.ts';
import { OptionError } from '../engine/errors.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
/** The package root: above connectome/, or above dist/connectome/ in the compiled package. */
const PACKAGE_ROOT = resolve(HERE, basename(resolve(HERE, '..')) === 'dist' ? '../..' : '..');

const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();

export function resolveDataDir(flag?: string): string {
  if (flag !== undefined && flag.trim() === '') throw new OptionError('--data', 'a data directory', 'an empty string (an unset shell variable?)');
  if (flag) {
    const p = resolve(flag);
    if (!isDir(p)) throw new DataError(p, null, 'the data directory given by --data', 'no such directory');
    return p;
  }
  const env = process.env.CORTICAL_RNN_DATA;
  if (env) {
    const p = resolve(env);
    if (!isDir(p)) throw new DataError(p, null, 'the data directory given by CORTICAL_RNN_DATA', 'no such directory');
    return p;
  }
  const candidates = [resolve('../shared/data'), resolve(PACKAGE_ROOT, '../shared/data')];
  for (const c of candidates) if (isDir(c)) return c;
  throw new DataError(candidates.join(' or '), null, 'a data directory (pass --data DIR or set CORTICAL_RNN_DATA)', 'neither exists');
}
