/**
 * Node file access for the loaders: the only connectome module that touches the file system.
 * A DataSource (source.ts) reads files relative to a root; tests and browsers use memorySource().
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from './errors.ts';
import { parseCaveExport } from './cave.ts';
import type { DataSource } from './source.ts';

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
