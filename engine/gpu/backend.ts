/**
 * The WebGPU backend: each op is one kernel from shaders/, with shapes in a uniform and the
 * pipeline cached per specialisation. Ops only encode work; reads and sync() submit it.
 */
import { checkCrossEntropy, checkScaledRows } from '../checks.ts';
import { OptionError, ShapeError } from '../errors.ts';
import { ScopeTracker } from '../scope.ts';
import {
  Tensor,
  allSteps,
  axisSplit,
  checkStepRange,
  fmtShape,
  matmulOutShape,
  matmulShape,
  sameShape,
  type AdamArenas,
  type AdamStep,
  type BinaryOp,
  type RnnForward,
  type RnnNet,
  type RnnDesign,
  type RnnDesignChoice,
  type RnnDesignOptions,
  type RnnShape,
  type MatmulOptions,
  type MatmulDesign,
  MATMUL_DESIGNS,
  type ScaledBlocks,
  type Shape,
  type StepRange,
  type UnaryOp,
} from '../tensor.ts';
import type { GpuContext } from './context.ts';
import { GpuTensor, grid1d, type GpuOps, type MatmulKernel } from './tensor.ts';
import { blockedShape, chooseDesign, designFits, persistentShape, RNN_DESIGNS, stepDispatch } from './rnn_design.ts';
import { resolveGpuRnnDesign } from './tune.ts';
import { runKernel } from './program.ts';
import { skinnyInto, skinnyKernelFor, skinnySupported, type SkinnyLayout } from './skinny.ts';
import { wiringCostGpu, wiringCostsGpu, type DeviceConstants, type GpuStage } from '../regularizers/gpu.ts';
import type { WiringCost } from '../regularizers/cost.ts';
import { checkStack, stackOneByOne, type StackableCost } from '../regularizers/stack.ts';

/** Shapes with a dimension this small use matmul_skinny: tiles would be mostly padding (for
 * subgroup tiles, only a small N counts). */
const SKINNY_DIM = 8;

/** Subgroup sizes the subgroup tiles are written for (shaders/lib/subgroup_tile.wgsl). */
const TILE_LANES = [4, 8, 16];

/** Why the subgroup matmul cannot run on this context, or null when it can. */
export function subgroupMatmulUnsupported(ctx: GpuContext): string | null {
  const s = ctx.summary;
  if (!s.features.includes('subgroups')) return 'the device lacks the subgroups feature';
  if (s.subgroupMinSize !== s.subgroupMaxSize || !TILE_LANES.includes(s.subgroupMinSize)) {
    return `it needs a fixed subgroup size of 4, 8 or 16 lanes; the adapter reports ${s.subgroupMinSize}..${s.subgroupMaxSize}`;
  }
  return null;
}

/**
 * The default: the subgroup kernel on software (CPU) adapters with 8- or 16-lane subgroups
 * (llvmpipe at 256 or 512 bits, where it was measured faster), else workgroup tiles. At 4 lanes
 * (SwiftShader, or llvmpipe at 128 bits) it runs when asked for but is not the default.
 */
export function defaultMatmulKernel(ctx: GpuContext): MatmulKernel {
  const s = ctx.summary;
  return s.isFallbackAdapter && subgroupMatmulUnsupported(ctx) === null && s.subgroupMinSize >= 8 ? 'subgroup' : 'workgroup';
}

/** How matmulInto reads and writes its operands: transposes, C += A·B, element offsets, batch strides. */
export interface MatmulIntoOptions {
  transA?: boolean;
  transB?: boolean;
  /** C += op(A)·op(B) instead of C = op(A)·op(B). */
  accumulate?: boolean;
  offsets?: { a?: number; b?: number; c?: number };
  strides?: { a?: number; b?: number; c?: number };
}

export class GpuBackend implements GpuOps {
  readonly name = 'webgpu' as const;
  private scopes = new ScopeTracker();
  private kernelInUse: MatmulKernel;
  /** The matmul design this backend was created with (named, or the adapter's default). */
  private readonly ownMatmul: MatmulKernel;
  /** Whether the creator named the matmul design: tuning then keeps it. */
  readonly matmulNamed: boolean;

  constructor(
    readonly ctx: GpuContext,
    matmulKernel?: MatmulKernel,
  ) {
    this.kernelInUse = defaultMatmulKernel(ctx);
    if (matmulKernel) this.matmulKernel = matmulKernel;
    this.ownMatmul = this.kernelInUse;
    this.matmulNamed = matmulKernel !== undefined;
  }

  /** The tiled matmul design in use; settable (benchmarks and tests compare both). */
  get matmulKernel(): MatmulKernel {
    return this.kernelInUse;
  }

  get matmulDesign(): MatmulDesign {
    return this.kernelInUse;
  }

  useMatmulDesign(design: MatmulDesign | null): void {
    this.matmulKernel = design ?? this.ownMatmul;
  }

  /** The matmul designs that run on this adapter. */
  matmulDesigns(): MatmulDesign[] {
    return MATMUL_DESIGNS.filter((d) => d !== 'subgroup' || !subgroupMatmulUnsupported(this.ctx));
  }

  set matmulKernel(kernel: MatmulKernel) {
    if (kernel !== 'workgroup' && kernel !== 'subgroup') {
      throw new OptionError('matmulKernel', "'workgroup' or 'subgroup'", `'${kernel}'`, {
        message: `unknown matmul kernel '${kernel}': expected 'workgroup' or 'subgroup'`,
      });
    }
    const why = kernel === 'subgroup' ? subgroupMatmulUnsupported(this.ctx) : null;
    if (why) {
      throw new OptionError('matmulKernel', `a kernel that runs on ${this.ctx.describe()}`, `'subgroup' (${why})`, {
        message: `the subgroup matmul cannot run on ${this.ctx.describe()}: ${why}`,
      });
    }
    this.kernelInUse = kernel;
  }

  describe(): string {
    return this.ctx.describe();
  }

  /** Lanes per subgroup tile when the subgroup design is in use, else null (workgroup tiles). */
  get subgroupLanes(): number | null {
    return this.matmulDesign === 'subgroup' ? this.ctx.summary.subgroupMinSize : null;
  }

  readonly storageArray = Float32Array;

  get maxBindingBytes(): number {
    return this.ctx.limits.maxStorageBufferBindingSize!;
  }

  /** A fresh tensor; `kernel` names the op for limit errors. Contents are undefined. */
  alloc(shape: Shape, kernel = 'alloc'): GpuTensor {
    const size = shape.reduce((a, b) => a * b, 1);
    const t = new GpuTensor(shape, this, this.ctx.acquireBuffer(size * 4, kernel));
    this.scopes.track(t);
    return t;
  }

  /** The tensor's buffer, for ops that read from offset 0 (views are refused, never misread). */
  buf(t: Tensor): GPUBuffer {
    const g = this.gpuTensor(t);
    if (g.offset !== 0) throw new Error(`this op does not accept views; materialize() the ${fmtShape(t.shape)} view first`);
    return g.buffer;
  }

  gpuTensor(t: Tensor): GpuTensor {
    if (!(t instanceof GpuTensor) || t.backend !== this) throw new Error('tensor belongs to another backend');
    if (t.disposed) throw new Error(`use of a disposed tensor of shape ${fmtShape(t.shape)}`);
    return t;
  }

  /** A non-owning view of `size(shape)` elements of t's buffer starting at element `offset`. */
  view(t: Tensor, shape: Shape, offset = 0): GpuTensor {
    const g = this.gpuTensor(t);
    const v = new GpuTensor(shape, this, g.buffer, g.offset + offset, false);
    if (g.offset + offset + v.size > g.buffer.size / 4) throw new ShapeError('view', `${fmtShape(shape)} at ${offset} overruns the buffer`);
    return v;
  }

  /** The tensor itself when it starts at offset 0, else a copy (for ops that refuse views). */
  materializeIfView(t: Tensor): GpuTensor {
    const g = this.gpuTensor(t);
    return g.offset === 0 ? g : this.materialize(g);
  }

  /** A fresh tensor holding a copy of a view's values. */
  materialize(t: Tensor): GpuTensor {
    const g = this.gpuTensor(t);
    const out = this.alloc(t.shape, 'materialize');
    if (t.size) this.ctx.copy(g.buffer, g.offset * 4, out.buffer, 0, t.size * 4);
    return out;
  }

  fromArray(values: ArrayLike<number>, shape: Shape): Tensor {
    const t = this.alloc(shape, 'upload');
    if (values.length !== t.size) throw new ShapeError('fromArray', `${values.length} values do not fill shape ${fmtShape(shape)}`);
    this.write(t, values);
    return t;
  }

  zeros(shape: Shape): Tensor {
    const t = this.alloc(shape, 'zeros');
    this.ctx.clear(t.buffer);
    return t;
  }

  fill(shape: Shape, value: number): Tensor {
    if (value === 0) return this.zeros(shape);
    const t = this.alloc(shape, 'fill');
    const g = grid1d(t.size);
    runKernel(this.ctx, 'affine', {
      bind: { X: null, Y: t.buffer },
      uniform: { n: t.size, rowPitch: g.rowPitch, alpha: 0, beta: value },
      constants: { FILL: true },
      groups: g.groups,
      cost: { flops: 0, bytes: 4 * t.size },
    });
    return t;
  }

  async read(t: Tensor): Promise<Float32Array> {
    const g = this.gpuTensor(t);
    const bytes = await this.ctx.readBuffer(g.buffer, g.offset * 4, Math.max(t.size, 1) * 4);
    return new Float32Array(bytes, 0, t.size);
  }

  write(t: Tensor, values: ArrayLike<number>, offset?: number): void {
    if (offset === undefined ? values.length !== t.size : offset < 0 || offset + values.length > t.size) {
      throw new ShapeError('write', `${values.length} values${offset === undefined ? '' : ` at ${offset}`} for ${fmtShape(t.shape)}`);
    }
    const g = this.gpuTensor(t);
    // A typed array converts in one native pass; Float32Array.from walks an iterator, 10x slower
    // on the megabytes of a K-network batch. Both round each value the same way.
    const data = values instanceof Float32Array ? values : values instanceof Float64Array ? new Float32Array(values) : Float32Array.from(values);
    if (data.length) this.ctx.writeBuffer(g.buffer, (g.offset + (offset ?? 0)) * 4, data);
  }

  release(t: Tensor): void {
    if (t instanceof GpuTensor && t.owner) this.ctx.releaseBuffer(t.buffer);
  }

  matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
    const { transA = false, transB = false } = opts;
    const s = matmulShape(a.shape, b.shape, { transA, transB });
    const outShape = matmulOutShape(a.shape, b.shape, s);
    if (opts.accumulate && !sameShape(opts.accumulate.shape, outShape)) {
      throw new ShapeError('matmul', `accumulate target ${fmtShape(opts.accumulate.shape)} is not ${fmtShape(outShape)}`);
    }
    const out = opts.accumulate ? this.gpuTensor(opts.accumulate) : this.alloc(outShape, 'matmul');
    const ga = this.gpuTensor(a);
    const gb = this.gpuTensor(b);
    this.matmulInto(ga.buffer, gb.buffer, out.buffer, s, {
      transA,
      transB,
      accumulate: Boolean(opts.accumulate),
      offsets: { a: ga.offset, b: gb.offset, c: out.offset },
    });
    return out;
  }

  /**
   * Encodes C = op(A)·op(B) (+C) on raw buffers at element offsets; the fused RNN and expm
   * code reuse it. Offsets travel in the uniform, so views need no binding alignment.
   */
  matmulInto(
    a: GPUBuffer,
    b: GPUBuffer,
    c: GPUBuffer,
    s: { batch: number; m: number; k: number; n: number; batchA: number; batchB: number },
    o: MatmulIntoOptions = {},
  ): void {
    const { m, k, n } = s;
    const { transA = false, transB = false, accumulate = false, offsets = {}, strides = {} } = o;
    // Batch strides: contiguous by default; explicit ones address per-model blocks of an arena.
    const strideA = strides.a ?? (s.batchA === 1 ? 0 : m * k);
    const strideB = strides.b ?? (s.batchB === 1 ? 0 : k * n);
    const strideC = strides.c ?? m * n;
    const offA = offsets.a ?? 0;
    const offB = offsets.b ?? 0;
    const offC = offsets.c ?? 0;
    // Whether an operand is read (written) 4 values at a time along its contiguous dimension:
    // that dimension, the offset and the batch stride are multiples of 4.
    const quad = (dim: number, offset: number, stride: number) => dim % 4 === 0 && dim >= 4 && offset % 4 === 0 && stride % 4 === 0;
    const vecA = quad(transA ? m : k, offA, strideA);
    const vecB = quad(transB ? k : n, offB, strideB);
    const vecC = quad(n, offC, strideC);
    const cost = { flops: 2 * s.batch * m * n * k, bytes: 4 * s.batch * (m * k + k * n + m * n * (accumulate ? 2 : 1)) };
    // Subgroup tiles run along the columns, so only few columns leave them idle (bench: a
    // 3200x3x100 product ran in 0.98 ms on subgroup tiles, 3.6 ms skinny; 3200x100x3 in 1.7 vs 1.5).
    const skinny = this.matmulDesign === 'subgroup' ? n <= SKINNY_DIM : Math.min(m, n, k) <= SKINNY_DIM;
    const shader = skinny ? 'matmul_skinny' : this.matmulDesign === 'subgroup' ? 'matmul_subgroup' : vecA && vecB && vecC ? 'matmul_vec4' : 'matmul';
    const lanes = this.subgroupLanes ?? 0;
    const g = grid1d(m * n, 64);
    const groups: [number, number, number] = skinny
      ? [g.groups[0], g.groups[1], s.batch]
      : this.matmulDesign === 'subgroup'
        ? [Math.ceil(n / (4 * lanes)), Math.ceil(m / 16), s.batch]
        : [Math.ceil(n / 64), Math.ceil(m / 64), s.batch];
    const vec = shader === 'matmul_subgroup' ? { LANES: lanes, VEC_A: vecA, VEC_B: vecB, VEC_C: vecC } : {};
    runKernel(this.ctx, 'matmul', {
      shader,
      bind: { A: a, B: b, C: c },
      uniform: { M: m, K: k, N: n, strideA, strideB, strideC, offA, offB, offC },
      constants: { TRANS_A: transA, TRANS_B: transB, ACCUMULATE: accumulate, ...vec },
      groups,
      cost,
    });
  }

  /** The naive one-thread-per-output kernel, kept as the benchmark baseline. */
  matmulNaive(a: Tensor, b: Tensor): Tensor {
    const s = matmulShape(a.shape, b.shape);
    if (s.batch !== 1) throw new ShapeError('matmulNaive', 'no batching in the baseline kernel');
    const out = this.alloc([s.m, s.n], 'matmul_naive');
    runKernel(this.ctx, 'matmulNaive', {
      bind: { A: this.buf(a), B: this.buf(b), C: out.buffer },
      uniform: { M: s.m, K: s.k, N: s.n },
      groups: [Math.ceil(s.n / 8), Math.ceil(s.m / 8)],
    });
    return out;
  }

  unary(op: UnaryOp, x: Tensor): Tensor {
    const out = this.alloc(x.shape, 'unary');
    const g = grid1d(x.size);
    runKernel(this.ctx, 'unary', {
      bind: { X: this.buf(x), Y: out.buffer },
      uniform: { n: x.size, rowPitch: g.rowPitch },
      constants: { OP: op },
      groups: g.groups,
      cost: { flops: op === 'copy' ? 0 : x.size, bytes: 8 * x.size },
    });
    return out;
  }

  binary(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
    const scalar = b.size === 1 && a.size !== 1;
    if (!sameShape(a.shape, b.shape) && !scalar && !(a.size === 1 && b.size === 1)) {
      throw new ShapeError(op, `operands ${fmtShape(a.shape)} and ${fmtShape(b.shape)} differ`);
    }
    const out = this.alloc(a.shape, 'binary');
    const g = grid1d(a.size);
    runKernel(this.ctx, 'binary', {
      bind: { A: this.buf(a), B: this.buf(b), Z: out.buffer },
      uniform: { n: a.size, rowPitch: g.rowPitch },
      constants: { OP: op, B_SCALAR: scalar },
      groups: g.groups,
      cost: { flops: a.size, bytes: 4 * (2 * a.size + b.size) },
    });
    return out;
  }

  affine(x: Tensor, alpha: number, beta = 0): Tensor {
    const out = this.alloc(x.shape, 'affine');
    this.affineInto(x as GpuTensor, out, alpha, beta);
    return out;
  }

  private affineInto(x: GpuTensor, out: GpuTensor, alpha: number, beta: number): void {
    const g = grid1d(out.size);
    runKernel(this.ctx, 'affine', {
      bind: { X: this.buf(x), Y: out.buffer },
      uniform: { n: out.size, rowPitch: g.rowPitch, alpha, beta },
      groups: g.groups,
      cost: { flops: 2 * out.size, bytes: 8 * out.size },
    });
  }

  sum(x: Tensor): Tensor {
    // Chunks of 4096 values per workgroup, repeated until one partial is left.
    let src = this.buf(x);
    let n = x.size;
    const temps: GpuTensor[] = [];
    let out: GpuTensor | null = null;
    do {
      const chunk = 4096;
      const groups = Math.max(1, Math.ceil(n / chunk));
      const dst = this.alloc(groups === 1 ? [] : [groups], 'reduce_sum');
      runKernel(this.ctx, 'reduceSum', {
        bind: { X: src, partials: dst.buffer },
        uniform: { n, chunk },
        groups: [groups],
        cost: { flops: n, bytes: 4 * (n + groups) },
      });
      if (groups === 1) out = dst;
      else temps.push(dst);
      src = dst.buffer;
      n = groups;
    } while (!out);
    for (const t of temps) t.dispose();
    return out;
  }

  sumAxis(x: Tensor, axis: number): Tensor {
    const { outer, len, inner, outShape } = axisSplit(x.shape, axis);
    const out = this.alloc(outShape, 'reduce_axis');
    this.sumAxisInto(this.buf(x), out.buffer, { outer, len, inner, offX: 0, strideX: len * inner, offY: 0, strideY: inner });
    return out;
  }

  /**
   * Y[offY + o·strideY + i] = Σ_l X[offX + o·strideX + l·inner + i] on raw buffers
   * (reduce_axis; 4 columns per workgroup as vec4 where the layout is 4-aligned, same sums).
   */
  private sumAxisInto(
    X: GPUBuffer,
    Y: GPUBuffer,
    u: { outer: number; len: number; inner: number; offX: number; strideX: number; offY: number; strideY: number },
  ): void {
    const vec4 = [u.inner, u.offX, u.strideX, u.offY, u.strideY].every((v) => v % 4 === 0);
    const total = (u.outer * u.inner) / (vec4 ? 4 : 1);
    const gx = Math.min(total, 65535);
    const gy = Math.ceil(total / 65535);
    runKernel(this.ctx, 'reduceAxis', {
      shader: vec4 ? 'reduce_axis_vec4' : 'reduce_axis',
      bind: { X, Y },
      uniform: u,
      groups: [Math.max(gx, 1), gy],
      cost: { flops: u.outer * u.len * u.inner, bytes: 4 * (u.outer * u.len * u.inner + u.outer * u.inner) },
    });
  }

  reshape(x: Tensor, shape: Shape): Tensor {
    const out = this.alloc(shape, 'reshape');
    if (out.size !== x.size) {
      out.dispose();
      throw new ShapeError('reshape', `cannot view ${fmtShape(x.shape)} as ${fmtShape(shape)}`);
    }
    if (x.size) this.ctx.copy(this.buf(x), 0, out.buffer, 0, x.size * 4);
    return out;
  }

  transpose(x: Tensor): Tensor {
    if (x.shape.length < 2) throw new ShapeError('transpose', `need rank >= 2, got ${fmtShape(x.shape)}`);
    const r = x.shape[x.shape.length - 2]!;
    const c = x.shape[x.shape.length - 1]!;
    const batch = r * c === 0 ? 0 : x.size / (r * c);
    const out = this.alloc([...x.shape.slice(0, -2), c, r], 'transpose');
    runKernel(this.ctx, 'transpose', {
      bind: { X: this.buf(x), Y: out.buffer },
      uniform: { rows: r, cols: c },
      groups: [Math.ceil(c / 16), Math.ceil(r / 16), batch],
      cost: { flops: 0, bytes: 8 * x.size },
    });
    return out;
  }

  softmaxCrossEntropy(logits: Tensor, labels: Tensor, mask?: Tensor): { loss: Tensor; probs: Tensor } {
    const [K, rows, classes] = checkCrossEntropy(logits, labels, mask);
    const probs = this.alloc(logits.shape, 'softmax_ce');
    // The loss buffer holds [loss_0..loss_{K-1}, Σ mask_0..Σ mask_{K-1}]; the tensor is the losses.
    const loss = new GpuTensor(logits.shape.length === 3 ? [K] : [], this, this.ctx.acquireBuffer(2 * K * 4, 'softmax_ce'));
    this.scopes.track(loss);
    runKernel(this.ctx, 'softmaxCe', {
      bind: { logits: this.buf(logits), labels: this.buf(labels), mask: mask ? this.buf(mask) : this.buf(labels), probs: probs.buffer, loss: loss.buffer },
      uniform: { rows, classes, models: K },
      constants: { HAS_MASK: Boolean(mask) },
      groups: [1, 1, K],
      // per entry: max, then exp(x − max) twice, a sum and a division; logits read, probabilities written
      cost: { flops: 7 * K * rows * classes, bytes: 4 * K * rows * (2 * classes + 2) },
    });
    return { loss, probs };
  }

  softmaxCrossEntropyBackward(probs: Tensor, labels: Tensor, mask: Tensor | undefined, loss: Tensor, gradScale: Tensor): Tensor {
    const [K, rows, classes] = checkCrossEntropy(probs, labels, mask);
    const out = this.alloc(probs.shape, 'softmax_ce_backward');
    const g = grid1d(rows * classes);
    runKernel(this.ctx, 'softmaxCeBackward', {
      bind: {
        probs: this.buf(probs),
        labels: this.buf(labels),
        mask: mask ? this.buf(mask) : this.buf(labels),
        stats: this.buf(loss),
        gradScale: this.buf(gradScale),
        dlogits: out.buffer,
      },
      uniform: { rows, classes, rowPitch: g.rowPitch, models: K },
      constants: { HAS_MASK: Boolean(mask) },
      groups: [g.groups[0], g.groups[1], K],
      cost: { flops: 3 * K * rows * classes, bytes: 4 * K * rows * (2 * classes + 2) },
    });
    return out;
  }

  slice(x: Tensor, offset: number, shape: Shape): Tensor {
    return this.materialize(this.view(x, shape, offset));
  }

  assemble(size: number, parts: { tensor: Tensor; offset: number }[]): Tensor {
    const out = this.zeros([size]) as GpuTensor;
    for (const { tensor, offset } of parts) {
      const g = this.gpuTensor(tensor);
      if (offset < 0 || offset + g.size > size) throw new ShapeError('assemble', `${fmtShape(g.shape)} at ${offset} overruns [${size}]`);
      if (g.size) this.ctx.copy(g.buffer, g.offset * 4, out.buffer, offset * 4, g.size * 4);
    }
    return out;
  }

  readAll(ts: Tensor[]): Promise<Float32Array[]> {
    const total = ts.reduce((a, t) => a + t.size, 0);
    const out = this.alloc([total], 'readback');
    let at = 0;
    for (const t of ts) {
      const g = this.gpuTensor(t);
      if (g.size) this.ctx.copy(g.buffer, g.offset * 4, out.buffer, at * 4, g.size * 4);
      at += g.size;
    }
    const all = this.read(out);
    return all.then((data) => {
      let o = 0;
      return ts.map((t) => data.subarray(o, (o += t.size)));
    });
  }

  rnnDesigns(N: number, B: number): readonly RnnDesign[] {
    return RNN_DESIGNS.filter((d) => designFits(this.ctx, N, B, d));
  }

  resolveRnnDesign(shape: RnnShape, requested?: RnnDesign | 'auto' | RnnDesignChoice, opts?: RnnDesignOptions): Promise<RnnDesignChoice> {
    return resolveGpuRnnDesign(this, shape, requested, opts);
  }

  /**
   * The RNN over T steps for K networks (model = workgroup z of every kernel, or y for the
   * persistent ones): U = x W_inᵀ as one batched product, the fused cell per step (or once
   * for all steps), then the read-out at the steps of `readout` as one product over their
   * rows. Each model runs exactly the arithmetic of K = 1.
   */
  rnnForward(net: RnnNet, theta: Tensor, x: Tensor, T: number, B: number, readout: StepRange = allSteps(T)): RnnForward {
    const ctx = this.ctx;
    const { nIn, nHidden: N, nOut } = net.cfg;
    const { K } = net;
    const S = net.layout.total;
    const off = net.layout.offsets;
    const TB = T * B;
    const th = this.buf(theta);
    const xs = this.gpuTensor(x);
    if (theta.size !== K * S) throw new ShapeError('rnnForward', `the arena has ${theta.size} values, expected K·S = ${K * S}`);
    if (xs.size !== K * TB * nIn) throw new ShapeError('rnnForward', `rnn input has ${xs.size} values, expected K·T·B·nIn = ${K * TB * nIn}`);
    checkStepRange('rnnForward', readout, T);
    const design = chooseDesign(ctx, N, 1, net.design);
    const label = ctx.profileLabel;
    ctx.profileLabel = 'forward';
    const U = this.alloc([K * TB * N], 'rnn_forward');
    this.productInto(
      this.buf(xs),
      th,
      U.buffer,
      { batch: K, m: TB, k: nIn, n: N },
      {
        transB: true,
        offsets: { a: 0, b: off.W_in, c: 0 },
        strides: { a: TB * nIn, b: S, c: TB * N },
      },
    );
    const H = this.alloc([K * TB * N], 'rnn_forward');
    const R = this.alloc([K * TB * N], 'rnn_forward');
    this.recurrenceForward(design, net, th, { U: U.buffer, H: H.buffer, R: R.buffer }, T, B);
    const logits = this.alloc([K, TB, nOut], 'rnn_forward');
    const first = readout.from * B; // the read-out's rows: first … first + rows − 1
    const rows = (readout.to - readout.from) * B;
    if (rows < TB) ctx.clear(logits.buffer);
    // y = H W_outᵀ + b_out: the bias rides along as the product's extra row.
    if (rows > 0) {
      this.productInto(
        H.buffer,
        th,
        logits.buffer,
        { batch: K, m: rows, k: N, n: nOut },
        {
          transB: true,
          offsets: { a: first * N, b: off.W_out, c: first * nOut },
          strides: { a: TB * N, b: S, c: TB * nOut },
          extra: net.cfg.outputBias ? off.b_out : undefined,
        },
      );
    }
    ctx.profileLabel = label;
    return { T, B, readout, logits, saved: { x: xs, H, R } };
  }

  /**
   * BPTT for K networks, every weight gradient written straight into model k's block of the
   * gradient arena. dW_rec = Σ_{t≥1} δ_t h_tᵀ is one product over the stacked states (h_0 = 0);
   * the read-out's gradients (dW_out, db_out, dHr) are products over the rows of the
   * forward's read-out steps only, and dHr is 0 at the other steps.
   */
  rnnBackward(net: RnnNet, theta: Tensor, fwd: RnnForward, dLogits: Tensor): Tensor {
    const ctx = this.ctx;
    const { nIn, nHidden: N, nOut } = net.cfg;
    const { K } = net;
    const S = net.layout.total;
    const off = net.layout.offsets;
    const { T, B } = fwd;
    const TB = T * B;
    const { x, H, R } = fwd.saved as { x: GpuTensor; H: GpuTensor; R: GpuTensor };
    const th = this.buf(theta);
    const dY = this.buf(dLogits);
    const design = chooseDesign(ctx, N, 1, net.design);
    const label = ctx.profileLabel;
    ctx.profileLabel = 'backward';
    const gradT = this.zeros([K * S]) as GpuTensor;
    const grad = gradT.buffer;
    const first = fwd.readout.from * B; // the read-out's rows: first … first + rows − 1
    const rows = (fwd.readout.to - fwd.readout.from) * B;
    const dHr = this.readoutBackward(net, th, { dY, H: H.buffer, grad }, T, B, fwd.readout);
    const D = this.alloc([K, TB, N], 'rnn_backward');
    this.recurrenceBackward(design, net, th, { dHr: dHr.buffer, R: R.buffer, D: D.buffer }, T, B);
    // dW_rec as one product over the stacked states, not accumulated inside the BPTT steps:
    // the update δ_t h_{t-1}ᵀ needs all B rows of δ_t, which only the whole step dispatch
    // produces, so it could only ride in the next step's dispatch, with the same flops in 49
    // rank-B pieces whose output tiles are read and written 49 times. Measured on llvmpipe
    // (N 312, B 128, T 50, subgroup tiles): 180-186 ms as one product, 207-210 ms as 49
    // accumulating rank-128 products (GPU time, min of 7, two runs).
    if (T > 1) {
      this.matmulInto(
        D.buffer,
        H.buffer,
        grad,
        { batch: K, m: N, k: (T - 1) * B, n: N, batchA: K, batchB: K },
        { transA: true, offsets: { a: B * N, c: off.W_rec }, strides: { a: TB * N, b: TB * N, c: S } },
      );
    }
    this.productInto(
      D.buffer,
      this.buf(x),
      grad,
      { batch: K, m: N, k: TB, n: nIn },
      {
        transA: true,
        offsets: { a: 0, b: 0, c: off.W_in },
        strides: { a: TB * N, b: TB * nIn, c: S },
      },
    );
    // The bias gradients: column sums by reduce_axis, straight into each model's block (a sum
    // folded into the products above would change their rounding, see engine/gpu/skinny.ts).
    // db_out sums the read-out's rows (with B a multiple of 64 in the same order as all rows).
    if (net.cfg.outputBias && rows > 0) {
      const at = { offX: first * nOut, strideX: TB * nOut, offY: off.b_out!, strideY: S };
      this.sumAxisInto(dY, grad, { outer: K, len: rows, inner: nOut, ...at });
    }
    this.sumAxisInto(D.buffer, grad, { outer: K, len: TB, inner: N, offX: 0, strideX: TB * N, offY: off.b, strideY: S });
    ctx.profileLabel = label;
    return gradT;
  }

  /**
   * The read-out's gradients over its rows only: dW_out = Σ_t dy_t h_tᵀ into the gradient arena,
   * and dHr = dY W_out (0 at the other steps), returned.
   */
  private readoutBackward(
    net: RnnNet,
    th: GPUBuffer,
    b: { dY: GPUBuffer; H: GPUBuffer; grad: GPUBuffer },
    T: number,
    B: number,
    readout: StepRange,
  ): GpuTensor {
    const { nHidden: N, nOut } = net.cfg;
    const { K } = net;
    const S = net.layout.total;
    const off = net.layout.offsets;
    const TB = T * B;
    const first = readout.from * B; // the read-out's rows: first … first + rows − 1
    const rows = (readout.to - readout.from) * B;
    const dHr = this.alloc([K * TB * N], 'rnn_backward');
    if (rows < TB) this.ctx.clear(dHr.buffer); // 0 off the read-out's steps
    if (rows === 0) return dHr;
    const ab = { offsets: { a: first * nOut, b: first * N, c: off.W_out }, strides: { a: TB * nOut, b: TB * N, c: S } };
    this.productInto(b.dY, b.H, b.grad, { batch: K, m: nOut, k: rows, n: N }, { transA: true, ...ab });
    const layout = { offsets: { a: first * nOut, b: off.W_out, c: first * N }, strides: { a: TB * nOut, b: S, c: TB * N } };
    this.productInto(b.dY, th, dHr.buffer, { batch: K, m: rows, k: nOut, n: N }, layout);
    return dHr;
  }

  /** The fused cell over all T steps, forward, in `design`: states H and R from the input drive U. */
  private recurrenceForward(design: RnnDesign, net: RnnNet, th: GPUBuffer, st: { U: GPUBuffer; H: GPUBuffer; R: GPUBuffer }, T: number, B: number): void {
    const ctx = this.ctx;
    const { nHidden: N, alpha } = net.cfg;
    const { K } = net;
    const S = net.layout.total;
    const off = net.layout.offsets;
    const TB = T * B;
    if (design === 'per-step') {
      const step = stepDispatch(this.subgroupLanes, 'forward', B, N, K, { offW: off.W_rec, stride: S });
      for (let t = 0; t < T; t++) {
        runKernel(ctx, 'rnnStepForward', {
          ...step,
          constants: { ...step.constants, ELMAN: alpha === 1 },
          bind: { params: th, U: st.U, H: st.H, R: st.R },
          uniform: { B, N, t, offW: off.W_rec, offBias: off.b, paramStride: S, stateStride: TB * N, alpha },
        });
      }
    } else {
      // (b) and (c) read W_rec transposed, so neighbouring threads read neighbouring addresses.
      const Wm = this.alloc([K, N, N], 'rnn_forward');
      for (let k = 0; k < K; k++) ctx.copy(th, (k * S + off.W_rec) * 4, Wm.buffer, k * N * N * 4, N * N * 4);
      const WT = this.transpose(Wm) as GpuTensor;
      const bind = { WT: WT.buffer, params: th, U: st.U, H: st.H, R: st.R };
      const uniform = { B, N, T, offBias: off.b, paramStride: S, stateStride: TB * N, alpha };
      const blocked = blockedShape(ctx, N, design);
      if (blocked) {
        runKernel(ctx, 'rnnForwardBlocked', { bind, uniform, constants: blocked, groups: [Math.ceil(B / blocked.BS), K] });
      } else {
        const shape = persistentShape(ctx, N, B)!;
        runKernel(ctx, 'rnnForwardPersistent', {
          bind,
          uniform,
          constants: { WG: shape.WG, BS: shape.BS, NMAX: shape.NMAX },
          groups: [Math.ceil(B / shape.BS), K],
        });
      }
    }
  }

  /** The fused cell over all T steps, BPTT, in `design`: δ (D) from the read-out's gradient dHr. */
  private recurrenceBackward(design: RnnDesign, net: RnnNet, th: GPUBuffer, st: { dHr: GPUBuffer; R: GPUBuffer; D: GPUBuffer }, T: number, B: number): void {
    const ctx = this.ctx;
    const { nHidden: N, alpha } = net.cfg;
    const { K } = net;
    const S = net.layout.total;
    const off = net.layout.offsets;
    const TB = T * B;
    if (design === 'per-step') {
      const G = this.alloc([K * TB * N], 'rnn_backward');
      const step = stepDispatch(this.subgroupLanes, 'backward', B, N, K, { offW: off.W_rec, stride: S });
      for (let t = T - 1; t >= 0; t--) {
        runKernel(ctx, 'rnnStepBackward', {
          ...step,
          constants: { ...step.constants, ELMAN: alpha === 1 },
          bind: { params: th, dHr: st.dHr, R: st.R, G: G.buffer, D: st.D },
          uniform: { B, N, t, T, offW: off.W_rec, paramStride: S, stateStride: TB * N, alpha },
        });
      }
    } else {
      const bind = { params: th, dHr: st.dHr, R: st.R, D: st.D };
      const uniform = { B, N, T, offW: off.W_rec, paramStride: S, stateStride: TB * N, alpha };
      const blocked = blockedShape(ctx, N, design);
      if (blocked) {
        runKernel(ctx, 'rnnBackwardBlocked', { bind, uniform, constants: blocked, groups: [Math.ceil(B / blocked.BS), K] });
      } else {
        const shape = persistentShape(ctx, N, B)!;
        runKernel(ctx, 'rnnBackwardPersistent', {
          bind,
          uniform,
          constants: { WG: shape.WG, BS: shape.BS, NMAX: shape.NMAX },
          groups: [Math.ceil(B / shape.BS), K],
        });
      }
    }
  }

  /**
   * C = op(A)·op(B) (+C) for `batch` products, on a skinny kernel where one fits (engine/gpu/
   * skinny.ts), else on matmulInto; `extra` adds a bias row to an A·Bᵀ (SkinnyLayout), by
   * add_rows when no skinny kernel fits.
   */
  private productInto(a: GPUBuffer, b: GPUBuffer, c: GPUBuffer, s: { batch: number; m: number; k: number; n: number }, o: SkinnyLayout): void {
    if (this.matmulDesign === 'subgroup' && skinnySupported(this.ctx) && skinnyKernelFor(s, o)) return skinnyInto(this.ctx, a, b, c, s, o);
    const { batch, m, n } = s;
    this.matmulInto(a, b, c, { ...s, batchA: batch, batchB: batch }, o);
    if (o.extra === undefined) return;
    if (o.accumulate || o.transA || !o.transB) throw new Error('productInto: a bias row needs C = A·Bᵀ, not accumulated');
    const g = grid1d(m * n);
    runKernel(this.ctx, 'addRows', {
      bind: { V: b, Y: c },
      uniform: { n: m * n, cols: n, offV: o.extra, rowPitch: g.rowPitch, vStride: o.strides.b, offY: o.offsets.c, yStride: o.strides.c },
      groups: [g.groups[0], g.groups[1], batch],
    });
  }

  adam(net: RnnNet, a: AdamArenas, h: AdamStep): Tensor {
    const ctx = this.ctx;
    const K = net.K;
    const S = net.layout.total;
    const n = K * S;
    const flags = new Uint32Array(Math.max(4, K));
    for (let k = 0; k < K; k++) flags[k] = (h.positiveOnly[k] ? 1 : 0) | (h.masked[k] ? 2 : 0);
    const flagsT = this.alloc([flags.length], 'adam');
    ctx.writeBuffer(flagsT.buffer, 0, flags);
    const status = this.zeros([K]) as GpuTensor;
    const bc1 = 1 - h.beta1 ** h.t;
    const bc2 = 1 - h.beta2 ** h.t;
    const grid = grid1d(n);
    const recStart = net.layout.offsets.W_rec;
    runKernel(ctx, 'adam', {
      bind: {
        theta: this.buf(a.theta),
        grad: this.buf(a.grad),
        m: this.buf(a.m),
        v: this.buf(a.v),
        mask: a.mask ? this.buf(a.mask) : null,
        status: status.buffer,
        modelFlags: flagsT.buffer,
      },
      uniform: {
        n,
        recStart,
        recEnd: recStart + net.layout.sizes.W_rec,
        rowPitch: grid.rowPitch,
        modelSize: S,
        lr: h.lr,
        beta1: h.beta1,
        beta2: h.beta2,
        eps: h.eps,
        bc1,
        bc2,
      },
      constants: { NONNEG: h.positiveOnly.some(Boolean), MASKED: Boolean(a.mask), KERAS: h.mode === 'keras' },
      groups: grid.groups,
      cost: { flops: 16 * n, bytes: 4 * 7 * n },
    });
    return status;
  }

  /** Each cost's constant device tensors (D, C_emp, masks), uploaded once and kept out of scopes. */
  private costConstants = new WeakMap<WiringCost, Map<string, GpuTensor>>();

  /** The kernels of engine/regularizers/gpu.ts. */
  wiringCost(cost: WiringCost, W: Tensor, n: number): { value: Tensor; grad: Tensor } {
    return this.scope(() => wiringCostGpu(this, cost, W, n, this.constantsOf(cost))!);
  }

  wiringCosts(costs: readonly WiringCost[], W: Tensor, at: readonly number[], n: number): { values: Tensor; grads: Tensor } {
    checkStack(costs, at, n, W.size);
    // EMD sorts each network's C alone: its stack is a loop
    if (costs[0]!.kind === 'EMD') return stackOneByOne(this, costs, W, at, n);
    return this.scope(() => {
      const src = this.gpuTensor(W);
      const constants = this.constantsOf(costs[0]!);
      // Blocks a fixed stride apart (the models of an arena, side by side) are read in place;
      // others are gathered into one stack first.
      const stride = at.length > 1 ? at[1]! - at[0]! : n * n;
      const strided = stride >= n * n && at.every((a, m) => a === at[0]! + m * stride);
      const stack = strided ? this.view(src, [src.size - at[0]!], at[0]!) : this.alloc([costs.length, n, n], 'wiring_costs');
      if (!strided) at.forEach((a, m) => this.ctx.copy(src.buffer, (src.offset + a) * 4, stack.buffer, m * n * n * 4, n * n * 4));
      return wiringCostsGpu(this, costs as readonly StackableCost[], stack, n, constants, { strideW: strided ? stride : n * n })!;
    });
  }

  assembleScaled(size: number, scale: Tensor, parts: readonly ScaledBlocks[]): Tensor {
    const out = this.zeros([size]) as GpuTensor;
    for (const { blocks, len, rows } of parts) {
      if (!rows.length || !len) continue;
      checkScaledRows(blocks.size, scale.size, size, len, rows);
      const table = this.ctx.storageWords(rows.flatMap((r) => [r.block, r.scaleAt, r.offset]));
      const g = grid1d(len);
      runKernel(this.ctx, 'scaleBlocks', {
        bind: { X: this.buf(blocks), scale: this.buf(scale), rows: table, OUT: out.buffer },
        uniform: { len, rowPitch: g.rowPitch },
        groups: [g.groups[0], g.groups[1], rows.length],
        cost: { flops: len * rows.length, bytes: 8 * len * rows.length },
      });
    }
    return out;
  }

  /** Encodes a wiring cost only up to `stage` (bench reg times the stages apart). */
  wiringCostStage(cost: WiringCost, W: Tensor, n: number, stage: GpuStage): void {
    this.scope(() => void wiringCostGpu(this, cost, W, n, this.constantsOf(cost), stage));
  }

  private constantsOf(cost: WiringCost): DeviceConstants {
    let m = this.costConstants.get(cost);
    if (!m) this.costConstants.set(cost, (m = new Map()));
    const consts = m;
    const constants = (key: string, make: () => { data: ArrayLike<number>; shape: number[] }): GpuTensor => {
      let t = consts.get(key);
      if (!t || t.disposed) {
        const { data, shape } = make();
        t = this.keep(this.fromArray(data, shape)) as GpuTensor;
        consts.set(key, t);
      }
      return t;
    };
    return constants;
  }

  scope<T>(fn: () => T): T {
    return this.scopes.run(fn);
  }
  keep<T extends Tensor>(t: T): T {
    return this.scopes.keep(t);
  }
  sync(): Promise<void> {
    return this.ctx.sync();
  }
  destroy(): void {
    this.ctx.destroy();
  }
}
