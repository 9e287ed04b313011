/**
 * Which recurrent design (engine/gpu/rnn_design.ts) and matmul design (the tiles of the step's
 * products and of the expm's) train a shape, decided by measurement on the adapter in hand.
 * `resolveGpuRnnDesign` (the WebGPU backend's `resolveRnnDesign`) decides once per shape,
 * before training, in order:
 *   1. a design the caller names (`--rnn-design`, or one recorded by the run being resumed);
 *   2. where tuning is on, the tuning cache's winner for (adapter, driver, engine version, N,
 *      B, T, K), else tuning now: with each matmul design that runs here (only the one named
 *      by `--matmul-kernel`, when named), the K networks' WDC cost and every recurrent design
 *      that fits are timed (wall time to completion, median of repeats); the pair with the
 *      least forward + BPTT + regulariser time wins and is cached;
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
import type { Backend, MatmulDesign, RnnDesign, RnnDesignChoice, RnnDesignOptions, RnnNet, RnnShape } from '../tensor.ts';
import { arenaLayout } from '../rnn/params.ts';
import { WdcRegularizer } from '../regularizers/communicability.ts';
import { TuneCache, type DesignTiming, type RegularizerTiming, type Timing, type TuneEntry } from './tune_cache.ts';
import { SHADER_NAMES } from '../../shaders/names.ts';

/** What the tuner needs of the WebGPU backend (a structural type: the backend imports this module). */
export interface TunableBackend extends Backend {
  readonly ctx: GpuContext;
  readonly matmulDesign: MatmulDesign;
  /** whether the matmul design was named when the backend was made (tuning keeps it) */
  readonly matmulNamed: boolean;
  matmulDesigns(): MatmulDesign[];
}

export interface TuneOptions extends RnnDesignOptions {
  cache?: TuneCache;
}

/**
 * The programs whose code makes a measurement stale when it changes: every recurrent kernel, the
 * transpose (b) and (c) read W_rec through, the matmuls and the regulariser's.
 */
const TUNED_SHADERS = SHADER_NAMES.filter((name) => /^(rnn_|matmul|expm_|comm_)/.test(name) || name === 'transpose');

/** The cache key of a shape on this adapter, and the engine version its entry must carry. */
export function tuneKey(be: TunableBackend, shape: RnnShape): { key: string; adapter: string; driver: string; engine: string } {
  const s = be.ctx.summary;
  const adapter = `${s.vendor}/${s.architecture}/${s.device}/${s.backend}`;
  const driver = s.description;
  const engine = be.ctx.sourceDigest(TUNED_SHADERS);
  const { cfg, B, T, K } = shape;
  const matmul = be.matmulNamed ? be.matmulDesign : 'tuned';
  return { key: `${adapter}|${driver}|N${cfg.nHidden} B${B} T${T} K${K} nIn${cfg.nIn} nOut${cfg.nOut} matmul ${matmul}`, adapter, driver, engine };
}

/** Whether `resolveGpuRnnDesign` may tune on this backend (see the comment at the top). */
function tuningEnabled(be: TunableBackend, override?: boolean): boolean {
  if (override !== undefined) return override;
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.CORTICAL_RNN_TUNE;
  if (env === '0' || env === 'off') return false;
  if (env === '1' || env === 'on') return true;
  return !be.ctx.summary.isFallbackAdapter;
}

/**
 * Median and min wall time of `pass` (after one warm-up pass that compiles it): at least 3
 * repeats, more while `budgetMs` lasts; one when the first is slower than `giveUpMs`.
 */
async function timeRepeats(pass: () => Promise<number>, budgetMs = 1500, giveUpMs = Infinity): Promise<Timing> {
  const times: number[] = [];
  await pass();
  const start = performance.now();
  while (times.length < 3 || (performance.now() - start < budgetMs && times.length < 30)) {
    times.push(await pass());
    if (times[0]! > giveUpMs) break; // far slower than the best so far: one repeat says enough
  }
  const sorted = [...times].sort((a, b) => a - b);
  return { ms: sorted[Math.floor(sorted.length / 2)]!, min: sorted[0]!, repeats: times.length };
}

/** Random host data of a tuning pass, uploaded. */
function uniforms(be: Backend, rng: Rng, n: number, lo: number, hi: number, shape: number[]) {
  return be.fromArray(
    Float32Array.from({ length: n }, () => rng.uniformIn(lo, hi)),
    shape,
  );
}

/** Forward + BPTT of one recurrent design with the backend's matmul design in use. */
async function timeDesign(be: TunableBackend, shape: RnnShape, design: RnnDesign, budgetMs?: number, giveUpMs?: number): Promise<Timing> {
  const { cfg, B, T, K } = shape;
  const layout = arenaLayout(cfg);
  const net: RnnNet = { cfg, layout, K, design };
  const rng = new Rng(1, 'tune');
  const scale = 1 / Math.sqrt(cfg.nHidden);
  const theta = uniforms(be, rng, K * layout.total, -scale, scale, [K * layout.total]);
  const x = uniforms(be, rng, K * T * B * cfg.nIn, 0, 1, [K * T * B * cfg.nIn]);
  const dY = uniforms(be, rng, K * T * B * cfg.nOut, -1, 1, [K, T * B, cfg.nOut]);
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
  try {
    return await timeRepeats(pass, budgetMs, giveUpMs);
  } finally {
    for (const t of [theta, x, dY]) t.dispose();
  }
}

/** The WDC cost (λ = 0.3, the strength floor 1e-4) of K networks as one stack, with the backend's matmul design in use. */
async function timeRegularizer(be: TunableBackend, shape: RnnShape, budgetMs?: number): Promise<Timing> {
  const N = shape.cfg.nHidden;
  const rng = new Rng(2, 'tune');
  const D = Float64Array.from({ length: N * N }, (_, i) => (i % (N + 1) === 0 ? 0 : rng.uniformIn(0.1, 1)));
  const cost = new WdcRegularizer({ lambda: 0.3, D, sMin: 1e-4 });
  const costs = Array.from({ length: shape.K }, () => cost);
  const W = uniforms(be, rng, shape.K * N * N, -1 / Math.sqrt(N), 1 / Math.sqrt(N), [shape.K * N * N]);
  const at = costs.map((_, m) => m * N * N);
  const pass = async () => {
    const t0 = performance.now();
    be.scope(() => void be.wiringCosts(costs, W, at, N));
    await be.ctx.sync();
    return performance.now() - t0;
  };
  try {
    return await timeRepeats(pass, budgetMs);
  } finally {
    W.dispose();
  }
}

/**
 * Times the K networks' regulariser and every recurrent design that fits the shape, with each
 * matmul design that may run here; caches the winning pair and returns the entry.
 */
export async function tuneRnnDesigns(be: TunableBackend, shape: RnnShape, opts: TuneOptions = {}): Promise<TuneEntry> {
  const { key, adapter, driver, engine } = tuneKey(be, shape);
  const N = shape.cfg.nHidden;
  const candidates = RNN_DESIGNS.filter((d) => designFits(be.ctx, N, shape.B, d));
  const before = be.matmulDesign;
  const timings: DesignTiming[] = [];
  const regularizer: RegularizerTiming[] = [];
  let best = Infinity;
  try {
    for (const matmul of be.matmulNamed ? [before] : be.matmulDesigns()) {
      be.useMatmulDesign(matmul);
      const reg = await timeRegularizer(be, shape, opts.budgetMs);
      regularizer.push({ matmul, ...reg });
      opts.log?.(`tune: ${matmul} tiles, regulariser ${reg.ms.toFixed(2)} ms (${reg.repeats} repeats)`);
      for (const design of candidates) {
        const t = await timeDesign(be, shape, design, opts.budgetMs, 3 * best);
        timings.push({ design, matmul, ...t });
        best = Math.min(best, t.ms);
        opts.log?.(`tune: ${matmul} tiles, ${design} ${t.ms.toFixed(2)} ms (${t.repeats} repeats)`);
      }
    }
  } finally {
    be.useMatmulDesign(before);
    be.ctx.trimPool();
  }
  const total = (t: DesignTiming) => t.ms + regularizer.find((r) => r.matmul === t.matmul)!.ms;
  const win = timings.reduce((a, b) => (total(b) < total(a) ? b : a));
  const entry: TuneEntry = {
    adapter,
    driver,
    engine,
    shape: { N, B: shape.B, T: shape.T, K: shape.K },
    winner: win.design,
    matmul: win.matmul,
    timings,
    regularizer,
    measuredAt: new Date().toISOString(),
  };
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
    if (hit && designFits(be.ctx, N, shape.B, hit.winner) && be.matmulDesigns().includes(hit.matmul)) {
      return { design: hit.winner, matmul: hit.matmul, source: 'cache', ms: msOf(hit) };
    }
    const entry = await tuneRnnDesigns(be, shape, { ...opts, cache });
    return { design: entry.winner, matmul: entry.matmul, source: 'tuned', ms: msOf(entry) };
  }
  const measured = measuredDesign(be.ctx, { N, B: shape.B, T: shape.T, K: shape.K });
  if (measured) return { design: measured.design, source: 'measured', ms: null };
  return { design: defaultDesign(be.ctx, N, shape.B), source: 'default', ms: null };
}

/** The winner's forward + BPTT time. */
function msOf(e: TuneEntry): number | null {
  return e.timings.find((t) => t.design === e.winner && t.matmul === e.matmul)?.ms ?? null;
}
