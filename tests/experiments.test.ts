/**
 * experiments/: the variant table, the two modes, shared W* draws, a resumable sweep (killed and
 * rerun), divergence recording, the analyze round trip, and the quick-scale learning check
 * (W*D*C learns Go/NoGo above 0.9 test accuracy on field 5_3_4 with the --quick protocol).
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../engine/cpu/backend.ts';
import { L1Regularizer } from '../engine/regularizers/regularizer.ts';
import { EmdRegularizer, WdcRegularizer, WdRegularizer } from '../engine/regularizers/communicability.ts';
import { gridDistances, distanceMatrix, voxelsToUm } from '../connectome/geometry.ts';
import { parseNpy } from '../connectome/npy.ts';
import type { Backend } from '../engine/tensor.ts';
import { ALL_VARIANTS, EXTRA_VARIANTS, PAPER_VARIANTS, getVariant, parseVariantList, variantSlug } from '../experiments/variants.ts';
import { PAPER_PROTOCOL, QUICK_PRESET, modeSettings, parseModes, resolveProtocol, type Protocol } from '../experiments/protocol.ts';
import { geometryD, initialRecurrent, makeRegularizer, wStarDraw } from '../experiments/setup.ts';
import { prepareField } from '../experiments/prepare.ts';
import { readFinalStrict, readRunRecord, runOne } from '../experiments/run.ts';
import { runRelDir } from '../experiments/record.ts';
import { RUN_SCHEMA, runId } from '../experiments/record.ts';
import { parseSeeds, parseTaskList, planRuns, readManifest, sweep } from '../experiments/sweep.ts';
import { reanalyzeRunDir } from '../experiments/reanalyze.ts';
import { hasAdapter, useGpu } from './helpers/gpu.ts';

const DATA = '../shared/data';
const haveData = existsSync(join(DATA, 'microns-fields', '5_3_4'));
const tmp = mkdtempSync(join(tmpdir(), 'cortical-rnn-exp-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const cpu = new CpuBackend('f64');
const gpu = useGpu();
/** The llvmpipe/real adapter when there is one (CI), else the CPU reference backend. */
const backend = (): Backend => (hasAdapter ? gpu.get() : cpu);

/** A protocol of a few steps for the plumbing tests. */
const TINY: Protocol = { ...PAPER_PROTOCOL, epochs: 2, splits: { train: 256, test: 128, val: 128 }, nNull: 20, nMatched: 3 };

describe('variant table', () => {
  // The table, verbatim: name → [W_rec init, D, regulariser].
  const TABLE: Record<string, [string, string, string]> = {
    W: ['orthogonal', 'none', 'L1'],
    WD: ['orthogonal', 'grid', 'WD'],
    'WD*': ['orthogonal', 'real', 'WD'],
    WDC: ['orthogonal', 'grid', 'WDC'],
    'WD*C': ['orthogonal', 'real', 'WDC'],
    'W*D*C': ['wstar', 'real', 'WDC'],
    'W*D*C*': ['wstar', 'real', 'EMD'],
    'WD*C*': ['orthogonal', 'real', 'EMD'],
    'W*DC*': ['wstar', 'grid', 'EMD'],
    'W!D*C': ['wbang', 'real', 'WDC'],
    'W!D*C*': ['wbang', 'real', 'EMD'],
  };
  it("has the paper's 11 variants with their init, geometry and regulariser", () => {
    expect(PAPER_VARIANTS.map((v) => v.name)).toEqual(Object.keys(TABLE));
    for (const v of PAPER_VARIANTS) {
      expect([v.init, v.geometry, v.regularizer], v.name).toEqual(TABLE[v.name]);
      expect(v.extra).toBe(false);
    }
  });
  it('has the two extra controls, clearly named, both with D*C', () => {
    expect(EXTRA_VARIANTS.map((v) => [v.name, v.init, v.geometry, v.regularizer, v.extra])).toEqual([
      ['Wctrl-D*C', 'control', 'real', 'WDC', true],
      ['Wanat-D*C', 'anatomical', 'real', 'WDC', true],
    ]);
  });
  it('slugs are unique and shell-safe; names and slugs both resolve', () => {
    const slugs = ALL_VARIANTS.map((v) => v.slug);
    expect(new Set(slugs).size).toBe(slugs.length);
    for (const v of ALL_VARIANTS) {
      expect(v.slug).toMatch(/^[A-Za-z-]+$/);
      expect(getVariant(v.slug)).toBe(v);
      expect(getVariant(v.name)).toBe(v);
    }
    expect(variantSlug('W*D*C')).toBe('WsDsC');
    expect(variantSlug('W!D*C*')).toBe('WbDsCs');
  });
  it('parses variant lists and rejects unknown names with the list of known ones', () => {
    expect(parseVariantList('paper')).toHaveLength(11);
    expect(parseVariantList('all')).toHaveLength(13);
    expect(parseVariantList('W*D*C, WsDsC ,W').map((v) => v.name)).toEqual(['W*D*C', 'W']);
    expect(() => parseVariantList('W*X')).toThrow(/--variants: expected one of .*W\*D\*C.*, got "W\*X"/);
    expect(() => parseVariantList(' , ')).toThrow(/--variants/);
  });
  it('parses tasks, seeds, modes and protocol overrides with clear errors', () => {
    expect(parseTaskList('all')).toEqual(['inference', 'gonogo', 'pdm']);
    expect(parseTaskList('go-nogo,pdm')).toEqual(['gonogo', 'pdm']);
    expect(() => parseTaskList('nope')).toThrow(/--tasks: expected one of .*, got "nope"/);
    expect(parseSeeds('3')).toEqual([1, 2, 3]);
    expect(parseSeeds('2', 5)).toEqual([5, 6]);
    expect(parseSeeds('7,3,7')).toEqual([7, 3]);
    expect(() => parseSeeds('0')).toThrow(/--seeds/);
    expect(() => parseSeeds('a,b')).toThrow(/--seeds/);
    expect(parseModes('both')).toEqual(['paper', 'corrected']);
    expect(() => parseModes('fast')).toThrow(/--mode: expected 'paper', 'corrected' or 'both'/);
    expect(() => resolveProtocol(PAPER_PROTOCOL, { epochs: 0 })).toThrow(/--epochs: expected a positive integer/);
    expect(() => resolveProtocol(PAPER_PROTOCOL, { lr: -1 })).toThrow(/--lr/);
    expect(resolveProtocol(PAPER_PROTOCOL, { trainTrials: 256 }).splits).toEqual({ train: 256, test: 2560, val: 2560 });
  });
  it("the paper protocol is the paper's", () => {
    expect(PAPER_PROTOCOL).toMatchObject({
      epochs: 10,
      batchSize: 128,
      lr: 1e-3,
      inputNoise: 0.05,
      lambda: 0.3,
      mu: 0.1,
      splits: { train: 5120, test: 2560, val: 2560 },
    });
    expect(QUICK_PRESET.protocol.lr).toBe(1e-3);
    expect(QUICK_PRESET.protocol.batchSize).toBe(128);
  });
  it('plans seed-major grids without duplicates', () => {
    const runs = planRuns({ field: 'f', tasks: ['gonogo', 'pdm'], variants: parseVariantList('W,WD'), seeds: [1, 2], modes: ['corrected'], positive: false });
    expect(runs).toHaveLength(8);
    expect(new Set(runs.map(runId)).size).toBe(8);
    expect(runs.slice(0, 4).every((r) => r.seed === 1)).toBe(true);
  });
});

describe('modes and regularisers', { skip: !haveData }, () => {
  it('paper mode: L1 without λ, no floor, paper EMD target, paper-compat D; corrected: λ, floor, one-synapse target, isotropic D', () => {
    const ctx = prepareField(DATA, '5_3_4');
    const n = ctx.n;
    expect(n).toBe(70);
    for (const mode of ['paper', 'corrected'] as const) {
      const s = modeSettings(mode);
      const D = geometryD('real', ctx, mode)!;
      const l1 = makeRegularizer('L1', { mode, lambda: 0.3, mu: 0.1, D: null }) as L1Regularizer;
      expect(l1).toBeInstanceOf(L1Regularizer);
      expect(l1.effectiveLambda).toBe(mode === 'paper' ? 1 : 0.3);
      const wd = makeRegularizer('WD', { mode, lambda: 0.3, mu: 0.1, D });
      expect(wd).toBeInstanceOf(WdRegularizer);
      const wdc = makeRegularizer('WDC', { mode, lambda: 0.3, mu: 0.1, D }) as WdcRegularizer;
      expect(wdc).toBeInstanceOf(WdcRegularizer);
      expect(wdc.sMin).toBe(mode === 'paper' ? null : 1e-4);
      expect(wdc.lambda).toBe(0.3);
      const emd = makeRegularizer('EMD', { mode, lambda: 0.3, mu: 0.1, D, K: ctx.K }) as EmdRegularizer;
      expect(emd).toBeInstanceOf(EmdRegularizer);
      expect(emd.target.target).toBe(mode === 'paper' ? 'paper' : 'floor-one-synapse');
      expect(emd.mu).toBe(0.1);
      expect(s.distanceMode).toBe(mode === 'paper' ? 'paper-compat' : 'isotropic');
    }
    // real D: isotropic µm distances over their maximum (corrected), the reshape bug (paper)
    const iso = geometryD('real', ctx, 'corrected')!;
    expect(Array.from(iso)).toEqual(Array.from(distanceMatrix(voxelsToUm(ctx.field!.neurons.positionsVox), 'isotropic')));
    expect(Math.max(...iso)).toBe(1);
    const compat = geometryD('real', ctx, 'paper')!;
    expect(Array.from(compat)).toEqual(Array.from(distanceMatrix(ctx.field!.neurons.positionsVox, 'paper-compat')));
    expect(Array.from(compat)).not.toEqual(Array.from(iso));
    // grid D: the paper's unscaled grid, the same in both modes
    expect(Array.from(geometryD('grid', ctx, 'paper')!)).toEqual(Array.from(gridDistances(70).D));
    expect(geometryD('none', ctx, 'paper')).toBeNull();
    expect(() => makeRegularizer('WD', { mode: 'paper', lambda: 0.3, mu: 0.1, D: null })).toThrow(/needs a distance matrix/);
  });

  it('the three W* variants share one draw per seed; W! is re-permuted per variant', () => {
    const ctx = prepareField(DATA, '5_3_4');
    const n = ctx.n;
    const a = initialRecurrent(getVariant('W*D*C'), ctx, 1).W!;
    const b = initialRecurrent(getVariant('W*D*C*'), ctx, 1).W!;
    const c = initialRecurrent(getVariant('W*DC*'), ctx, 1).W!;
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(Array.from(c)).toEqual(Array.from(a));
    const other = initialRecurrent(getVariant('W*D*C'), ctx, 2).W!;
    expect(Array.from(other)).not.toEqual(Array.from(a));
    // W!: the same W* with rows and columns permuted, a different permutation per variant
    const x = initialRecurrent(getVariant('W!D*C'), ctx, 1);
    const y = initialRecurrent(getVariant('W!D*C*'), ctx, 1);
    expect(x.perm).not.toEqual(y.perm);
    for (const r of [x, y]) {
      const p = r.perm!;
      for (let i = 0; i < n; i += 7) for (let j = 0; j < n; j += 5) expect(r.W![i * n + j]).toBe(a[p[i]! * n + p[j]!]);
    }
    // deterministic: a second call gives the same draws
    expect(Array.from(initialRecurrent(getVariant('W!D*C'), ctx, 1).W!)).toEqual(Array.from(x.W!));
    expect(Array.from(wStarDraw(ctx, 1))).toEqual(Array.from(a));
    // the extra controls build too (5_3_4 is acyclic: anatomical symmetrises K and says so)
    const ctl = initialRecurrent(getVariant('Wctrl-D*C'), ctx, 1);
    expect(ctl.W!.length).toBe(n * n);
    const anat = initialRecurrent(getVariant('Wanat-D*C'), ctx, 1);
    expect(anat.notes.join(' ')).toMatch(/K \+ Kᵀ/);
    expect(initialRecurrent(getVariant('WD*C'), ctx, 1).kind).toBe('orthogonal');
  });

  it('says clearly when a field has no functional data for W*', () => {
    // 4_7_4 has neither spikes nor functional matrices
    const ctx = prepareField(DATA, '4_7_4');
    expect(ctx.functional).toBeNull();
    expect(() => initialRecurrent(getVariant('W*D*C'), ctx, 1)).toThrow(/4_7_4 ships neither corr\/sttc matrices nor spikes/);
    expect(initialRecurrent(getVariant('WD*C'), ctx, 1).kind).toBe('orthogonal');
  });
});

describe('runs and sweeps', { skip: !haveData }, () => {
  it('a killed sweep resumes with no duplicated or lost runs', async () => {
    const out = join(tmp, 'resume');
    const plan = { field: '5_3_4', tasks: ['gonogo'], variants: parseVariantList('W,WD*'), seeds: [1, 2], modes: ['corrected' as const], positive: false };
    const opts = { ...plan, out, dataDir: DATA, backend: cpu, protocol: TINY, quiet: true };
    // "kill" after two runs
    const first = await sweep({ ...opts, maxRuns: 2 });
    expect(first.stopped).toBe(true);
    expect(first.ran).toHaveLength(2);
    const specs = planRuns(plan);
    const dirs = specs.map((s) => join(out, runRelDir(s)));
    expect(readRunRecord(dirs[0]!)).not.toBeNull();
    expect(readRunRecord(dirs[1]!)).not.toBeNull();
    expect(existsSync(dirs[2]!)).toBe(false);
    // a run killed mid-way: a partial directory without final.json (with a stale file in it)
    mkdirSync(dirs[2]!, { recursive: true });
    writeFileSync(join(dirs[2]!, 'config.json'), '{"partial": true}');
    writeFileSync(join(dirs[2]!, 'W_rec_epoch09.npy'), 'stale');
    // and a run whose final.json was lost
    rmSync(join(dirs[0]!, 'final.json'));
    const keptFinal = readFileSync(join(dirs[1]!, 'final.json'), 'utf8');

    const second = await sweep(opts);
    expect(second.stopped).toBe(false);
    expect(second.skipped).toEqual([runId(specs[1]!)]);
    expect(second.ran.sort()).toEqual([runId(specs[0]!), runId(specs[2]!), runId(specs[3]!)].sort());
    // every planned run is present exactly once, and the done run was not redone
    for (const d of dirs) expect(readRunRecord(d)?.status).toBe('ok');
    expect(readFileSync(join(dirs[1]!, 'final.json'), 'utf8')).toBe(keptFinal);
    expect(existsSync(join(dirs[2]!, 'W_rec_epoch09.npy'))).toBe(false);
    expect(JSON.parse(readFileSync(join(dirs[2]!, 'config.json'), 'utf8')).id).toBe(runId(specs[2]!));
    const m = readManifest(out)!;
    expect(Object.keys(m.runs).sort()).toEqual(specs.map(runId).sort());
    expect(m.invocations).toHaveLength(2);
    expect(m.invocations[1]!.skipped).toBe(1);
    // a third run has nothing left to do
    const third = await sweep(opts);
    expect(third.ran).toHaveLength(0);
    expect(third.skipped).toHaveLength(4);
    // resuming with another protocol is refused, naming the file and the field
    await expect(sweep({ ...opts, protocol: { ...TINY, epochs: 3 } })).rejects.toThrow(/final\.json: field "protocol"/);
    // every run and every invocation records the commit that produced it
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    expect(JSON.parse(readFileSync(join(dirs[0]!, 'config.json'), 'utf8')).code.commit).toBe(head);
    expect(readRunRecord(dirs[0]!)!.code!.commit).toBe(head);
    expect(readManifest(out)!.invocations.every((i) => i.code?.commit === head)).toBe(true);
    // a grid comes from one commit: resuming runs of another commit is refused unless asked for
    const f = join(dirs[3]!, 'final.json');
    writeFileSync(f, readFileSync(f, 'utf8').replace(head, '0'.repeat(40)));
    await expect(sweep(opts)).rejects.toThrow(/final\.json: field "code\.commit": expected this checkout's commit [0-9a-f]{40}, got 0{40}/);
    expect((await sweep({ ...opts, allowMixedCommits: true })).ran).toHaveLength(0);
  });

  it('a corrupt or foreign final.json stops the resume, naming it; --redo-corrupt retrains it and keeps the file aside', async () => {
    const out = join(tmp, 'corrupt');
    const plan = { field: '5_3_4', tasks: ['gonogo'], variants: parseVariantList('W'), seeds: [1, 2], modes: ['corrected' as const], positive: false };
    const lines: string[] = [];
    const opts = { ...plan, out, dataDir: DATA, backend: cpu, protocol: TINY, quiet: true, log: (l: string) => lines.push(l) };
    await sweep(opts);
    const dirs = planRuns(plan).map((s) => join(out, runRelDir(s)));
    const files = dirs.map((d) => join(d, 'final.json'));
    const good = files.map((f) => readFileSync(f, 'utf8'));
    const weights = dirs.map((d) => readFileSync(join(d, 'W_rec_epoch02.npy')));
    const manifest = readFileSync(join(out, 'sweep.json'), 'utf8');
    const hint = '; rerun with --redo-corrupt to retrain it';
    /** The sweep is refused with exactly this message, and leaves every file as it was. */
    const refused = async (message: string | RegExp) => {
      const before = dirs.map((d) => readdirSync(d).sort());
      const contents = files.map((f) => readFileSync(f, 'utf8'));
      const e = (await sweep(opts).catch((x: unknown) => x)) as Error;
      expect(e).toBeInstanceOf(Error);
      if (typeof message === 'string') expect(e.message).toBe(message);
      else expect(e.message).toMatch(message);
      expect(dirs.map((d) => readdirSync(d).sort())).toEqual(before);
      expect(files.map((f) => readFileSync(f, 'utf8'))).toEqual(contents);
      expect(readFileSync(join(out, 'sweep.json'), 'utf8')).toBe(manifest);
    };
    // unparseable (a truncated write)
    writeFileSync(files[0]!, good[0]!.slice(0, 40));
    const esc = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    await refused(new RegExp(`^${esc(files[0]!)}: expected a run's final record as JSON, got unparseable text \\(.+\\)${esc(hint)}$`));
    // of another schema (valid JSON)
    writeFileSync(files[0]!, good[0]!);
    writeFileSync(files[1]!, JSON.stringify({ schema: 'someone-else/record/1', status: 'ok' }));
    await refused(`${files[1]}: field "schema": expected "${RUN_SCHEMA}" (or "cortical-rnn/run/1"), got "someone-else/record/1"${hint}`);
    // of this schema but incomplete
    const incomplete = { ...JSON.parse(good[1]!), metrics: null };
    writeFileSync(files[1]!, JSON.stringify(incomplete));
    await refused(`${files[1]}: field "metrics": expected the network metrics of an ok run, got null${hint}`);
    // the report's reader refuses the same file alike (without the resume's hint)
    expect(() => readFinalStrict(dirs[1]!)).toThrow(`${files[1]}: field "metrics": expected the network metrics of an ok run, got null`);
    expect(readRunRecord(join(out, 'no-such-run'))).toBeNull();
    expect(() => readFinalStrict(join(out, 'no-such-run'))).toThrow(/no-such-run\/final\.json: expected a run's final record, got no such file$/);

    // --redo-corrupt: both retrained, their old files kept aside, one log line each
    writeFileSync(files[0]!, good[0]!.slice(0, 40));
    lines.length = 0;
    const redo = await sweep({ ...opts, redoCorrupt: true });
    expect(redo.ran.sort()).toEqual(planRuns(plan).map(runId).sort());
    const setAside = lines.filter((l) => l.includes('--redo-corrupt'));
    expect(setAside).toHaveLength(2);
    for (const [k, d] of dirs.entries()) {
      const kept = readdirSync(d).filter((e) => e.startsWith('final.json.corrupt-'));
      expect(kept).toHaveLength(1);
      expect(kept[0]).toMatch(/^final\.json\.corrupt-\d{8}T\d{6}\.\d{3}Z$/);
      expect(readFileSync(join(d, kept[0]!), 'utf8')).toBe(k === 0 ? good[0]!.slice(0, 40) : JSON.stringify(incomplete));
      expect(setAside[k]).toMatch(
        new RegExp(`^sweep: ${esc(files[k]!)}: .*; retraining it \\(--redo-corrupt\\), the corrupt file kept as ${esc(join(d, kept[0]!))}$`),
      );
      // retrained exactly as before
      expect(readFileSync(join(d, 'W_rec_epoch02.npy')).equals(weights[k]!)).toBe(true);
      expect(readRunRecord(d)!.accuracy).toEqual(JSON.parse(good[k]!).accuracy);
    }
    // and then nothing is left to do; the kept files stay
    const again = await sweep(opts);
    expect(again.ran).toHaveLength(0);
    expect(again.skipped).toHaveLength(2);
    for (const d of dirs) expect(readdirSync(d).filter((e) => e.startsWith('final.json.corrupt-'))).toHaveLength(1);
  });

  it('writes config, per-epoch CSV, W_rec per epoch as NumPy <f4, and final.json', async () => {
    const spec = { field: '5_3_4', task: 'gonogo', variant: 'W*D*C', seed: 3, mode: 'paper' as const, positive: false };
    const dir = join(tmp, 'one');
    const rec = await runOne(spec, { dataDir: DATA, backend: cpu, protocol: TINY, dir, progress: { quiet: true } });
    expect(rec.status).toBe('ok');
    const files = readdirSync(dir).sort();
    expect(files).toEqual(
      expect.arrayContaining([
        'config.json',
        'metrics.csv',
        'W_rec_init.npy',
        'W_rec_epoch01.npy',
        'W_rec_epoch02.npy',
        'final.json',
        'positions_um.npy',
        'params_final',
      ]),
    );
    const csv = readFileSync(join(dir, 'metrics.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('epoch,step,mean_loss,mean_ce,mean_reg,train_accuracy,eval_accuracy,eval_loss,seconds');
    expect(csv).toHaveLength(3);
    expect(csv[2]!.split(',')[1]).toBe('4'); // 2 epochs × 2 steps
    // epochs are numbered from 1 in the record, the CSV and the weight file names alike
    expect(rec.history.map((h) => h.epoch)).toEqual([1, 2]);
    expect(csv.slice(1).map((r) => Number(r.split(',')[0]))).toEqual([1, 2]);
    expect(JSON.parse(readFileSync(join(dir, 'final.json'), 'utf8')).history.map((h: { epoch: number }) => h.epoch)).toEqual([1, 2]);
    const bytes = readFileSync(join(dir, 'W_rec_epoch02.npy'));
    expect(String.fromCharCode(...bytes.subarray(1, 6))).toBe('NUMPY');
    expect([bytes[6], bytes[7]]).toEqual([1, 0]); // version 1.0
    const npy = parseNpy(new Uint8Array(bytes));
    expect(npy.dtype).toBe('<f4');
    expect(npy.shape).toEqual([70, 70]);
    // the initial W_rec is the shared W* draw (float32)
    const init = parseNpy(new Uint8Array(readFileSync(join(dir, 'W_rec_init.npy'))));
    const ws = wStarDraw(prepareField(DATA, '5_3_4'), 3);
    expect(Array.from(init.data as Float32Array)).toEqual(Array.from(Float32Array.from(ws)));
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(cfg.mode.mode).toBe('paper');
    expect(cfg.regularizer).toMatch(/WDC.*λ = 0\.3.*paper-compat/);
    expect(cfg.model).toMatchObject({ alpha: 1, outputBias: true, nHidden: 70 });
    // the data it came from: the directory and a digest of the field's files
    expect(cfg.data.dir).toBe(DATA);
    expect(cfg.data.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(cfg.data.files).toEqual(expect.arrayContaining(['neurons.csv', 'synapses.csv', 'corr.npy', 'sttc.npy']));
    expect(rec.accuracy!.test).toBeGreaterThanOrEqual(0);
    expect(rec.accuracy!.paper).toBe(rec.history[1]!.trainAccuracy);
    // analyze recomputes the same metrics and the same test accuracy from the saved files
    const an = await reanalyzeRunDir(dir, { backend: cpu, dataDir: DATA });
    expect(an.metrics.Q_cnm).toBeCloseTo(rec.metrics!.Q_cnm, 6);
    // what the modules follow: recorded by the run, recomputed alike by analyze
    const alignment = rec.metrics!.module_alignment!;
    expect(alignment.cnm.labellings.index_mod3!.shuffles).toBe(1000);
    expect(alignment.louvain.labellings.functional).not.toBeNull();
    expect(an.metrics.module_alignment).toEqual(alignment);
    expect(an.metrics.sigma_paper).toBeCloseTo(rec.metrics!.sigma_paper, 6);
    expect(an.accuracy!.test).toBe(rec.accuracy!.test);
    expect(existsSync(join(dir, 'analysis.json'))).toBe(true);
    await expect(reanalyzeRunDir(join(tmp, 'nope'))).rejects.toThrow(/config\.json: expected the run's config\.json, got no such file/);
  });

  it('records a diverging run as diverged with its step and tensor, never NaN metrics', async () => {
    const spec = { field: '5_3_4', task: 'gonogo', variant: 'W', seed: 1, mode: 'corrected' as const, positive: false };
    const dir = join(tmp, 'diverge');
    // lr = 1e38 overflows the loss at step 2. (lr = 1e30 leaves it finite, at 7e32: it was
    // reported as diverged only while the read-out ran at every step and its logits there, which
    // the loss does not read, overflowed into NaN gradients through 0·NaN.)
    const rec = await runOne(spec, { dataDir: DATA, backend: backend(), protocol: { ...TINY, lr: 1e38 }, dir, progress: { quiet: true } });
    expect(rec.status).toBe('diverged');
    expect(Number.isInteger(rec.divergence!.step)).toBe(true);
    expect(rec.divergence!.step).toBeGreaterThanOrEqual(1);
    expect(rec.divergence!.tensor).toMatch(/\S/);
    expect(rec.accuracy).toBeNull();
    expect(rec.metrics).toBeNull();
    // no metric is NaN/Infinity anywhere (only the divergence's description names the value)
    const parsed = JSON.parse(readFileSync(join(dir, 'final.json'), 'utf8'));
    expect(parsed.divergence.message).toMatch(/non-finite value .* at training step \d+/);
    delete parsed.divergence;
    expect(JSON.stringify(parsed)).not.toMatch(/NaN|Infinity/);
    const back = readRunRecord(dir)!;
    expect(back.status).toBe('diverged');
    expect(back.divergence!.step).toBe(rec.divergence!.step);
    expect(back.steps).toBe(rec.divergence!.step);
  });
});

describe('learning check at the quick scale', { skip: !haveData }, () => {
  it('W*D*C learns Go/NoGo: held-out test accuracy above 0.9 (field 5_3_4, quick protocol, seeds 1 and 2)', { timeout: 600_000 }, async () => {
    const accs: number[] = [];
    for (const seed of [1, 2]) {
      const spec = { field: QUICK_PRESET.field, task: 'gonogo', variant: 'W*D*C', seed, mode: 'corrected' as const, positive: false };
      const rec = await runOne(spec, {
        dataDir: DATA,
        backend: backend(),
        protocol: QUICK_PRESET.protocol,
        dir: join(tmp, 'learn', String(seed)),
        progress: { quiet: true },
      });
      expect(rec.status).toBe('ok');
      // the network starts at chance and learns
      expect(rec.history[0]!.trainAccuracy).toBeLessThan(0.8);
      accs.push(rec.accuracy!.test);
    }
    console.log(`[learning check] W*D*C Go/NoGo test accuracy (5_3_4, quick, ${hasAdapter ? 'GPU' : 'CPU'}): ${accs.map((a) => a.toFixed(4)).join(', ')}`);
    for (const a of accs) expect(a).toBeGreaterThan(0.9);
  });
});
