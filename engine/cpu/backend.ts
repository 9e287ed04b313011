/**
 * The CPU reference backend: every op in plain TypeScript. It is the oracle of the tests and
 * the fallback engine when no WebGPU adapter exists. All arithmetic runs in float64; with
 * precision 'f32' results are rounded to float32 on store, like a float32 device.
 */
import { checkCrossEntropy, checkScaledRows } from '../checks.ts';
import { ShapeError } from '../errors.ts';
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
  type Backend,
  type BinaryOp,
  type RnnForward,
  type RnnNet,
  type RnnDesign,
  type RnnDesignChoice,
  type RnnDesignOptions,
  type RnnShape,
  type MatmulOptions,
  type ScaledBlocks,
  type Shape,
  type StepRange,
  type UnaryOp,
} from '../tensor.ts';

import { rnnBackwardCpu, rnnForwardCpu, type CpuForward } from './rnn.ts';
import { emd, wd, wdc } from '../regularizers/cpu.ts';
import type { WiringCost } from '../regularizers/cost.ts';
import { checkStack, stackOneByOne } from '../regularizers/stack.ts';
import { unpackArena, type HostParams } from '../rnn/params.ts';

export type CpuPrecision = 'f32' | 'f64';

export class CpuTensor extends Tensor {
  constructor(
    shape: Shape,
    backend: CpuBackend,
    readonly data: Float32Array | Float64Array,
  ) {
    super(shape, backend);
  }
}

const unaryFns: Record<UnaryOp, (x: number) => number> = {
  abs: Math.abs,
  // sign(0) = 0, which also makes d|w|/dw at 0 equal to 0.
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0),
  relu: (x) => (x > 0 ? x : 0),
  reluMask: (x) => (x > 0 ? 1 : 0),
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  square: (x) => x * x,
  sqrt: Math.sqrt,
  copy: (x) => x,
};

const binaryFns: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  max: (a, b) => Math.max(a, b),
  min: (a, b) => Math.min(a, b),
};

export class CpuBackend implements Backend {
  readonly name = 'cpu' as const;
  readonly maxBindingBytes = null;
  get storageArray(): Float32ArrayConstructor | Float64ArrayConstructor {
    return this.precision === 'f64' ? Float64Array : Float32Array;
  }
  private scopes = new ScopeTracker();

  constructor(readonly precision: CpuPrecision = 'f64') {}

  describe(): string {
    return `CPU reference backend (${this.precision === 'f64' ? 'float64' : 'float32 storage, float64 accumulation'})`;
  }

  private alloc(shape: Shape): CpuTensor {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = this.precision === 'f64' ? new Float64Array(size) : new Float32Array(size);
    const t = new CpuTensor(shape, this, data);
    this.scopes.track(t);
    return t;
  }

  data(t: Tensor): Float32Array | Float64Array {
    if (!(t instanceof CpuTensor) || t.backend !== this) throw new Error('tensor belongs to another backend');
    if (t.disposed) throw new Error(`use of a disposed tensor of shape ${fmtShape(t.shape)}`);
    return t.data;
  }

  fromArray(values: ArrayLike<number>, shape: Shape): Tensor {
    const t = this.alloc(shape);
    if (values.length !== t.size) {
      throw new ShapeError('fromArray', `${values.length} values do not fill shape ${fmtShape(shape)}`);
    }
    t.data.set(values);
    return t;
  }
  zeros(shape: Shape): Tensor {
    return this.alloc(shape);
  }
  fill(shape: Shape, value: number): Tensor {
    const t = this.alloc(shape);
    t.data.fill(value);
    return t;
  }
  async read(t: Tensor): Promise<Float32Array | Float64Array> {
    return this.data(t).slice();
  }
  write(t: Tensor, values: ArrayLike<number>, offset?: number): void {
    const d = this.data(t);
    if (offset === undefined ? values.length !== d.length : offset < 0 || offset + values.length > d.length) {
      throw new ShapeError('write', `${values.length} values${offset === undefined ? '' : ` at ${offset}`} for ${fmtShape(t.shape)}`);
    }
    d.set(values, offset ?? 0);
  }
  release(_t: Tensor): void {
    // Garbage-collected; nothing to pool.
  }

  matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
    const { transA = false, transB = false } = opts;
    const s = matmulShape(a.shape, b.shape, { transA, transB });
    const outShape = matmulOutShape(a.shape, b.shape, s);
    const out = opts.accumulate ?? this.alloc(outShape);
    if (opts.accumulate && !sameShape(opts.accumulate.shape, outShape)) {
      throw new ShapeError('matmul', `accumulate target ${fmtShape(opts.accumulate.shape)} is not ${fmtShape(outShape)}`);
    }
    const A = this.data(a);
    const B = this.data(b);
    const C = this.data(out);
    const { m, k, n } = s;
    const acc = new Float64Array(n);
    for (let bt = 0; bt < s.batch; bt++) {
      const aOff = (s.batchA === 1 ? 0 : bt) * m * k;
      const bOff = (s.batchB === 1 ? 0 : bt) * k * n;
      const cOff = bt * m * n;
      for (let i = 0; i < m; i++) {
        acc.fill(0);
        for (let p = 0; p < k; p++) {
          const av = transA ? A[aOff + p * m + i]! : A[aOff + i * k + p]!;
          if (av === 0) continue;
          if (transB) for (let j = 0; j < n; j++) acc[j]! += av * B[bOff + j * k + p]!;
          else for (let j = 0; j < n; j++) acc[j]! += av * B[bOff + p * n + j]!;
        }
        for (let j = 0; j < n; j++) C[cOff + i * n + j] = (opts.accumulate ? C[cOff + i * n + j]! : 0) + acc[j]!;
      }
    }
    return out;
  }

  unary(op: UnaryOp, x: Tensor): Tensor {
    const out = this.alloc(x.shape);
    const f = unaryFns[op];
    const X = this.data(x);
    for (let i = 0; i < X.length; i++) out.data[i] = f(X[i]!);
    return out;
  }

  binary(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
    if (!sameShape(a.shape, b.shape) && b.size !== 1) {
      throw new ShapeError(op, `operands ${fmtShape(a.shape)} and ${fmtShape(b.shape)} differ`);
    }
    const out = this.alloc(a.shape);
    const f = binaryFns[op];
    const A = this.data(a);
    const B = this.data(b);
    if (b.size === 1 && a.size !== 1) for (let i = 0; i < A.length; i++) out.data[i] = f(A[i]!, B[0]!);
    else for (let i = 0; i < A.length; i++) out.data[i] = f(A[i]!, B[i]!);
    return out;
  }

  affine(x: Tensor, alpha: number, beta = 0): Tensor {
    const out = this.alloc(x.shape);
    const X = this.data(x);
    for (let i = 0; i < X.length; i++) out.data[i] = alpha * X[i]! + beta;
    return out;
  }

  sum(x: Tensor): Tensor {
    const X = this.data(x);
    let s = 0;
    for (let i = 0; i < X.length; i++) s += X[i]!;
    const out = this.alloc([]);
    out.data[0] = s;
    return out;
  }

  sumAxis(x: Tensor, axis: number): Tensor {
    const { outer, len, inner, outShape } = axisSplit(x.shape, axis);
    const out = this.alloc(outShape);
    const X = this.data(x);
    const acc = new Float64Array(inner);
    for (let o = 0; o < outer; o++) {
      acc.fill(0);
      for (let l = 0; l < len; l++) {
        const base = (o * len + l) * inner;
        for (let i = 0; i < inner; i++) acc[i]! += X[base + i]!;
      }
      out.data.set(acc, o * inner);
    }
    return out;
  }

  reshape(x: Tensor, shape: Shape): Tensor {
    const out = this.alloc(shape);
    if (out.size !== x.size) throw new ShapeError('reshape', `cannot view ${fmtShape(x.shape)} as ${fmtShape(shape)}`);
    out.data.set(this.data(x));
    return out;
  }

  transpose(x: Tensor): Tensor {
    if (x.shape.length < 2) throw new ShapeError('transpose', `need rank >= 2, got ${fmtShape(x.shape)}`);
    const r = x.shape[x.shape.length - 2]!;
    const c = x.shape[x.shape.length - 1]!;
    const batch = x.size / (r * c);
    const out = this.alloc([...x.shape.slice(0, -2), c, r]);
    const X = this.data(x);
    for (let b = 0; b < batch; b++) {
      const o = b * r * c;
      for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out.data[o + j * r + i] = X[o + i * c + j]!;
    }
    return out;
  }

  softmaxCrossEntropy(logits: Tensor, labels: Tensor, mask?: Tensor): { loss: Tensor; probs: Tensor } {
    const [K, rows, classes] = checkCrossEntropy(logits, labels, mask);
    const Z = this.data(logits);
    const Y = this.data(labels);
    const Mk = mask ? this.data(mask) : null;
    const probs = this.alloc(logits.shape);
    const loss = this.alloc(logits.shape.length === 3 ? [K] : []);
    for (let k = 0; k < K; k++) {
      let total = 0;
      let weight = 0;
      for (let r = k * rows; r < (k + 1) * rows; r++) {
        let mx = -Infinity;
        for (let c = 0; c < classes; c++) mx = Math.max(mx, Z[r * classes + c]!);
        let se = 0;
        for (let c = 0; c < classes; c++) se += Math.exp(Z[r * classes + c]! - mx);
        for (let c = 0; c < classes; c++) probs.data[r * classes + c] = Math.exp(Z[r * classes + c]! - mx) / se;
        const w = Mk ? Mk[r]! : 1;
        if (w !== 0) {
          const label = Y[r]!;
          total += w * (Math.log(se) + mx - Z[r * classes + label]!);
          weight += w;
        }
      }
      loss.data[k] = weight > 0 ? total / weight : 0;
    }
    return { loss, probs };
  }

  softmaxCrossEntropyBackward(probs: Tensor, labels: Tensor, mask: Tensor | undefined, _loss: Tensor, gradScale: Tensor): Tensor {
    const [K, rows, classes] = checkCrossEntropy(probs, labels, mask);
    const P = this.data(probs);
    const Y = this.data(labels);
    const Mk = mask ? this.data(mask) : null;
    const G = this.data(gradScale);
    const out = this.alloc(probs.shape);
    for (let k = 0; k < K; k++) {
      let weight = 0;
      for (let r = k * rows; r < (k + 1) * rows; r++) weight += Mk ? Mk[r]! : 1;
      const g = G[k]! / (weight > 0 ? weight : 1);
      for (let r = k * rows; r < (k + 1) * rows; r++) {
        const w = (Mk ? Mk[r]! : 1) * g;
        for (let c = 0; c < classes; c++) out.data[r * classes + c] = w * (P[r * classes + c]! - (Y[r] === c ? 1 : 0));
      }
    }
    return out;
  }

  slice(x: Tensor, offset: number, shape: Shape): Tensor {
    const out = this.alloc(shape);
    if (offset < 0 || offset + out.size > x.size) throw new ShapeError('slice', `${fmtShape(shape)} at ${offset} overruns ${fmtShape(x.shape)}`);
    out.data.set(this.data(x).subarray(offset, offset + out.size));
    return out;
  }

  assemble(size: number, parts: { tensor: Tensor; offset: number }[]): Tensor {
    const out = this.alloc([size]);
    for (const { tensor, offset } of parts) {
      if (offset < 0 || offset + tensor.size > size) throw new ShapeError('assemble', `${fmtShape(tensor.shape)} at ${offset} overruns [${size}]`);
      out.data.set(this.data(tensor), offset);
    }
    return out;
  }

  async readAll(ts: Tensor[]): Promise<(Float32Array | Float64Array)[]> {
    return ts.map((t) => this.data(t).slice());
  }

  rnnForward(net: RnnNet, theta: Tensor, x: Tensor, T: number, B: number, readout: StepRange = allSteps(T)): RnnForward {
    const { cfg, K } = net;
    const S = net.layout.total;
    const th = this.data(theta);
    const xd = this.data(x);
    const n = T * B * cfg.nIn;
    if (th.length !== K * S) throw new ShapeError('rnnForward', `the arena has ${th.length} values, expected K·S = ${K * S}`);
    if (xd.length !== K * n) throw new ShapeError('rnnForward', `rnn input has ${xd.length} values, expected K·T·B·nIn = ${K * n}`);
    checkStepRange('rnnForward', readout, T);
    const models: { p: HostParams; x: Float32Array | Float64Array; fwd: CpuForward }[] = [];
    const logits = this.alloc([K, T * B, cfg.nOut]);
    for (let k = 0; k < K; k++) {
      const p = unpackArena(cfg, th.subarray(k * S, (k + 1) * S), net.layout);
      const xk = xd.subarray(k * n, (k + 1) * n);
      const fwd = rnnForwardCpu(cfg, p, xk, T, B, readout);
      logits.data.set(fwd.logits, k * T * B * cfg.nOut);
      models.push({ p, x: xk, fwd });
    }
    return { T, B, readout, logits, saved: models };
  }

  /** One design: the reference sums in its own order whatever a GPU would run. */
  rnnDesigns(): readonly RnnDesign[] {
    return ['per-step'];
  }

  resolveRnnDesign(_shape: RnnShape, requested: RnnDesign | 'auto' | RnnDesignChoice = 'auto', _opts?: RnnDesignOptions): Promise<RnnDesignChoice> {
    if (typeof requested === 'object') return Promise.resolve(requested);
    return Promise.resolve(requested === 'auto' ? { design: 'per-step', source: 'default', ms: null } : { design: requested, source: 'requested', ms: null });
  }

  rnnBackward(net: RnnNet, _theta: Tensor, fwd: RnnForward, dLogits: Tensor): Tensor {
    const { cfg, K } = net;
    const S = net.layout.total;
    const { T, B } = fwd;
    const models = fwd.saved as { p: HostParams; x: Float32Array | Float64Array; fwd: CpuForward }[];
    const dY = this.data(dLogits);
    const ny = T * B * cfg.nOut;
    const grad = this.alloc([K * S]);
    models.forEach((m, k) => {
      const g = rnnBackwardCpu(cfg, m.p, m.x, T, B, m.fwd, dY.subarray(k * ny, (k + 1) * ny), fwd.readout);
      for (const name of net.layout.names) grad.data.set(g[name]!, k * S + net.layout.offsets[name]);
    });
    return grad;
  }

  /** The fused Adam update in float64 on the host, model by model (as adam.wgsl). */
  adam(net: RnnNet, a: AdamArenas, h: AdamStep): Tensor {
    const N = net.cfg.nHidden;
    const S = net.layout.total;
    const recStart = net.layout.offsets.W_rec;
    const recEnd = recStart + N * N;
    const [th, g, m, v] = [a.theta, a.grad, a.m, a.v].map((t) => this.data(t));
    const mask = a.mask ? this.data(a.mask) : null;
    const { lr, beta1, beta2, eps } = h;
    const bc1 = 1 - beta1 ** h.t;
    const bc2 = 1 - beta2 ** h.t;
    const status = this.alloc([net.K]);
    for (let k = 0; k < net.K; k++) {
      let bad = 0;
      for (let li = 0; li < S; li++) {
        const i = k * S + li;
        const rec = li >= recStart && li < recEnd;
        const mk = rec && h.masked[k] && mask ? mask[k * N * N + li - recStart]! : 1;
        const gi = g![i]! * mk;
        m![i] = beta1 * m![i]! + (1 - beta1) * gi;
        v![i] = beta2 * v![i]! + (1 - beta2) * gi * gi;
        let x = th![i]!;
        if (h.mode === 'keras') x -= (((lr * Math.sqrt(bc2)) / bc1) * m![i]!) / (Math.sqrt(v![i]!) + eps);
        else x -= (lr * (m![i]! / bc1)) / (Math.sqrt(v![i]! / bc2) + eps);
        if (rec) {
          x *= mk;
          if (h.positiveOnly[k] && x < 0) x = 0;
        }
        th![i] = x;
        if (!Number.isFinite(x) || !Number.isFinite(gi)) bad = 1;
      }
      status.data[k] = bad;
    }
    return status;
  }

  /** The float64 twins of engine/regularizers/cpu.ts. */
  wiringCost(cost: WiringCost, W: Tensor, n: number): { value: Tensor; grad: Tensor } {
    const w = this.data(W);
    const r =
      cost.kind === 'WD'
        ? wd(w, cost.D, n, { lambda: cost.lambda })
        : cost.kind === 'WDC'
          ? wdc(w, cost.D, n, { lambda: cost.lambda, sMin: cost.sMin, eps: cost.eps })
          : emd(w, cost.D, cost.target.Cemp, n, { lambda: cost.lambda, mu: cost.mu, sMin: cost.sMin, eps: cost.eps, active: cost.target.active });
    return { value: this.fromArray([r.value], []), grad: this.fromArray(r.grad, [n, n]) };
  }

  readonly matmulDesign = null;
  useMatmulDesign(): void {}

  /** Network by network, each as wiringCost computes it. */
  wiringCosts(costs: readonly WiringCost[], W: Tensor, at: readonly number[], n: number): { values: Tensor; grads: Tensor } {
    checkStack(costs, at, n, W.size);
    return stackOneByOne(this, costs, W, at, n);
  }

  assembleScaled(size: number, scale: Tensor, parts: readonly ScaledBlocks[]): Tensor {
    const out = this.alloc([size]);
    const s = this.data(scale);
    for (const { blocks, len, rows } of parts) {
      checkScaledRows(blocks.size, scale.size, size, len, rows);
      const X = this.data(blocks);
      for (const r of rows) for (let i = 0; i < len; i++) out.data[r.offset + i] = X[r.block * len + i]! * s[r.scaleAt]!;
    }
    return out;
  }

  scope<T>(fn: () => T): T {
    return this.scopes.run(fn);
  }
  keep<T extends Tensor>(t: T): T {
    return this.scopes.keep(t);
  }
  async sync(): Promise<void> {}
  destroy(): void {}
}
