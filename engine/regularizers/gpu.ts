/**
 * The wiring costs on WebGPU (GpuBackend.wiringCost), whose chain rule mirrors the float64
 * twins of cpu.ts step for step:
 *
 *   comm_strength    s_j = max(Σ_i|W_ij| + eps, sMin), d = s^-½, floor flags
 *   comm_normalize   M = d_i |W_ij| d_j, column abs-sums of M (→ GPU 1-norm), and for WDC the
 *                    transposed upstream gradient G_Cᵀ = λ(A∘D)ᵀ with a zero diagonal
 *   expm_plan        ‖M‖₁ and the squaring count, on the GPU (gated steps: no host read)
 *   expm forward     E = exp(M) (engine/expm/gpu.ts), C = offdiag(E)
 *   [EMD] sort_keys + sort_bitonic (C with its permutation) + comm_emd (value partials and
 *                    G_Cᵀ scattered through the permutation)
 *   expm Fréchet     Λ = L_exp(M, G_Cᵀ), so G_M = Λᵀ = L_exp(Mᵀ, G_C)
 *   comm_gs          g_s_k = −(row_k + col_k of G_M∘M)/(2 s_k), 0 where floored
 *   comm_grad        dR/dW = (G_M d_i d_j + g_s_j + direct term) ∘ sign(W), and (WD, WDC) the
 *                    value's per-workgroup partials; the value is their sum.
 *
 * WD and WDC also run for a stack of G networks whose costs differ only in W and λ (wiringCostsGpu):
 * every kernel above takes the network on workgroup z (expm_plan on x), each network with its
 * own plan and gates, so G networks cost the host one dispatch per stage instead of G. Each
 * network's numbers are exactly those of its own call: the per-entry arithmetic and every
 * summation order are the same.
 */
import { checkDistances } from '../checks.ts';
import { decodePlan, encodeExpmForward, encodeExpmFrechet, encodePlan, releaseExpmState, type ExpmState } from '../expm/gpu.ts';
import { runKernel } from '../gpu/program.ts';
import { grid1d, type GpuOps, type GpuTensor } from '../gpu/tensor.ts';
import type { Tensor } from '../tensor.ts';
import type { EmdCost, WdCost, WdcCost, WiringCost } from './cost.ts';

export type GpuStage = 'forward' | 'gc' | 'adjoint' | 'full';

/** A cost's constant device tensors (D, C_emp, masks), made once per backend and kept out of scopes. */
export type DeviceConstants = (key: string, make: () => { data: ArrayLike<number>; shape: number[] }) => GpuTensor;

/**
 * Encodes R and dR/dW of `cost` at W [n, n]; `stage` stops early (the benchmark's split) and
 * then returns null.
 */
export function wiringCostGpu(
  be: GpuOps,
  cost: WiringCost,
  W: Tensor,
  n: number,
  constants: DeviceConstants,
  stage: GpuStage = 'full',
): { value: Tensor; grad: Tensor } | null {
  checkDistances(cost.kind, cost.D, n);
  const Wg = be.gpuTensor(W);
  if (cost.kind === 'EMD')
    return emdGpu(
      be,
      cost,
      Wg,
      n,
      constants('D', () => ({ data: cost.D, shape: [cost.D.length] })),
      constants,
      stage,
    );
  const r = wiringCostsGpu(be, [cost], Wg, n, constants, { stage, stacked: false });
  return r && { value: r.values, grad: r.grads };
}

/**
 * R and dR/dW of G networks at once: network m's n×n W block starts `strideW`·m values past W's
 * offset, and the costs agree on all but W and λ (kind, floors, D: `constants` are the first
 * cost's). Networks that differ in λ read theirs from after D. Returns values [G] and grads
 * [G, n, n]; with `stacked` false (one network's own call), the scalar and [n, n].
 */
export function wiringCostsGpu(
  be: GpuOps,
  costs: readonly (WdCost | WdcCost)[],
  W: GpuTensor,
  n: number,
  constants: DeviceConstants,
  o: { stage?: GpuStage; strideW?: number; stacked?: boolean } = {},
): { values: GpuTensor; grads: GpuTensor } | null {
  const { stage = 'full', strideW = n * n, stacked = true } = o;
  const cost = costs[0]!;
  const G = costs.length;
  const lambdas = costs.map((c) => c.lambda);
  const one = lambdas.every((l) => l === cost.lambda);
  const D = one
    ? constants('D', () => ({ data: cost.D, shape: [cost.D.length] }))
    : constants(`D, λ ${lambdas.join(',')}`, () => ({ data: [...cost.D, ...lambdas], shape: [cost.D.length + G] }));
  const lambda = { value: cost.lambda, at: one ? 0 : n * n };
  const stackOf = stacked ? G : 0; // 0: one network's own call, with its scalar value and [n, n] gradient
  if (cost.kind === 'WD') {
    const { grad, partials, perModel } = encodeGrad(be, { W, strideW }, n, lambda, 'wd', { D }, stackOf);
    return { values: sumPerModel(be, partials, stackOf, perModel), grads: grad };
  }
  const wdc = costs as readonly WdcCost[];
  const f = encodeForward(be, wdc, { W, strideW }, n, D, lambda);
  if (stage === 'forward' || stage === 'gc') return null;
  const r = encodeBackward(be, lambda, { W, strideW }, n, D, { ...f, GCt: f.GCt! }, 'wdc', stage, stacked);
  releaseExpmState(f.st);
  if (!r) return null;
  return { values: sumPerModel(be, r.partials, stackOf, r.perModel), grads: r.grad };
}

/**
 * Each of G networks' sum of its `per` partials, as [G]: one reduce_sum workgroup per network,
 * which adds in the order be.sum uses for up to 4096 values (more take be.sum per network).
 * G = 0: one network's own call, its sum as a scalar (be.sum).
 */
function sumPerModel(be: GpuOps, partials: GpuTensor, G: number, per: number): GpuTensor {
  if (G === 0) return be.sum(partials) as GpuTensor;
  if (per > 4096) {
    const sums = Array.from({ length: G }, (_, m) => ({ tensor: be.sum(be.slice(partials, m * per, [per])), offset: m }));
    return be.gpuTensor(be.assemble(G, sums));
  }
  const out = be.alloc([G], 'reduce_sum');
  runKernel(be.ctx, 'reduceSum', {
    bind: { X: partials.buffer, partials: out.buffer },
    uniform: { n: G * per, chunk: per },
    groups: [G],
    cost: { flops: G * per, bytes: 4 * (G * per + G) },
  });
  return out;
}

/** λ of a stack: `value` for every network, or with `at` > 0 network m's at D[at + m]. */
interface Lambda {
  value: number;
  at: number;
}

/** The W blocks of a stack: network m's starts strideW·m values past W's offset. */
interface StackedW {
  W: GpuTensor;
  strideW: number;
}

/** Squaring steps to encode now. */
function encodedSquarings(cost: WdcCost | EmdCost): number {
  if (typeof cost.squarings === 'number') return cost.squarings;
  if (cost.stats.squarings === null) return cost.maxSquarings;
  return Math.min(cost.maxSquarings, cost.stats.squarings + 2);
}

/** Starts a non-blocking read of the plans (16 bytes per network); their numbers steer the next call. */
function watchPlans(be: GpuOps, costs: readonly (WdcCost | EmdCost)[], plan: GpuTensor, encoded: number): void {
  for (const cost of costs) cost.stats.encoded = encoded;
  be.ctx
    .readBuffer(plan.buffer, 0, 16 * costs.length)
    .then((bytes) => {
      costs.forEach(({ stats }, m) => {
        const p = decodePlan(bytes.slice(16 * m, 16 * m + 16));
        stats.norm = p.norm;
        stats.squarings = p.needed;
        if (p.needed > encoded) stats.overflows++;
      });
    })
    .catch(() => undefined);
}

/** comm_strength + comm_normalize (+ G_Cᵀ for WDC) + plan + expm forward, for each network of the stack. */
function encodeForward(be: GpuOps, costs: readonly (WdcCost | EmdCost)[], { W, strideW }: StackedW, n: number, D: GpuTensor, gc: Lambda | null) {
  const ctx = be.ctx;
  const cost = costs[0]!;
  const G = costs.length;
  const mats = G === 1 ? [n, n] : [G, n, n];
  const sd = be.alloc([3 * n * G], 'comm_strength');
  const groups: [number, number, number] = [Math.ceil(n / 256), 1, G];
  runKernel(ctx, 'commStrength', {
    bind: { W: W.buffer, sd: sd.buffer },
    uniform: { N: n, offW: W.offset, strideW, eps: cost.eps, sMin: cost.sMin ?? 0 },
    groups,
    cost: { flops: G * 2 * n * n, bytes: G * 4 * (n * n + 3 * n) },
  });
  const M = be.alloc(mats, 'comm_normalize');
  const colsum = be.alloc([n * G], 'comm_normalize');
  const GCt = gc === null ? null : be.alloc(mats, 'comm_normalize');
  runKernel(ctx, 'commNormalize', {
    // an unused GCt still needs a buffer of its own: the dummy may be bound read-only beside it
    bind: { W: W.buffer, sd: sd.buffer, D: GCt ? be.buf(D) : null, M: M.buffer, colsum: colsum.buffer, GCt: GCt ? GCt.buffer : be.alloc([4], 'unused').buffer },
    uniform: { N: n, offW: W.offset, strideW, lambda: gc?.value ?? 0, lambdaAt: gc?.at ?? 0 },
    constants: { GC_T: GCt !== null },
    groups,
    // M = s^-½|W|s^-½ and its column sums (|W| read, M written); G_Cᵀ = λ|W|∘D reads D and writes n²
    cost: { flops: G * (GCt ? 6 : 4) * n * n, bytes: G * 4 * ((GCt ? 4 : 2) * n * n + 3 * n) },
  });
  // one count of steps for the stack; each network's gates stop at its own s
  const sEnc = Math.max(...costs.map(encodedSquarings));
  const plan = encodePlan(be, n, sEnc, { colsum }, G);
  watchPlans(be, costs, plan, sEnc);
  const label = be.ctx.profileLabel;
  be.ctx.profileLabel = 'expm forward'; // names these dispatches in `bench profile`
  const st = encodeExpmForward(be, M, n, plan, sEnc, G);
  be.ctx.profileLabel = label;
  return { sd, M, st, GCt };
}

/** Fréchet pass + comm_gs + comm_grad: dR/dW and (WD, WDC) the value partials. */
function encodeBackward(
  be: GpuOps,
  lambda: Lambda,
  W: StackedW,
  n: number,
  D: GpuTensor,
  f: { sd: GpuTensor; M: GpuTensor; st: ExpmState; GCt: GpuTensor },
  mode: 'wdc' | 'emd',
  stage: GpuStage,
  stacked = false,
): { grad: GpuTensor; partials: GpuTensor; perModel: number } | null {
  const ctx = be.ctx;
  const G = f.st.models;
  const label = ctx.profileLabel;
  ctx.profileLabel = 'Fréchet adjoint';
  const Lam = encodeExpmFrechet(be, f.st, f.GCt);
  ctx.profileLabel = label;
  if (stage === 'adjoint') return null;
  const gs = be.alloc([n * G], 'comm_gs');
  runKernel(ctx, 'commGs', {
    bind: { Lam: Lam.buffer, M: f.M.buffer, sd: f.sd.buffer, gs: gs.buffer },
    uniform: { N: n },
    groups: [Math.ceil(n / 256), 1, G],
    cost: { flops: G * 4 * n * n, bytes: G * 4 * (4 * n * n + 3 * n) }, // Λ and M each read along a row and a column
  });
  return encodeGrad(be, W, n, lambda, mode, { D, E: f.st.E, Lam, sd: f.sd, gs }, stacked ? G : 0);
}

/** EMD: the forward, the sorted comparison with C_emp (comm_emd), then the shared backward. */
function emdGpu(
  be: GpuOps,
  cost: EmdCost,
  Wg: GpuTensor,
  n: number,
  D: GpuTensor,
  constants: DeviceConstants,
  stage: GpuStage,
): { value: Tensor; grad: Tensor } | null {
  const ctx = be.ctx;
  const f = encodeForward(be, [cost], { W: Wg, strideW: n * n }, n, D, null);
  if (stage === 'forward') return null;
  // sort C (with its permutation)
  const active = cost.target.active;
  const { keys, idx } = encodeSortC(be, f.st.E, n, active ? constants('active', () => ({ data: active, shape: [n] })) : null);
  const P = cost.cempSorted.length;
  const cemp = constants('cemp', () => ({ data: P > 0 ? cost.cempSorted : [0], shape: [Math.max(P, 1)] }));
  const GCt = be.zeros([n, n]) as GpuTensor;
  const g = grid1d(n * n);
  const partials = be.alloc([g.groups[0] * g.groups[1]], 'comm_emd');
  runKernel(ctx, 'commEmd', {
    bind: { W: Wg.buffer, D: be.buf(D), keys: keys.buffer, idx: idx.buffer, cemp: cemp.buffer, GCt: GCt.buffer, partials: partials.buffer },
    uniform: { N: n, P, offW: Wg.offset, rowPitch: g.rowPitch, groupsX: g.groups[0], lambda: cost.lambda, w: P > 0 ? cost.mu / P : 0 },
    groups: g.groups,
  });
  keys.dispose();
  idx.dispose();
  if (stage === 'gc') return null;
  const r = encodeBackward(be, { value: cost.lambda, at: 0 }, { W: Wg, strideW: n * n }, n, D, { ...f, GCt }, 'emd', stage);
  releaseExpmState(f.st);
  if (!r) return null;
  return { value: be.sum(partials), grad: r.grad };
}

/**
 * comm_grad: the fused elementwise kernel, for each network of a stack of `stackOf` (`perModel`
 * partials each); the gradient as [G, n, n], or for stackOf 0 (one network's own call) [n, n].
 */
function encodeGrad(
  be: GpuOps,
  { W, strideW }: StackedW,
  n: number,
  lambda: Lambda,
  mode: 'wd' | 'wdc' | 'emd',
  t: { D: GpuTensor; E?: GpuTensor; Lam?: GpuTensor; sd?: GpuTensor; gs?: GpuTensor },
  stackOf = 0,
): { grad: GpuTensor; partials: GpuTensor; perModel: number } {
  const ctx = be.ctx;
  const G = Math.max(1, stackOf);
  const grad = be.alloc(stackOf ? [G, n, n] : [n, n], 'comm_grad');
  const g = grid1d(n * n);
  const perModel = g.groups[0] * g.groups[1];
  const partials = be.alloc([G * perModel], 'comm_grad');
  runKernel(ctx, 'commGrad', {
    bind: {
      W: W.buffer,
      D: be.buf(t.D),
      E: t.E ? be.buf(t.E) : null,
      Lam: t.Lam ? be.buf(t.Lam) : null,
      sd: t.sd ? be.buf(t.sd) : null,
      gs: t.gs ? be.buf(t.gs) : null,
      grad: grad.buffer,
      partials: partials.buffer,
    },
    uniform: { N: n, offW: W.offset, strideW, rowPitch: g.rowPitch, groupsX: g.groups[0], perModel, lambda: lambda.value, lambdaAt: lambda.at },
    constants: { MODE: mode },
    groups: [g.groups[0], g.groups[1], G],
    // n² matrices read (W, D, and E, Λ as the mode needs) and the gradient written
    cost: { flops: G * { wd: 4, wdc: 12, emd: 9 }[mode] * n * n, bytes: G * 4 * n * n * { wd: 3, wdc: 5, emd: 4 }[mode] },
  });
  return { grad, partials, perModel };
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
function encodeSortC(be: GpuOps, E: GpuTensor, n: number, active: GpuTensor | null): { keys: GpuTensor; idx: GpuTensor; len: number } {
  const len = sortLength(n * n);
  const keys = be.alloc([len], 'sort_keys');
  const idx = be.alloc([len], 'sort_keys');
  const g = grid1d(len);
  runKernel(be.ctx, 'sortKeys', {
    bind: { E: be.buf(E), activeMask: active ? be.buf(active) : null, keys: keys.buffer, idx: idx.buffer },
    uniform: { N: n, len, rowPitch: g.rowPitch },
    constants: { ACTIVE_ONLY: active !== null },
    groups: g.groups,
  });
  encodeBitonic(be, keys, idx, len);
  return { keys, idx, len };
}

/** Bitonic sort of (keys, idx) in place; len a power of two ≥ 2048. */
export function encodeBitonic(be: GpuOps, keys: GpuTensor, idx: GpuTensor, len: number): void {
  const bind = { keys: keys.buffer, idx: idx.buffer };
  const blocks = len / 2048;
  const pass = (MODE: 'globalMerge' | 'blockSort' | 'blockMerge', k: number, j: number, rowPitch: number, groups: [number, number?]) =>
    runKernel(be.ctx, 'sortBitonic', { bind, uniform: { k, j, rowPitch, len }, constants: { MODE }, groups });
  pass('blockSort', 0, 0, 0, [blocks]);
  const g = grid1d(len / 2);
  for (let k = 4096; k <= len; k *= 2) {
    for (let j = k / 2; j >= 2048; j /= 2) pass('globalMerge', k, j, g.rowPitch, g.groups);
    pass('blockMerge', k, 0, 0, [blocks]);
  }
}
