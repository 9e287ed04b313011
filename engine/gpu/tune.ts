/**
 * Which recurrent design (engine/gpu/rnn_design.ts) trains a shape, decided by measurement on
 * the adapter in hand. `resolveGpuRnnDesign` (the WebGPU backend's `resolveRnnDesign`) decides once per shape, before training, in order:
 *   1. a design the caller names (`--rnn-design`, or one recorded by the run being resumed);
 *   2. where tuning is on, the tuning cache's winner for (adapter, driver, engine version, N,
 *      B, T, K), else tuning now: every design that fits is timed (forward + BPTT, wall time
 *      to completion, median of repeats) and the winner cached;
 *   3. the committed measurements for this adapter (engine/gpu/rnn_measured.ts);
 *   4. the default rule.
 * Tuning is on for hardware adapters and off on software ones (llvmpipe, SwiftShader), where
 * the per-step design measured 3-10x faster and results stay byte-identical to every earlier
 * run; CORTICAL_RNN_TUNE=0 turns it off everywhere and =1 on everywhere. With tuning off the
 * cache is not read either, so the choice is a fixed function of the adapter. It never
 * depends on timing noise within a sweep: the sweep resolves each shape once and records it
 * in every run's config.json, and a resumed run reuses the recorded design.
 */
import { defaultDesign, designFits, RNN_DESIGNS } from './rnn_design.ts';
import { measuredDesign } from './rnn_measured.ts';
import type { GpuContext } from './context.ts';
import { Rng } from '../rng.ts';
import type { Backend, RnnDesign, RnnDesignChoice, RnnDesignOptions, RnnNet, RnnShape } from '../tensor.ts';
import { arenaLayout } from '../rnn/params.ts';
import { TuneCache, type DesignTiming, type TuneEntry } from './tune_cache.ts';
import { SHADER_NAMES } from '../../shaders/names.ts';

/** What the tuner needs of the WebGPU backend (a structural type: the backend imports this module). */
export interface TunableBackend extends Backend {
  readonly ctx: GpuContext;
  readonly matmulKernel: string;
}

export interface TuneOptions extends RnnDesignOptions {
  cache?: TuneCache;
}

/** The programs whose code makes a measurement stale when it changes: every recurrent kernel, and the transpose (b) and (c) read W_rec through. */
const RNN_SHADERS = SHADER_NAMES.filter((name) => name.startsWith('rnn_') || name === 'transpose');

/** The cache key of a shape on this adapter, and the engine version its entry must carry. */
export function tuneKey(be: TunableBackend, shape: RnnShape): { key: string; adapter: string; driver: string; engine: string } {
  const s = be.ctx.summary;
  const adapter = `${s.vendor}/${s.architecture}/${s.device}/${s.backend}`;
  const driver = s.description;
  const engine = `${be.ctx.sourceDigest(RNN_SHADERS)}/${be.matmulKernel}`;
  const { cfg, B, T, K } = shape;
  return { key: `${adapter}|${driver}|N${cfg.nHidden} B${B} T${T} K${K} nIn${cfg.nIn} nOut${cfg.nOut}`, adapter, driver, engine };
}

/** Whether `resolveGpuRnnDesign` may tune on this backend (see the comment at the top). */
function tuningEnabled(be: TunableBackend, override?: boolean): boolean {
  if (override !== undefined) return override;
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.CORTICAL_RNN_TUNE;
  if (env === '0' || env === 'off') return false;
  if (env === '1' || env === 'on') return true;
  return !be.ctx.summary.isFallbackAdapter;
}

/** Median and min wall time of forward + BPTT of one design (after one warm-up pass that compiles it). */
async function timeDesign(be: TunableBackend, shape: RnnShape, design: RnnDesign, budgetMs = 1500, giveUpMs = Infinity): Promise<DesignTiming> {
  const { cfg, B, T, K } = shape;
  const layout = arenaLayout(cfg);
  const net: RnnNet = { cfg, layout, K, design };
  const rng = new Rng(1, 'tune');
  const scale = 1 / Math.sqrt(cfg.nHidden);
  const theta = be.fromArray(
    Float32Array.from({ length: K * layout.total }, () => rng.uniformIn(-scale, scale)),
    [K * layout.total],
  );
  const x = be.fromArray(
    Float32Array.from({ length: K * T * B * cfg.nIn }, () => rng.uniformIn(0, 1)),
    [K * T * B * cfg.nIn],
  );
  const dY = be.fromArray(
    Float32Array.from({ length: K * T * B * cfg.nOut }, () => rng.uniformIn(-1, 1)),
    [K, T * B, cfg.nOut],
  );
  const pass = async () => {
    const t0 = performance.now();
    be.scope(() => {
      const fwd = be.rnnForward(net, theta, x, T, B);
      be.rnnBackward(net, theta, fwd, dY);
      return {};
    });
    await be.ctx.sync();
    return performance.now() - t0;
  };
  const times: number[] = [];
  try {
    await pass();
    const start = performance.now();
    while (times.length < 3 || (performance.now() - start < budgetMs && times.length < 30)) {
      times.push(await pass());
      if (times[0]! > giveUpMs) break; // far slower than the best so far: one repeat says enough
    }
  } finally {
    for (const t of [theta, x, dY]) t.dispose();
  }
  const sorted = [...times].sort((a, b) => a - b);
  return { design, ms: sorted[Math.floor(sorted.length / 2)]!, min: sorted[0]!, repeats: times.length };
}

/** Times every design that fits the shape on this adapter, caches the winner and returns the entry. */
export async function tuneRnnDesigns(be: TunableBackend, shape: RnnShape, opts: TuneOptions = {}): Promise<TuneEntry> {
  const { key, adapter, driver, engine } = tuneKey(be, shape);
  const N = shape.cfg.nHidden;
  const candidates = RNN_DESIGNS.filter((d) => designFits(be.ctx, N, shape.B, d));
  const timings: DesignTiming[] = [];
  let best = Infinity;
  for (const design of candidates) {
    const t = await timeDesign(be, shape, design, opts.budgetMs, 3 * best);
    timings.push(t);
    best = Math.min(best, t.ms);
    opts.log?.(`tune: ${design} ${t.ms.toFixed(2)} ms (${t.repeats} repeats)`);
  }
  be.ctx.trimPool();
  const winner = timings.reduce((a, b) => (b.ms < a.ms ? b : a)).design;
  const entry: TuneEntry = { adapter, driver, engine, shape: { N, B: shape.B, T: shape.T, K: shape.K }, winner, timings, measuredAt: new Date().toISOString() };
  (opts.cache ?? new TuneCache(opts.cachePath)).put(key, entry);
  return entry;
}

/** The design for a shape on the WebGPU backend, in the order at the top of this file. */
export async function resolveGpuRnnDesign(
  be: TunableBackend,
  shape: RnnShape,
  requested: RnnDesign | 'auto' | RnnDesignChoice = 'auto',
  opts: TuneOptions = {},
): Promise<RnnDesignChoice> {
  if (typeof requested === 'object') return requested;
  if (requested !== 'auto') return { design: requested, source: 'requested', ms: null };
  const N = shape.cfg.nHidden;
  if (tuningEnabled(be, opts.tune)) {
    const cache = opts.cache ?? new TuneCache(opts.cachePath);
    const { key, engine } = tuneKey(be, shape);
    const hit = cache.get(key, engine);
    if (hit && designFits(be.ctx, N, shape.B, hit.winner)) return { design: hit.winner, source: 'cache', ms: msOf(hit) };
    const entry = await tuneRnnDesigns(be, shape, { ...opts, cache });
    return { design: entry.winner, source: 'tuned', ms: msOf(entry) };
  }
  const measured = measuredDesign(be.ctx, { N, B: shape.B, T: shape.T, K: shape.K });
  if (measured) return { design: measured.design, source: 'measured', ms: null };
  return { design: defaultDesign(be.ctx, N, shape.B), source: 'default', ms: null };
}

function msOf(e: TuneEntry): number | null {
  return e.timings.find((t) => t.design === e.winner)?.ms ?? null;
}
