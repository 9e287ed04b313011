/**
 * The fused recurrent kernels' designs on WebGPU. Forward and BPTT each come in three:
 *  (a) 'per-step': one dispatch per time step (rnn_step_forward / rnn_step_backward), all in
 *      one command buffer: a [B, N] x [N, N] tile product with the cell fused in registers.
 *      Its tiles follow the backend's matmul design: workgroup memory on GPUs, subgroup
 *      registers on CPU adapters (the *_subgroup kernels; see stepDispatch).
 *  (b) 'persistent': one dispatch for all T steps; each workgroup owns a batch slice and
 *      keeps its h (or δ) in workgroup memory.
 *  (c) 'blocked-<trials>x<units>': (b) with register blocking. Each thread owns `units` units
 *      of `trials` trials, so one load of W_rec serves `trials` trials and one read of h serves
 *      `units` units, and BPTT keeps G in registers. Fewer trials per workgroup give more
 *      workgroups (B / trials per network, K networks on workgroup y); more give more reuse.
 *      Which wins depends on the card, so the autotuner (engine/gpu/tune.ts) measures them.
 * (b) and (c) sum in the same order, so they give the same bits; (a)'s tiles sum differently.
 * The default without measurements (`defaultDesign`): on CPU adapters (llvmpipe) (a)
 * measured 3-10x faster than (b) at N = 100-512, B = 32 (bench rnn): llvmpipe turns the
 * per-lane loads of (b)'s inner loop into scalar gathers, while (a)'s tiles reuse every load
 * 16 times. On hardware GPUs (b) saves T launches per pass and keeps h on chip; it was the
 * default there before (c) existed, and stays the default until the tuner says otherwise.
 */
import { OptionError, ShapeError } from '../errors.ts';
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

/** Trials per workgroup and units per thread of the blocked designs (trials · units ≤ 32 accumulators). */
const BLOCKED_TRIALS = [1, 2, 4, 8, 16] as const;
const BLOCKED_UNITS = [1, 2, 4] as const;
const BLOCKED_ACCUMULATORS = 32;

/** Every design by name, for usage errors and the tuner. */
export const RNN_DESIGNS: readonly RnnDesign[] = [
  'per-step',
  'persistent',
  ...BLOCKED_TRIALS.flatMap((t) => BLOCKED_UNITS.filter((u) => t * u <= BLOCKED_ACCUMULATORS).map((u) => `blocked-${t}x${u}` as const)),
];

/** A design named on the command line or in a record: one of RNN_DESIGNS, or 'auto'. */
export function parseRnnDesign(text: string, option = '--rnn-design'): RnnDesign | 'auto' {
  if (text === 'auto' || (RNN_DESIGNS as readonly string[]).includes(text)) return text as RnnDesign | 'auto';
  throw new OptionError(option, `auto or one of ${RNN_DESIGNS.join(', ')}`, JSON.stringify(text));
}

/** Trials per workgroup and units per thread of a blocked design; null for the others. */
function blockedParams(design: RnnDesign): { trials: number; units: number } | null {
  const m = /^blocked-(\d+)x(\d+)$/.exec(design);
  return m ? { trials: Number(m[1]), units: Number(m[2]) } : null;
}

/**
 * Workgroup shape of a blocked design, or null when it does not fit: WG·UPT ≥ N threads within
 * the adapter's invocation limit (a multiple of 32, the widest common SIMD width), and the h (or
 * δ) ping-pong of BS trials within its workgroup memory.
 */
export function blockedShape(ctx: GpuContext, N: number, design: RnnDesign): { WG: number; BS: number; UPT: number; NMAX: number } | null {
  const b = blockedParams(design);
  if (!b) return null;
  const WG = Math.ceil(Math.ceil(N / b.units) / 32) * 32;
  const NMAX = Math.ceil(N / 4) * 4;
  if (WG > ctx.limits.maxComputeInvocationsPerWorkgroup! || WG > ctx.limits.maxComputeWorkgroupSizeX!) return null;
  if (2 * b.trials * NMAX * 4 > ctx.limits.maxComputeWorkgroupStorageSize!) return null;
  return { WG, BS: b.trials, UPT: b.units, NMAX };
}

/** Whether a design runs networks of N units on this adapter. */
export function designFits(ctx: GpuContext, N: number, B: number, design: RnnDesign): boolean {
  if (design === 'per-step') return true;
  if (design === 'persistent') return persistentShape(ctx, N, B) !== null;
  return blockedShape(ctx, N, design) !== null;
}

/** The design used without measurements (see the comment at the top). */
export function defaultDesign(ctx: GpuContext, N: number, B: number): RnnDesign {
  if (ctx.summary.isFallbackAdapter) return 'per-step';
  return N <= 512 && persistentShape(ctx, N, B) ? 'persistent' : 'per-step';
}

export function chooseDesign(ctx: GpuContext, N: number, B: number, requested: RnnDesign | 'auto' = 'auto'): RnnDesign {
  if (requested === 'auto') return defaultDesign(ctx, N, B);
  if (!(RNN_DESIGNS as readonly string[]).includes(requested))
    throw new OptionError('design', `auto or one of ${RNN_DESIGNS.join(', ')}`, JSON.stringify(requested));
  if (designFits(ctx, N, B, requested)) return requested;
  if (requested === 'persistent') {
    const maxN = Math.floor(ctx.limits.maxComputeWorkgroupStorageSize! / 12 / 64) * 64;
    throw new ShapeError('chooseDesign', { message: `the persistent RNN kernel needs N <= ${maxN}; got N = ${N}` });
  }
  throw new ShapeError('chooseDesign', {
    message: `the ${requested} RNN kernel does not fit N = ${N} on this adapter (workgroup size or memory); try fewer trials or more units per thread`,
  });
}
