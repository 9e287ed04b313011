/**
 * Many independent networks of the same size trained in the same dispatches. Model k's
 * parameters are block k of one arena ([K, S] floats, S = one model's aligned arena), its
 * states block k of [K, T·B, N]; every kernel takes the model index as workgroup_id.z (or .y
 * for the persistent kernels). Models may differ in weights, seed (their batches), regulariser
 * type and strength, distance matrix and constraints.
 *
 * Each model runs exactly the arithmetic of a separate RnnTrainer (the same kernels, tiles and
 * reduction orders), so K batched runs equal K separate runs bit for bit (tests/multi.test.ts).
 * The regulariser runs per model: each model may have its own (and its own D).
 */
import { NonFiniteError } from '../errors.ts';
import { grid1d, type GpuBackend, type GpuTensor } from '../gpu/backend.ts';
import type { RecurrentRegularizer } from '../regularizer.ts';
import type { Tensor } from '../tensor.ts';
import { chooseDesign, persistentShape, stepDispatch, type RnnDesign } from './gpu.ts';
import { arenaLayout, constrainRecurrent, packArena, unpackArena, type ArenaLayout, type HostParams, type RnnConfig } from './params.ts';
import { DEFAULT_ADAM, type AdamOptions, type Batch, type StepResult } from './trainer.ts';

export interface ModelSpec {
  params: HostParams;
  regularizers?: RecurrentRegularizer[];
  positiveOnly?: boolean;
  recurrentMask?: ArrayLike<number>;
}

export interface MultiStepResult extends StepResult {
  /** Set when this model produced NaN/Inf; its later results are meaningless (others go on). */
  diverged?: NonFiniteError;
}

export class MultiRnnTrainer {
  readonly K: number;
  readonly layout: ArenaLayout;
  readonly S: number;
  readonly adam: AdamOptions;
  readonly design: RnnDesign;
  private t = 0;
  private theta: GpuTensor;
  private grad: GpuTensor;
  private m: GpuTensor;
  private v: GpuTensor;
  private mask: GpuTensor | null = null;
  private status: GpuTensor;
  private flags: GpuTensor;
  private ones: GpuTensor;
  private diverged: (NonFiniteError | undefined)[];

  constructor(
    readonly backend: GpuBackend,
    readonly cfg: RnnConfig,
    readonly models: ModelSpec[],
    opts: { adam?: Partial<AdamOptions>; design?: RnnDesign | 'auto' } = {},
  ) {
    const be = backend;
    const N = cfg.nHidden;
    this.K = models.length;
    if (!this.K) throw new Error('MultiRnnTrainer needs at least one model');
    this.layout = arenaLayout(cfg);
    this.S = this.layout.total;
    this.adam = { ...DEFAULT_ADAM, ...opts.adam };
    this.design = chooseDesign(be, N, 1, opts.design ?? 'auto');
    const arena = new Float32Array(this.K * this.S);
    const flags = new Uint32Array(Math.max(4, this.K));
    const anyMask = models.some((s) => s.recurrentMask);
    const mask = anyMask ? new Float32Array(this.K * N * N) : null;
    models.forEach((spec, k) => {
      if (spec.recurrentMask && spec.recurrentMask.length !== N * N) throw new Error(`model ${k}: recurrent mask has ${spec.recurrentMask.length} entries, expected ${N * N}`);
      const p = { ...spec.params, W_rec: constrainRecurrent(spec.params.W_rec, spec.recurrentMask, spec.positiveOnly) };
      arena.set(packArena(cfg, p, this.layout), k * this.S);
      flags[k] = (spec.positiveOnly ? 1 : 0) | (spec.recurrentMask ? 2 : 0);
      if (mask && spec.recurrentMask) mask.set(Float32Array.from(spec.recurrentMask), k * N * N);
    });
    this.theta = be.keep(be.fromArray(arena, [this.K * this.S]) as GpuTensor);
    this.grad = be.keep(be.zeros([this.K * this.S]) as GpuTensor);
    this.m = be.keep(be.zeros([this.K * this.S]) as GpuTensor);
    this.v = be.keep(be.zeros([this.K * this.S]) as GpuTensor);
    this.status = be.keep(be.zeros([Math.max(4, this.K)]) as GpuTensor);
    this.flags = be.keep(be.zeros([flags.length]) as GpuTensor);
    be.ctx.writeBuffer(this.flags.buffer, 0, flags);
    if (mask) this.mask = be.keep(be.fromArray(mask, [mask.length]) as GpuTensor);
    this.ones = be.keep(be.fill([this.K], 1) as GpuTensor);
    this.diverged = new Array(this.K).fill(undefined);
  }

  get steps(): number {
    return this.t;
  }

  async getParams(k: number): Promise<HostParams> {
    const be = this.backend;
    const data = await be.read(be.view(this.theta, [this.S], k * this.S));
    return unpackArena(this.cfg, data, this.layout);
  }

  async getAllParams(): Promise<HostParams[]> {
    const data = await this.backend.read(this.theta);
    return Array.from({ length: this.K }, (_, k) => unpackArena(this.cfg, data.subarray(k * this.S, (k + 1) * this.S), this.layout));
  }

  private upload(batches: Batch[]): { T: number; B: number; x: GpuTensor; labels: GpuTensor; mask: GpuTensor } {
    if (batches.length !== this.K) throw new Error(`expected ${this.K} batches (one per model), got ${batches.length}`);
    const { T, B } = batches[0]!;
    const nIn = this.cfg.nIn;
    const x = new Float32Array(this.K * T * B * nIn);
    const labels = new Float32Array(this.K * T * B);
    const mask = new Float32Array(this.K * T * B);
    batches.forEach((b, k) => {
      if (b.T !== T || b.B !== B) throw new Error(`batch ${k} is T=${b.T}, B=${b.B}; all models need T=${T}, B=${B}`);
      if (b.x.length !== T * B * nIn || b.labels.length !== T * B || b.mask.length !== T * B) throw new Error(`batch ${k} has the wrong number of values for T=${T}, B=${B}, nIn=${nIn}`);
      x.set(b.x, k * T * B * nIn);
      labels.set(b.labels, k * T * B);
      mask.set(b.mask, k * T * B);
    });
    const be = this.backend;
    return {
      T,
      B,
      x: be.fromArray(x, [this.K * T * B * nIn]) as GpuTensor,
      labels: be.fromArray(labels, [this.K * T * B]) as GpuTensor,
      mask: be.fromArray(mask, [this.K * T * B]) as GpuTensor,
    };
  }

  /** Forward for all models: returns states and logits [K, T·B, nOut]. */
  private forward(x: GpuTensor, T: number, B: number): { H: GpuTensor; R: GpuTensor; logits: GpuTensor } {
    const be = this.backend;
    const ctx = be.ctx;
    const { nIn, nHidden: N, nOut, alpha } = this.cfg;
    const K = this.K;
    const S = this.S;
    const off = this.layout.offsets;
    const TB = T * B;
    const U = be.alloc([K * TB * N], 'rnn_forward');
    be.matmulInto(x.buffer, this.theta.buffer, U.buffer, { batch: K, m: TB, k: nIn, n: N, batchA: K, batchB: K }, false, true, false, { b: off.W_in }, { a: TB * nIn, b: S, c: TB * N });
    const H = be.alloc([K * TB * N], 'rnn_forward');
    const R = be.alloc([K * TB * N], 'rnn_forward');
    if (this.design === 'per-step') {
      const step = stepDispatch(be, 'forward', B, N, K);
      for (let t = 0; t < T; t++) {
        ctx.dispatch(
          step.spec,
          [{ buffer: this.theta.buffer }, { buffer: U.buffer }, { buffer: H.buffer }, { buffer: R.buffer }],
          ctx.uniform([B, N, t, off.W_rec, off.b, S, TB * N, 0], 'f32mix', [alpha]),
          step.groups,
        );
      }
    } else {
      const shape = persistentShape(be, N, B)!;
      const Wm = be.alloc([K, N, N], 'rnn_forward');
      for (let k = 0; k < K; k++) ctx.copy(this.theta.buffer, (k * S + off.W_rec) * 4, Wm.buffer, k * N * N * 4, N * N * 4);
      const WT = be.transpose(Wm) as GpuTensor;
      ctx.dispatch(
        { shader: 'rnn_forward_persistent', constants: { WG: shape.WG, BS: shape.BS, NMAX: shape.NMAX } },
        [{ buffer: WT.buffer }, { buffer: this.theta.buffer }, { buffer: U.buffer }, { buffer: H.buffer }, { buffer: R.buffer }],
        ctx.uniform([B, N, T, off.b, S, TB * N, 0, 0], 'f32mix', [alpha]),
        [Math.ceil(B / shape.BS), K],
      );
    }
    const logits = be.alloc([K * TB * nOut], 'rnn_forward');
    be.matmulInto(H.buffer, this.theta.buffer, logits.buffer, { batch: K, m: TB, k: N, n: nOut, batchA: K, batchB: K }, false, true, false, { b: off.W_out }, { a: TB * N, b: S, c: TB * nOut });
    if (this.cfg.outputBias) {
      const n = TB * nOut;
      const g = grid1d(n);
      ctx.dispatch({ shader: 'add_rows' }, [{ buffer: this.theta.buffer }, { buffer: logits.buffer }], ctx.uniform([n, nOut, off.b_out, g.rowPitch, S, 0, 0, 0]), [g.groups[0], g.groups[1], K]);
    }
    return { H, R, logits };
  }

  /** One training step of every model on its own batch. A diverged model is reported, not fatal. */
  async step(batches: Batch[], opts: { returnLogits?: boolean } = {}): Promise<MultiStepResult[]> {
    const be = this.backend;
    const ctx = be.ctx;
    const { nIn, nHidden: N, nOut, alpha } = this.cfg;
    const K = this.K;
    const S = this.S;
    const off = this.layout.offsets;
    this.t++;
    const readback = be.scope(() => {
      const { T, B, x, labels, mask } = this.upload(batches);
      const TB = T * B;
      const { H, R, logits } = this.forward(x, T, B);
      // Cross-entropy for every model: one workgroup per model (z), losses at loss[2k].
      const probs = be.alloc([K * TB * nOut], 'softmax_ce');
      const loss = be.alloc([2 * K], 'softmax_ce');
      ctx.dispatch(
        { shader: 'softmax_ce', constants: { HAS_MASK: 1 } },
        [{ buffer: logits.buffer }, { buffer: labels.buffer }, { buffer: mask.buffer }, { buffer: probs.buffer }, { buffer: loss.buffer }],
        ctx.uniform([TB, nOut]),
        [1, 1, K],
      );
      const dY = be.alloc([K * TB * nOut], 'softmax_ce_backward');
      const g = grid1d(TB * nOut);
      ctx.dispatch(
        { shader: 'softmax_ce_backward', constants: { HAS_MASK: 1 } },
        [{ buffer: probs.buffer }, { buffer: labels.buffer }, { buffer: mask.buffer }, { buffer: loss.buffer }, { buffer: this.ones.buffer }, { buffer: dY.buffer }],
        ctx.uniform([TB, nOut, g.rowPitch, 0]),
        [g.groups[0], g.groups[1], K],
      );
      // Read-out gradients, straight into each model's block of the gradient arena.
      const grad = this.grad.buffer;
      be.matmulInto(dY.buffer, H.buffer, grad, { batch: K, m: nOut, k: TB, n: N, batchA: K, batchB: K }, true, false, false, { c: off.W_out }, { a: TB * nOut, b: TB * N, c: S });
      if (this.cfg.outputBias) this.columnSums(dY, K, TB, nOut, off.b_out!);
      const dHr = be.alloc([K * TB * N], 'rnn_backward');
      be.matmulInto(dY.buffer, this.theta.buffer, dHr.buffer, { batch: K, m: TB, k: nOut, n: N, batchA: K, batchB: K }, false, false, false, { b: off.W_out }, { a: TB * nOut, b: S, c: TB * N });
      const D = be.alloc([K * TB * N], 'rnn_backward');
      if (this.design === 'per-step') {
        const G = be.alloc([K * TB * N], 'rnn_backward');
        const step = stepDispatch(be, 'backward', B, N, K);
        for (let t = T - 1; t >= 0; t--) {
          ctx.dispatch(
            step.spec,
            [{ buffer: this.theta.buffer }, { buffer: dHr.buffer }, { buffer: R.buffer }, { buffer: G.buffer }, { buffer: D.buffer }],
            ctx.uniform([B, N, t, T, off.W_rec, S, TB * N, 0], 'f32mix', [alpha]),
            step.groups,
          );
        }
      } else {
        const shape = persistentShape(be, N, B)!;
        ctx.dispatch(
          { shader: 'rnn_backward_persistent', constants: { WG: shape.WG, BS: shape.BS, NMAX: shape.NMAX } },
          [{ buffer: this.theta.buffer }, { buffer: dHr.buffer }, { buffer: R.buffer }, { buffer: D.buffer }],
          ctx.uniform([B, N, T, off.W_rec, S, TB * N, 0, 0], 'f32mix', [alpha]),
          [Math.ceil(B / shape.BS), K],
        );
      }
      if (T > 1) {
        be.matmulInto(D.buffer, H.buffer, grad, { batch: K, m: N, k: (T - 1) * B, n: N, batchA: K, batchB: K }, true, false, false, { a: B * N, c: off.W_rec }, { a: TB * N, b: TB * N, c: S });
      } else {
        for (let k = 0; k < K; k++) ctx.clear(grad, (k * S + off.W_rec) * 4, N * N * 4);
      }
      be.matmulInto(D.buffer, x.buffer, grad, { batch: K, m: N, k: TB, n: nIn, batchA: K, batchB: K }, true, false, false, { c: off.W_in }, { a: TB * N, b: TB * nIn, c: S });
      this.columnSums(D, K, TB, N, off.b);
      // Regularisers, model by model (each may have its own kind, strength and D).
      const regValues = be.zeros([Math.max(4, K)]) as GpuTensor;
      this.models.forEach((spec, k) => {
        if (!spec.regularizers?.length) return;
        const W = be.materialize(be.view(this.theta, [N, N], k * S + off.W_rec));
        let value: Tensor | null = null;
        let total: Tensor | null = null;
        for (const r of spec.regularizers) {
          const out = r.apply(be, W, N);
          value = value ? be.binary('add', value, out.value) : out.value;
          total = total ? be.binary('add', total, out.grad) : out.grad;
        }
        const gk = be.materialize(be.view(this.grad, [N, N], k * S + off.W_rec));
        const sum = be.binary('add', total!, gk) as GpuTensor;
        ctx.copy(sum.buffer, 0, grad, (k * S + off.W_rec) * 4, N * N * 4);
        ctx.copy(be.gpuTensor(value!).buffer, 0, regValues.buffer, k * 4, 4);
      });
      this.encodeAdam();
      // One read: [status (Kp) | ce, Σm per model (2Kp) | regulariser values (Kp) | logits].
      const Kp = Math.max(4, K);
      const out = be.alloc([4 * Kp + (opts.returnLogits ? K * TB * nOut : 0)], 'readback');
      if (opts.returnLogits) ctx.copy(logits.buffer, 0, out.buffer, 4 * Kp * 4, K * TB * nOut * 4);
      ctx.copy(this.status.buffer, 0, out.buffer, 0, Kp * 4);
      ctx.copy(loss.buffer, 0, out.buffer, Kp * 4, 2 * K * 4);
      ctx.copy(regValues.buffer, 0, out.buffer, 3 * Kp * 4, Kp * 4);
      return out;
    });
    const data = await be.read(readback);
    readback.dispose();
    const Kp = Math.max(4, K);
    const nLogits = batches[0]!.T * batches[0]!.B * nOut;
    const status = new Uint32Array(data.buffer, data.byteOffset, Kp);
    const results: MultiStepResult[] = [];
    for (let k = 0; k < K; k++) {
      const ce = data[Kp + 2 * k]!;
      const reg = this.models[k]!.regularizers?.length ? data[3 * Kp + k]! : 0;
      // fround(ce + reg) is the float32 sum the single-network trainer computes on the GPU.
      const r: MultiStepResult = { loss: Math.fround(ce + reg), ce, reg };
      if (!this.diverged[k] && (status[k] !== 0 || !Number.isFinite(r.loss))) {
        this.diverged[k] = new NonFiniteError(this.t, Number.isFinite(r.loss) ? 'weights or gradients' : 'loss', Number.isFinite(r.loss) ? NaN : r.loss);
      }
      r.diverged = this.diverged[k];
      if (opts.returnLogits) r.logits = data.subarray(4 * Kp + k * nLogits, 4 * Kp + (k + 1) * nLogits);
      results.push(r);
    }
    return results;
  }

  /** Σ over rows of X [K, rows, cols] into each model's arena block at `offset` (as sumAxis). */
  private columnSums(X: GpuTensor, K: number, rows: number, cols: number, offset: number): void {
    const be = this.backend;
    const sums = be.sumAxis(be.view(be.materializeIfView(X), [K, rows, cols]), 1) as GpuTensor; // [K, cols]
    for (let k = 0; k < K; k++) be.ctx.copy(sums.buffer, k * cols * 4, this.grad.buffer, (k * this.S + offset) * 4, cols * 4);
  }

  private encodeAdam(): void {
    const be = this.backend;
    const ctx = be.ctx;
    ctx.clear(this.status.buffer);
    const { lr, beta1, beta2, eps, mode } = this.adam;
    const bc1 = 1 - beta1 ** this.t;
    const bc2 = 1 - beta2 ** this.t;
    const n = this.K * this.S;
    const grid = grid1d(n);
    const recStart = this.layout.offsets.W_rec;
    ctx.dispatch(
      {
        shader: 'adam',
        cost: { flops: 16 * n, bytes: 4 * 7 * n },
        constants: {
          NONNEG: Number(this.models.some((s) => s.positiveOnly)),
          MASKED: Number(Boolean(this.mask)),
          KERAS: Number(mode === 'keras'),
        },
      },
      [
        { buffer: this.theta.buffer },
        { buffer: this.grad.buffer },
        { buffer: this.m.buffer },
        { buffer: this.v.buffer },
        { buffer: this.mask ? this.mask.buffer : ctx.dummyBuffer() },
        { buffer: this.status.buffer },
        { buffer: this.flags.buffer },
      ],
      ctx.uniform([n, recStart, recStart + this.layout.sizes.W_rec, grid.rowPitch, this.S, 0, 0, 0], 'f32mix', [lr, beta1, beta2, eps, bc1, bc2]),
      grid.groups,
    );
  }

  /** Logits [T·B, nOut] of every model on its own batch, without noise or updates. */
  async logits(batches: Batch[]): Promise<Float32Array[]> {
    const be = this.backend;
    const { T, B, out } = be.scope(() => {
      const up = this.upload(batches);
      return { T: up.T, B: up.B, out: this.forward(up.x, up.T, up.B).logits };
    });
    const data = await be.read(out);
    out.dispose();
    const n = T * B * this.cfg.nOut;
    return Array.from({ length: this.K }, (_, k) => data.slice(k * n, (k + 1) * n));
  }

  dispose(): void {
    for (const t of [this.theta, this.grad, this.m, this.v, this.mask, this.status, this.flags, this.ones]) t?.dispose();
  }
}

/**
 * The most models of this size that fit one training step on the adapter: the largest
 * per-model buffers ([K, T·B, N] states) must fit maxStorageBufferBindingSize, and the step's
 * whole working set (about 8 such buffers plus parameters and Adam state) a memory budget
 * (default: 8x the binding limit, at most 4 GiB).
 */
export function maxModelsFor(be: GpuBackend, cfg: RnnConfig, T: number, B: number, budgetBytes?: number): number {
  const N = cfg.nHidden;
  const perModelState = T * B * Math.max(N, cfg.nIn, cfg.nOut) * 4;
  const perModelParams = arenaLayout(cfg).total * 4 * 4 + N * N * 4 * 6; // θ, grad, m, v; regulariser temporaries
  const binding = be.ctx.limits.maxStorageBufferBindingSize!;
  const budget = budgetBytes ?? Math.min(8 * binding, 4 * 2 ** 30);
  const byBinding = Math.floor(binding / perModelState);
  const byBudget = Math.floor(budget / (8 * perModelState + perModelParams));
  return Math.max(1, Math.min(byBinding, byBudget));
}

/**
 * How many networks a sweep should train per batch on this adapter: as many as memory allows,
 * up to 64. Batching pays even on a 2-core CPU adapter (bench multi on llvmpipe, N = 70:
 * 1.35x the single-network throughput at K = 4, 1.7x at K = 64), and far more on GPUs, where
 * one small network leaves most of the device idle.
 */
export function modelsPerBatch(be: GpuBackend, cfg: RnnConfig, T: number, B: number): number {
  return Math.min(64, maxModelsFor(be, cfg, T, B));
}
