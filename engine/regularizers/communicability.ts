/**
 * The communicability-distance regularisers (WD, WDC, EMD) as `RecurrentRegularizer`s that run
 * on both backends: on `GpuBackend` with the kernels below, on `CpuBackend` through the float64
 * oracle (engine/cpu/regularizers.ts), whose chain rule the GPU mirrors step for step:
 *
 *   comm_strength    s_j = max(Σ_i|W_ij| + eps, sMin), d = s^-½, floor flags
 *   comm_normalize   M = d_i |W_ij| d_j, column abs-sums of M (→ GPU 1-norm), and for WDC the
 *                    transposed upstream gradient G_Cᵀ = λ(A∘D)ᵀ with a zero diagonal
 *   expm_plan        ‖M‖₁ and the squaring count, on the GPU (gated steps: no host read)
 *   expm forward     E = exp(M) (gpu_expm.ts), C = offdiag(E)
 *   [EMD] sort_keys + sort_bitonic (C with its permutation) + comm_emd (value partials and
 *                    G_Cᵀ scattered through the permutation)
 *   expm Fréchet     Λ = L_exp(M, G_Cᵀ), so G_M = Λᵀ = L_exp(Mᵀ, G_C)
 *   comm_gs          g_s_k = −(row_k + col_k of G_M∘M)/(2 s_k), 0 where floored
 *   comm_grad        dR/dW = (G_M d_i d_j + g_s_j + direct term) ∘ sign(W), and (WD, WDC) the
 *                    value's per-workgroup partials; the value is their sum.
 */
import { CpuBackend } from '../cpu/backend.ts';
import { DEFAULT_S_MIN, EMD_EPS, emd as emdCpu, makeEmdTarget, wd as wdCpu, wdc as wdcCpu, type EmdTarget, type EmdTargetData } from '../cpu/regularizers.ts';
import { GpuBackend, GpuTensor, grid1d } from '../gpu/backend.ts';
import type { RecurrentRegularizer } from '../regularizer.ts';
import type { Backend, Tensor } from '../tensor.ts';
import { decodePlan, encodeExpmForward, encodeExpmFrechet, encodePlan, releaseExpmState, type ExpmState } from './gpu_expm.ts';

interface StrengthFloorOptions {
  /** Strength floor s_min (default 1e-4); null or 0: none (the paper). */
  sMin?: number | null;
  /** The paper's setting: no strength floor (overrides sMin). */
  paperCompat?: boolean;
}

interface SquaringOptions {
  /**
   * Squaring steps encoded per call on the GPU ('adaptive', the default: the s the GPU needed
   * last time + 2, read back lagged without blocking; `maxSquarings` before the first read).
   * A number fixes it. The GPU always runs min(s, encoded) of them.
   */
  squarings?: 'adaptive' | number;
  /** Upper bound of encoded steps (default 16: ‖M‖₁ up to 2.5·2¹⁶). */
  maxSquarings?: number;
}

export interface WdOptions {
  lambda: number;
  /** Distances, n×n row-major (W layout). */
  D: ArrayLike<number>;
}

export interface WdcOptions extends WdOptions, StrengthFloorOptions, SquaringOptions {
  /** Added to the column sums before the floor (default 0). */
  eps?: number;
}

export interface EmdOptions extends WdOptions, StrengthFloorOptions, SquaringOptions {
  mu: number;
  /** Empirical connectome (W layout: K[post][pre]); C_emp is computed once in float64. */
  K?: ArrayLike<number>;
  /**
   * Target: 'floor-one-synapse' (default, corrected), 'paper' (zero strengths → 1e-10; the
   * default under paperCompat) or 'active-only'; or a prebuilt target from makeEmdTarget.
   */
  target?: EmdTarget | EmdTargetData;
  /** Strength floor of 'floor-one-synapse' (default 1 synapse). */
  synapseFloor?: number;
  /** Added to the model's column sums (default 1e-10, the paper's C*). */
  eps?: number;
}

/** Lagged statistics of the GPU expm (from the plan read back after each call). */
interface ExpmStats {
  /** ‖M‖₁ of the last call read back */
  norm: number | null;
  /** squarings it needed */
  squarings: number | null;
  /** squaring steps encoded in the last call */
  encoded: number;
  /** calls whose needed squarings exceeded the encoded steps (result less accurate) */
  overflows: number;
}

function floorOf(o: StrengthFloorOptions): number | null {
  if (o.paperCompat) return null;
  return o.sMin === undefined ? DEFAULT_S_MIN : o.sMin;
}

function fmtFloor(s: number | null): string {
  return s === null || s === 0 ? 's_min none (paper-compat)' : `s_min = ${s}`;
}

/** Per-backend cache of constant device tensors (D, C_emp, masks), kept out of scopes. */
class DeviceCache {
  private map = new WeakMap<Backend, Map<string, Tensor>>();
  get(be: Backend, key: string, make: () => { data: ArrayLike<number>; shape: number[] }): Tensor {
    let m = this.map.get(be);
    if (!m) this.map.set(be, (m = new Map()));
    let t = m.get(key);
    if (!t || t.disposed) {
      const { data, shape } = make();
      t = be.keep(be.fromArray(data, shape));
      m.set(key, t);
    }
    return t;
  }
}

export type GpuStage = 'forward' | 'gc' | 'adjoint' | 'full';

/** Shared GPU machinery of WDC and EMD. */
abstract class CommBase implements RecurrentRegularizer {
  abstract readonly name: string;
  abstract describe(): string;
  readonly lambda: number;
  readonly D: Float64Array;
  readonly sMin: number | null;
  protected cache = new DeviceCache();
  readonly stats: ExpmStats;
  private squarings: 'adaptive' | number;
  private maxSquarings: number;
  private hint: number | null = null;

  constructor(o: WdcOptions | EmdOptions) {
    if (!Number.isFinite(o.lambda)) throw new Error(`${this.constructor.name}: lambda must be finite`);
    this.lambda = o.lambda;
    this.D = Float64Array.from(o.D);
    this.sMin = floorOf(o);
    this.squarings = o.squarings ?? 'adaptive';
    this.maxSquarings = o.maxSquarings ?? 16;
    this.stats = { norm: null, squarings: null, encoded: 0, overflows: 0 };
  }

  protected checkN(n: number): void {
    if (this.D.length !== n * n) throw new Error(`${this.name}: D has ${this.D.length} entries, W is ${n}×${n}`);
  }

  /** Squaring steps to encode now. */
  protected encodedSquarings(): number {
    if (typeof this.squarings === 'number') return this.squarings;
    if (this.hint === null) return this.maxSquarings;
    return Math.min(this.maxSquarings, this.hint + 2);
  }

  /** Starts a non-blocking read of the plan; its numbers steer the next call. */
  protected watchPlan(be: GpuBackend, plan: GpuTensor, encoded: number): void {
    this.stats.encoded = encoded;
    be.ctx
      .readBuffer(plan.buffer, 0, 16)
      .then((bytes) => {
        const p = decodePlan(bytes);
        this.stats.norm = p.norm;
        this.stats.squarings = p.needed;
        if (p.needed > encoded) this.stats.overflows++;
        this.hint = p.needed;
      })
      .catch(() => undefined);
  }

  protected dev(be: Backend): { D: GpuTensor } {
    return { D: this.cache.get(be, 'D', () => ({ data: this.D, shape: [this.D.length] })) as GpuTensor };
  }

  /** comm_strength + comm_normalize (+ G_Cᵀ for WDC) + plan + expm forward. */
  protected encodeForward(be: GpuBackend, W: GpuTensor, n: number, eps: number, gcLambda: number | null) {
    const ctx = be.ctx;
    const sd = be.alloc([3 * n], 'comm_strength');
    const groups = Math.ceil(n / 256);
    ctx.dispatch(
      { shader: 'comm_strength' },
      [{ buffer: W.buffer }, { buffer: sd.buffer }],
      ctx.uniform([n, W.offset, 0, 0], 'f32mix', [eps, this.sMin ?? 0]),
      [groups],
    );
    const M = be.alloc([n, n], 'comm_normalize');
    const colsum = be.alloc([n], 'comm_normalize');
    const GCt = gcLambda === null ? null : be.alloc([n, n], 'comm_normalize');
    ctx.dispatch(
      { shader: 'comm_normalize', constants: { GC_T: Number(GCt !== null) } },
      [
        { buffer: W.buffer },
        { buffer: sd.buffer },
        { buffer: GCt ? be.buf(this.dev(be).D) : ctx.dummyBuffer() },
        { buffer: M.buffer },
        { buffer: colsum.buffer },
        { buffer: GCt ? GCt.buffer : be.alloc([4], 'unused').buffer },
      ],
      ctx.uniform([n, W.offset, 0, 0], 'f32mix', [gcLambda ?? 0]),
      [groups],
    );
    const sEnc = this.encodedSquarings();
    const plan = encodePlan(be, n, sEnc, { colsum });
    this.watchPlan(be, plan, sEnc);
    const label = be.ctx.profileLabel;
    be.ctx.profileLabel = 'expm forward'; // names these dispatches in `bench profile`
    const st = encodeExpmForward(be, M, n, plan, sEnc);
    be.ctx.profileLabel = label;
    return { sd, M, st, GCt };
  }

  /** Fréchet pass + comm_gs + comm_grad: dR/dW and (modes 0/1) the value partials. */
  protected encodeBackward(
    be: GpuBackend,
    W: GpuTensor,
    n: number,
    f: { sd: GpuTensor; M: GpuTensor; st: ExpmState; GCt: GpuTensor },
    mode: 1 | 2,
    stage: GpuStage,
  ): { grad: GpuTensor; partials: GpuTensor } | null {
    const ctx = be.ctx;
    const label = ctx.profileLabel;
    ctx.profileLabel = 'Fréchet adjoint';
    const Lam = encodeExpmFrechet(be, f.st, f.GCt);
    ctx.profileLabel = label;
    if (stage === 'adjoint') return null;
    const gs = be.alloc([n], 'comm_gs');
    ctx.dispatch({ shader: 'comm_gs' }, [{ buffer: Lam.buffer }, { buffer: f.M.buffer }, { buffer: f.sd.buffer }, { buffer: gs.buffer }], ctx.uniform([n]), [
      Math.ceil(n / 256),
    ]);
    return encodeGrad(be, W, n, this.lambda, mode, { D: this.dev(be).D, E: f.st.E, Lam, sd: f.sd, gs });
  }

  abstract apply(backend: Backend, W: Tensor, n: number): { value: Tensor; grad: Tensor };
}

/** comm_grad: the fused elementwise kernel. */
function encodeGrad(
  be: GpuBackend,
  W: GpuTensor,
  n: number,
  lambda: number,
  mode: 0 | 1 | 2,
  t: { D: GpuTensor; E?: GpuTensor; Lam?: GpuTensor; sd?: GpuTensor; gs?: GpuTensor },
): { grad: GpuTensor; partials: GpuTensor } {
  const ctx = be.ctx;
  const grad = be.alloc([n, n], 'comm_grad');
  const g = grid1d(n * n);
  const partials = be.alloc([g.groups[0] * g.groups[1]], 'comm_grad');
  const d = ctx.dummyBuffer();
  ctx.dispatch(
    { shader: 'comm_grad', constants: { MODE: mode } },
    [
      { buffer: W.buffer },
      { buffer: be.buf(t.D) },
      { buffer: t.E ? be.buf(t.E) : d },
      { buffer: t.Lam ? be.buf(t.Lam) : d },
      { buffer: t.sd ? be.buf(t.sd) : d },
      { buffer: t.gs ? be.buf(t.gs) : d },
      { buffer: grad.buffer },
      { buffer: partials.buffer },
    ],
    ctx.uniform([n, W.offset, g.rowPitch, g.groups[0]], 'f32mix', [lambda]),
    g.groups,
  );
  return { grad, partials };
}

function cpuOf(backend: Backend): CpuBackend | null {
  return backend instanceof CpuBackend ? backend : null;
}

function gpuOf(backend: Backend): GpuBackend {
  if (backend instanceof GpuBackend) return backend;
  throw new Error(`regulariser: unsupported backend ${backend.name}`);
}

/** R = λ Σ |W|∘D, dR/dW = λ D∘sign(W). */
export class WdRegularizer implements RecurrentRegularizer {
  readonly name = 'WD';
  readonly lambda: number;
  readonly D: Float64Array;
  private cache = new DeviceCache();
  constructor(o: WdOptions) {
    this.lambda = o.lambda;
    this.D = Float64Array.from(o.D);
  }
  describe(): string {
    return `WD: λ·Σ|W_rec|∘D, λ = ${this.lambda}`;
  }
  apply(backend: Backend, W: Tensor, n: number): { value: Tensor; grad: Tensor } {
    if (this.D.length !== n * n) throw new Error(`WD: D has ${this.D.length} entries, W is ${n}×${n}`);
    const cpu = cpuOf(backend);
    if (cpu) {
      const r = wdCpu(cpu.data(W), this.D, n, { lambda: this.lambda });
      return { value: cpu.fromArray([r.value], []), grad: cpu.fromArray(r.grad, [n, n]) };
    }
    const be = gpuOf(backend);
    return be.scope(() => {
      const D = this.cache.get(be, 'D', () => ({ data: this.D, shape: [this.D.length] })) as GpuTensor;
      const { grad, partials } = encodeGrad(be, be.gpuTensor(W), n, this.lambda, 0, { D });
      return { value: be.sum(partials), grad };
    });
  }
}

/** R = λ Σ |W|∘C∘D with C = offdiag(expm(diag(s)^-½ |W| diag(s)^-½)), s floored at s_min. */
export class WdcRegularizer extends CommBase {
  readonly name = 'WDC';
  readonly eps: number;
  constructor(o: WdcOptions) {
    super(o);
    this.eps = o.eps ?? 0;
  }
  describe(): string {
    return `WDC: λ·Σ|W_rec|∘C∘D, C = offdiag expm(s^-½|W|s^-½), s = column sums${this.eps ? ` + ${this.eps}` : ''}, λ = ${this.lambda}, ${fmtFloor(this.sMin)}`;
  }

  apply(backend: Backend, W: Tensor, n: number): { value: Tensor; grad: Tensor } {
    this.checkN(n);
    const cpu = cpuOf(backend);
    if (cpu) {
      const r = wdcCpu(cpu.data(W), this.D, n, { lambda: this.lambda, sMin: this.sMin, eps: this.eps });
      return { value: cpu.fromArray([r.value], []), grad: cpu.fromArray(r.grad, [n, n]) };
    }
    const be = gpuOf(backend);
    return be.scope(() => this.encodeGpu(be, W, n, 'full')!);
  }

  /** The GPU pipeline; `stage` stops early (benchmark split). */
  encodeGpu(be: GpuBackend, W: Tensor, n: number, stage: GpuStage): { value: Tensor; grad: Tensor } | null {
    this.checkN(n);
    const Wg = be.gpuTensor(W);
    const f = this.encodeForward(be, Wg, n, this.eps, this.lambda);
    if (stage === 'forward' || stage === 'gc') return null;
    const r = this.encodeBackward(be, Wg, n, { ...f, GCt: f.GCt! }, 1, stage);
    releaseExpmState(f.st);
    if (!r) return null;
    return { value: be.sum(r.partials), grad: r.grad };
  }
}

/**
 * R = λ Σ |W|∘D + μ·mean_k |sort(c)_k − sort(c_emp)_k| (the paper's C*), C computed with
 * s + eps (eps 1e-10) and the floor s_min; C_emp computed once in float64 (makeEmdTarget) and
 * uploaded sorted; all N² entries compared (diagonal zeros included) except for 'active-only'.
 */
export class EmdRegularizer extends CommBase {
  readonly name = 'EMD';
  readonly mu: number;
  readonly eps: number;
  readonly target: EmdTargetData;
  /** the compared C_emp values, ascending (float64) */
  readonly cempSorted: Float64Array;

  constructor(o: EmdOptions) {
    super(o);
    this.mu = o.mu;
    this.eps = o.eps ?? EMD_EPS;
    const n = Math.round(Math.sqrt(this.D.length));
    if (o.target && typeof o.target === 'object') {
      this.target = o.target;
    } else {
      if (!o.K) throw new Error('EMD: give the empirical connectome K or a prebuilt target');
      const kind: EmdTarget = o.target ?? (o.paperCompat ? 'paper' : 'floor-one-synapse');
      this.target = makeEmdTarget(o.K, n, { target: kind, synapseFloor: o.synapseFloor });
    }
    const vals: number[] = [];
    const act = this.target.active;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) if (!act || (act[i] && act[j])) vals.push(this.target.Cemp[i * n + j]!);
    }
    this.cempSorted = Float64Array.from(vals).sort();
  }

  describe(): string {
    return `EMD: λ·Σ|W_rec|∘D + μ·mean|sort(C) − sort(C_emp)|, C with s + ${this.eps}, λ = ${this.lambda}, μ = ${this.mu}, target ${this.target.target} (${this.cempSorted.length} entries compared), ${fmtFloor(this.sMin)}`;
  }

  apply(backend: Backend, W: Tensor, n: number): { value: Tensor; grad: Tensor } {
    this.checkN(n);
    const cpu = cpuOf(backend);
    if (cpu) {
      const r = emdCpu(cpu.data(W), this.D, this.target.Cemp, n, {
        lambda: this.lambda,
        mu: this.mu,
        sMin: this.sMin,
        eps: this.eps,
        active: this.target.active,
      });
      return { value: cpu.fromArray([r.value], []), grad: cpu.fromArray(r.grad, [n, n]) };
    }
    const be = gpuOf(backend);
    return be.scope(() => this.encodeGpu(be, W, n, 'full')!);
  }

  encodeGpu(be: GpuBackend, W: Tensor, n: number, stage: GpuStage): { value: Tensor; grad: Tensor } | null {
    this.checkN(n);
    const ctx = be.ctx;
    const Wg = be.gpuTensor(W);
    const f = this.encodeForward(be, Wg, n, this.eps, null);
    if (stage === 'forward') return null;
    // sort C (with its permutation)
    const { keys, idx } = encodeSortC(
      be,
      f.st.E,
      n,
      this.target.active ? (this.cache.get(be, 'active', () => ({ data: this.target.active!, shape: [n] })) as GpuTensor) : null,
    );
    const P = this.cempSorted.length;
    const cemp = this.cache.get(be, 'cemp', () => ({ data: P > 0 ? this.cempSorted : [0], shape: [Math.max(P, 1)] })) as GpuTensor;
    const GCt = be.zeros([n, n]) as GpuTensor;
    const g = grid1d(n * n);
    const partials = be.alloc([g.groups[0] * g.groups[1]], 'comm_emd');
    ctx.dispatch(
      { shader: 'comm_emd' },
      [
        { buffer: Wg.buffer },
        { buffer: be.buf(this.dev(be).D) },
        { buffer: keys.buffer },
        { buffer: idx.buffer },
        { buffer: cemp.buffer },
        { buffer: GCt.buffer },
        { buffer: partials.buffer },
      ],
      ctx.uniform([n, P, Wg.offset, g.rowPitch, g.groups[0], 0, 0, 0], 'f32mix', [this.lambda, P > 0 ? this.mu / P : 0]),
      g.groups,
    );
    keys.dispose();
    idx.dispose();
    if (stage === 'gc') return null;
    const r = this.encodeBackward(be, Wg, n, { ...f, GCt }, 2, stage);
    releaseExpmState(f.st);
    if (!r) return null;
    return { value: be.sum(partials), grad: r.grad };
  }
}

/** Smallest power of two ≥ max(x, 2048): the bitonic sort's length. */
export function sortLength(x: number): number {
  let p = 2048;
  while (p < x) p *= 2;
  return p;
}

/**
 * Sorts the entries of C = offdiag(E) ascending (ties by row-major index; entries outside the
 * active block and the padding as +inf at the end) with a bitonic sort: one workgroup-memory
 * pass per 2048-block, then per stage k > 2048 the global passes j ≥ 2048 and one block pass.
 */
function encodeSortC(be: GpuBackend, E: GpuTensor, n: number, active: GpuTensor | null): { keys: GpuTensor; idx: GpuTensor; len: number } {
  const ctx = be.ctx;
  const len = sortLength(n * n);
  const keys = be.alloc([len], 'sort_keys');
  const idx = be.alloc([len], 'sort_keys');
  const g = grid1d(len);
  ctx.dispatch(
    { shader: 'sort_keys', constants: { ACTIVE_ONLY: Number(active !== null) } },
    [{ buffer: be.buf(E) }, { buffer: active ? be.buf(active) : ctx.dummyBuffer() }, { buffer: keys.buffer }, { buffer: idx.buffer }],
    ctx.uniform([n, len, g.rowPitch, 0]),
    g.groups,
  );
  encodeBitonic(be, keys, idx, len);
  return { keys, idx, len };
}

/** Bitonic sort of (keys, idx) in place; len a power of two ≥ 2048. */
export function encodeBitonic(be: GpuBackend, keys: GpuTensor, idx: GpuTensor, len: number): void {
  const ctx = be.ctx;
  const bind = [{ buffer: keys.buffer }, { buffer: idx.buffer }];
  const blocks = len / 2048;
  ctx.dispatch({ shader: 'sort_bitonic', constants: { MODE: 1 } }, bind, ctx.uniform([0, 0, 0, len]), [blocks]);
  const g = grid1d(len / 2);
  for (let k = 4096; k <= len; k *= 2) {
    for (let j = k / 2; j >= 2048; j /= 2) {
      ctx.dispatch({ shader: 'sort_bitonic', constants: { MODE: 0 } }, bind, ctx.uniform([k, j, g.rowPitch, len]), g.groups);
    }
    ctx.dispatch({ shader: 'sort_bitonic', constants: { MODE: 2 } }, bind, ctx.uniform([k, 0, 0, len]), [blocks]);
  }
}
