/**
 * What the modules follow: partition agreement (NMI, ARI, permutation p) against scikit-learn
 * 1.2 and hand-computed values, the field labellings against scipy's average linkage and
 * constructed cases, and filling committed runs' final.json from their recorded modules.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../engine/rng.ts';
import {
  adjustedRandIndex,
  connectomeModules,
  depthBins,
  functionalClusters,
  indexResidue,
  moduleAlignment,
  moduleCount,
  mutualInformation,
  normalizedMutualInfo,
  partitionAgreement,
  spatialClusters,
} from '../analysis/index.ts';
import { fillModuleAlignment } from '../experiments/modules_follow.ts';
import { checkFinalRecord, RUN_SCHEMA } from '../experiments/record.ts';

const ref = JSON.parse(readFileSync(new URL('./fixtures/analysis/partitions.json', import.meta.url), 'utf8')) as {
  pairs: { a: number[]; b: number[]; mi: number; nmi: number; ari: number }[];
  linkage: { n: number; corr: number[]; clusters: Record<string, number[]> };
};

describe('partition agreement', () => {
  it('matches scikit-learn on random, related and degenerate label pairs', () => {
    expect(ref.pairs.length).toBeGreaterThan(10);
    for (const p of ref.pairs) {
      expect(mutualInformation(p.a, p.b)).toBeCloseTo(p.mi, 12);
      expect(normalizedMutualInfo(p.a, p.b)).toBeCloseTo(p.nmi, 12);
      expect(adjustedRandIndex(p.a, p.b)).toBeCloseTo(p.ari, 12);
    }
  });

  it('gives hand-computed values', () => {
    // the same partition under other label values
    expect(normalizedMutualInfo([0, 0, 1, 1, 2], [7, 7, 3, 3, 9])).toBe(1);
    expect(adjustedRandIndex([0, 0, 1, 1, 2], [7, 7, 3, 3, 9])).toBe(1);
    // crossed: every cell of the 3 × 2 table holds one neuron, so I = 0, and
    // ARI = (0 − 3·3/15) / ((3 + 3)/2 − 9/15): margins C(2,2)·3 = 3 and C(3,2)·2 = 6, so
    // E = 3·6/15 = 1.2 and ARI = −1.2 / (4.5 − 1.2)
    expect(normalizedMutualInfo([0, 0, 1, 1, 2, 2], [0, 1, 0, 1, 0, 1])).toBe(0);
    expect(adjustedRandIndex([0, 0, 1, 1, 2, 2], [0, 1, 0, 1, 0, 1])).toBeCloseTo(-1.2 / 3.3, 14);
    // b splits one half of a: H(a) = ln 2, H(b) = 1.5 ln 2, and I = H(a) = ln 2 because b
    // refines a, so NMI = ln 2 / ((ln 2 + 1.5 ln 2) / 2) = 0.8
    expect(normalizedMutualInfo([0, 0, 0, 0, 1, 1, 1, 1], [0, 0, 1, 1, 2, 2, 2, 2])).toBeCloseTo(0.8, 14);
    expect(() => normalizedMutualInfo([0, 1], [0])).toThrow(/same neurons, got 2 and 1 labels/);
  });

  it('gives the smallest p to a partition that matches, and is seeded', () => {
    const labels = indexResidue(60, 3);
    const same = Int32Array.from(labels, (l) => 2 - l);
    const a = partitionAgreement(same, labels, new Rng(1, 'test'), 1000);
    expect(a).toMatchObject({ nmi: 1, ari: 1, shuffles: 1000 });
    expect(a.p_nmi).toBe(1 / 1001);
    expect(a.p_ari).toBe(1 / 1001);
    const rnd = new Rng(2, 'labels');
    const other = Int32Array.from({ length: 60 }, () => rnd.int(4));
    const x = partitionAgreement(other, labels, new Rng(3, 'test'), 500);
    expect(partitionAgreement(other, labels, new Rng(3, 'test'), 500)).toEqual(x);
  });

  it('is a valid test: under independence P(p ≤ α) stays near α', () => {
    const rng = new Rng(9, 'null');
    const trials = 200;
    let below = 0;
    for (let t = 0; t < trials; t++) {
      const a = Int32Array.from({ length: 80 }, () => rng.int(3));
      const b = Int32Array.from({ length: 80 }, () => rng.int(4));
      if (partitionAgreement(a, b, rng.fork(t), 199).p_nmi <= 0.05) below++;
    }
    // binomial(200, 0.05): mean 10, sd 3.1; the bounds are about ±2.6 sd
    expect(below).toBeGreaterThanOrEqual(2);
    expect(below).toBeLessThanOrEqual(18);
  });
});

describe('field labellings', () => {
  it('index residue and equal-count depth bins', () => {
    expect(Array.from(indexResidue(7, 3))).toEqual([0, 1, 2, 0, 1, 2, 0]);
    // depths (y) 30, 10, 20, 50, 40, 60 → ranks 2, 0, 1, 4, 3, 5 → bins of two
    const pos = [0, 30, 0, 0, 10, 0, 0, 20, 0, 0, 50, 0, 0, 40, 0, 0, 60, 0];
    expect(Array.from(depthBins(pos, 6, 3))).toEqual([1, 0, 0, 2, 1, 2]);
    expect(() => depthBins([1, 2], 6)).toThrow(/expected \[6, 3\] positions in µm, got 2 entries/);
  });

  it('k-means finds well-separated spatial clusters, seeded', () => {
    const rng = new Rng(4, 'blobs');
    const centres = [
      [0, 0, 0],
      [500, 0, 0],
      [0, 500, 500],
    ];
    const truth = Int32Array.from({ length: 90 }, (_, i) => i % 3);
    const pos = Array.from(truth).flatMap((c) => centres[c]!.map((x) => x + 20 * rng.normal()));
    const found = spatialClusters(pos, 90, 3, 1);
    expect(adjustedRandIndex(found, truth)).toBe(1);
    expect(Array.from(spatialClusters(pos, 90, 3, 1))).toEqual(Array.from(found));
    expect(() => spatialClusters(pos, 90, 0, 1)).toThrow(/k: expected an integer in \[1, 90\], got 0/);
  });

  it('functional clusters are scipy average linkage cut into k (fcluster maxclust)', () => {
    const { n, corr, clusters } = ref.linkage;
    for (const [k, labels] of Object.entries(clusters)) {
      const ours = functionalClusters(corr, n, Number(k));
      expect(new Set(ours).size).toBe(Number(k));
      expect(adjustedRandIndex(ours, labels)).toBe(1);
    }
  });

  it('connectome modules: each connected group its own module, neurons without synapses one class', () => {
    const n = 8;
    const K = new Float64Array(n * n);
    const link = (i: number, j: number) => (K[i * n + j] = 2);
    const edges = [
      [0, 1],
      [1, 2],
      [2, 0], // a triangle
      [3, 4],
      [5, 4],
      [3, 5], // another, its edges in either direction
    ];
    for (const [i, j] of edges) link(i!, j!);
    const m = connectomeModules(K, n);
    expect(m[0]).toBe(m[1]);
    expect(m[1]).toBe(m[2]);
    expect(m[3]).toBe(m[4]);
    expect(m[0]).not.toBe(m[3]);
    expect(m[6]).toBe(m[7]); // 6 and 7 have no synapse in the field
    expect(m[6]).not.toBe(m[0]);
    expect(m[6]).not.toBe(m[3]);
  });

  it('module count ignores singletons and alignment compares module members only', () => {
    expect(moduleCount([0, 0, 1, 1, 2, 3, 4])).toBe(2);
    expect(moduleCount([0, 1, 2])).toBe(2);
    const n = 30;
    const rng = new Rng(6, 'pos');
    const inputs = { positionsUm: Array.from({ length: n * 3 }, () => 100 * rng.uniform()), corr: null, K: null };
    // modules = index mod 3, except two neurons left alone (singletons)
    const modules = Array.from(indexResidue(n, 3));
    modules[28] = 10;
    modules[29] = 11;
    const a = moduleAlignment(modules, inputs, 1, 200);
    expect(a.members).toBe(28);
    expect(a.k).toBe(3);
    expect(a.labellings.index_mod3).toMatchObject({ nmi: 1, ari: 1 });
    expect(a.labellings.functional).toBeNull();
    expect(a.labellings.connectome).toBeNull();
    expect(a.labellings.depth!.nmi).toBeLessThan(0.5);
  });
});

const DATA = '../shared/data';
const GRID = 'docs/results/6_6_2';
const haveData = existsSync(join(DATA, 'microns-fields', '6_6_2')) && existsSync(join(GRID, 'runs'));

describe.runIf(haveData)('module alignment of committed runs', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'cortical-modules-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const runs = ['paper/6_6_2/pdm/WDsC/seed-1', 'corrected/6_6_2/pdm/WDsC/seed-1', 'paper/6_6_2/pdm/W/seed-1'];

  it('fills final.json from the recorded modules, changes nothing else, and is idempotent', async () => {
    const out = join(tmp, 'fill');
    for (const r of runs) cpSync(join(GRID, 'runs', r), join(out, 'runs', r), { recursive: true });
    // the committed records carry their alignment already: strip it, as before it was filled in
    const committed = runs.map((r) => JSON.parse(readFileSync(join(out, 'runs', r, 'final.json'), 'utf8')).metrics.module_alignment);
    const before = runs.map((r) => {
      const f = join(out, 'runs', r, 'final.json');
      const rec = JSON.parse(readFileSync(f, 'utf8'));
      delete rec.metrics.module_alignment;
      writeFileSync(f, JSON.stringify(rec, null, 2) + '\n');
      return rec;
    });
    const first = await fillModuleAlignment(out, DATA);
    expect(first).toMatchObject({ written: 3, unchanged: 0, skipped: [] });
    const after = runs.map((r) => JSON.parse(readFileSync(join(out, 'runs', r, 'final.json'), 'utf8')));
    after.forEach((a, i) => {
      const { module_alignment: ma, ...rest } = a.metrics;
      // a run/1 record comes back as run/2 (history renumbered from 1), and otherwise unchanged
      expect(a.schema).toBe(RUN_SCHEMA);
      expect({ ...a, metrics: rest }).toEqual(checkFinalRecord(before[i], 'before'));
      expect(ma.cnm.labellings.index_mod3.shuffles).toBe(1000);
      // seeded: the same numbers as the committed record's, where it has them
      if (committed[i]) expect(ma).toEqual(committed[i]);
    });
    // paper mode's WD*C modules follow the index construction; corrected mode's follow space
    const [paper, corrected] = after.map((a) => a.metrics.module_alignment.cnm.labellings);
    expect(paper.index_mod3.nmi).toBeGreaterThan(paper.spatial.nmi);
    expect(corrected.spatial.nmi).toBeGreaterThan(corrected.index_mod3.nmi);
    expect(await fillModuleAlignment(out, DATA)).toMatchObject({ written: 0, unchanged: 3 });
  });

  it('fills a grid-embedded seRNN run from its grid coordinates alone', async () => {
    const out = join(tmp, 'grid-field');
    const run = 'corrected/grid-5x5x4/inference/WDC/lambda-0.139/seed-1';
    cpSync(join('docs/results/sernn/runs', run), join(out, 'runs', run), { recursive: true });
    const f = join(out, 'runs', run, 'final.json');
    const rec = JSON.parse(readFileSync(f, 'utf8'));
    delete rec.metrics.module_alignment;
    writeFileSync(f, JSON.stringify(rec, null, 2) + '\n');
    expect(await fillModuleAlignment(out, DATA)).toMatchObject({ written: 1 });
    const l = JSON.parse(readFileSync(join(out, 'runs', run, 'final.json'), 'utf8')).metrics.module_alignment.cnm.labellings;
    expect(l.functional).toBeNull();
    expect(l.connectome).toBeNull();
    expect(l.spatial.nmi).toBeGreaterThan(l.index_mod3.nmi);
  });

  it('refuses data other than the run was trained on, and a corrupt final.json, in one line', async () => {
    const out = join(tmp, 'bad');
    cpSync(join(GRID, 'runs', runs[0]!), join(out, 'runs', runs[0]!), { recursive: true });
    const cfgFile = join(out, 'runs', runs[0]!, 'config.json');
    const cfg = JSON.parse(readFileSync(cfgFile, 'utf8'));
    writeFileSync(cfgFile, JSON.stringify({ ...cfg, data: { ...cfg.data, digest: 'sha256:00' } }));
    await expect(fillModuleAlignment(out, DATA)).rejects.toThrow(
      /config\.json: field "data\.digest": expected the digest of field 6_6_2 in .*, got sha256:00; pass --data/,
    );
    writeFileSync(join(out, 'runs', runs[0]!, 'final.json'), '{"schema": "cortical-rnn/run/1", "status": "o');
    await expect(fillModuleAlignment(out, DATA)).rejects.toThrow(/final\.json: expected a run's final record as JSON, got unparseable text/);
  });
});

describe.runIf(haveData)('the report section on what the modules follow', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'cortical-modules-report-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('tables NMI per variant × labelling over seeds, draws modules beside their labelling, and adds the claim row', async () => {
    const { buildReport, loadSweepDir } = await import('../experiments/report.ts');
    const out = join(tmp, 'grid');
    const seeds = [1, 2, 3];
    for (const mode of ['paper', 'corrected'])
      for (const v of ['W', 'WsDsC', 'WsDsCs'])
        for (const s of seeds) {
          const r = `${mode}/6_6_2/pdm/${v}/seed-${s}`;
          cpSync(join(GRID, 'runs', r), join(out, 'runs', r), { recursive: true });
        }
    await fillModuleAlignment(out, DATA);
    const { html, json } = buildReport(loadSweepDir(out));
    const table = (mode: string) =>
      json[`modules-6_6_2-${mode}`] as Record<string, Record<string, { seedValues: number[]; nmi: { mean: number; lo: number; hi: number } }>>;
    // every cell rests on the three seeds, and its interval lies within [0, 1]
    for (const mode of ['paper', 'corrected'])
      for (const cells of Object.values(table(mode)))
        for (const c of Object.values(cells)) {
          expect(c.seedValues).toHaveLength(3);
          expect(c.nmi.lo).toBeGreaterThanOrEqual(0);
          expect(c.nmi.hi).toBeLessThanOrEqual(1);
        }
    // the mean is the mean of the seed values, each read from the runs' final.json
    const seed1 = JSON.parse(readFileSync(join(out, 'runs/paper/6_6_2/pdm/WsDsC/seed-1/final.json'), 'utf8'));
    expect(table('paper')['W*D*C']!.index_mod3!.seedValues[0]).toBe(seed1.metrics.module_alignment.cnm.labellings.index_mod3.nmi);
    expect(table('paper')['W*D*C']!.index_mod3!.nmi.mean).toBeGreaterThan(table('paper')['W*D*C']!.spatial!.nmi.mean);
    expect(table('corrected')['W*D*C']!.spatial!.nmi.mean).toBeGreaterThan(table('corrected')['W*D*C']!.index_mod3!.nmi.mean);
    expect(html).toContain('What the modules follow');
    expect(json.moduleFigures).toEqual([
      expect.objectContaining({ group: '6_6_2-paper', labelling: 'index_mod3' }),
      expect.objectContaining({ group: '6_6_2-corrected', labelling: 'spatial' }),
    ]);
    const claims = json.claims as Record<string, { id: string; seeds: number; effect: { estimate: number } }[]>;
    const row = (mode: string) => claims[`6_6_2-${mode}`]!.find((c) => c.id === 'modules-follow-cortex')!;
    expect(row('paper').seeds).toBe(3);
    expect(row('paper').effect.estimate).toBeLessThan(0);
    expect(row('corrected').effect.estimate).toBeGreaterThan(0);
    // an imaging field's table has the five labellings only
    expect(Object.keys(table('paper')['W*D*C']!)).toEqual(['index_mod3', 'depth', 'spatial', 'functional', 'connectome']);
  });

  it("adds a column per neuron class that a field's runs recorded (the V1 population's layer)", async () => {
    const { modulesTable } = await import('../experiments/tables.ts');
    const rec = JSON.parse(readFileSync(join(GRID, 'runs/corrected/6_6_2/pdm/WsDsC/seed-1/final.json'), 'utf8'));
    const withLayer = structuredClone(rec);
    withLayer.metrics.module_alignment.cnm.labellings.layer = { nmi: 0.25, ari: 0.1, mi: 0.1, p_nmi: 0.001, shuffles: 1000 };
    const row = (r: typeof rec, seed: number) => ({
      dir: '',
      rec: r,
      mode: 'corrected' as const,
      positive: false,
      field: 'x',
      task: 'pdm',
      variant: 'W*D*C',
      seed,
    });
    const json: Record<string, unknown> = {};
    const html = modulesTable({ key: 'x', field: 'x', mode: 'corrected', positive: false, rows: [row(withLayer, 1), row(rec, 2)] }, 't', json);
    expect(html).toContain('<th>(f) layer</th>');
    const cells = json.t as Record<string, Record<string, { seedValues: number[] }>>;
    expect(cells['W*D*C']!.layer!.seedValues).toEqual([0.25]); // only the run that recorded it
    expect(Object.keys(cells['W*D*C']!)).toEqual(['index_mod3', 'depth', 'spatial', 'functional', 'connectome', 'layer']);
  });
});
