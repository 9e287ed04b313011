/**
 * Where the loaders read files from, without touching a file system: files.ts supplies the
 * Node directory source, and a browser fetches a field's files into memorySource().
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
