/**
 * TensorFlow.js peer of the canonical workload (../shared/peers/WORKLOAD.md), and of a workload
 * handed over as a file (peer_data.ts: the paper workload, with the engine's initial weights,
 * its inputs and classes, output bias and loss mask): one BPTT training
 * step of the rate RNN, with and without the communicability regulariser, on tfjs's `webgpu`
 * backend (Dawn, the adapter the engine gets), its `wasm` backend (single-threaded SIMD) or
 * its pure-JS `cpu` backend (used by the correctness test).
 *
 * One backend per process: tfjs backends do not coexist well, so the benchmark runs each
 * backend through `tfjs_main.ts` in its own process (see `run.ts`).
 */
import path from 'node:path';
import { createRequire } from 'node:module';
import type * as TfNs from '@tensorflow/tfjs';
import { makeWorkload, N_IN, N_OUT, S_FLOOR, timingPlan, type PeerResult, type WorkloadData } from './workload.ts';
import type { PeerData } from './peer_data.ts';

export type TF = typeof TfNs;
type Tensor = TfNs.Tensor;
type Scalar = TfNs.Scalar;
type Variable = TfNs.Variable;

export type TfjsBackendName = 'webgpu' | 'wasm' | 'cpu';

export interface TfjsHandle {
  tf: TF;
  backend: TfjsBackendName;
  info: Record<string, unknown>;
  /** Disposes every tensor and the backend; on WebGPU also destroys the Dawn device. */
  dispose(): void;
}

const require = createRequire(import.meta.url);

/** The native API Dawn picks when no backend is forced (as the engine's Node platform reports it). */
const DAWN_DEFAULT: Record<string, string> = { linux: 'vulkan', darwin: 'metal', win32: 'd3d12' };

/** Folder of tfjs-backend-wasm's .wasm files, with a trailing separator (setWasmPaths prefix). */
function wasmDir(): string {
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')) + path.sep + 'dist' + path.sep;
}

/**
 * Loads tfjs with one backend selected. For `webgpu`, `navigator.gpu` must exist before the
 * backend module is imported (it registers itself only then) and it asks that object for a
 * 'high-performance' adapter; we hand it Dawn's entry point created with the same flags as
 * the engine's Node platform (no flags: Vulkan on Linux; `dawnBackend` forces one).
 */
export async function loadTf(backend: TfjsBackendName, opts: { dawnBackend?: string } = {}): Promise<TfjsHandle> {
  const info: Record<string, unknown> = {};
  let device: GPUDevice | null = null;
  if (backend === 'webgpu') {
    const { create, globals } = await import('webgpu');
    Object.assign(globalThis, globals);
    const flags: string[] = [];
    if (opts.dawnBackend) flags.push(`backend=${opts.dawnBackend}`);
    if (opts.dawnBackend === 'opengl' && !process.env.EGL_PLATFORM) process.env.EGL_PLATFORM = 'surfaceless';
    const gpu = create(flags) as GPU;
    if (opts.dawnBackend === 'opengl') {
      const orig = gpu.requestAdapter.bind(gpu);
      (gpu as { requestAdapter: GPU['requestAdapter'] }).requestAdapter = (o?: GPURequestAdapterOptions) =>
        orig({ featureLevel: 'compatibility', ...(o ?? {}) } as GPURequestAdapterOptions);
    }
    const probe = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!probe) throw new Error(`Dawn returned no WebGPU adapter${opts.dawnBackend ? ` (backend=${opts.dawnBackend})` : ''}`);
    const ai = probe.info;
    info.adapter = {
      vendor: ai.vendor,
      architecture: ai.architecture,
      device: ai.device,
      description: ai.description,
      dawn_backend: opts.dawnBackend ?? `default (${DAWN_DEFAULT[process.platform] ?? 'platform default'})`,
    };
    Object.defineProperty(globalThis, 'navigator', { value: { gpu, userAgent: 'node' }, configurable: true, writable: true });
  }
  // The union package registers the gradients (tfjs-core's node bundle alone has none).
  const tf = (await import('@tensorflow/tfjs')) as TF;
  if (backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(wasmDir());
  } else if (backend === 'webgpu') {
    await import('@tensorflow/tfjs-backend-webgpu');
  }
  const ok = await tf.setBackend(backend);
  if (!ok || tf.getBackend() !== backend) throw new Error(`tf.setBackend('${backend}') failed (active: ${tf.getBackend()})`);
  await tf.ready();
  info.tfjs = tf.version.tfjs;
  if (backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    info.wasm_threads = wasm.getThreadsCount();
    info.wasm_simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    info.wasm_multithread = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  }
  if (backend === 'webgpu') {
    device = (tf.backend() as unknown as { device: GPUDevice }).device ?? null;
  }
  return {
    tf,
    backend,
    info,
    dispose() {
      tf.disposeVariables();
      tf.engine().reset(); // disposes the registered backends' resources
      device?.destroy();
      device = null;
    },
  };
}

export interface RnnConfig {
  alpha: number;
  lambda: number;
  reg: boolean;
}

interface RnnParams {
  W_in: Variable;
  W_rec: Variable;
  b: Variable;
  W_out: Variable;
  b_out: Variable | null;
}

/** The fixed tensors of a workload, uploaded once. */
interface RnnConstants {
  /** [T*B, nIn] */
  x: Tensor;
  /** [rows, nOut] one-hot labels of the scored rows (every row without a loss mask) */
  onehot: Tensor;
  /** Steps read out (those the loss mask scores), null for every step; their weights [rows] */
  scored: number[] | null;
  weights: Tensor | null;
  /** [N, N] */
  D: Tensor;
  /** [N, N] 1 off the diagonal, 0 on it */
  offDiag: Tensor;
  /** [N, N] identity */
  eye: Tensor;
  T: number;
  B: number;
  N: number;
}

export interface InitialParams {
  W_in: Float32Array;
  W_rec: Float32Array;
  b: Float32Array;
  W_out: Float32Array;
  /** The output bias [nOut], where the model has one. */
  b_out?: Float32Array | null;
}

/** A workload's fixed data; inputs and classes default to the canonical 3 and 3, the loss to every step. */
type ConstantData = Pick<WorkloadData, 'x' | 'labels' | 'D' | 'T' | 'B' | 'N'> & { nIn?: number; nOut?: number; lossMask?: Float32Array };

function uploadConstants(tf: TF, d: ConstantData): RnnConstants {
  const { T, B, N } = d;
  const nIn = d.nIn ?? N_IN;
  const nOut = d.nOut ?? N_OUT;
  let scored: number[] | null = null;
  let labels = Int32Array.from(d.labels);
  let weights: Float32Array | null = null;
  if (d.lossMask) {
    const m = d.lossMask;
    if (m.some((w) => w !== 0 && w !== 1)) throw new Error('tfjs peer: loss mask weights other than 0 and 1 are not supported');
    scored = [];
    for (let t = 0; t < T; t++) if (m.subarray(t * B, (t + 1) * B).some((w) => w !== 0)) scored.push(t);
    labels = Int32Array.from(scored.flatMap((t) => Array.from(d.labels.subarray(t * B, (t + 1) * B))));
    weights = Float32Array.from(scored.flatMap((t) => Array.from(m.subarray(t * B, (t + 1) * B))));
  }
  const t = tf.tidy(() => {
    const eye = tf.eye(N);
    return {
      x: tf.tensor2d(d.x, [T * B, nIn]),
      onehot: tf.oneHot(tf.tensor1d(labels, 'int32'), nOut).toFloat(),
      D: tf.tensor2d(d.D, [N, N]),
      offDiag: tf.sub(1, eye),
      eye,
    };
  });
  return { ...t, weights: weights ? tf.tensor1d(weights) : null, scored, T, B, N };
}

function disposeConstants(c: RnnConstants): void {
  for (const t of [c.x, c.onehot, c.weights, c.D, c.offDiag, c.eye]) t?.dispose();
}

function makeParams(tf: TF, p: InitialParams, N: number, tag = ''): RnnParams {
  const nIn = p.W_in.length / N;
  const nOut = p.W_out.length / N;
  return {
    W_in: tf.variable(tf.tensor2d(p.W_in, [N, nIn]), true, `W_in${tag}`),
    W_rec: tf.variable(tf.tensor2d(p.W_rec, [N, N]), true, `W_rec${tag}`),
    b: tf.variable(tf.tensor1d(p.b), true, `b${tag}`),
    W_out: tf.variable(tf.tensor2d(p.W_out, [nOut, N]), true, `W_out${tag}`),
    b_out: p.b_out ? tf.variable(tf.tensor1d(p.b_out), true, `b_out${tag}`) : null,
  };
}

function trainable(p: RnnParams): Variable[] {
  return [p.W_in, p.W_rec, p.b, p.W_out, ...(p.b_out ? [p.b_out] : [])];
}

function disposeParams(p: RnnParams): void {
  for (const v of trainable(p)) v.dispose();
}

/** M = diag(s)^-1/2 |W_rec| diag(s)^-1/2 with s the floored column sums of |W_rec|. */
function commMatrix(tf: TF, W_rec: Tensor, N: number): { A: Tensor; M: Tensor } {
  const A = tf.abs(W_rec);
  const s = tf.maximum(tf.sum(A, 0), S_FLOOR); // s_j = sum_i A[i][j]
  const r = tf.rsqrt(s);
  const M = tf.mul(tf.mul(A, tf.reshape(r, [N, 1])), tf.reshape(r, [1, N]));
  return { A, M };
}

/** Number of squarings so that ||M / 2^s||_1 <= 0.5 (computed on the host from current weights). */
async function squaringsFor(tf: TF, W_rec: Tensor, N: number): Promise<number> {
  const norm = tf.tidy(() => tf.max(tf.sum(commMatrix(tf, W_rec, N).M, 0))); // M >= 0: max column sum
  const v = (await norm.data())[0]!;
  norm.dispose();
  return Math.max(0, Math.ceil(Math.log2(v / 0.5)));
}

/** expm(M) by scaling and squaring with a degree-8 Taylor polynomial in Horner form, all tf ops. */
function expmTaylor8(tf: TF, M: Tensor, eye: Tensor, squarings: number): Tensor {
  const Ms = squarings > 0 ? tf.mul(M, 2 ** -squarings) : M;
  let P = tf.add(eye, tf.div(Ms, 8));
  for (let k = 7; k >= 1; k--) P = tf.add(eye, tf.div(tf.matMul(Ms, P), k));
  for (let i = 0; i < squarings; i++) P = tf.matMul(P, P);
  return P;
}

interface LossParts {
  total: Scalar;
  ce: Scalar;
  reg: Scalar | null;
}

/**
 * Forward pass of WORKLOAD.md (loss_on = "all"), with the regulariser when cfg.reg. With a loss
 * mask, the read-out runs at the scored steps only and the loss is Σ w·CE / #(w ≠ 0) (weights
 * 0 or 1: the engine's masked mean). alpha = 1 is the Elman cell.
 */
function rnnLoss(tf: TF, p: RnnParams, c: RnnConstants, cfg: RnnConfig, squarings: number): LossParts {
  const { T, B, N } = c;
  const a = cfg.alpha;
  // Input drive for every step: one [T*B,nIn] x [nIn,N] matmul plus b, split per step.
  const drive = tf.add(tf.matMul(c.x, p.W_in, false, true), p.b);
  const us = tf.unstack(tf.reshape(drive, [T, B, N]));
  let h: Tensor = tf.zeros([B, N]);
  const hs: Tensor[] = [];
  for (let t = 0; t < T; t++) {
    const pre = tf.add(tf.matMul(h, p.W_rec, false, true), us[t]!);
    h = a === 1 ? tf.relu(pre) : tf.add(tf.mul(h, 1 - a), tf.mul(tf.relu(pre), a));
    hs.push(h);
  }
  const read = c.scored ? c.scored.map((t) => hs[t]!) : hs;
  const H = read.length === 1 ? read[0]! : tf.reshape(tf.stack(read), [read.length * B, N]);
  const out = tf.matMul(H, p.W_out, false, true);
  const logits = p.b_out ? tf.add(out, p.b_out) : out;
  // mean over the rows (canonical), or over the rows of nonzero weight
  const ce = (c.weights ? tf.losses.softmaxCrossEntropy(c.onehot, logits, c.weights) : tf.losses.softmaxCrossEntropy(c.onehot, logits)) as Scalar;
  if (!cfg.reg) return { total: ce, ce, reg: null };
  const { A, M } = commMatrix(tf, p.W_rec, N);
  const C0 = tf.mul(expmTaylor8(tf, M, c.eye, squarings), c.offDiag);
  const reg = tf.mul(tf.sum(tf.mul(tf.mul(A, c.D), C0)), cfg.lambda) as Scalar;
  return { total: tf.add(ce, reg) as Scalar, ce, reg };
}

export interface LossAndGrads {
  total: number;
  ce: number;
  reg: number | null;
  squarings: number;
  /** d total / d param, row-major */
  grads: { W_in: Float32Array; W_rec: Float32Array; b: Float32Array; W_out: Float32Array };
  /** the weights after one Adam step (fresh moments) on the total loss */
  afterAdam: { W_in: Float32Array; W_rec: Float32Array; b: Float32Array; W_out: Float32Array };
}

/**
 * Loss parts, gradients and one Adam step for given initial weights: what the correctness
 * check compares against the float64 fixture (`../shared/fixtures/rnn_bptt_ref.json`).
 */
export async function lossAndGrads(
  tf: TF,
  data: Pick<WorkloadData, 'x' | 'labels' | 'D' | 'T' | 'B' | 'N'>,
  init: InitialParams,
  cfg: RnnConfig & { lr?: number },
): Promise<LossAndGrads> {
  const c = uploadConstants(tf, data);
  const p = makeParams(tf, init, data.N, `_chk${Math.random().toString(36).slice(2, 8)}`);
  try {
    const squarings = cfg.reg ? await squaringsFor(tf, p.W_rec, data.N) : 0;
    const vars = trainable(p);
    let parts: { total: Scalar; ce: Scalar; reg: Scalar | null } | null = null;
    const { value, grads } = tf.variableGrads(() => {
      const l = rnnLoss(tf, p, c, cfg, squarings);
      parts = { total: tf.keep(l.total), ce: tf.keep(l.ce), reg: l.reg ? tf.keep(l.reg) : null };
      return l.total;
    }, vars);
    const pp = parts as unknown as { total: Scalar; ce: Scalar; reg: Scalar | null };
    const read = async (t: Tensor) => Float32Array.from((await t.data()) as Float32Array);
    const out: LossAndGrads = {
      total: (await pp.total.data())[0]!,
      ce: (await pp.ce.data())[0]!,
      reg: pp.reg ? (await pp.reg.data())[0]! : null,
      squarings,
      grads: {
        W_in: await read(grads[p.W_in.name]!),
        W_rec: await read(grads[p.W_rec.name]!),
        b: await read(grads[p.b.name]!),
        W_out: await read(grads[p.W_out.name]!),
      },
      afterAdam: { W_in: new Float32Array(), W_rec: new Float32Array(), b: new Float32Array(), W_out: new Float32Array() },
    };
    const opt = tf.train.adam(cfg.lr ?? 1e-3, 0.9, 0.999, 1e-8);
    opt.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
    out.afterAdam = { W_in: await read(p.W_in), W_rec: await read(p.W_rec), b: await read(p.b), W_out: await read(p.W_out) };
    opt.dispose();
    tf.dispose([value, pp.total, pp.ce, ...(pp.reg ? [pp.reg] : []), ...Object.values(grads)]);
    return out;
  } finally {
    disposeParams(p);
    disposeConstants(c);
  }
}

interface TfjsPeerOptions {
  N: number;
  reg: boolean;
  /** A workload file's contents (peer_data.ts): then N, B, T and alpha come from it. */
  data?: PeerData;
  /** Name of the workload in the output line. */
  workload?: string;
  B?: number;
  T?: number;
  alpha?: number;
  lambda?: number;
  seed?: number;
  budgetS?: number;
  minSteps?: number;
  maxSteps?: number;
  warmup?: number;
}

/**
 * Runs one configuration of the benchmark on an already loaded backend (WORKLOAD.md timing
 * protocol) and returns its output line. Errors become an `error` field, not exceptions.
 */
export async function runTfjsConfig(h: TfjsHandle, o: TfjsPeerOptions): Promise<PeerResult> {
  const { tf } = h;
  const N = o.data?.N ?? o.N;
  const B = o.data?.B ?? o.B ?? 32;
  const T = o.data?.T ?? o.T ?? 100;
  const cfg: RnnConfig = { alpha: o.data?.alpha ?? o.alpha ?? 0.2, lambda: o.lambda ?? 0.01, reg: o.reg };
  const plan = timingPlan(N, { ...o, defaultWarmup: h.backend === 'webgpu' ? 2 : 1, defaultMax: 50 });
  const base: PeerResult = {
    peer: `tfjs-${h.backend}`,
    workload: o.workload ?? (o.data ? 'data' : 'canonical'),
    N,
    reg: o.reg,
    steps_per_s: null,
    ms_per_step: null,
    B,
    T,
    ...h.info,
  };
  let c: RnnConstants | null = null;
  let p: RnnParams | null = null;
  let opt: TfNs.AdamOptimizer | null = null;
  try {
    const data = o.data ?? makeWorkload({ seed: o.seed ?? 0, N, B, T });
    c = uploadConstants(tf, data);
    p = makeParams(tf, data, N, `_N${N}_${o.reg ? 'r' : 'c'}`);
    opt = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
    const vars = trainable(p);
    const cc = c,
      pp = p,
      oo = opt;
    const squaringsUsed = new Set<number>();
    const step = async (): Promise<number> => {
      const s = cfg.reg ? await squaringsFor(tf, pp.W_rec, N) : 0;
      squaringsUsed.add(s);
      const cost = tf.tidy(() => oo.minimize(() => rnnLoss(tf, pp, cc, cfg, s).total, true, vars)!);
      const v = (await cost.data())[0]!;
      cost.dispose();
      return v;
    };
    let lossFirst = NaN;
    let lastWarmMs = 0;
    for (let i = 0; i < plan.warmup; i++) {
      const t0 = performance.now();
      const l = await step();
      lastWarmMs = performance.now() - t0;
      if (i === 0) lossFirst = l;
    }
    const oneOnly = lastWarmMs > 10_000;
    let steps = 0;
    let lossLast = NaN;
    const times: number[] = [];
    const t0 = performance.now();
    for (;;) {
      const ts = performance.now();
      lossLast = await step();
      times.push(performance.now() - ts);
      if (steps === 0 && plan.warmup === 0) lossFirst = lossLast;
      steps++;
      if (oneOnly || steps >= plan.maxSteps) break;
      if (steps >= plan.minSteps && performance.now() - t0 >= plan.budgetS * 1000) break;
    }
    await pp.W_rec.data(); // the last update has landed
    const ms = (performance.now() - t0) / steps;
    return {
      ...base,
      steps_per_s: 1000 / ms,
      ms_per_step: ms,
      ms_median: [...times].sort((x, y) => x - y)[times.length >> 1]!,
      timed_steps: steps,
      warmup_steps: plan.warmup,
      loss_first: lossFirst,
      loss_last: lossLast,
      expm_squarings: cfg.reg ? [...squaringsUsed] : undefined,
      num_tensors_end: tf.memory().numTensors,
    };
  } catch (e) {
    return { ...base, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  } finally {
    opt?.dispose();
    if (p) disposeParams(p);
    if (c) disposeConstants(c);
  }
}
