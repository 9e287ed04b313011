/**
 * GPU test support. Tests run on a real WebGPU adapter. Without one they are skipped, unless
 * CORTICAL_RNN_REQUIRE_GPU=1 (set by CI), in which case the missing adapter fails the run.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { GpuBackend, subgroupMatmulUnsupported } from '../../engine/gpu/backend.ts';
import type { MatmulKernel } from '../../engine/gpu/tensor.ts';
import { createGpuContext } from '../../engine/engine.ts';
import { nodePlatform } from '../../engine/node.ts';

const gpuRequired = process.env.CORTICAL_RNN_REQUIRE_GPU === '1';

/** Probed once per worker: is there an adapter at all? */
async function probeAdapter(): Promise<boolean> {
  const ctx = await createGpuContext(nodePlatform, { requireGpu: gpuRequired });
  if (!ctx) return false;
  ctx.destroy();
  return true;
}

export const hasAdapter: boolean = await probeAdapter();

if (!hasAdapter && gpuRequired) {
  throw new Error('CORTICAL_RNN_REQUIRE_GPU=1 but no WebGPU adapter was found');
}

/** A GPU backend for the file's tests, destroyed after them. */
export function useGpu(): { get: () => GpuBackend } {
  let backend: GpuBackend | null = null;
  beforeAll(async () => {
    if (!hasAdapter) return;
    const ctx = await createGpuContext(nodePlatform, { requireGpu: true });
    backend = new GpuBackend(ctx!);
  });
  afterAll(() => backend?.destroy());
  return {
    get: () => {
      if (!backend) throw new Error('no GPU backend');
      return backend;
    },
  };
}

/**
 * Runs fn with the backend's matmul design (which also picks the RNN step kernels) set to
 * `kernel`, restoring it after. Where the adapter cannot run the subgroup design, it checks
 * that asking for it is refused with a clear message and returns null instead. CI's llvmpipe
 * runs both (tests/ops.test.ts pins that down).
 */
export async function withMatmulKernel<T>(be: GpuBackend, kernel: MatmulKernel, fn: () => Promise<T>): Promise<T | null> {
  if (kernel === 'subgroup' && subgroupMatmulUnsupported(be.ctx)) {
    expect(() => (be.matmulKernel = kernel)).toThrow(/subgroup matmul cannot run/);
    return null;
  }
  const before = be.matmulKernel;
  be.matmulKernel = kernel;
  try {
    return await fn();
  } finally {
    be.matmulKernel = before;
  }
}
