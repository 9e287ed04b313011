/**
 * The fused recurrent kernels on WebGPU. Forward and BPTT each come in two designs:
 *  (a) 'per-step': one dispatch per time step (rnn_step_forward / rnn_step_backward), all in
 *      one command buffer: a [B, N] x [N, N] tile product with the cell fused in registers.
 *      Its tiles follow the backend's matmul design: workgroup memory on GPUs, subgroup
 *      registers on CPU adapters (the *_subgroup kernels; see stepDispatch).
 *  (b) 'persistent': one dispatch for all T steps; each workgroup owns a batch slice and
 *      keeps its h (or δ) in workgroup memory.
 * Why the automatic choice is what it is (`chooseDesign`): on CPU adapters (llvmpipe) (a)
 * measured 3-10x faster than (b) at N = 100-512, B = 32 (bench rnn): llvmpipe turns the
 * per-lane loads of (b)'s inner loop into scalar gathers, while (a)'s tiles reuse every load
 * 16 times. On hardware GPUs (b) saves T launches per pass and keeps h on chip, which is the
 * point of it at N <= 512; it is chosen there (not measured in this repository's CI, which
 * has no GPU: `cortical-rnn bench rnn` prints both designs so the choice can be checked).
 */
import type { GpuBackend, GpuTensor } from '../gpu/backend.ts';
import type { KernelSpec } from '../gpu/context.ts';
import { grid1d } from '../gpu/backend.ts';
import type { Tensor } from '../tensor.ts';
import type { RnnConfig } from './params.ts';

export type RnnDesign = 'per-step' | 'persistent';

/**
 * Thread rows (WGY) of the step kernels' tile: the tile covers 8·WGY batch rows, so a small
 * batch is not padded to 64 rows (B = 32 fills a 32-row tile).
 */
export function stepTileRows(B: number): number {
  return B <= 8 ? 1 : B <= 16 ? 2 : B <= 32 ? 4 : 8;
}

/** Work of one fused step (for profiles): the [B, N] x [N, N] product plus the cell. */
export function stepCost(B: number, N: number, K = 1): { flops: number; bytes: number } {
  return { flops: K * (2 * B * N * N + 5 * B * N), bytes: K * 4 * (N * N + 5 * B * N) };
}

/**
 * Kernel and grid of one design-(a) step: subgroup register tiles (16 x 32 per 8-lane
 * workgroup) wherever the matmuls use them (GpuBackend.matmulKernel), else workgroup-memory
 * tiles of 8·WGY x 64. `models` networks run side by side on workgroup z.
 */
export function stepDispatch(be: GpuBackend, direction: 'forward' | 'backward', B: number, N: number, models = 1): { spec: KernelSpec; groups: [number, number, number] } {
  const cost = stepCost(B, N, models);
  if (be.matmulKernel === 'subgroup') {
    return { spec: { shader: `rnn_step_${direction}_subgroup`, cost }, groups: [Math.ceil(N / 32), Math.ceil(B / 16), models] };
  }
  const rows = stepTileRows(B);
  return { spec: { shader: `rnn_step_${direction}`, cost, constants: { WGY: rows } }, groups: [Math.ceil(N / 64), Math.ceil(B / (8 * rows)), models] };
}

export interface ParamViews {
  W_in: GpuTensor;
  W_rec: GpuTensor;
  b: GpuTensor;
  W_out: GpuTensor;
  b_out?: GpuTensor;
}

/** Workgroup shape of the persistent kernels, or null when N does not fit on chip. */
export function persistentShape(be: GpuBackend, N: number, B: number): { BS: number; WG: number; NMAX: number } | null {
  const NMAX = Math.ceil(N / 64) * 64;
  const bytes = be.ctx.limits.maxComputeWorkgroupStorageSize!;
  const software = be.ctx.summary.isFallbackAdapter;
  // Hardware: one batch element per workgroup for the most workgroups; CPU: 4 amortise loads.
  const candidates = software ? [4, 2, 1] : [1];
  for (const BS of candidates) {
    if (BS > B && BS > 1) continue;
    if (3 * BS * NMAX * 4 <= bytes) {
      return { BS, WG: Math.min(256, NMAX), NMAX };
    }
  }
  return null;
}

export function chooseDesign(be: GpuBackend, N: number, B: number, requested: RnnDesign | 'auto' = 'auto'): RnnDesign {
  if (requested === 'persistent') {
    if (!persistentShape(be, N, B)) throw new Error(`the persistent RNN kernel needs N <= ${Math.floor(be.ctx.limits.maxComputeWorkgroupStorageSize! / 12 / 64) * 64}; got N = ${N}`);
    return 'persistent';
  }
  if (requested === 'per-step') return 'per-step';
  if (be.ctx.summary.isFallbackAdapter) return 'per-step';
  return N <= 512 && persistentShape(be, N, B) ? 'persistent' : 'per-step';
}

export interface GpuForwardState {
  x: GpuTensor; // [T*B, nIn]
  H: GpuTensor; // [T*B, N]  h_{t+1}
  R: GpuTensor; // [T*B, N]  r_t
  logits: GpuTensor; // [T*B, nOut]
}

export function rnnForwardGpu(
  be: GpuBackend,
  cfg: RnnConfig,
  p: ParamViews,
  x: Tensor,
  T: number,
  B: number,
  design: RnnDesign,
): GpuForwardState {
  const { nIn, nHidden: N, nOut, alpha } = cfg;
  const ctx = be.ctx;
  const xs = be.gpuTensor(x);
  if (xs.size !== T * B * nIn) throw new Error(`rnn input has ${xs.size} values, expected T·B·nIn = ${T * B * nIn}`);
  const arena = p.W_rec.buffer;
  const label = ctx.profileLabel;
  ctx.profileLabel = 'forward';
  const U = be.matmul(be.view(xs, [T * B, nIn]), p.W_in, { transB: true }) as GpuTensor; // [T*B, N]
  const H = be.alloc([T * B, N], 'rnn_forward');
  const R = be.alloc([T * B, N], 'rnn_forward');
  if (design === 'per-step') {
    const step = stepDispatch(be, 'forward', B, N);
    for (let t = 0; t < T; t++) {
      ctx.dispatch(
        step.spec,
        [{ buffer: arena }, { buffer: U.buffer }, { buffer: H.buffer }, { buffer: R.buffer }],
        ctx.uniform([B, N, t, p.W_rec.offset, p.b.offset, 0, 0, 0], 'f32mix', [alpha]),
        step.groups,
      );
    }
  } else {
    const shape = persistentShape(be, N, B)!;
    const WT = be.transpose(be.materialize(p.W_rec)) as GpuTensor;
    ctx.dispatch(
      { shader: 'rnn_forward_persistent', constants: { WG: shape.WG, BS: shape.BS, NMAX: shape.NMAX } },
      [{ buffer: WT.buffer }, { buffer: arena }, { buffer: U.buffer }, { buffer: H.buffer }, { buffer: R.buffer }],
      ctx.uniform([B, N, T, p.b.offset, 0, 0, 0, 0], 'f32mix', [alpha]),
      [Math.ceil(B / shape.BS)],
    );
  }
  const logits = be.matmul(H, p.W_out, { transB: true }) as GpuTensor; // [T*B, nOut]
  if (p.b_out) {
    const n = T * B * nOut;
    const g = grid1d(n);
    ctx.dispatch({ shader: 'add_rows' }, [{ buffer: arena }, { buffer: logits.buffer }], ctx.uniform([n, nOut, p.b_out.offset, g.rowPitch, 0, 0, 0, 0]), g.groups);
  }
  ctx.profileLabel = label;
  return { x: xs, H, R, logits };
}

/** BPTT from dL/dlogits [T*B, nOut]; returns the gradient of every parameter. */
export function rnnBackwardGpu(
  be: GpuBackend,
  cfg: RnnConfig,
  p: ParamViews,
  fwd: GpuForwardState,
  dLogits: Tensor,
  T: number,
  B: number,
  design: RnnDesign,
): Record<string, Tensor> {
  const { nIn, nHidden: N, alpha } = cfg;
  const ctx = be.ctx;
  const arena = p.W_rec.buffer;
  const dY = be.gpuTensor(dLogits);
  const label = ctx.profileLabel;
  ctx.profileLabel = 'backward';
  const grads: Record<string, Tensor> = {};
  grads.W_out = be.matmul(dY, fwd.H, { transA: true });
  if (p.b_out) grads.b_out = be.sumAxis(dY, 0);
  const dHr = be.matmul(dY, p.W_out) as GpuTensor; // [T*B, N]
  const D = be.alloc([T * B, N], 'rnn_backward');
  if (design === 'per-step') {
    const G = be.alloc([T * B, N], 'rnn_backward');
    const step = stepDispatch(be, 'backward', B, N);
    for (let t = T - 1; t >= 0; t--) {
      ctx.dispatch(
        step.spec,
        [{ buffer: arena }, { buffer: dHr.buffer }, { buffer: fwd.R.buffer }, { buffer: G.buffer }, { buffer: D.buffer }],
        ctx.uniform([B, N, t, T, p.W_rec.offset, 0, 0, 0], 'f32mix', [alpha]),
        step.groups,
      );
    }
    G.dispose();
  } else {
    const shape = persistentShape(be, N, B)!;
    ctx.dispatch(
      { shader: 'rnn_backward_persistent', constants: { WG: shape.WG, BS: shape.BS, NMAX: shape.NMAX } },
      [{ buffer: arena }, { buffer: dHr.buffer }, { buffer: fwd.R.buffer }, { buffer: D.buffer }],
      ctx.uniform([B, N, T, p.W_rec.offset, 0, 0, 0, 0], 'f32mix', [alpha]),
      [Math.ceil(B / shape.BS)],
    );
  }
  // dW_rec = Σ_{t≥1} δ_t h_tᵀ: one matmul over the stacked states (h_0 = 0 drops out).
  grads.W_rec = T > 1
    ? be.matmul(be.view(D, [(T - 1) * B, N], B * N), be.view(fwd.H, [(T - 1) * B, N]), { transA: true })
    : be.zeros([N, N]);
  grads.W_in = be.matmul(D, be.view(fwd.x, [T * B, nIn]), { transA: true });
  grads.b = be.sumAxis(D, 0);
  ctx.profileLabel = label;
  return grads;
}
