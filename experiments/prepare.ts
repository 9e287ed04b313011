/**
 * A field's context read from a data directory on disk (an imaging field, or `v1l234`, the V1
 * population), with the digest of its files
 * (recorded in config.json); memoised per data directory and field. setup.ts builds the
 * context itself, without a file system, so the browser workbench shares it.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIELDS_DIR, loadField } from '../connectome/fields.ts';
import { loadV1L234, V1_DIR } from '../connectome/v1.ts';
import { V1_FIELD, v1FieldContext } from './v1_field.ts';
import { fieldContext, syntheticField, syntheticGrid, type FieldContext, type FieldSource } from './setup.ts';

/** The digest of the files of a field's folder (see FieldSource). */
function fieldSource(dataDir: string, folder: string): FieldSource {
  const dir = join(dataDir, folder);
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
  const ctx =
    name === V1_FIELD
      ? v1FieldContext(loadV1L234(dataDir), fieldSource(dataDir, V1_DIR))
      : fieldContext(loadField(dataDir, name), fieldSource(dataDir, join(FIELDS_DIR, name)));
  fieldCache.set(key, ctx);
  return ctx;
}
