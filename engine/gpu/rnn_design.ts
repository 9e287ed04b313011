/**
 * The fused recurrent kernels' designs on WebGPU. Forward and BPTT each come in two:
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
import { ShapeError } from '../errors.ts';
import type { RnnDesign } from '../tensor.ts';
import type { GpuContext } from './context.ts';

/**
 * Thread rows (WGY) of the step kernels' tile: the tile covers 8·WGY batch rows, so a small
 * batch is not padded to 64 rows (B = 32 fills a 32-row tile).
 */
function stepTileRows(B: number): number {
  return B <= 8 ? 1 : B <= 16 ? 2 : B <= 32 ? 4 : 8;
}

/** Work of one fused step (for profiles): the [B, N] x [N, N] product plus the cell. */
function stepCost(B: number, N: number, K = 1): { flops: number; bytes: number } {
  return { flops: K * (2 * B * N * N + 5 * B * N), bytes: K * 4 * (N * N + 5 * B * N) };
}

/**
 * Program, tile constants and grid of one design-(a) step: subgroup register tiles (16 x 4·lanes
 * per subgroup) wherever the matmuls use them, else workgroup-memory tiles of 8·WGY x 64.
 * `models` networks run side by side on workgroup z. The subgroup tiles read 4 values per load
 * where N keeps every row of the states 4-aligned (VEC_A) and, for W_rec, also its offset in
 * the arena and the arena's per-model stride (VEC_B).
 */
export function stepDispatch<D extends 'forward' | 'backward'>(
  subgroupLanes: number | null,
  direction: D,
  B: number,
  N: number,
  models: number,
  arena: { offW: number; stride: number },
): {
  shader: `rnn_step_${D}` | `rnn_step_${D}_subgroup`;
  constants: { WGY?: number; LANES?: number; VEC_A?: boolean; VEC_B?: boolean };
  groups: [number, number, number];
  cost: { flops: number; bytes: number };
} {
  const cost = stepCost(B, N, models);
  if (subgroupLanes) {
    const rows4 = N % 4 === 0;
    const constants = { LANES: subgroupLanes, VEC_A: rows4, VEC_B: rows4 && arena.offW % 4 === 0 && arena.stride % 4 === 0 };
    return { shader: `rnn_step_${direction}_subgroup`, constants, groups: [Math.ceil(N / (4 * subgroupLanes)), Math.ceil(B / 16), models], cost };
  }
  const rows = stepTileRows(B);
  return { shader: `rnn_step_${direction}`, constants: { WGY: rows }, groups: [Math.ceil(N / 64), Math.ceil(B / (8 * rows)), models], cost };
}

/** Workgroup shape of the persistent kernels, or null when N does not fit on chip. */
export function persistentShape(ctx: GpuContext, N: number, B: number): { BS: number; WG: number; NMAX: number } | null {
  const NMAX = Math.ceil(N / 64) * 64;
  const bytes = ctx.limits.maxComputeWorkgroupStorageSize!;
  const software = ctx.summary.isFallbackAdapter;
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

export function chooseDesign(ctx: GpuContext, N: number, B: number, requested: RnnDesign | 'auto' = 'auto'): RnnDesign {
  if (requested === 'persistent') {
    if (!persistentShape(ctx, N, B)) {
      const maxN = Math.floor(ctx.limits.maxComputeWorkgroupStorageSize! / 12 / 64) * 64;
      throw new ShapeError('chooseDesign', { message: `the persistent RNN kernel needs N <= ${maxN}; got N = ${N}` });
    }
    return 'persistent';
  }
  if (requested === 'per-step') return 'per-step';
  if (ctx.summary.isFallbackAdapter) return 'per-step';
  return N <= 512 && persistentShape(ctx, N, B) ? 'persistent' : 'per-step';
}
