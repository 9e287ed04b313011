/**
 * Loader for microns-v1l234/: 2,857 excitatory V1 L2/3–L4 neurons with 16-direction
 * responses; 2,115 have an EM position. synapses.csv lists directed pairs (pre, post) by `id`
 * with the summed synapse size; per-pair counts were not released.
 */
import { columnIndex, idColumn, intColumn, numberColumn, parseCsv, stringColumn, type CsvTable } from './csv.ts';
import { DataError } from './errors.ts';
import { toSource, type DataSource } from './source.ts';

export const V1_DIR = 'microns-v1l234';
export const V1_DIRECTIONS = 16;

export interface V1Set {
  n: number;
  session: Int32Array;
  scanIdx: Int32Array;
  unitId: Int32Array;
  /** Null where the neuron has no EM match. */
  nucleusId: (string | null)[];
  layer: string[];
  cellType: string[];
  tuningType: string[];
  /** Preferred-orientation bin index, as released. */
  prefOri: Int32Array;
  osi: Float64Array;
  /** [N, 3] voxel coordinates; NaN where hasPosition is 0. */
  positionsVox: Float64Array;
  hasPosition: Uint8Array;
  positionCount: number;
  /** Directed pairs by id: pre → post, with summed EM synapse size. */
  synapses: { pre: Int32Array; post: Int32Array; size: Float64Array };
  /** [N, 16] mean response to each direction. */
  responses: Float64Array;
}

export function loadV1L234(data: string | DataSource): V1Set {
  const src = toSource(data);
  const read = (name: string) => parseCsv(src.readText(`${V1_DIR}/${name}`), `${src.root}/${V1_DIR}/${name}`);
  const t = read('neurons.csv');
  const n = t.rows.length;
  const order = idOrder(t, n);
  const byId = <T>(col: ArrayLike<T>, make: (len: number) => { [k: number]: T }) => {
    const out = make(n);
    for (let i = 0; i < n; i++) out[i] = col[order[i]!]!;
    return out;
  };
  const nucleus = idColumn(t, 'nucleus_id', true);
  columnIndex(t, 'layer');
  return {
    n,
    session: Int32Array.from(byId(intColumn(t, 'session'), (len) => new Float64Array(len)) as Float64Array),
    scanIdx: Int32Array.from(byId(intColumn(t, 'scan_idx'), (len) => new Float64Array(len)) as Float64Array),
    unitId: Int32Array.from(byId(intColumn(t, 'unit_id'), (len) => new Float64Array(len)) as Float64Array),
    nucleusId: byId(nucleus, (len) => new Array<string | null>(len)) as (string | null)[],
    layer: byId(stringColumn(t, 'layer'), (len) => new Array<string>(len)) as string[],
    cellType: byId(stringColumn(t, 'cell_type'), (len) => new Array<string>(len)) as string[],
    tuningType: byId(stringColumn(t, 'tuning_type'), (len) => new Array<string>(len)) as string[],
    prefOri: Int32Array.from(byId(intColumn(t, 'pref_ori'), (len) => new Float64Array(len)) as Float64Array),
    osi: byId(numberColumn(t, 'osi'), (len) => new Float64Array(len)) as Float64Array,
    ...readPositions(t, order),
    synapses: readV1Synapses(read('synapses.csv'), n),
    responses: readResponses(read('responses.csv'), n),
  };
}

/** The row of each neuron id in neurons.csv; ids must be 0..N−1, each once. */
function idOrder(t: CsvTable, n: number): Int32Array {
  const id = intColumn(t, 'id');
  const order = new Int32Array(n).fill(-1);
  for (let r = 0; r < n; r++) {
    const i = id[r]!;
    if (i < 0 || i >= n) throw new DataError(t.source, `line ${t.lines[r]}, field "id"`, `an id in [0, ${n})`, String(i));
    if (order[i] !== -1)
      throw new DataError(t.source, `line ${t.lines[r]}, field "id"`, `a unique neuron id (${i} is already on line ${t.lines[order[i]!]})`, String(i));
    order[i] = r;
  }
  return order;
}

/** Voxel positions by id: all three coordinates or none (NaN) per neuron. */
function readPositions(t: CsvTable, order: Int32Array): Pick<V1Set, 'positionsVox' | 'hasPosition' | 'positionCount'> {
  const n = order.length;
  const xyz = ['x_vox', 'y_vox', 'z_vox'].map((c) => numberColumn(t, c, true));
  const positionsVox = new Float64Array(n * 3);
  const hasPosition = new Uint8Array(n);
  let positionCount = 0;
  for (let i = 0; i < n; i++) {
    const r = order[i]!;
    const empty = xyz.map((c) => Number.isNaN(c[r]!));
    if (empty.some((e) => e) && !empty.every((e) => e)) {
      throw new DataError(t.source, `line ${t.lines[r]}, fields "x_vox, y_vox, z_vox"`, 'all three coordinates or none', 'a partial position');
    }
    for (let a = 0; a < 3; a++) positionsVox[i * 3 + a] = xyz[a]![r]!;
    if (!empty[0]) {
      hasPosition[i] = 1;
      positionCount++;
    }
  }
  return { positionsVox, hasPosition, positionCount };
}

/** synapses.csv: directed pairs pre → post by id, each id a neuron of neurons.csv. */
function readV1Synapses(s: CsvTable, n: number): V1Set['synapses'] {
  const pre = Int32Array.from(intColumn(s, 'pre'));
  const post = Int32Array.from(intColumn(s, 'post'));
  const size = numberColumn(s, 'size');
  for (let r = 0; r < s.rows.length; r++) {
    for (const [name, v] of [
      ['pre', pre[r]!],
      ['post', post[r]!],
    ] as const) {
      if (v < 0 || v >= n) throw new DataError(s.source, `line ${s.lines[r]}, field "${name}"`, `a neuron id in [0, ${n}) (N from neurons.csv)`, String(v));
    }
  }
  return { pre, post, size };
}

/** responses.csv: exactly one rate per neuron and direction, [N, 16]. */
function readResponses(rt: CsvTable, n: number): Float64Array {
  const rid = intColumn(rt, 'id');
  const dir = intColumn(rt, 'direction');
  const rate = numberColumn(rt, 'rate');
  const responses = new Float64Array(n * V1_DIRECTIONS).fill(NaN);
  for (let r = 0; r < rt.rows.length; r++) {
    const i = rid[r]!;
    const d = dir[r]!;
    if (i < 0 || i >= n) throw new DataError(rt.source, `line ${rt.lines[r]}, field "id"`, `a neuron id in [0, ${n})`, String(i));
    if (d < 0 || d >= V1_DIRECTIONS)
      throw new DataError(rt.source, `line ${rt.lines[r]}, field "direction"`, `a direction in [0, ${V1_DIRECTIONS})`, String(d));
    if (!Number.isNaN(responses[i * V1_DIRECTIONS + d]!))
      throw new DataError(rt.source, `line ${rt.lines[r]}`, `one row per (id, direction); (${i}, ${d}) repeats`);
    responses[i * V1_DIRECTIONS + d] = rate[r]!;
  }
  const missing = responses.findIndex((x) => Number.isNaN(x));
  if (missing >= 0) {
    throw new DataError(
      rt.source,
      null,
      `a response for every neuron and direction (N = ${n} from neurons.csv)`,
      `none for id ${Math.floor(missing / V1_DIRECTIONS)}, direction ${missing % V1_DIRECTIONS}`,
    );
  }
  return responses;
}

/**
 * The V1 synapse-size matrix of a subset of ids in the engine layout K[post][pre]
 * (all neurons when `ids` is omitted; N² doubles, 65 MB for the full set).
 */
export function v1SizeMatrix(v1: V1Set, ids?: ArrayLike<number>): { K: Float64Array; n: number; ids: Int32Array } {
  const sel = ids ? Int32Array.from(ids) : Int32Array.from({ length: v1.n }, (_, i) => i);
  const pos = new Int32Array(v1.n).fill(-1);
  sel.forEach((id, k) => {
    pos[id] = k;
  });
  const m = sel.length;
  const K = new Float64Array(m * m);
  const { pre, post, size } = v1.synapses;
  for (let r = 0; r < pre.length; r++) {
    const a = pos[pre[r]!]!,
      b = pos[post[r]!]!;
    if (a >= 0 && b >= 0) K[b * m + a]! += size[r]!;
  }
  return { K, n: m, ids: sel };
}
