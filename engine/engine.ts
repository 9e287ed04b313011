/**
 * Engine acquisition: a WebGPU backend on the best adapter, or the CPU reference backend
 * when asked for, or (with a one-line notice, never silently) when no adapter exists.
 */
import { CpuBackend, type CpuPrecision } from './cpu/backend.ts';
import { GpuBackend } from './gpu/backend.ts';
import type { MatmulKernel } from './gpu/tensor.ts';
import { GpuContext } from './gpu/context.ts';
import { probeSubnormals } from './gpu/subnormals.ts';
import type { Platform } from './platform.ts';
import type { Backend } from './tensor.ts';

export interface EngineOptions {
  /** 'gpu' (default: the best adapter, else CPU with a notice), 'cpu', or a Dawn backend name. */
  backend?: 'gpu' | 'cpu' | 'vulkan' | 'metal' | 'd3d12' | 'opengl';
  /** Fail instead of falling back to the CPU when no adapter exists. */
  requireGpu?: boolean;
  cpuPrecision?: CpuPrecision;
  powerPreference?: GPUPowerPreference;
  /** The tiled matmul design; by default chosen from the adapter (see GpuBackend.matmulKernel). */
  matmulKernel?: MatmulKernel;
}

export class NoAdapterError extends Error {
  constructor(detail: string) {
    super(`no WebGPU adapter: ${detail}`);
    this.name = 'NoAdapterError';
  }
}

export async function createBackend(platform: Platform, opts: EngineOptions = {}): Promise<Backend> {
  const choice = opts.backend ?? 'gpu';
  if (choice === 'cpu') return new CpuBackend(opts.cpuPrecision ?? 'f64');
  const ctx = await createGpuContext(platform, opts);
  if (ctx) {
    try {
      return new GpuBackend(ctx, opts.matmulKernel);
    } catch (e) {
      ctx.destroy();
      throw e;
    }
  }
  const why = choice === 'gpu' ? 'none found' : `backend '${choice}' unavailable`;
  if (opts.requireGpu) throw new NoAdapterError(`${why} (and a GPU was required)`);
  platform.notice(`no WebGPU adapter (${why}); falling back to the CPU reference backend`);
  return new CpuBackend(opts.cpuPrecision ?? 'f32');
}

export async function createGpuContext(platform: Platform, opts: EngineOptions = {}): Promise<GpuContext | null> {
  const choice = opts.backend ?? 'gpu';
  const request = {
    backend: choice === 'gpu' || choice === 'cpu' ? undefined : choice,
    powerPreference: opts.powerPreference,
  };
  try {
    const ctx = await GpuContext.create(platform, request);
    if (!ctx) return null;
    try {
      ctx.summary.subnormals = await probeSubnormals(ctx);
    } catch (e) {
      ctx.destroy();
      throw e;
    }
    return ctx;
  } catch (e) {
    if (opts.requireGpu) throw e;
    platform.notice(`WebGPU initialisation failed: ${(e as Error).message}`);
    return null;
  }
}
