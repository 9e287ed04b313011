/**
 * The served data directory (/data/) read through fetch into the connectome loaders' memory
 * source, so the browser parses and checks a field with the same code as Node.
 */
import { FIELD_FILES, FIELDS_DIR, fields, loadField, type FieldSummary } from '../connectome/fields.ts';
import { memorySource } from '../connectome/source.ts';
import { fieldContext, type FieldContext } from '../experiments/setup.ts';

const DATA = 'data';

async function get(path: string, optional = false): Promise<Uint8Array | null> {
  const res = await fetch(`${DATA}/${path}`);
  if (res.status === 404 && optional) return null;
  if (!res.ok) throw new Error(`/${DATA}/${path}: expected the file from the served data directory, got HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

let listCache: Promise<FieldSummary[]> | null = null;

/** The fields of fields.csv. */
export function listFields(): Promise<FieldSummary[]> {
  listCache ??= get(`${FIELDS_DIR}/fields.csv`).then((b) => fields(memorySource({ [`${FIELDS_DIR}/fields.csv`]: b! }, `/${DATA}`)));
  return listCache;
}

/** sha256 over the files, each as its name, a NUL, its bytes, in name order (as experiments/prepare.ts). */
async function digest(files: [string, Uint8Array][]): Promise<string> {
  const parts: Uint8Array[] = [];
  for (const [name, bytes] of [...files].sort((a, b) => (a[0] < b[0] ? -1 : 1))) parts.push(new TextEncoder().encode(`${name}\0`), bytes);
  const all = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  const h = new Uint8Array(await crypto.subtle.digest('SHA-256', all));
  return `sha256:${Array.from(h, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

const contexts = new Map<string, Promise<FieldContext>>();

/** A field's context (positions, K, functional matrices, geometry), fetched and checked once. */
export function fieldContextOf(name: string): Promise<FieldContext> {
  let p = contexts.get(name);
  if (!p) {
    p = (async () => {
      const list = `${FIELDS_DIR}/fields.csv`;
      const got = await Promise.all(FIELD_FILES.map(async (f) => [f, await get(`${FIELDS_DIR}/${name}/${f}`, true)] as const));
      const present = got.filter((e): e is [(typeof FIELD_FILES)[number], Uint8Array] => e[1] !== null);
      const files: Record<string, Uint8Array> = { [list]: (await get(list))! };
      for (const [f, b] of present) files[`${FIELDS_DIR}/${name}/${f}`] = b;
      const field = loadField(memorySource(files, `/${DATA}`), name);
      return fieldContext(field, { dataDir: `/${DATA}`, digest: await digest(present), files: present.map(([f]) => f).sort() });
    })();
    p.catch(() => contexts.delete(name));
    contexts.set(name, p);
  }
  return p;
}
