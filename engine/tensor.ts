/**
 * The backend contract shared by the WebGPU engine and the CPU reference. Every op exists in
 * both, with identical semantics, so tests can hold one against the other.
 */
import { ShapeError } from './errors.ts';
import type { ArenaLayout, RnnConfig } from './rnn/params.ts';
import type { WiringCost } from './regularizers/cost.ts';

export type Shape = readonly number[];

export type UnaryOp = 'abs' | 'sign' | 'relu' | 'reluMask' | 'neg' | 'exp' | 'log' | 'square' | 'sqrt' | 'copy';
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'max' | 'min';

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
  /** Add the product into this existing tensor instead of a fresh one: out += A·B. */
  accumulate?: Tensor;
}

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError('tensor', `invalid dimension ${d} in [${shape.join(', ')}]`);
    n *= d;
  }
  return n;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function fmtShape(s: Shape): string {
  return `[${s.join(', ')}]`;
}

/** A dense float tensor living on one backend. Disposal returns its storage to the pool. */
export abstract class Tensor {
  readonly size: number;
  disposed = false;
  constructor(
    readonly shape: Shape,
    readonly backend: Backend,
  ) {
    this.size = sizeOf(shape);
  }
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.backend.release(this);
  }
  read(): Promise<Float32Array | Float64Array> {
    return this.backend.read(this);
  }
}

/** A reduction along `axis` (negative counts from the end) as outer × len × inner, and the result's shape. */
export function axisSplit(shape: Shape, axis: number): { outer: number; len: number; inner: number; outShape: number[] } {
  const ax = axis < 0 ? axis + shape.length : axis;
  if (ax < 0 || ax >= shape.length) throw new ShapeError('sumAxis', `axis ${axis} out of range for ${fmtShape(shape)}`);
  const outer = shape.slice(0, ax).reduce((a, b) => a * b, 1);
  const inner = shape.slice(ax + 1).reduce((a, b) => a * b, 1);
  return { outer, len: shape[ax]!, inner, outShape: [...shape.slice(0, ax), ...shape.slice(ax + 1)] };
}

/** Resolved shapes of a (batched) matmul. */
export interface MatmulShape {
  batch: number;
  m: number;
  k: number;
  n: number;
  batchA: number;
  batchB: number;
}

/** C[b] = op(A[b]) · op(B[b]); rank-2 or rank-3 operands, a rank-2 operand broadcasts over the batch. */
export function matmulShape(a: Shape, b: Shape, { transA = false, transB = false }: { transA?: boolean; transB?: boolean } = {}): MatmulShape {
  if (a.length < 2 || a.length > 3 || b.length < 2 || b.length > 3) {
    throw new ShapeError('matmul', `operands must be rank 2 or 3, got ${fmtShape(a)} and ${fmtShape(b)}`);
  }
  const batchA = a.length === 3 ? a[0]! : 1;
  const batchB = b.length === 3 ? b[0]! : 1;
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) {
    throw new ShapeError('matmul', `batch sizes differ: ${fmtShape(a)} and ${fmtShape(b)}`);
  }
  const [ar, ac] = a.slice(-2) as [number, number];
  const [br, bc] = b.slice(-2) as [number, number];
  const m = transA ? ac : ar;
  const k = transA ? ar : ac;
  const kb = transB ? bc : br;
  const n = transB ? br : bc;
  if (k !== kb) {
    throw new ShapeError('matmul', `inner dimensions differ: ${fmtShape(a)}${transA ? 'ᵀ' : ''} · ${fmtShape(b)}${transB ? 'ᵀ' : ''} (${k} vs ${kb})`);
  }
  return { batch: Math.max(batchA, batchB), m, k, n, batchA, batchB };
}

export function matmulOutShape(a: Shape, b: Shape, s: MatmulShape): number[] {
  return a.length === 3 || b.length === 3 ? [s.batch, s.m, s.n] : [s.m, s.n];
}

/**
 * The fused recurrent core's designs on GPUs (see engine/gpu/rnn_design.ts): per time step,
 * persistent, or persistent with register blocking of trials x units. The CPU reference has one.
 */
export type RnnDesign = 'per-step' | 'persistent' | `blocked-${number}x${number}`;

/** The shape a recurrent design is chosen for: the network and its batch, T steps, K networks side by side. */
export interface RnnShape {
  cfg: RnnConfig;
  B: number;
  T: number;
  K: number;
}

/**
 * The tiles of the matrix products (the step's matmuls, the per-step recurrent kernels and the
 * expm's products): 64×64 workgroup-memory tiles, or subgroup register tiles.
 */
export type MatmulDesign = 'workgroup' | 'subgroup';
export const MATMUL_DESIGNS: readonly MatmulDesign[] = ['workgroup', 'subgroup'];

/**
 * The design a run trains with, why (named by the caller, recorded by an earlier run of the
 * shape, the tuning cache, tuned now, the committed measurements, or the default rule), and its
 * measured time of forward + BPTT in ms (null when it was not measured here). `matmul`: the
 * matmul design it trains with where the backend has a choice (absent: the backend's own).
 */
export interface RnnDesignChoice {
  design: RnnDesign;
  matmul?: MatmulDesign;
  source: 'requested' | 'recorded' | 'cache' | 'tuned' | 'measured' | 'default';
  ms: number | null;
}

/** How a backend may decide a design: where to cache, whether to tune, how long to time each. */
export interface RnnDesignOptions {
  /** Overrides CORTICAL_RNN_TUNE and the adapter's default. */
  tune?: boolean;
  /** Time spent per candidate before its median is taken (at least 3 repeats). */
  budgetMs?: number;
  /** The tuning cache file (default: CORTICAL_RNN_TUNE_CACHE, else the user's cache folder). */
  cachePath?: string | null;
  log?: (line: string) => void;
}

/**
 * K networks of one shape trained side by side: model k's parameters are block k of one arena
 * [K·S] (S = layout.total floats, each tensor at its aligned offset).
 */
export interface RnnNet {
  cfg: RnnConfig;
  layout: ArenaLayout;
  K: number;
  design: RnnDesign | 'auto';
}

/**
 * The time steps [from, to) at which the read-out runs. Logits at the other steps are 0 and
 * constant (BPTT ignores their gradient): a loss that weighs only some steps (the paper's
 * tasks score the last one) needs the read-out and its gradient only there.
 */
export interface StepRange {
  from: number;
  to: number;
}

/** Every step of T. */
export const allSteps = (T: number): StepRange => ({ from: 0, to: T });

/** The steps [from, to) checked against T: 0 ≤ from ≤ to ≤ T. */
export function checkStepRange(op: string, r: StepRange, T: number): StepRange {
  if (!(Number.isInteger(r.from) && Number.isInteger(r.to) && 0 <= r.from && r.from <= r.to && r.to <= T)) {
    throw new ShapeError(op, `read-out steps [${r.from}, ${r.to}) are not within [0, ${T}]`);
  }
  return r;
}

/** The forward pass of K networks: logits [K, T·B, nOut] and what BPTT needs (backend's own). */
export interface RnnForward {
  T: number;
  B: number;
  /** The steps whose logits were computed (see StepRange). */
  readout: StepRange;
  logits: Tensor;
  saved: unknown;
}

/** The arenas of a fused Adam step: parameters, gradients and moments, all [K·S]. */
export interface AdamArenas {
  theta: Tensor;
  grad: Tensor;
  m: Tensor;
  v: Tensor;
  /** [K·N·N] binary masks on W_rec (block k for model k), or null when no model is masked. */
  mask: Tensor | null;
}

export interface AdamStep {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** 1-based step count (bias corrections). */
  t: number;
  /** 'pytorch': θ −= lr·m̂/(√v̂ + ε); 'keras': θ −= lr·√bc2/bc1·m/(√v + ε). */
  mode: 'pytorch' | 'keras';
  /** Per model: clip W_rec at 0 after the update (Keras NonNeg). */
  positiveOnly: boolean[];
  /** Per model: apply its mask block to W_rec's gradient and weights. */
  masked: boolean[];
}

/** The ops every backend implements. Shapes are checked before any work is queued. */
/** Blocks of `len` values and where each, scaled, goes (Backend.assembleScaled). */
export interface ScaledBlocks {
  blocks: Tensor;
  len: number;
  rows: readonly { block: number; scaleAt: number; offset: number }[];
}

export interface Backend {
  readonly name: 'webgpu' | 'cpu';
  /** A one-line description: adapter or arithmetic. */
  describe(): string;
  /**
   * The largest buffer one kernel may bind, in bytes; null on the CPU reference, where
   * training networks side by side saves nothing (they run one after the other anyway).
   */
  readonly maxBindingBytes: number | null;
  /** The typed array of the backend's storage: host data packed into one uploads without a conversion pass. */
  readonly storageArray: Float32ArrayConstructor | Float64ArrayConstructor;

  fromArray(data: ArrayLike<number>, shape: Shape): Tensor;
  zeros(shape: Shape): Tensor;
  fill(shape: Shape, value: number): Tensor;
  read(t: Tensor): Promise<Float32Array | Float64Array>;
  /** Overwrites a tensor's contents from the host (from element `offset` on: a part of it). */
  write(t: Tensor, data: ArrayLike<number>, offset?: number): void;
  release(t: Tensor): void;

  matmul(a: Tensor, b: Tensor, opts?: MatmulOptions): Tensor;
  unary(op: UnaryOp, x: Tensor): Tensor;
  /** Elementwise; `b` may also be a scalar tensor (size 1), broadcast over `a`. */
  binary(op: BinaryOp, a: Tensor, b: Tensor): Tensor;
  /** alpha·x + beta. */
  affine(x: Tensor, alpha: number, beta?: number): Tensor;
  /** Sum of all entries, as a tensor of shape []. */
  sum(x: Tensor): Tensor;
  /** Sum along one axis of a tensor (the axis is removed). */
  sumAxis(x: Tensor, axis: number): Tensor;
  /** The same values under another shape of equal size (a copy). */
  reshape(x: Tensor, shape: Shape): Tensor;
  /** Swaps the last two axes. */
  transpose(x: Tensor): Tensor;
  /**
   * Softmax cross-entropy over rows of logits [R, C] with class labels [R] (stored as floats)
   * and an optional per-row weight mask [R]. Loss = Σ_r mask_r·CE_r / Σ_r mask_r (mean over
   * the masked rows). Returns the scalar loss and the softmax probabilities (for backward).
   * Logits [K, R, C] (labels and mask [K·R]) are K independent problems: loss [K].
   */
  softmaxCrossEntropy(logits: Tensor, labels: Tensor, mask?: Tensor): { loss: Tensor; probs: Tensor };
  /**
   * dLoss/dlogits = gradScale · mask_r·(p − onehot) / Σ mask. `loss` is the forward's loss
   * tensor (the GPU keeps Σ mask beside it); with K problems, gradScale is [K].
   */
  softmaxCrossEntropyBackward(probs: Tensor, labels: Tensor, mask: Tensor | undefined, loss: Tensor, gradScale: Tensor): Tensor;

  /** A copy of `size(shape)` consecutive values of x from element `offset`. */
  slice(x: Tensor, offset: number, shape: Shape): Tensor;
  /** A tensor [size] of zeros with each part's values copied in at its element offset. */
  assemble(size: number, parts: { tensor: Tensor; offset: number }[]): Tensor;
  /** Reads several tensors in one transfer (encoded at once: call it before their scope ends). */
  readAll(ts: Tensor[]): Promise<(Float32Array | Float64Array)[]>;

  /**
   * The RNN over T steps for K networks on time-major inputs x [K·T·B·nIn], with the read-out
   * at the steps of `readout` (default: all).
   */
  rnnForward(net: RnnNet, theta: Tensor, x: Tensor, T: number, B: number, readout?: StepRange): RnnForward;
  /** BPTT from dL/dlogits [K, T·B, nOut]: dL/dθ as an arena [K·S] (zeros in the padding). */
  rnnBackward(net: RnnNet, theta: Tensor, fwd: RnnForward, dLogits: Tensor): Tensor;
  /** The recurrent designs that run networks of N units in batches of B here (the CPU reference has one). */
  rnnDesigns(N: number, B: number): readonly RnnDesign[];
  /**
   * The design for a shape: `requested` as given when it names one (or is a recorded choice),
   * else decided here (engine/gpu/tune.ts on a GPU: tuned, cached or measured).
   */
  resolveRnnDesign(shape: RnnShape, requested?: RnnDesign | 'auto' | RnnDesignChoice, opts?: RnnDesignOptions): Promise<RnnDesignChoice>;
  /** The matmul design in use (null: the backend has one, as the CPU reference). */
  readonly matmulDesign: MatmulDesign | null;
  /**
   * Trains with this matmul design from now on; null returns to the backend's own (the one it
   * was created with, or its adapter's default). The CPU reference has one and ignores it.
   */
  useMatmulDesign(design: MatmulDesign | null): void;
  /**
   * One fused Adam update of every arena in place, with the W_rec constraints. Returns a
   * status [K]: nonzero where model k got a non-finite weight or gradient.
   */
  adam(net: RnnNet, arenas: AdamArenas, step: AdamStep): Tensor;

  /** A wiring cost (WD, WDC, EMD; engine/regularizers/) of W [n, n]: R as [] and dR/dW as [n, n]. */
  wiringCost(cost: WiringCost, W: Tensor, n: number): { value: Tensor; grad: Tensor };
  /**
   * One wiring cost of G networks whose costs differ only in W and λ (`sameStack`): network m's W is
   * the n×n block of W at element offset at[m]. Values [G] and grads [G, n, n], each network's
   * exactly as wiringCost gives it (a GPU runs the stack as one dispatch per stage).
   */
  wiringCosts(costs: readonly WiringCost[], W: Tensor, at: readonly number[], n: number): { values: Tensor; grads: Tensor };
  /**
   * A tensor [size] of zeros with, for each row of each part, `len` values of the part's blocks
   * (block `row.block`) times scale[row.scaleAt] written from element row.offset: the backward
   * of per-network terms, each scaled by its own upstream gradient, in its place in an arena.
   */
  assembleScaled(size: number, scale: Tensor, parts: readonly ScaledBlocks[]): Tensor;

  /**
   * Runs fn; every tensor created inside that is not returned (or kept) is disposed at the end.
   * Long training loops call this per step so nothing leaks.
   */
  scope<T>(fn: () => T): T;
  /** Exempts a tensor from the enclosing scope's disposal. */
  keep<T extends Tensor>(t: T): T;
  /** Waits until all queued work is done (and surfaces deferred GPU errors). */
  sync(): Promise<void>;
  destroy(): void;
}
