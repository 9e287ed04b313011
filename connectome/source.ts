/**
 * Where the loaders read files from. Every loader takes a directory path or a DataSource alike:
 * a path becomes a dirSource (Node), and a browser fetches a field's files into memorySource().
 * The file system is reached through process.getBuiltinModule, not a static import, so this
 * module (and every loader) bundles for the browser unchanged.
 */
import { DataError } from './errors.ts';

export interface DataSource {
  /** Shown in error messages. */
  root: string;
  exists(rel: string): boolean;
  readText(rel: string): string;
  readBytes(rel: string): Uint8Array;
}

/** Files held in memory (browser fetches, tests): keys are relative paths. */
export function memorySource(files: Record<string, string | Uint8Array>, root = '<memory>'): DataSource {
  const get = (rel: string) => {
    const f = files[rel];
    if (f === undefined) throw new DataError(`${root}/${rel}`, null, 'this file to exist', 'no such file');
    return f;
  };
  return {
    root,
    exists: (rel) => rel in files,
    readText: (rel) => {
      const f = get(rel);
      return typeof f === 'string' ? f : new TextDecoder().decode(f);
    },
    readBytes: (rel) => {
      const f = get(rel);
      return typeof f === 'string' ? new TextEncoder().encode(f) : f;
    },
  };
}

/** Node's fs and path modules, or null outside Node (a browser). */
function nodeFs(): { fs: typeof import('node:fs'); path: typeof import('node:path') } | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const get = proc?.getBuiltinModule;
  if (typeof get !== 'function') return null;
  return { fs: get('node:fs') as typeof import('node:fs'), path: get('node:path') as typeof import('node:path') };
}

/** Files under a directory on disk (Node). Missing directories and files raise a DataError. */
export function dirSource(dir: string): DataSource {
  const node = nodeFs();
  if (!node) throw new DataError(dir, null, 'a DataSource such as memorySource(files): a directory path can only be read in Node', 'a path');
  const { fs, path: nodePath } = node;
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new DataError(dir, null, 'a data directory (set --data or CORTICAL_RNN_DATA)', 'no such directory');
  }
  const path = (rel: string) => nodePath.join(dir, rel);
  const need = (rel: string) => {
    if (!fs.existsSync(path(rel))) throw new DataError(path(rel), null, 'this file to exist', 'no such file');
  };
  return {
    root: dir,
    exists: (rel) => fs.existsSync(path(rel)),
    readText: (rel) => {
      need(rel);
      return fs.readFileSync(path(rel), 'utf8');
    },
    readBytes: (rel) => {
      need(rel);
      return new Uint8Array(fs.readFileSync(path(rel)));
    },
  };
}

/** What every loader does with its `data` argument: a directory path is read from disk, a DataSource as it is. */
export function toSource(data: string | DataSource): DataSource {
  return typeof data === 'string' ? dirSource(data) : data;
}
