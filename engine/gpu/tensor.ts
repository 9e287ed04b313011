/**
 * What GPU kernel modules (expm, the wiring costs) build on without importing the backend:
 * the tensor type, the dispatch grid, and the backend operations they use (GpuOps, which
 * GpuBackend implements).
 */
import { Tensor, type Backend, type MatmulDesign, type Shape } from '../tensor.ts';
import type { GpuContext } from './context.ts';

export class GpuTensor extends Tensor {
  /**
   * @param offset element offset into `buffer`; non-zero for views into a larger buffer
   * (the parameter arena, one time slice of the stacked states)
   * @param owner whether disposing returns the buffer to the pool (views do not own it)
   */
  constructor(
    shape: Shape,
    backend: Backend,
    readonly buffer: GPUBuffer,
    readonly offset = 0,
    readonly owner = true,
  ) {
    super(shape, backend);
  }
}

/** Workgroup grid for n threads in 256-wide groups, folded into 2D past the per-dimension limit. */
export function grid1d(n: number, perGroup = 256, maxDim = 65535): { groups: [number, number]; rowPitch: number } {
  const total = Math.ceil(n / perGroup);
  if (total <= maxDim) return { groups: [Math.max(total, 1), 1], rowPitch: total * perGroup };
  const y = Math.ceil(total / maxDim);
  return { groups: [maxDim, y], rowPitch: maxDim * perGroup };
}

/**
 * The tiled matmul design (small shapes use matmul_skinny, see SKINNY_DIM):
 * - 'workgroup': matmul.wgsl / matmul_vec4.wgsl, 64x64 tiles staged in workgroup memory with
 *   8x8 register blocks; the design for GPUs.
 * - 'subgroup': matmul_subgroup.wgsl, 16 x 4·lanes register tiles in one subgroup sharing
 *   operands by subgroupBroadcast; for CPU adapters, where workgroup memory is no faster than
 *   a storage buffer. Needs the subgroups feature and a fixed subgroup size of 4, 8 or 16.
 */
export type MatmulKernel = MatmulDesign;

/** The GPU backend as kernel modules see it. */
export interface GpuOps extends Backend {
  readonly ctx: GpuContext;
  readonly matmulKernel: MatmulKernel;
  /** Lanes per subgroup tile when the subgroup design is in use, else null. */
  readonly subgroupLanes: number | null;
  /** A fresh tensor; `kernel` names the op for limit errors. Contents are undefined. */
  alloc(shape: Shape, kernel?: string): GpuTensor;
  /** The tensor's buffer, for ops that read from offset 0 (views are refused). */
  buf(t: Tensor): GPUBuffer;
  gpuTensor(t: Tensor): GpuTensor;
  /** A fresh tensor holding a copy of a view's values. */
  materialize(t: Tensor): GpuTensor;
}
