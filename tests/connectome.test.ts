import { existsSync } from 'node:fs';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DataError,
  distanceMatrix,
  encodeNpy,
  fields,
  loadCaveExport,
  readFieldMeta,
  gridDistances,
  gridPositions,
  loadField,
  loadV1L234,
  memorySource,
  nearCubicGrid,
  parseCaveExport,
  parseCsv,
  parseNpy,
  parsePtPosition,
  resolveDataDir,
  signalCorrelation,
  voxelsToUm,
  dirSource,
  idColumn,
  numberColumn,
  v1SizeMatrix,
} from '../connectome/index.ts';
import { dataSummary } from '../cli/commands/data.ts';

const DATA = '../shared/data';
if (!existsSync(DATA) && process.env.CI) throw new Error(`connectome tests: data directory ${DATA} is missing (CI is set)`);
const haveData = existsSync(DATA);

function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0,
    mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0,
    saa = 0,
    sbb = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i]! - ma,
      y = b[i]! - mb;
    sab += x * y;
    saa += x * x;
    sbb += y * y;
  }
  return sab / Math.sqrt(saa * sbb);
}

describe('npy reader', () => {
  it('round-trips every supported dtype in format versions 1 and 2', () => {
    const cases = [
      [Float32Array.from([1.5, -2, 3]), '<f4'],
      [Float64Array.from([1e300, -0.5]), '<f8'],
      [Int32Array.from([-7, 2 ** 31 - 1]), '<i4'],
      [BigInt64Array.from([2n ** 62n, -3n]), '<i8'],
      [Uint16Array.from([65535, 0]), '<u2'],
      [Uint32Array.from([2 ** 32 - 1]), '<u4'],
    ] as const;
    for (const [data, dtype] of cases) {
      for (const v of [1, 2] as const) {
        const a = parseNpy(encodeNpy(data, [data.length], dtype, v), 'x.npy');
        expect(a.dtype).toBe(dtype);
        expect(a.shape).toEqual([data.length]);
        expect(Array.from(a.data as ArrayLike<number | bigint>)).toEqual(Array.from(data as ArrayLike<number | bigint>));
      }
    }
    const m = parseNpy(encodeNpy(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3], '<f4'), 'm.npy');
    expect(m.shape).toEqual([2, 3]);
    expect(m.data[5]).toBe(6); // C order: row 1, column 2
  });
  it('reads the shipped matrices', { skip: !haveData }, () => {
    const a = parseNpy(dirSource(DATA).readBytes('microns-fields/5_3_4/corr.npy'), 'corr.npy');
    expect(a.dtype).toBe('<f4');
    expect(a.shape).toEqual([70, 70]);
    expect(a.data[0]).toBe(1);
  });
  it('refuses pickled, unsupported, Fortran-order and truncated arrays with named errors', () => {
    const good = encodeNpy(Float64Array.from([1, 2]), [2], '<f8');
    const withHeader = (from: string, to: string) => {
      const text = new TextDecoder('latin1').decode(good).replace(from, to);
      return Uint8Array.from(text, (c) => c.charCodeAt(0));
    };
    expect(() => parseNpy(withHeader("'<f8'", "'|O' "), 'obj.npy')).toThrow(
      /obj\.npy: header field 'descr': expected a numeric dtype; pickled object arrays are refused/,
    );
    expect(() => parseNpy(withHeader("'<f8'", "'>f8'"), 'be.npy')).toThrow(/be\.npy.*expected one of <f4 <f8 <i4 <i8 <u2 <u4, got '>f8'/);
    expect(() => parseNpy(withHeader("'<f8'", "'<c8'"), 'c.npy')).toThrow(/got '<c8'/);
    expect(() => parseNpy(withHeader('False', 'True '), 'f.npy')).toThrow(/f\.npy: header field 'fortran_order': expected C order/);
    expect(() => parseNpy(good.slice(0, good.length - 3), 't.npy')).toThrow(/t\.npy: data: expected 16 bytes/);
    expect(() => parseNpy(new TextEncoder().encode('not an npy file'), 'n.npy')).toThrow(DataError);
    const v3 = good.slice();
    v3[6] = 3;
    expect(() => parseNpy(v3, 'v3.npy')).toThrow(/format version 1 or 2, got 3/);
  });
});

describe('csv reader', () => {
  it('parses quotes, CRLF and keeps root ids exact', () => {
    const t = parseCsv('a,b,root\r\n"x, y","say ""hi""",864691135464074909\r\n\r\n1,2,864691135619077263\n', 'q.csv');
    expect(t.rows).toEqual([
      ['x, y', 'say "hi"', '864691135464074909'],
      ['1', '2', '864691135619077263'],
    ]);
    expect(t.lines).toEqual([2, 4]);
    const ids = idColumn(t, 'root');
    expect(ids[0]).toBe('864691135464074909');
    expect(BigInt(ids[1]!) - BigInt(ids[0]!)).toBe(155_002_354n); // exact beyond 2^53
  });
  it('names file, line and field for malformed rows and non-numeric values', () => {
    expect(() => parseCsv('a,b\n1,2\n3\n', 'bad.csv')).toThrow(/bad\.csv: line 3: expected 2 fields \(a, b\), got 1/);
    const t = parseCsv('a,b\n1,2\n3,x7\n', 'num.csv');
    expect(() => numberColumn(t, 'b')).toThrow(/num\.csv: line 3, field "b": expected a number, got "x7"/);
    expect(() => numberColumn(t, 'c')).toThrow(/num\.csv: header: expected a column "c"/);
    expect(() => parseCsv('a\n"open\n', 'quote.csv')).toThrow(/quote\.csv: line 2: expected a closing quote/);
  });
});

/** A valid two-neuron field in memory, with overrides. */
/** A data directory on disk holding the named files (under microns-fields/) of the tiny field. */
function tinyFieldDir(files: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'crnn-'));
  mkdirSync(join(dir, 'microns-fields/1_1_1'), { recursive: true });
  const src = tinyField();
  for (const f of files) writeFileSync(join(dir, 'microns-fields', f), src.readBytes(`microns-fields/${f}`));
  return dir;
}

function tinyField(over: Record<string, string | Uint8Array | undefined> = {}) {
  const files: Record<string, string | Uint8Array | undefined> = {
    'microns-fields/fields.csv': 'field,session,scan_idx,field_idx,neurons,synapse_pairs,synapses,spikes,functional_matrices\n1_1_1,1,1,1,2,1,3,1,0\n',
    'microns-fields/1_1_1/meta.json': JSON.stringify({
      field: '1_1_1',
      session: 1,
      scan_idx: 1,
      field_idx: 1,
      neurons: 2,
      synapse_pairs: 1,
      synapses: 3,
      spikes: true,
      frame_period_s: 0.5,
      functional_matrices: false,
    }),
    'microns-fields/1_1_1/neurons.csv':
      'index,root_id,unit_id,nucleus_id,x_vox,y_vox,z_vox\n0,864691135464074909,1,10,100,200,30\n1,864691135619077263,2,11,110,210,31\n',
    'microns-fields/1_1_1/synapses.csv': 'row,col,count\n0,1,3\n',
    'microns-fields/1_1_1/spike_frames.npy': encodeNpy(Uint16Array.from([1, 4, 2]), [3], '<u2'),
    'microns-fields/1_1_1/spike_offsets.npy': encodeNpy(Int32Array.from([0, 2, 3]), [3], '<i4'),
    ...over,
  };
  const clean: Record<string, string | Uint8Array> = {};
  for (const [k, v] of Object.entries(files)) if (v !== undefined) clean[k] = v;
  return memorySource(clean, 'mem');
}

describe('field loader', () => {
  it('loads a field with counts in K[post][pre] layout and spikes', () => {
    const f = loadField(tinyField(), '1_1_1');
    expect(f.n).toBe(2);
    expect(f.neurons.rootId).toEqual(['864691135464074909', '864691135619077263']);
    expect(Array.from(f.counts)).toEqual([0, 0, 3, 0]); // row 0 (pre) → col 1 (post): K[1][0]
    expect(Array.from(f.spikes!.offsets)).toEqual([0, 2, 3]);
    expect(f.matrices).toBeUndefined();
  });
  it('reports each kind of bad input with file, line or field, and the expectation', () => {
    const n = 'microns-fields/1_1_1/neurons.csv';
    const s = 'microns-fields/1_1_1/synapses.csv';
    const cases: [Record<string, string | Uint8Array | undefined>, string, RegExp][] = [
      [{}, '9_9_9', /mem\/microns-fields\/fields\.csv: field "9_9_9": expected one of the 1 listed fields.*got an unknown field/],
      [{ [s]: undefined }, '1_1_1', /mem\/microns-fields\/1_1_1\/synapses\.csv: expected this file to exist/],
      [{ [s]: 'row,col,count\n0,1\n' }, '1_1_1', /synapses\.csv: line 2: expected 3 fields/],
      [{ [s]: 'row,col,count\n0,one,3\n' }, '1_1_1', /synapses\.csv: line 2, field "col": expected an integer, got "one"/],
      [{ [s]: 'row,col,count\n0,2,3\n' }, '1_1_1', /synapses\.csv: line 2, field "col": expected a neuron index in \[0, 2\).*got 2/],
      [
        { [n]: 'index,root_id,unit_id,nucleus_id,x_vox,y_vox,z_vox\n0,1,1,10,100,200,30\n0,2,2,11,110,210,31\n' },
        '1_1_1',
        /neurons\.csv: line 3, field "index": expected a unique neuron index \(0 is already on line 2\)/,
      ],
      [
        { [n]: 'index,root_id,unit_id,nucleus_id,x_vox,y_vox,z_vox\n0,1,1,10,100,NaN,30\n1,2,2,11,110,210,31\n' },
        '1_1_1',
        /neurons\.csv: line 2, field "y_vox": expected a number or an empty field, got "NaN"/,
      ],
      [
        { [n]: 'index,root_id,unit_id,nucleus_id,x_vox,y_vox,z_vox\n0,1,1,10,100,,30\n1,2,2,11,110,210,31\n' },
        '1_1_1',
        /neurons\.csv: line 2, field "y_vox": expected a finite position \(no NaN or empty value\)/,
      ],
      [
        { [n]: 'index,root_id,unit_id,nucleus_id,x_vox,y_vox,z_vox\n0,8.6e17,1,10,100,200,30\n1,2,2,11,110,210,31\n' },
        '1_1_1',
        /field "root_id": expected a non-negative integer id, got "8\.6e17"/,
      ],
      [
        { 'microns-fields/1_1_1/spike_offsets.npy': encodeNpy(Int32Array.from([0, 3]), [2], '<i4') },
        '1_1_1',
        /spike_offsets\.npy: shape: expected \(3,\): N \+ 1 offsets for the N = 2 neurons/,
      ],
      [
        {
          'microns-fields/1_1_1/meta.json': JSON.stringify({
            session: 1,
            scan_idx: 1,
            field_idx: 1,
            neurons: 3,
            synapse_pairs: 1,
            synapses: 3,
            spikes: true,
            frame_period_s: 0.5,
            functional_matrices: false,
          }),
        },
        '1_1_1',
        /meta\.json: field "neurons": expected 2 \(the rows of neurons\.csv\), got 3/,
      ],
      [{ 'microns-fields/1_1_1/corr.npy': encodeNpy(new Float32Array(9), [3, 3], '<f4') }, '1_1_1', /corr\.npy: shape: expected \(2, 2\)/],
      [{ 'microns-fields/1_1_1/spike_frames.npy': encodeNpy(Float64Array.from([1, 2, 3]), [3], '<f8') }, '1_1_1', /spike_frames\.npy: dtype: expected <u2/],
    ];
    for (const [over, name, re] of cases) expect(() => loadField(tinyField(over), name)).toThrow(re);
  });
  it('reports a missing data directory and resolves the default one', () => {
    expect(() => loadField(dirSource('/nonexistent/data'), '6_6_2')).toThrow(/\/nonexistent\/data: expected a data directory/);
    expect(() => resolveDataDir('/nonexistent/data')).toThrow(/given by --data, got no such directory/);
    const empty = mkdtempSync(join(tmpdir(), 'crnn-'));
    expect(() => fields(dirSource(empty))).toThrow(/microns-fields\/fields\.csv: expected this file to exist/);
    if (haveData) expect(resolveDataDir()).toMatch(/shared\/data$/);
  });
  it('lists all 56 fields of the release', { skip: !haveData }, () => {
    const list = fields(dirSource(DATA));
    expect(list.length).toBe(56);
    expect(list.reduce((s, f) => s + f.neurons, 0)).toBe(19178);
    expect(list.filter((f) => f.spikes).map((f) => f.field)).toEqual([
      '4_7_2',
      '4_7_8',
      '5_3_2',
      '5_3_4',
      '5_3_6',
      '5_3_8',
      '5_6_8',
      '5_7_8',
      '6_2_8',
      '6_4_8',
      '6_6_8',
      '6_7_8',
      '7_3_6',
      '7_3_8',
      '7_5_8',
      '8_5_8',
    ]);
    expect(list.filter((f) => f.functionalMatrices).map((f) => f.field)).toEqual(['5_3_4', '5_6_8', '6_6_2']);
  });
  it('loads 6_6_2 with its shipped matrices and no spikes', { skip: !haveData }, () => {
    const f = loadField(dirSource(DATA), '6_6_2');
    expect(f.n).toBe(312);
    expect(f.spikes).toBeUndefined();
    expect(f.matrices!.corr.length).toBe(312 * 312);
    expect(f.counts.reduce((a, b) => a + b, 0)).toBe(338);
    expect(f.synapses.pre.length).toBe(316);
    // synapses.csv line 2 is "1,60,1": row 1 presynaptic, col 60 postsynaptic
    expect(f.counts[60 * 312 + 1]).toBeGreaterThanOrEqual(1);
    expect(f.neurons.rootId[0]).toBe('864691135464074909');
  });
  it('runs the data summary quickly', { skip: !haveData }, () => {
    const t = performance.now();
    const text = dataSummary(DATA);
    expect(performance.now() - t).toBeLessThan(5000);
    expect(text).toMatch(/56 fields/);
    expect(text).toMatch(/6_6_2\s+312\s+316\s+338\s+positions, synapse counts, corr, sttc, precision/);
    expect(text).toMatch(/2857 neurons \(2115 with positions\), 29107 synapse pairs/);
  });
  it('the data summary lists only the files a field has', () => {
    // no synapses.csv, and spike frames without their offsets
    const dir = tinyFieldDir(['fields.csv', '1_1_1/meta.json', '1_1_1/neurons.csv', '1_1_1/spike_frames.npy']);
    const line = dataSummary(dir)
      .split('\n')
      .find((l) => l.startsWith('1_1_1'))!;
    expect(line).toMatch(/\spositions$/);
    expect(dataSummary(dir)).toMatch(/microns-v1l234: not here \(none of its files\)$/);
  });
  it('reads a field from a directory on disk', () => {
    const dir = tinyFieldDir(['fields.csv', '1_1_1/meta.json', '1_1_1/neurons.csv', '1_1_1/synapses.csv', '1_1_1/spike_frames.npy', '1_1_1/spike_offsets.npy']);
    expect(loadField(dirSource(dir), '1_1_1').n).toBe(2);
  });
  it('every field loader takes a directory path or a DataSource alike', () => {
    const dir = tinyFieldDir(['fields.csv', '1_1_1/meta.json', '1_1_1/neurons.csv', '1_1_1/synapses.csv', '1_1_1/spike_frames.npy', '1_1_1/spike_offsets.npy']);
    const fromPath = loadField(dir, '1_1_1');
    expect(fromPath).toEqual(loadField(dirSource(dir), '1_1_1'));
    expect(fromPath).toEqual(loadField(tinyField(), '1_1_1'));
    expect(fields(dir)).toEqual(fields(tinyField()));
    expect(readFieldMeta(dir, '1_1_1')).toEqual(readFieldMeta(tinyField(), '1_1_1'));
    // a path's errors name the file on disk, a DataSource's its root
    expect(() => loadField(dir, '2_2_2')).toThrow(`${dir}/microns-fields/fields.csv: field "2_2_2": expected one of the 1 listed fields`);
    expect(() => loadField(tinyField(), '2_2_2')).toThrow('mem/microns-fields/fields.csv: field "2_2_2"');
  });
});

describe('V1 L2/3–4 set', { skip: !haveData }, () => {
  const v1 = loadV1L234(DATA);
  it('loads from a directory path or a DataSource alike', () => {
    expect(loadV1L234(dirSource(DATA))).toEqual(v1);
  });
  it('has 2,857 neurons, 2,115 positions, 29,107 pairs and 16 directions', () => {
    expect(v1.n).toBe(2857);
    expect(v1.positionCount).toBe(2115);
    expect(v1.synapses.pre.length).toBe(29107);
    expect(v1.responses.length).toBe(2857 * 16);
    expect(v1.nucleusId.filter((x) => x === null).length).toBe(742);
    expect(Number.isNaN(v1.positionsVox[13 * 3]!)).toBe(true); // id 13 has no position
  });
  it('gives signal correlations of tuning curves and size matrices in K[post][pre]', () => {
    const ids = [0, 1, 2, 3, 4];
    const r = signalCorrelation(v1.responses, 16, ids);
    const curve = (i: number) => v1.responses.subarray(i * 16, i * 16 + 16);
    expect(r[1 * 5 + 3]).toBeCloseTo(pearson(curve(1), curve(3)), 12);
    expect(r[3 * 5 + 1]).toBe(r[1 * 5 + 3]);
    expect(r[2 * 5 + 2]).toBe(1);
    const { pre, post, size } = v1.synapses;
    const sel = [pre[0]!, post[0]!];
    const { K } = v1SizeMatrix(v1, sel);
    expect(K[1 * 2 + 0]).toBeGreaterThanOrEqual(size[0]!); // K[post][pre]
  });
});

describe('CAVE export loader', () => {
  const nuclei =
    'id,pt_root_id,pt_position\n1,864691135464074909,"[167584 104848   26197]"\n2,864691135619077263,[172848  107536 23740]\n3,864691135000000001,"[1, 2, 3]"\n';
  const syn =
    'id,pre_pt_root_id,post_pt_root_id,size\n1,864691135464074909,864691135619077263,500\n2,864691135464074909,864691135619077263,700\n3,864691135619077263,864691135000000001,100\n4,0,864691135000000001,50\n';
  it('builds counts and sizes in K[post][pre] with positions from "[x y z]"', () => {
    const c = parseCaveExport({ synapsesCsv: syn, nucleiCsv: nuclei });
    expect(c.n).toBe(3);
    expect(Array.from(c.positionsVox.subarray(0, 6))).toEqual([167584, 104848, 26197, 172848, 107536, 23740]);
    expect(c.counts[1 * 3 + 0]).toBe(2); // pre 0 → post 1
    expect(c.sizes[1 * 3 + 0]).toBe(1200);
    expect(c.counts[0 * 3 + 1]).toBe(0);
    expect(c.counts[2 * 3 + 1]).toBe(1);
    expect(c.droppedSynapses).toBe(1);
    expect(parsePtPosition('[ 1.5e2  -3 4 ]')).toEqual([150, -3, 4]);
    expect(parsePtPosition('[1 2]')).toBeNull();
  });
  it('loads from a directory path or a DataSource alike, nuclei.csv when present', () => {
    const dir = mkdtempSync(join(tmpdir(), 'crnn-cave-'));
    writeFileSync(join(dir, 'synapses.csv'), syn);
    const withoutNuclei = loadCaveExport(dir);
    expect(withoutNuclei).toEqual(parseCaveExport({ synapsesCsv: syn }));
    expect(withoutNuclei.positionsVox.every(Number.isNaN)).toBe(true);
    writeFileSync(join(dir, 'nuclei.csv'), nuclei);
    const fromPath = loadCaveExport(dir);
    expect(fromPath).toEqual(parseCaveExport({ synapsesCsv: syn, nucleiCsv: nuclei }));
    expect(loadCaveExport(memorySource({ 'syn.csv': syn, 'nuc.csv': nuclei }), { synapses: 'syn.csv', nuclei: 'nuc.csv' })).toEqual(fromPath);
    expect(() => loadCaveExport(dir, { synapses: 'other.csv' })).toThrow(`${join(dir, 'other.csv')}: expected this file to exist, got no such file`);
  });
  it('names the file, line and field of a bad position or id', () => {
    expect(() => parseCaveExport({ synapsesCsv: syn, nucleiCsv: 'pt_root_id,pt_position\n5,[1 2 x]\n', nucleiName: 'nuc.csv' })).toThrow(
      /nuc\.csv: line 2, field "pt_position": expected a position "\[x y z\]"/,
    );
    expect(() => parseCaveExport({ synapsesCsv: 'pre_pt_root_id,post_pt_root_id,size\n1.5,2,3\n', synapsesName: 'syn.csv' })).toThrow(
      /syn\.csv: line 2, field "pre_pt_root_id": expected a non-negative integer id/,
    );
    expect(() => parseCaveExport({ synapsesCsv: syn, nucleiCsv: 'pt_root_id,pt_position\n5,[1 2 3]\n5,[1 2 3]\n', nucleiName: 'dup.csv' })).toThrow(
      /dup\.csv: line 3, field "pt_root_id": expected a unique root id/,
    );
  });
});

describe('geometry', () => {
  it('converts voxels to µm at (4, 4, 40) nm', () => {
    expect(Array.from(voxelsToUm(Float64Array.from([1000, 250, 100])))).toEqual([4, 1, 4]);
  });
  it('isotropic D on 6_6_2 is µm distance over the maximum; paper-compat is not', { skip: !haveData }, () => {
    const f = loadField(dirSource(DATA), '6_6_2');
    const um = voxelsToUm(f.neurons.positionsVox);
    const n = f.n;
    const iso = distanceMatrix(um);
    const raw = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) raw[i * n + j] = Math.hypot(um[i * 3]! - um[j * 3]!, um[i * 3 + 1]! - um[j * 3 + 1]!, um[i * 3 + 2]! - um[j * 3 + 2]!);
    expect(pearson(iso, raw)).toBeCloseTo(1, 12);
    expect(Math.max(...iso)).toBe(1);
    const compat = distanceMatrix(f.neurons.positionsVox, 'paper-compat');
    expect(pearson(compat, raw)).toBeLessThan(0.5);
    const axis = distanceMatrix(f.neurons.positionsVox, 'axis-minmax');
    expect(pearson(axis, raw)).toBeGreaterThan(0.5);
    expect(Math.max(...axis)).toBeLessThanOrEqual(Math.sqrt(3));
  });
  it('axis-minmax scales each axis to [0, 1]; paper-compat reshapes (N, 3) to (3, N) without transposing', () => {
    // neurons at (0,0,0), (2,10,100), (1,5,50): axis-minmax maps them to 0, 1 and ½ on each axis
    const p = Float64Array.from([0, 0, 0, 2, 10, 100, 1, 5, 50]);
    const a = distanceMatrix(p, 'axis-minmax');
    expect(a[1]).toBeCloseTo(Math.sqrt(3), 14);
    expect(a[2]).toBeCloseTo(Math.sqrt(3) / 2, 14);
    // reshape(3, N) of the flat [0,0,0, 2,10,100, 1,5,50]: rows [0,0,0], [2,10,100], [1,5,50];
    // "neuron" i takes column i: (0,2,1), (0,10,5), (0,100,50); min-max per row gives
    // (0,0,0), (0, 8/98, 4/49), (0,1,1)
    const c = distanceMatrix(p, 'paper-compat');
    const pts = [
      [0, 0, 0],
      [0, 8 / 98, 4 / 49],
      [0, 1, 1],
    ];
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) {
        expect(c[i * 3 + j]).toBeCloseTo(Math.hypot(pts[i]![0]! - pts[j]![0]!, pts[i]![1]! - pts[j]![1]!, pts[i]![2]! - pts[j]![2]!), 14);
      }
    expect(() => distanceMatrix(Float64Array.from([0, NaN, 0]))).toThrow(/neuron 0 axis 1 is NaN/);
  });
  it('lays out grid units like numpy meshgrid(indexing="xy").ravel()', () => {
    const g = gridPositions(3, 4, 2);
    for (let iy = 0; iy < 4; iy++)
      for (let ix = 0; ix < 3; ix++)
        for (let iz = 0; iz < 2; iz++) {
          const k = (iy * 3 + ix) * 2 + iz;
          expect([g[k * 3], g[k * 3 + 1], g[k * 3 + 2]]).toEqual([ix, iy, iz]);
        }
    const { dims, D } = gridDistances(312);
    expect(dims).toEqual([12, 13, 2]);
    // unit 1 is (0,0,1), unit 2 is (1,0,0), unit 24 is (0,1,0): unscaled distances
    expect(D[1]).toBe(1);
    expect(D[2]).toBe(1);
    expect(D[1 * 312 + 24]).toBeCloseTo(Math.SQRT2, 14);
    expect(nearCubicGrid(64)).toEqual([4, 4, 4]);
    expect(nearCubicGrid(160)).toEqual([4, 5, 8]);
    expect(nearCubicGrid(13)).toEqual([1, 1, 13]);
    expect(gridDistances(160).dims).toEqual([4, 5, 8]);
    expect(() => gridDistances(10, [2, 2, 2])).toThrow(/has 8 units, expected N = 10/);
  });
});
