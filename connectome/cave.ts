/**
 * Loader for raw CAVE-style CSV exports, so users with their own MICrONS queries can build a
 * connectome. Synapse tables have one row per synapse with `pre_pt_root_id, post_pt_root_id,
 * size`; nucleus tables have `pt_root_id` and `pt_position` written "[x y z]" (voxels,
 * variable spacing; commas tolerated).
 *
 * Layout: release synapse rows are presynaptic → postsynaptic, so the matrices here are built
 * directly in the engine's K[post][pre] layout (the transpose of a pre × post table).
 */
import { columnIndex, field, idColumn, numberColumn, parseCsv, parseId } from './csv.ts';
import { DataError } from './errors.ts';
import { toSource, type DataSource } from './source.ts';

export interface CaveConnectome {
  n: number;
  /** Root ids (exact digit strings), in matrix order. */
  rootIds: string[];
  /** [N, 3] voxel positions (NaN when no nucleus table was given). */
  positionsVox: Float64Array;
  /** K[post][pre]: number of synapses. */
  counts: Float64Array;
  /** K[post][pre]: summed synapse size. */
  sizes: Float64Array;
  /** Synapses whose pre or post root is not a listed neuron (or is 0). */
  droppedSynapses: number;
}

const POSITION = /^\[\s*([-+0-9.eE]+)[\s,]+([-+0-9.eE]+)[\s,]+([-+0-9.eE]+)\s*\]$/;

export function parsePtPosition(v: string): [number, number, number] | null {
  const m = POSITION.exec(v.trim());
  if (!m) return null;
  const xyz = [Number(m[1]), Number(m[2]), Number(m[3])] as [number, number, number];
  return xyz.every(Number.isFinite) ? xyz : null;
}

/**
 * Builds a connectome from CSV text. Neurons are the nucleus table's roots in file order
 * (root 0 and repeated roots refused) or, without one, every root seen in the synapse table,
 * sorted numerically.
 */
export function parseCaveExport(opts: { synapsesCsv: string; synapsesName?: string; nucleiCsv?: string; nucleiName?: string }): CaveConnectome {
  const syn = parseCsv(opts.synapsesCsv, opts.synapsesName ?? '<synapses.csv>');
  const preIds = idColumn(syn, 'pre_pt_root_id') as string[];
  const postIds = idColumn(syn, 'post_pt_root_id') as string[];
  const size = numberColumn(syn, 'size');

  let rootIds: string[];
  let positionsVox: Float64Array;
  if (opts.nucleiCsv !== undefined) {
    const nuc = parseCsv(opts.nucleiCsv, opts.nucleiName ?? '<nuclei.csv>');
    const rootCol = columnIndex(nuc, 'pt_root_id');
    const posCol = columnIndex(nuc, 'pt_position');
    rootIds = [];
    positionsVox = new Float64Array(nuc.rows.length * 3);
    const seen = new Map<string, number>();
    for (let r = 0; r < nuc.rows.length; r++) {
      const id = field(nuc, r, rootCol, parseId, 'a root id (digits)');
      if (BigInt(id) === 0n) throw new DataError(nuc.source, `line ${nuc.lines[r]}, field "pt_root_id"`, 'a nonzero root id (0 means unassigned)', id);
      const key = BigInt(id).toString();
      if (seen.has(key))
        throw new DataError(nuc.source, `line ${nuc.lines[r]}, field "pt_root_id"`, `a unique root id (already on line ${nuc.lines[seen.get(key)!]})`, id);
      seen.set(key, r);
      rootIds.push(key);
      const p = field(nuc, r, posCol, parsePtPosition, 'a position "[x y z]" of three finite numbers');
      positionsVox.set(p, r * 3);
    }
  } else {
    const all = new Set<string>();
    for (const id of [...preIds, ...postIds]) if (BigInt(id) !== 0n) all.add(BigInt(id).toString());
    rootIds = [...all].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
    positionsVox = new Float64Array(rootIds.length * 3).fill(NaN);
  }
  const n = rootIds.length;
  const index = new Map(rootIds.map((id, i) => [id, i]));
  const counts = new Float64Array(n * n);
  const sizes = new Float64Array(n * n);
  let dropped = 0;
  for (let r = 0; r < syn.rows.length; r++) {
    const a = index.get(BigInt(preIds[r]!).toString());
    const b = index.get(BigInt(postIds[r]!).toString());
    if (a === undefined || b === undefined) {
      dropped++;
      continue;
    }
    counts[b * n + a]! += 1;
    sizes[b * n + a]! += size[r]!;
  }
  return { n, rootIds, positionsVox, counts, sizes, droppedSynapses: dropped };
}

/**
 * Reads a CAVE-style export from a directory path or a DataSource: `files.synapses` (default
 * synapses.csv) and `files.nuclei` (default nuclei.csv, used when present), relative to it.
 */
export function loadCaveExport(data: string | DataSource, files: { synapses?: string; nuclei?: string } = {}): CaveConnectome {
  const src = toSource(data);
  const synapses = files.synapses ?? 'synapses.csv';
  const nuclei = files.nuclei ?? (src.exists('nuclei.csv') ? 'nuclei.csv' : undefined);
  return parseCaveExport({
    synapsesCsv: src.readText(synapses),
    synapsesName: `${src.root}/${synapses}`,
    ...(nuclei ? { nucleiCsv: src.readText(nuclei), nucleiName: `${src.root}/${nuclei}` } : {}),
  });
}
