/**
 * The recurrent designs' autotuner (engine/rnn/tune.ts) and its cache (engine/rnn/tune_cache.ts):
 * the order of the decision, a cache that cannot be trusted named in one line and retuned, two
 * processes writing the cache at once, the committed measurements, the design recorded in
 * config.json and reused by a resumed sweep, and --rnn-design's usage error.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../engine/cpu/backend.ts';
import { OptionError } from '../engine/errors.ts';
import type { GpuContext } from '../engine/gpu/context.ts';
import { parseRnnDesign, RNN_DESIGNS } from '../engine/gpu/rnn_design.ts';
import { measuredDesign } from '../engine/gpu/rnn_measured.ts';
import { tuneKey } from '../engine/gpu/tune.ts';
import { TuneCache, TUNE_CACHE_SCHEMA, type TuneEntry } from '../engine/gpu/tune_cache.ts';
import type { RnnShape } from '../engine/tensor.ts';
import { parseVariantList } from '../experiments/variants.ts';
import { PAPER_PROTOCOL, type Protocol } from '../experiments/protocol.ts';
import { planRuns, sweep } from '../experiments/sweep.ts';
import { runRelDir } from '../experiments/record.ts';
import { hasAdapter, useGpu } from './helpers/gpu.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cortical-rnn-tune-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const execFileAsync = promisify(execFile);
const gpu = useGpu();

const SHAPE: RnnShape = { cfg: { nIn: 3, nHidden: 20, nOut: 2, alpha: 1, outputBias: true }, B: 8, T: 6, K: 2 };

function entry(winner: string, engine = 'e1'): TuneEntry {
  return {
    adapter: 'a',
    driver: 'd',
    engine,
    shape: { N: 20, B: 8, T: 6, K: 2 },
    winner: winner as TuneEntry['winner'],
    matmul: 'workgroup',
    timings: [{ design: winner as TuneEntry['winner'], matmul: 'workgroup', ms: 1, min: 1, repeats: 3 }],
    regularizer: [{ matmul: 'workgroup', ms: 2, min: 2, repeats: 3 }],
    measuredAt: 'now',
  };
}

describe('the tuning cache', () => {
  it('keeps entries across instances, and names a stale entry once', () => {
    const path = join(tmp, 'c1', 'cache.json');
    const warnings: string[] = [];
    new TuneCache(path).put('k', entry('blocked-4x2'));
    const cache = new TuneCache(path, (l) => warnings.push(l));
    expect(cache.get('k', 'e1')?.winner).toBe('blocked-4x2');
    expect(cache.get('k', 'e2')).toBeUndefined();
    expect(cache.get('k', 'e2')).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/cache\.json: the entry for k was measured for other kernels \(engine e1, now e2\); retuning/);
  });

  it('names a corrupt or foreign file in one line, ignores it, and rewrites it whole', () => {
    for (const [name, text, why] of [
      ['corrupt', '{"schema": "cortical-rnn/rnn-des', /unreadable tuning cache/],
      ['foreign', JSON.stringify({ schema: 'someone-else/1', entries: { k: entry('persistent') } }), /not a tuning cache of schema/],
    ] as const) {
      const path = join(tmp, `${name}.json`);
      writeFileSync(path, text);
      const warnings: string[] = [];
      const cache = new TuneCache(path, (l) => warnings.push(l));
      expect(cache.get('k', 'e1'), name).toBeUndefined();
      cache.put('k2', entry('per-step'));
      expect(warnings, name).toHaveLength(1);
      expect(warnings[0]!.split('\n')).toHaveLength(1);
      expect(warnings[0]).toMatch(why);
      const file = JSON.parse(readFileSync(path, 'utf8')) as { schema: string; entries: Record<string, TuneEntry> };
      expect(file.schema).toBe(TUNE_CACHE_SCHEMA);
      expect(Object.keys(file.entries)).toEqual(['k2']);
    }
  });

  it('loses nothing when four processes write it at once', async () => {
    const path = join(tmp, 'shared', 'cache.json');
    mkdirSync(join(tmp, 'shared'), { recursive: true });
    const script = join(tmp, 'writer.ts');
    writeFileSync(
      script,
      `import { TuneCache } from ${JSON.stringify(join(process.cwd(), 'engine/gpu/tune_cache.ts'))};
const [path, who] = process.argv.slice(2);
const cache = new TuneCache(path, (l) => { throw new Error(l); });
for (let i = 0; i < 15; i++) cache.put(who + '-' + i, { adapter: 'a', driver: 'd', engine: 'e1', shape: { N: 1, B: 1, T: 1, K: 1 }, winner: 'per-step', matmul: 'workgroup', timings: [], regularizer: [], measuredAt: String(i) });
`,
    );
    await Promise.all(['p0', 'p1', 'p2', 'p3'].map((who) => execFileAsync(process.execPath, ['--import', 'tsx', script, path, who])));
    const file = JSON.parse(readFileSync(path, 'utf8')) as { entries: Record<string, TuneEntry> };
    expect(Object.keys(file.entries)).toHaveLength(60);
    expect(existsSync(`${path}.lock`)).toBe(false);
  }, 120_000);
});

describe('the committed measurements', () => {
  const ctx = (device: string) =>
    ({
      summary: { vendor: 'nvidia', device, isFallbackAdapter: false },
      limits: { maxComputeWorkgroupStorageSize: 49152, maxComputeInvocationsPerWorkgroup: 1024, maxComputeWorkgroupSizeX: 1024 },
    }) as unknown as GpuContext;
  it('choose the fastest design measured on this card at the nearest K', () => {
    const shape = { N: 312, B: 128, T: 50 };
    expect(measuredDesign(ctx('nvidia-h200'), { ...shape, K: 1 })?.design).toBe('persistent');
    expect(measuredDesign(ctx('nvidia-h200'), { ...shape, K: 6 })?.design).toBe('persistent');
    expect(measuredDesign(ctx('nvidia-h200'), { ...shape, K: 55 })?.design).toBe('per-step');
    expect(measuredDesign(ctx('nvidia-h200'), { ...shape, K: 40 })?.design).toBe('per-step');
    expect(measuredDesign(ctx('nvidia-h100'), { ...shape, K: 1 })).toBeNull();
    expect(measuredDesign(ctx('nvidia-h200'), { ...shape, N: 100, K: 1 })).toBeNull();
  });
});

describe('--rnn-design', () => {
  it('accepts every design and auto, and refuses anything else in one line listing them', () => {
    for (const d of [...RNN_DESIGNS, 'auto']) expect(parseRnnDesign(d)).toBe(d);
    expect(() => parseRnnDesign('blocked-3x3')).toThrow(OptionError);
    expect(() => parseRnnDesign('fast')).toThrow(/--rnn-design: expected auto or one of per-step, persistent, blocked-1x1, .*blocked-16x2, got "fast"/);
  });

  it('is a one-line usage error on the command line', () => {
    let stderr = '';
    try {
      execFileSync(process.execPath, ['bin/cortical-rnn.js', 'train', '--task', 'gonogo', '--variant', 'W', '--rnn-design', 'fast', '--backend', 'cpu'], {
        encoding: 'utf8',
        stdio: 'pipe',
      });
    } catch (e) {
      stderr = (e as { stderr: string }).stderr;
    }
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/--rnn-design: expected auto or one of per-step, persistent, blocked-/);
  });
});

describe('resolving the design', () => {
  it('the CPU reference has one design, and a named design is taken as named', async () => {
    expect(await new CpuBackend('f64').resolveRnnDesign(SHAPE)).toEqual({ design: 'per-step', source: 'default', ms: null });
    expect(await new CpuBackend('f64').resolveRnnDesign(SHAPE, 'blocked-4x2')).toEqual({ design: 'blocked-4x2', source: 'requested', ms: null });
  });

  it.skipIf(!hasAdapter)(
    'with tuning off reads no cache; with it on, takes the cached winner or tunes and caches',
    async () => {
      const be = gpu.get();
      const path = join(tmp, 'resolve.json');
      const cache = new TuneCache(path, () => {});
      const { key, engine } = tuneKey(be, SHAPE);
      cache.put(key, { ...entry('blocked-8x2', engine) });
      const off = await be.resolveRnnDesign(SHAPE, 'auto', { cachePath: path, tune: false });
      expect(['measured', 'default']).toContain(off.source);
      expect(off.design).not.toBe('blocked-8x2');
      expect(await be.resolveRnnDesign(SHAPE, 'auto', { cachePath: path, tune: true })).toEqual({
        design: 'blocked-8x2',
        matmul: 'workgroup',
        source: 'cache',
        ms: 1,
      });
      const fresh = new TuneCache(join(tmp, 'resolve-fresh.json'), () => {});
      const own = be.matmulDesign;
      const tuned = await be.resolveRnnDesign(SHAPE, 'auto', { cachePath: join(tmp, 'resolve-fresh.json'), tune: true, budgetMs: 1 });
      expect(tuned.source).toBe('tuned');
      expect(be.matmulDesign, 'tuning leaves the matmul design as it found it').toBe(own);
      const stored = fresh.get(key, engine)!;
      expect([stored.winner, stored.matmul]).toEqual([tuned.design, tuned.matmul]);
      // every recurrent design with every matmul design that runs here, and the regulariser with each
      const pairs = stored.timings.map((t) => `${t.design} ${t.matmul}`).sort();
      expect(pairs).toEqual(RNN_DESIGNS.flatMap((d) => be.matmulDesigns().map((m) => `${d} ${m}`)).sort());
      expect(stored.regularizer.map((r) => r.matmul).sort()).toEqual([...be.matmulDesigns()].sort());
      // the winner has the least forward + BPTT + regulariser time
      const total = (t: (typeof stored.timings)[number]) => t.ms + stored.regularizer.find((r) => r.matmul === t.matmul)!.ms;
      const win = stored.timings.find((t) => t.design === stored.winner && t.matmul === stored.matmul)!;
      expect(total(win)).toBe(Math.min(...stored.timings.map(total)));
      expect(tuned.ms).toBe(win.ms);
    },
    120_000,
  );
});

describe('the design in config.json', { skip: !existsSync('../shared/data/microns-fields/5_3_4') }, () => {
  const TINY: Protocol = { ...PAPER_PROTOCOL, epochs: 1, splits: { train: 128, test: 128, val: 128 }, nNull: 5, nMatched: 2 };
  it('is recorded for every run, and a resumed sweep keeps the design its earlier runs recorded', async () => {
    const out = join(tmp, 'sweep');
    const plan = { field: '5_3_4', tasks: ['gonogo'], variants: parseVariantList('W'), seeds: [1, 2], modes: ['corrected' as const], positive: false };
    const opts = { ...plan, out, dataDir: '../shared/data', backend: new CpuBackend('f64'), protocol: TINY, quiet: true };
    await sweep({ ...opts, maxRuns: 1 });
    const [first, second] = planRuns(plan).map((s) => join(out, runRelDir(s)));
    const config = (dir: string) => JSON.parse(readFileSync(join(dir!, 'config.json'), 'utf8')) as { rnnDesign: unknown };
    expect(config(first!).rnnDesign).toEqual({ design: 'per-step', source: 'default', ms: null });
    // as if the first run had been tuned to another design: the resumed sweep's next run keeps it
    const c = JSON.parse(readFileSync(join(first!, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(first!, 'config.json'), JSON.stringify({ ...c, rnnDesign: { design: 'blocked-4x2', source: 'tuned', ms: 3.5 } }));
    await sweep(opts);
    expect(config(second!).rnnDesign).toEqual({ design: 'blocked-4x2', source: 'tuned', ms: 3.5 });
    // a record naming no design is refused with the file and the field
    writeFileSync(join(first!, 'config.json'), JSON.stringify({ ...c, rnnDesign: { design: 'warp-9' } }));
    rmSync(join(second!, 'final.json'));
    await expect(sweep(opts)).rejects.toThrow(/config\.json: field "rnnDesign\.design": expected auto or one of per-step/);
    writeFileSync(join(first!, 'config.json'), JSON.stringify({ ...c, rnnDesign: { design: 'per-step', matmul: 'tiles-9' } }));
    await expect(sweep(opts)).rejects.toThrow(/config\.json: field "rnnDesign\.matmul": expected one of workgroup, subgroup, got "tiles-9"/);
  }, 120_000);

  it.skipIf(!hasAdapter)(
    'on a GPU records the matmul design beside the recurrent one, and a resumed sweep trains with the recorded pair',
    async () => {
      const be = gpu.get();
      const out = join(tmp, 'sweep-gpu');
      const plan = { field: '5_3_4', tasks: ['gonogo'], variants: parseVariantList('W'), seeds: [1, 2], modes: ['corrected' as const], positive: false };
      const opts = { ...plan, out, dataDir: '../shared/data', backend: be, protocol: TINY, quiet: true, design: 'per-step' as const };
      const own = be.matmulDesign;
      try {
        await sweep({ ...opts, maxRuns: 1 });
        const [first, second] = planRuns(plan).map((s) => join(out, runRelDir(s)));
        const config = (dir: string) => JSON.parse(readFileSync(join(dir!, 'config.json'), 'utf8')) as Record<string, unknown>;
        expect(config(first!).rnnDesign).toEqual({ design: 'per-step', source: 'requested', ms: null, matmul: own });
        const other = be.matmulDesigns().find((m) => m !== own) ?? own;
        writeFileSync(
          join(first!, 'config.json'),
          JSON.stringify({ ...config(first!), rnnDesign: { design: 'per-step', matmul: other, source: 'tuned', ms: 2 } }),
        );
        await sweep({ ...opts, design: undefined });
        expect(config(second!).rnnDesign).toEqual({ design: 'per-step', matmul: other, source: 'tuned', ms: 2 });
        expect(be.matmulDesign).toBe(other);
      } finally {
        be.useMatmulDesign(null);
      }
      expect(be.matmulDesign).toBe(own);
    },
    120_000,
  );
});
