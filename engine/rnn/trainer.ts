/**
 * The trainer: K ≥ 1 networks of one shape, trained side by side in the same dispatches (one
 * network is K = 1). Model k's parameters are block k of one arena [K·S], so the fused RNN,
 * the loss and Adam each run once for all models. Models may differ in weights, batches,
 * regularisers (kind, strength, D) and constraints, and each follows exactly the trajectory
 * it follows alone (the kernels run the same arithmetic per model).
 *
 * A step is recorded on the tape and differentiated by it: the fused RNN over T steps, the
 * loss and the regularisers are tape entries with hand-written backward kernels; the
 * gradient of θ that comes out is the arena the fused Adam consumes. Only the losses, a
 * status word per model (and the logits, when asked for) are read back, in one transfer.
 */
import { Tape, type Var } from '../autograd.ts';
import type { Batch } from '../data.ts';
import { NonFiniteError, ShapeError } from '../errors.ts';
import { sameStack, stackableCost, type StackableCost } from '../regularizers/stack.ts';
import type { RecurrentRegularizer } from '../regularizers/regularizer.ts';
import { allSteps, type Backend, type RnnDesign, type RnnNet, type ScaledBlocks, type StepRange, type Tensor } from '../tensor.ts';
import { arenaLayout, constrainRecurrent, packArena, unpackArena, type ArenaLayout, type HostParams, type RnnConfig } from './params.ts';

export interface AdamOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** 'pytorch': θ −= lr·m̂/(√v̂ + ε); 'keras': θ −= lr·√bc2/bc1·m/(√v + ε). Equal up to where ε sits. */
  mode: 'pytorch' | 'keras';
}

export const DEFAULT_ADAM: AdamOptions = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, mode: 'pytorch' };

/** One network of a trainer: its initial weights, regularisers and W_rec constraints. */
export interface ModelSpec {
  params: HostParams;
  regularizers?: RecurrentRegularizer[];
  /** Clip W_rec at 0 after every update (Keras NonNeg). */
  positiveOnly?: boolean;
  /** Fixed binary mask on W_rec [N·N], applied to weights and gradients. */
  recurrentMask?: ArrayLike<number>;
}

export interface TrainerOptions {
  adam?: Partial<AdamOptions>;
  design?: RnnDesign | 'auto';
}

/**
 * Which logits a step or an evaluation returns: 'all' steps, or only the 'masked' ones (the
 * steps where some batch's loss or score mask is nonzero; rows of the other steps are 0).
 * The loss and every decision the masks score are the same either way; 'masked' runs the
 * read-out only at those steps.
 */
export type LogitSteps = 'all' | 'masked';

export interface StepResult {
  loss: number;
  ce: number;
  reg: number;
  /** Logits [T·B, nOut] of this step's forward pass, when asked for (see LogitSteps). */
  logits?: Float32Array | Float64Array;
  /** Set when this model's loss, weights or gradients are NaN/Inf after this step (others go on). */
  diverged?: NonFiniteError;
}

export interface GradientResult extends StepResult {
  grads: HostParams;
  /** dR/dW_rec of all regularisers together (zeros without regularisers). */
  gradReg: Float64Array;
  /** Gradients of the cross-entropy alone. */
  gradsCe: HostParams;
}

/** A step's loss on the tape: per-model values [K] of the cross-entropy, regulariser and sum. */
interface RecordedLoss {
  logits: Var;
  ce: Var;
  reg: Var | null;
  total: Var;
}

export class RnnTrainer {
  readonly K: number;
  readonly net: RnnNet;
  readonly layout: ArenaLayout;
  /** Floats per model in the arena. */
  readonly S: number;
  readonly adam: AdamOptions;
  private t = 0; // Adam step count
  private readonly theta: Tensor;
  private readonly m: Tensor;
  private readonly v: Tensor;
  private readonly mask: Tensor | null;

  constructor(
    readonly backend: Backend,
    readonly cfg: RnnConfig,
    readonly models: ModelSpec[],
    opts: TrainerOptions = {},
  ) {
    const be = backend;
    const N = cfg.nHidden;
    this.K = models.length;
    if (!this.K) throw new ShapeError('RnnTrainer', { message: 'RnnTrainer needs at least one model' });
    this.layout = arenaLayout(cfg);
    this.S = this.layout.total;
    this.net = { cfg, layout: this.layout, K: this.K, design: opts.design ?? 'auto' };
    this.adam = { ...DEFAULT_ADAM, ...opts.adam };
    const anyMask = models.some((s) => s.recurrentMask);
    const mask = anyMask ? new Float64Array(this.K * N * N) : null;
    models.forEach((spec, k) => {
      if (spec.recurrentMask && spec.recurrentMask.length !== N * N) {
        throw new ShapeError('RnnTrainer', { message: `model ${k}: recurrent mask has ${spec.recurrentMask.length} entries, expected ${N * N}` });
      }
      if (mask && spec.recurrentMask) mask.set(spec.recurrentMask, k * N * N);
    });
    this.theta = be.keep(be.zeros([this.K * this.S]));
    this.m = be.keep(be.zeros([this.K * this.S]));
    this.v = be.keep(be.zeros([this.K * this.S]));
    this.mask = mask ? be.keep(be.fromArray(mask, [mask.length])) : null;
    // The initial weights obey the constraints too (mask and clip before the first step).
    models.forEach((spec, k) => this.setParams(spec.params, k));
  }

  get steps(): number {
    return this.t;
  }

  /** Replaces model k's weights (under its constraints). */
  setParams(p: HostParams, k = 0): void {
    const spec = this.models[k]!;
    const W_rec = spec.recurrentMask || spec.positiveOnly ? constrainRecurrent(p.W_rec, spec.recurrentMask, spec.positiveOnly) : p.W_rec;
    this.backend.write(this.theta, packArena(this.cfg, { ...p, W_rec }, this.layout), k * this.S);
  }

  async getParams(k = 0): Promise<HostParams> {
    const be = this.backend;
    const block = be.scope(() => be.keep(be.slice(this.theta, k * this.S, [this.S])));
    const data = await block.read();
    block.dispose();
    return unpackArena(this.cfg, data, this.layout);
  }

  async getAllParams(): Promise<HostParams[]> {
    const data = await this.theta.read();
    return Array.from({ length: this.K }, (_, k) => unpackArena(this.cfg, data.subarray(k * this.S, (k + 1) * this.S), this.layout));
  }

  /** The batches of all models as device tensors: x [K·T·B·nIn], labels and loss masks [K·T·B]. */
  private readonly hostArrays = new Map<string, Float32Array | Float64Array>();

  /** A host array of `length` values for an upload (reused: the backends copy what they upload). */
  private hostArray(name: string, length: number): Float32Array | Float64Array {
    let a = this.hostArrays.get(name);
    if (!a || a.length !== length) this.hostArrays.set(name, (a = new this.backend.storageArray(length)));
    return a;
  }

  private upload(batches: Batch[]): { T: number; B: number; x: Tensor; labels: Tensor; mask: Tensor } {
    if (batches.length !== this.K) throw new ShapeError('RnnTrainer', { message: `expected ${this.K} batches (one per model), got ${batches.length}` });
    const { T, B } = batches[0]!;
    const nIn = this.cfg.nIn;
    const n = T * B;
    // Packed straight into the backend's storage type (float32 rounds each value as its upload
    // did), into host arrays kept from the last upload of this size.
    const x = this.hostArray('x', this.K * n * nIn);
    const labels = this.hostArray('labels', this.K * n);
    const mask = this.hostArray('mask', this.K * n);
    batches.forEach((b, k) => {
      if (b.T !== T || b.B !== B) throw new ShapeError('RnnTrainer', { message: `batch ${k} is T=${b.T}, B=${b.B}; all models need T=${T}, B=${B}` });
      const want = { x: n * nIn, labels: n, lossMask: n };
      for (const [key, len] of Object.entries(want)) {
        const got = (b as unknown as Record<string, ArrayLike<number>>)[key]!.length;
        if (got !== len) {
          throw new ShapeError('RnnTrainer', { message: `batch ${k}: ${key} has ${got} values, expected ${len} (T=${T}, B=${B}, nIn=${nIn})` });
        }
      }
      x.set(b.x, k * n * nIn);
      labels.set(b.labels, k * n);
      mask.set(b.lossMask, k * n);
    });
    const be = this.backend;
    return { T, B, x: be.fromArray(x, [x.length]), labels: be.fromArray(labels, [labels.length]), mask: be.fromArray(mask, [mask.length]) };
  }

  /**
   * Records the loss of every model on the tape: the fused RNN, the cross-entropy, the
   * regularisers. The read-out runs at every step with `steps` 'all', else at the masked ones.
   */
  private record(tape: Tape, theta: Var, batches: Batch[], withRegularizers = true, steps: LogitSteps = 'masked'): RecordedLoss {
    const be = this.backend;
    const net = this.net;
    const up = this.upload(batches);
    const fwd = be.rnnForward(net, theta.value, up.x, up.T, up.B, steps === 'all' ? allSteps(up.T) : maskedSteps(batches));
    const logits = tape.record(fwd.logits, [theta], (g) => [be.rnnBackward(net, theta.value, fwd, g)]);
    const ce = tape.softmaxCrossEntropy(logits, up.labels, up.mask);
    const reg = withRegularizers ? this.regularizers(tape, theta) : null;
    return { logits, ce, reg, total: reg ? tape.add(ce, reg) : ce };
  }

  /**
   * How the models' regularisers run, fixed for the trainer's life: models whose one regulariser
   * is a WD or WDC cost that agrees with another's in all but W and λ share a stack (one dispatch per
   * stage for all of them, Backend.wiringCosts); every other model's run on their own.
   */
  private regPlan: { stacks: { ks: number[]; costs: StackableCost[] }[]; alone: number[] } | null = null;

  private regularizerPlan(): NonNullable<RnnTrainer['regPlan']> {
    if (this.regPlan) return this.regPlan;
    const stacks: { ks: number[]; costs: StackableCost[] }[] = [];
    const alone: number[] = [];
    // a stack's [G, N, N] operands must each fit one storage binding
    const N = this.cfg.nHidden;
    const cap = this.backend.maxBindingBytes === null ? Infinity : Math.max(1, Math.floor(this.backend.maxBindingBytes / (4 * N * N)));
    this.models.forEach((spec, k) => {
      const regs = spec.regularizers ?? [];
      const cost = regs.length === 1 ? stackableCost(regs[0]) : null;
      if (!cost) {
        if (regs.length) alone.push(k);
        return;
      }
      const stack = stacks.find((s) => s.ks.length < cap && sameStack(s.costs[0]!, cost));
      if (stack) {
        stack.ks.push(k);
        stack.costs.push(cost);
      } else stacks.push({ ks: [k], costs: [cost] });
    });
    return (this.regPlan = { stacks, alone });
  }

  /**
   * Every model's regularisers as one tape entry: values [K] (0 for a model without any), and
   * a backward that places g_k·dR_k/dW_rec in model k's W_rec block of an arena gradient.
   */
  private regularizers(tape: Tape, theta: Var): Var | null {
    const be = this.backend;
    const N = this.cfg.nHidden;
    const { stacks, alone } = this.regularizerPlan();
    if (!stacks.length && !alone.length) return null;
    const recAt = (k: number) => k * this.S + this.layout.offsets.W_rec;
    const values: { tensor: Tensor; offset: number }[] = [];
    const parts: ScaledBlocks[] = [];
    for (const { ks, costs } of stacks) {
      const r = be.wiringCosts(costs, theta.value, ks.map(recAt), N);
      values.push(...placeValues(be, r.values, ks));
      parts.push({ blocks: r.grads, len: N * N, rows: ks.map((k, m) => ({ block: m, scaleAt: k, offset: recAt(k) })) });
    }
    for (const k of alone) {
      const W = be.slice(theta.value, recAt(k), [N, N]);
      let value: Tensor | null = null;
      let grad: Tensor | null = null;
      for (const r of this.models[k]!.regularizers!) {
        const out = r.apply(be, W, N);
        value = value ? be.binary('add', value, out.value) : out.value;
        grad = grad ? be.binary('add', grad, out.grad) : out.grad;
      }
      values.push({ tensor: value!, offset: k });
      parts.push({ blocks: grad!, len: N * N, rows: [{ block: 0, scaleAt: k, offset: recAt(k) }] });
    }
    return tape.record(be.assemble(this.K, values), [theta], (g) => [be.assembleScaled(this.K * this.S, g, parts)]);
  }

  /** θ's gradient after backward (zeros when no entry contributed one). */
  private gradOf(theta: Var): Tensor {
    return theta.grad ?? this.backend.zeros([this.K * this.S]);
  }

  /**
   * One training step of every model on its own batch: forward, BPTT, regularisers, Adam.
   * `returnLogits`: true returns the logits of every step, 'masked' those of the masked steps
   * (see LogitSteps).
   */
  async step(batches: Batch[], opts: { returnLogits?: boolean | LogitSteps } = {}): Promise<StepResult[]> {
    const be = this.backend;
    this.t++;
    const returnLogits = opts.returnLogits === true ? 'all' : opts.returnLogits || null;
    const reads = be.scope(() => {
      const tape = new Tape(be);
      const theta = tape.leaf(this.theta, true, 'θ');
      const { logits, ce, reg, total } = this.record(tape, theta, batches, true, returnLogits ?? 'masked');
      tape.backward(total, be.fill([this.K], 1));
      const status = be.adam(
        this.net,
        { theta: this.theta, grad: this.gradOf(theta), m: this.m, v: this.v, mask: this.mask },
        {
          ...this.adam,
          t: this.t,
          positiveOnly: this.models.map((s) => Boolean(s.positiveOnly)),
          masked: this.models.map((s) => Boolean(s.recurrentMask)),
        },
      );
      return { reads: be.readAll([status, total.value, ce.value, ...(reg ? [reg.value] : []), ...(returnLogits ? [logits.value] : [])]) };
    });
    const [status, total, ce, ...rest] = await reads.reads;
    const reg = this.models.some((s) => s.regularizers?.length) ? rest.shift()! : null;
    const logits = returnLogits ? rest.shift()! : null;
    const nLogits = batches[0]!.T * batches[0]!.B * this.cfg.nOut;
    const results: StepResult[] = [];
    for (let k = 0; k < this.K; k++) {
      const r: StepResult = { loss: total![k]!, ce: ce![k]!, reg: reg ? reg[k]! : 0 };
      if (logits) r.logits = logits.subarray(k * nLogits, (k + 1) * nLogits);
      if (status![k] !== 0 || !Number.isFinite(r.loss)) r.diverged = await this.nameDivergence(k, r.loss);
      results.push(r);
    }
    return results;
  }

  /** The divergence of model k at this step: the loss when it is non-finite, else the first non-finite parameter. */
  private async nameDivergence(k: number, loss: number): Promise<NonFiniteError> {
    const model = this.K > 1 ? k : null;
    if (!Number.isFinite(loss)) return new NonFiniteError(this.t, 'loss', loss, model);
    const p = await this.getParams(k);
    for (const name of this.layout.names) {
      const bad = p[name]!.find((x) => !Number.isFinite(x));
      if (bad !== undefined) return new NonFiniteError(this.t, name, bad, model);
    }
    return new NonFiniteError(this.t, 'gradients', NaN, model);
  }

  /** Loss and gradients of every model without an update (used by `verify` and tests). */
  async gradients(batches: Batch[]): Promise<GradientResult[]> {
    const be = this.backend;
    const N = this.cfg.nHidden;
    const S = this.S;
    const reads = be.scope(() => {
      const ones = be.fill([this.K], 1);
      // Cross-entropy alone, the regularisers alone, then the sum: their gradients are reported apart.
      const tapeCe = new Tape(be);
      const thetaCe = tapeCe.leaf(this.theta, true);
      tapeCe.backward(this.record(tapeCe, thetaCe, batches, false).ce, ones);
      const tapeReg = new Tape(be);
      const thetaReg = tapeReg.leaf(this.theta, true);
      const regOnly = this.regularizers(tapeReg, thetaReg);
      if (regOnly) tapeReg.backward(regOnly, ones);
      const tape = new Tape(be);
      const theta = tape.leaf(this.theta, true);
      const { ce, reg, total } = this.record(tape, theta, batches);
      tape.backward(total, ones);
      return {
        reads: be.readAll([total.value, ce.value, reg ? reg.value : be.zeros([this.K]), this.gradOf(theta), this.gradOf(thetaCe), this.gradOf(thetaReg)]),
      };
    });
    const [total, ce, reg, grads, gradsCe, gradReg] = await reads.reads;
    const block = (a: Float32Array | Float64Array, k: number) => unpackArena(this.cfg, a.subarray(k * S, (k + 1) * S), this.layout);
    const rec = this.layout.offsets.W_rec;
    return Array.from({ length: this.K }, (_, k) => ({
      loss: total![k]!,
      ce: ce![k]!,
      reg: reg![k]!,
      grads: block(grads!, k),
      gradsCe: block(gradsCe!, k),
      gradReg: Float64Array.from(gradReg!.subarray(k * S + rec, k * S + rec + N * N)),
    }));
  }

  /**
   * Logits [T·B, nOut] of every model on its own batch, without noise, gradients or updates,
   * at every step or at the masked ones (see LogitSteps).
   */
  async logits(batches: Batch[], steps: LogitSteps = 'all'): Promise<(Float32Array | Float64Array)[]> {
    const be = this.backend;
    const reads = be.scope(() => {
      const up = this.upload(batches);
      const readout = steps === 'all' ? allSteps(up.T) : maskedSteps(batches);
      return { reads: be.readAll([be.rnnForward(this.net, this.theta, up.x, up.T, up.B, readout).logits]) };
    });
    const [data] = await reads.reads;
    const n = batches[0]!.T * batches[0]!.B * this.cfg.nOut;
    return Array.from({ length: this.K }, (_, k) => data!.slice(k * n, (k + 1) * n));
  }

  dispose(): void {
    for (const t of [this.theta, this.m, this.v, this.mask]) t?.dispose();
  }
}

/**
 * The steps from the first to the last at which some batch's loss or score mask is nonzero
 * (empty when none is): where a step's loss, and the decisions it scores, read the logits.
 */
function maskedSteps(batches: Batch[]): StepRange {
  const { T, B } = batches[0]!;
  let from = T;
  let to = 0;
  for (const b of batches) {
    for (let t = 0; t < T; t++) {
      for (let i = t * B; i < (t + 1) * B; i++) {
        if (b.lossMask[i] || b.scoreMask[i]) {
          from = Math.min(from, t);
          to = Math.max(to, t + 1);
          break;
        }
      }
    }
  }
  return from < to ? { from, to } : { from: 0, to: 0 };
}

/**
 * The most networks of this size one trainer can hold on the backend: the largest per-model
 * buffers ([K, T·B, N] states) must fit one binding, and the step's whole working set (about
 * 8 such buffers plus parameters and Adam state) a memory budget (default: 8x the binding
 * limit, at most 4 GiB). 1 on the CPU reference.
 */
export function maxModelsFor(be: Backend, cfg: RnnConfig, T: number, B: number, budgetBytes?: number): number {
  const binding = be.maxBindingBytes;
  if (binding === null) return 1;
  const N = cfg.nHidden;
  const perModelState = T * B * Math.max(N, cfg.nIn, cfg.nOut) * 4;
  // θ, grad, m, v; and the regulariser's temporaries: a stack holds every network's expm and
  // Fréchet operands at once, about 34 N×N at the first step's 16 squarings
  const perModelParams = arenaLayout(cfg).total * 4 * 4 + N * N * 4 * 34;
  const budget = budgetBytes ?? Math.min(8 * binding, 4 * 2 ** 30);
  const byBinding = Math.floor(binding / perModelState);
  const byBudget = Math.floor(budget / (8 * perModelState + perModelParams));
  return Math.max(1, Math.min(byBinding, byBudget));
}

/**
 * How many networks a sweep should train side by side: as many as memory allows, up to 64.
 * Batching pays even on a 2-core CPU adapter (bench multi on llvmpipe, N = 70: 1.35x the
 * single-network throughput at K = 4, 1.7x at K = 64), and far more on GPUs, where one small
 * network leaves most of the device idle.
 */
export function modelsPerBatch(be: Backend, cfg: RnnConfig, T: number, B: number): number {
  return Math.min(64, maxModelsFor(be, cfg, T, B));
}

/** A stack's values [G] as assemble parts at their models' places: one part per run of consecutive models. */
function placeValues(be: Backend, values: Tensor, ks: readonly number[]): { tensor: Tensor; offset: number }[] {
  const parts: { tensor: Tensor; offset: number }[] = [];
  for (let m = 0; m < ks.length;) {
    let end = m + 1;
    while (end < ks.length && ks[end] === ks[end - 1]! + 1) end++;
    const tensor = m === 0 && end === ks.length ? values : be.slice(values, m, [end - m]);
    parts.push({ tensor, offset: ks[m]! });
    m = end;
  }
  return parts;
}
