/**
 * A field's context read from a data directory on disk, with the digest of its files
 * (recorded in config.json); memoised per data directory and field. setup.ts builds the
 * context itself, without a file system, so the browser workbench shares it.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIELDS_DIR, loadField } from '../connectome/fields.ts';
import { fieldContext, syntheticField, syntheticGrid, type FieldContext, type FieldSource } from './setup.ts';

/** The digest of a field's files (see FieldSource). */
function fieldSource(dataDir: string, name: string): FieldSource {
  const dir = join(dataDir, FIELDS_DIR, name);
  const files = readdirSync(dir).sort();
  const h = createHash('sha256');
  for (const f of files) {
    h.update(f);
    h.update('\0');
    h.update(readFileSync(join(dir, f)));
  }
  return { dataDir, digest: `sha256:${h.digest('hex')}`, files };
}

const fieldCache = new Map<string, FieldContext>();

/** Loads a field and precomputes what the variants need (memoised per data dir and field). */
export function prepareField(dataDir: string, name: string): FieldContext {
  const key = `${dataDir}\0${name}`;
  const hit = fieldCache.get(key);
  if (hit) return hit;
  const dims = syntheticGrid(name);
  if (dims) {
    const ctx = syntheticField(name, dims);
    fieldCache.set(key, ctx);
    return ctx;
  }
  const field = loadField(dataDir, name);
  const ctx = fieldContext(field, fieldSource(dataDir, name));
  fieldCache.set(key, ctx);
  return ctx;
}
