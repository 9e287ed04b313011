/**
 * Node file access for the loaders: the only connectome module that touches the file system.
 * A DataSource reads files relative to a root; tests and browsers can use memorySource().
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from './errors.ts';
import { parseCaveExport } from './cave.ts';

export interface DataSource {
  /** Shown in error messages. */
  root: string;
  exists(rel: string): boolean;
  readText(rel: string): string;
  readBytes(rel: string): Uint8Array;
}

/** Files under a directory on disk. Missing directories and files raise a DataError. */
export function dirSource(dir: string): DataSource {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new DataError(dir, null, 'a data directory (set --data or CORTICAL_RNN_DATA)', 'no such directory');
  }
  const path = (rel: string) => join(dir, rel);
  const need = (rel: string) => {
    if (!existsSync(path(rel))) throw new DataError(path(rel), null, 'this file to exist', 'no such file');
  };
  return {
    root: dir,
    exists: (rel) => existsSync(path(rel)),
    readText: (rel) => {
      need(rel);
      return readFileSync(path(rel), 'utf8');
    },
    readBytes: (rel) => {
      need(rel);
      return new Uint8Array(readFileSync(path(rel)));
    },
  };
}

/** Files held in memory (browser uploads, tests): keys are relative paths. */
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

/** Accepts a directory path or a ready DataSource. */
export function toSource(data: string | DataSource): DataSource {
  return typeof data === 'string' ? dirSource(data) : data;
}

/** Reads a CAVE-style export from disk (see cave.ts for the table formats). */
export function loadCaveExport(synapsesPath: string, nucleiPath?: string): import('./cave.ts').CaveConnectome {
  const read = (p: string) => {
    if (!existsSync(p)) throw new DataError(p, null, 'this file to exist', 'no such file');
    return readFileSync(p, 'utf8');
  };
  return parseCaveExport({
    synapsesCsv: read(synapsesPath),
    synapsesName: synapsesPath,
    ...(nucleiPath ? { nucleiCsv: read(nucleiPath), nucleiName: nucleiPath } : {}),
  });
}
