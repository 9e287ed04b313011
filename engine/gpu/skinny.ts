/**
 * The skinny products of the recurrent core (K or one side ≤ 8) on CPU adapters: the input
 * drive x W_inᵀ, the read-out H W_outᵀ and their gradients. Three kernels, by layout
 * (shaders/matmul_skinny_*.wgsl, one 8-lane subgroup per workgroup):
 *  - rows  (A·op(B), K ≤ 8, N a multiple of 4): op(B)'s K rows in registers, C written as vec4;
 *  - outer (Aᵀ·B, long K, M or N ≤ 8): the weight gradients Σ_t a_t b_tᵀ;
 *  - dot   (A·Bᵀ, N ≤ 8): one row of A per lane, optionally plus a bias row.
 * On llvmpipe a load whose address is not a constant is a loop over the lanes, so these load
 * each value once, as vec4 where it is contiguous, and share the rest by subgroupBroadcast.
 * Each sums in the order of the kernel the product ran on before (subgroup tiles or
 * matmul_skinny, then add_rows), so a training run's numbers are those of earlier commits bit
 * for bit: float32 reordering alone moved a quick-sweep run (PDM, WD*C, seed 2) from test
 * accuracy 0.588 to 0.547. Where they do not apply (other adapters, other layouts) the
 * backend uses matmulInto.
 */
import { runKernel } from './program.ts';
import type { GpuContext } from './context.ts';

/** Operand layout of a skinny product: transposes, element offsets and batch strides (all explicit). */
export interface SkinnyLayout {
  transA?: boolean;
  transB?: boolean;
  /** C += op(A)·op(B) (with the bias row, if any) instead of C = …. */
  accumulate?: boolean;
  offsets: { a: number; b: number; c: number };
  strides: { a: number; b: number; c: number };
  /** dot only: add B's buffer at this element offset (plus B's batch stride) to every row of C, as a bias. */
  extra?: number;
}

type SkinnyKernel = 'matmul_skinny_rows' | 'matmul_skinny_outer' | 'matmul_skinny_dot';

/** Largest small side (K, M or N) the skinny kernels hold in registers. */
const SKINNY_MAX = 8;

/** Rows per workgroup of matmul_skinny_rows (its ROWS). */
const ROWS = 64;

/** Whether the skinny kernels can run here: they need 8-lane subgroups (CPU adapters such as llvmpipe). */
export function skinnySupported(ctx: GpuContext): boolean {
  const s = ctx.summary;
  return s.features.includes('subgroups') && s.subgroupMinSize === 8 && s.subgroupMaxSize === 8;
}

const aligned = (...xs: number[]) => xs.every((x) => x % 4 === 0);

/** Which skinny kernel computes this shape and layout, or null when none does. */
export function skinnyKernelFor(s: { m: number; k: number; n: number }, o: SkinnyLayout): SkinnyKernel | null {
  const { transA = false, transB = false } = o;
  if (transA && !transB && Math.min(s.m, s.n) <= SKINNY_MAX && o.extra === undefined) return 'matmul_skinny_outer';
  if (!transA && transB && s.n <= SKINNY_MAX) return 'matmul_skinny_dot';
  // rows writes C as vec4: whole rows of 4-aligned columns.
  if (!transA && s.k <= SKINNY_MAX && o.extra === undefined && aligned(s.n, o.offsets.c, o.strides.c)) return 'matmul_skinny_rows';
  return null;
}

/**
 * Encodes C = op(A)·op(B) (+C) for `batch` products on raw buffers with one of the skinny
 * kernels; throws when none fits (see skinnyKernelFor).
 */
export function skinnyInto(
  ctx: GpuContext,
  a: GPUBuffer,
  b: GPUBuffer,
  c: GPUBuffer,
  s: { batch: number; m: number; k: number; n: number },
  o: SkinnyLayout,
): void {
  const { batch, m, k, n } = s;
  const { transB = false, accumulate = false, offsets, strides } = o;
  const shader = skinnyKernelFor(s, o);
  if (!shader)
    throw new Error(`no skinny kernel for ${m}x${k}x${n} (transA ${Boolean(o.transA)}, transB ${transB}${o.extra === undefined ? '' : ', with extra'})`);
  if (m === 0 || n === 0 || batch === 0) return;
  const extra = o.extra !== undefined;
  // Whether every 4-element window read from A (B) starts at a multiple of 4: the offset, the
  // batch stride and the length of a row of that operand.
  const alignA = aligned(offsets.a, strides.a, shader === 'matmul_skinny_outer' ? m : k);
  const alignB = aligned(offsets.b, strides.b, shader === 'matmul_skinny_dot' ? k : n);
  const bigB = shader === 'matmul_skinny_outer' && m <= SKINNY_MAX && n > m;
  let dispatch;
  if (shader === 'matmul_skinny_rows') {
    dispatch = {
      groups: [Math.ceil(n / 32), Math.ceil(m / ROWS), batch],
      constants: { TRANS_B: transB, ACCUMULATE: accumulate, ALIGN_A: alignA, ALIGN_B: alignB },
    };
  } else if (shader === 'matmul_skinny_outer') {
    dispatch = {
      groups: [Math.ceil((bigB ? n : m) / 32), 1, batch],
      constants: { ACCUMULATE: accumulate, ALIGN_A: alignA, ALIGN_B: alignB, BIG_B: bigB },
    };
  } else {
    dispatch = { groups: [Math.ceil(m / 8), 1, batch], constants: { ACCUMULATE: accumulate, EXTRA: extra, ALIGN_A: alignA, ALIGN_B: alignB } };
  }
  runKernel(ctx, 'skinny', {
    shader,
    bind: { A: a, B: b, C: c },
    uniform: {
      M: m,
      K: k,
      N: n,
      strideA: strides.a,
      strideB: strides.b,
      strideC: strides.c,
      offA: offsets.a,
      offB: offsets.b,
      offC: offsets.c,
      offExtra: o.extra ?? 0,
    },
    constants: dispatch.constants,
    groups: dispatch.groups as [number, number, number],
    cost: { flops: 2 * batch * m * n * k, bytes: 4 * batch * (m * k + k * n + m * n * (accumulate ? 2 : 1)) },
  });
}
