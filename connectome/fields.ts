/**
 * Loaders for microns-fields/: the per-imaging-field data of the reproduced paper.
 *
 * Direction: the release's dense field connectome does not state its direction. Like the
 * README, we read synapses.csv `row` as presynaptic and `col` as postsynaptic (pre × post), so
 * the engine's K[post][pre] is the transpose of the released matrix: K[col][row] = count.
 */
import { columnIndex, field, idColumn, intColumn, numberColumn, parseCsv, parseInteger, type CsvTable } from './csv.ts';
import { DataError } from './errors.ts';
import { toSource, type DataSource } from './source.ts';
import { parseNpy, type NpyArray } from './npy.ts';

export const FIELDS_DIR = 'microns-fields';

/** Every file loadField may read in a field's folder (a browser fetches these, absent ones skipped). */
export const FIELD_FILES = [
  'meta.json',
  'neurons.csv',
  'synapses.csv',
  'spike_frames.npy',
  'spike_offsets.npy',
  'corr.npy',
  'sttc.npy',
  'precision.npy',
] as const;

export interface FieldSummary {
  field: string;
  session: number;
  scanIdx: number;
  fieldIdx: number;
  neurons: number;
  synapsePairs: number;
  synapses: number;
  spikes: boolean;
  functionalMatrices: boolean;
}

export interface FieldMeta extends FieldSummary {
  /** Seconds per imaging frame; null where the field has no spikes. */
  framePeriodS: number | null;
}

export interface FieldNeurons {
  /** Root ids as exact digit strings (they exceed 2^53). */
  rootId: string[];
  unitId: Int32Array;
  nucleusId: Int32Array;
  /** [N, 3] voxel coordinates (x, y, z), row i = neuron index i. */
  positionsVox: Float64Array;
}

export interface SynapseList {
  pre: Int32Array;
  post: Int32Array;
  count: Float64Array;
}

export interface Spikes {
  /** Event frames, CSR by neuron: neuron i's are frames[offsets[i] : offsets[i+1]]. */
  frames: Uint16Array;
  offsets: Int32Array;
  framePeriodS: number;
}

export interface Field {
  name: string;
  n: number;
  meta: FieldMeta;
  neurons: FieldNeurons;
  synapses: SynapseList;
  /** N×N synapse counts in the engine layout K[post][pre], row-major. */
  counts: Float64Array;
  spikes?: Spikes;
  /** The shipped function-derived matrices (float32, N×N), where present. */
  matrices?: { corr: Float32Array; sttc: Float32Array; precision: Float32Array };
}

/** All fields listed in fields.csv. */
export function fields(data: string | DataSource): FieldSummary[] {
  const src = toSource(data);
  const file = `${FIELDS_DIR}/fields.csv`;
  const t = parseCsv(src.readText(file), `${src.root}/${file}`);
  const names = t.rows.map((row) => row[columnIndex(t, 'field')]!.trim());
  const ints = (c: string) => intColumn(t, c);
  // Every count column is parsed (and so validated); the last two are not needed here.
  const [session, scan, fidx, neurons, pairs, syn] = [
    'session',
    'scan_idx',
    'field_idx',
    'neurons',
    'synapse_pairs',
    'synapses',
    'spikes',
    'functional_matrices',
  ].map(ints);
  return names.map((name, r) => {
    if (!/^\d+_\d+_\d+$/.test(name)) throw new DataError(t.source, `line ${t.lines[r]}, field "field"`, 'a name like 6_6_2', `"${name}"`);
    return {
      field: name,
      session: session![r]!,
      scanIdx: scan![r]!,
      fieldIdx: fidx![r]!,
      neurons: neurons![r]!,
      synapsePairs: pairs![r]!,
      synapses: syn![r]!,
      spikes: flag(t, r, 'spikes'),
      functionalMatrices: flag(t, r, 'functional_matrices'),
    };
  });
}

function flag(t: CsvTable, r: number, name: string): boolean {
  const v = field(t, r, columnIndex(t, name), parseInteger, '0 or 1');
  if (v !== 0 && v !== 1) throw new DataError(t.source, `line ${t.lines[r]}, field "${name}"`, '0 or 1', String(v));
  return v === 1;
}

/** A field's meta.json. */
export function readFieldMeta(data: string | DataSource, name: string): FieldMeta {
  const src = toSource(data);
  const file = `${FIELDS_DIR}/${name}/meta.json`;
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(src.readText(file)) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(`${src.root}/${file}`, null, 'valid JSON', (e as Error).message);
  }
  const num = (k: string) => {
    const v = j[k];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new DataError(`${src.root}/${file}`, `field "${k}"`, 'a number', JSON.stringify(v));
    return v;
  };
  const bool = (k: string) => {
    const v = j[k];
    if (typeof v !== 'boolean') throw new DataError(`${src.root}/${file}`, `field "${k}"`, 'true or false', JSON.stringify(v));
    return v;
  };
  const fp = j.frame_period_s;
  if (fp !== null && (typeof fp !== 'number' || !(fp > 0)))
    throw new DataError(`${src.root}/${file}`, 'field "frame_period_s"', 'a positive number or null', JSON.stringify(fp));
  return {
    field: name,
    session: num('session'),
    scanIdx: num('scan_idx'),
    fieldIdx: num('field_idx'),
    neurons: num('neurons'),
    synapsePairs: num('synapse_pairs'),
    synapses: num('synapses'),
    spikes: bool('spikes'),
    functionalMatrices: bool('functional_matrices'),
    framePeriodS: fp as number | null,
  };
}

/**
 * Loads one field: neurons, synapse counts, spike events (where present) and the shipped
 * matrices (where present), checking that every file agrees on N.
 */
export function loadField(data: string | DataSource, name: string): Field {
  const src = toSource(data);
  const known = fields(src).map((f) => f.field);
  if (!known.includes(name)) {
    throw new DataError(
      `${src.root}/${FIELDS_DIR}/fields.csv`,
      `field "${name}"`,
      `one of the ${known.length} listed fields (e.g. ${known.slice(0, 4).join(', ')}, …, 6_6_2)`,
      'an unknown field',
    );
  }
  const dir = `${FIELDS_DIR}/${name}`;
  const meta = readFieldMeta(src, name);
  const neurons = readNeurons(src, `${dir}/neurons.csv`);
  const n = neurons.rootId.length;
  if (meta.neurons !== n) {
    throw new DataError(`${src.root}/${dir}/meta.json`, 'field "neurons"', `${n} (the rows of neurons.csv)`, String(meta.neurons));
  }
  const synapses = readSynapses(src, `${dir}/synapses.csv`, n);
  const counts = new Float64Array(n * n);
  for (let k = 0; k < synapses.pre.length; k++) counts[synapses.post[k]! * n + synapses.pre[k]!]! += synapses.count[k]!;

  const out: Field = { name, n, meta, neurons, synapses, counts };
  if (src.exists(`${dir}/spike_frames.npy`) || src.exists(`${dir}/spike_offsets.npy`)) {
    out.spikes = readSpikes(src, dir, n, meta.framePeriodS);
  }
  if (src.exists(`${dir}/corr.npy`)) {
    const m = (k: string, form: MatrixForm) => readFunctional(src, `${dir}/${k}.npy`, n, form);
    out.matrices = { corr: m('corr', 'symmetric'), sttc: m('sttc', 'lower'), precision: m('precision', 'symmetric') };
  }
  return out;
}

function readNeurons(src: DataSource, file: string): FieldNeurons {
  const t = parseCsv(src.readText(file), `${src.root}/${file}`);
  const index = intColumn(t, 'index');
  const n = t.rows.length;
  const seen = new Int32Array(n).fill(-1);
  for (let r = 0; r < n; r++) {
    const i = index[r]!;
    if (i < 0 || i >= n) throw new DataError(t.source, `line ${t.lines[r]}, field "index"`, `an index in [0, ${n})`, String(i));
    if (seen[i] !== -1)
      throw new DataError(t.source, `line ${t.lines[r]}, field "index"`, `a unique neuron index (${i} is already on line ${t.lines[seen[i]!]})`, String(i));
    seen[i] = r;
  }
  const rootIds = idColumn(t, 'root_id');
  const firstLine = new Map<string, number>();
  rootIds.forEach((id, r) => {
    const key = String(id);
    const prev = firstLine.get(key);
    if (prev !== undefined) throw new DataError(t.source, `line ${t.lines[r]}, field "root_id"`, `a unique root id (already on line ${prev})`, key);
    firstLine.set(key, t.lines[r]!);
  });
  const unit = intColumn(t, 'unit_id');
  const nucleus = intColumn(t, 'nucleus_id');
  const xyz = ['x_vox', 'y_vox', 'z_vox'].map((c) => numberColumn(t, c, true));
  const rootId = new Array<string>(n);
  const unitId = new Int32Array(n);
  const nucleusId = new Int32Array(n);
  const positionsVox = new Float64Array(n * 3);
  for (let r = 0; r < n; r++) {
    const i = index[r]!;
    rootId[i] = rootIds[r]!;
    unitId[i] = unit[r]!;
    nucleusId[i] = nucleus[r]!;
    for (let a = 0; a < 3; a++) {
      const v = xyz[a]![r]!;
      if (!Number.isFinite(v))
        throw new DataError(
          t.source,
          `line ${t.lines[r]}, field "${['x_vox', 'y_vox', 'z_vox'][a]}"`,
          'a finite position (no NaN or empty value)',
          t.rows[r]![columnIndex(t, ['x_vox', 'y_vox', 'z_vox'][a]!)] || 'empty',
        );
      positionsVox[i * 3 + a] = v;
    }
  }
  return { rootId, unitId, nucleusId, positionsVox };
}

function readSynapses(src: DataSource, file: string, n: number): SynapseList {
  const t = parseCsv(src.readText(file), `${src.root}/${file}`);
  const row = intColumn(t, 'row');
  const col = intColumn(t, 'col');
  const count = numberColumn(t, 'count');
  const m = t.rows.length;
  const pre = new Int32Array(m);
  const post = new Int32Array(m);
  for (let r = 0; r < m; r++) {
    for (const [name, v] of [
      ['row', row[r]!],
      ['col', col[r]!],
    ] as const) {
      if (v < 0 || v >= n) throw new DataError(t.source, `line ${t.lines[r]}, field "${name}"`, `a neuron index in [0, ${n}) (N from neurons.csv)`, String(v));
    }
    if (!(count[r]! > 0)) throw new DataError(t.source, `line ${t.lines[r]}, field "count"`, 'a positive synapse count', String(count[r]));
    pre[r] = row[r]!;
    post[r] = col[r]!;
  }
  return { pre, post, count };
}

function readSpikes(src: DataSource, dir: string, n: number, framePeriodS: number | null): Spikes {
  const fFile = `${dir}/spike_frames.npy`;
  const oFile = `${dir}/spike_offsets.npy`;
  const frames = parseNpy(src.readBytes(fFile), `${src.root}/${fFile}`);
  const offsets = parseNpy(src.readBytes(oFile), `${src.root}/${oFile}`);
  if (frames.dtype !== '<u2') throw new DataError(`${src.root}/${fFile}`, 'dtype', '<u2 (uint16 frames)', frames.dtype);
  if (offsets.dtype !== '<i4') throw new DataError(`${src.root}/${oFile}`, 'dtype', '<i4 (int32 offsets)', offsets.dtype);
  const off = offsets.data as Int32Array;
  if (offsets.shape.length !== 1 || off.length !== n + 1) {
    throw new DataError(`${src.root}/${oFile}`, 'shape', `(${n + 1},): N + 1 offsets for the N = ${n} neurons of neurons.csv`, `(${offsets.shape.join(', ')})`);
  }
  const fr = frames.data as Uint16Array;
  if (off[0] !== 0 || off[n] !== fr.length)
    throw new DataError(`${src.root}/${oFile}`, 'first and last entries', `0 and ${fr.length} (the number of frames)`, `${off[0]} and ${off[n]}`);
  for (let i = 0; i < n; i++)
    if (off[i + 1]! < off[i]!) throw new DataError(`${src.root}/${oFile}`, `entry ${i + 1}`, 'non-decreasing offsets', `${off[i + 1]} < ${off[i]}`);
  if (framePeriodS === null)
    throw new DataError(`${src.root}/${dir}/meta.json`, 'field "frame_period_s"', 'a frame period, since the field has spikes', 'null');
  return { frames: fr, offsets: off, framePeriodS };
}

function readSquare(src: DataSource, file: string, n: number): Float32Array {
  const a: NpyArray = parseNpy(src.readBytes(file), `${src.root}/${file}`);
  if (a.shape.length !== 2 || a.shape[0] !== n || a.shape[1] !== n) {
    throw new DataError(`${src.root}/${file}`, 'shape', `(${n}, ${n}) for the N = ${n} neurons of neurons.csv`, `(${a.shape.join(', ')})`);
  }
  if (a.dtype === '<f4') return a.data as Float32Array;
  if (a.dtype === '<f8') return Float32Array.from(a.data as Float64Array);
  throw new DataError(`${src.root}/${file}`, 'dtype', '<f4 or <f8', a.dtype);
}

/** How a shipped N×N matrix stores its pairs: both triangles equal, or the lower one only (STTC). */
type MatrixForm = 'symmetric' | 'lower';

/**
 * A function-derived matrix (corr, sttc, precision), checked as its format promises: N×N,
 * finite, symmetric (corr, precision) or filled below the diagonal only (sttc), and not
 * constant off the diagonal (a constant matrix carries no functional structure).
 */
function readFunctional(src: DataSource, file: string, n: number, form: MatrixForm): Float32Array {
  const a = readSquare(src, file, n);
  const path = `${src.root}/${file}`;
  for (let i = 0; i < n * n; i++) {
    if (!Number.isFinite(a[i]!)) throw new DataError(path, `entry [${Math.floor(i / n)}, ${i % n}]`, 'a finite value', String(a[i]));
  }
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const lower = a[j * n + i]!;
      const upper = a[i * n + j]!;
      if (form === 'lower' && upper !== 0) {
        throw new DataError(path, `entry [${i}, ${j}]`, 'zero above the diagonal (the release fills the lower triangle only)', String(upper));
      }
      if (form === 'symmetric' && Math.abs(upper - lower) > 1e-6 * Math.max(1, Math.abs(lower))) {
        throw new DataError(path, `entries [${i}, ${j}] and [${j}, ${i}]`, 'a symmetric matrix (equal entries)', `${upper} and ${lower}`);
      }
    }
  }
  let min = Infinity;
  let max = -Infinity;
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < i; j++) {
      min = Math.min(min, a[i * n + j]!);
      max = Math.max(max, a[i * n + j]!);
    }
  }
  if (n > 2 && min === max) throw new DataError(path, 'entries below the diagonal', 'values that vary between pairs', `the constant ${min}`);
  return a;
}
