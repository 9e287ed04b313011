/**
 * The machine's ceilings for the roofline of `bench profile`, measured in the same run:
 *
 *   - on the engine's adapter, two WGSL kernels: a register-only FMA loop (shaders/peak_fma.wgsl,
 *     peak GFLOP/s) and a streaming vec4 copy over 64 MiB (shaders/peak_copy.wgsl, peak GB/s),
 *     timed with GPU timestamps like the profile itself;
 *   - natively, PyTorch on the CPU with the peer's 2 threads (bench/peers/native_peaks.py): a
 *     large float32 matmul and a large copy. Skipped, with the reason, without PyTorch.
 *
 * A ceiling is the best of its repeats (the median is kept beside it).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GpuBackend } from '../engine/gpu/backend.ts';
import type { GpuContext } from '../engine/gpu/context.ts';
import { runKernel } from '../engine/gpu/program.ts';
import { grid1d } from '../engine/gpu/tensor.ts';
import { median, timeIt } from './harness.ts';
import { TORCH_MISSING, torchAvailable } from './peers/run.ts';

/** FLOPs of one invocation and loop iteration of peak_fma.wgsl: 4 rounds × 4 vec4 × 4 lanes × 2. */
export const FMA_FLOPS_PER_ITER = 128;
const FMA_WORKGROUP = 64;
const COPY_WORKGROUP = 256;

export interface Ceiling {
  /** Best of the repeats (GFLOP/s or GB/s). */
  value: number;
  median: number;
  unit: 'GFLOP/s' | 'GB/s';
  repeats: number;
  /** What was run, in words. */
  what: string;
}

export interface Ceilings {
  flops: Ceiling;
  bandwidth: Ceiling;
}

export interface NativeCeilings extends Ceilings {
  torch: string;
  threads: number;
  /** Which BLAS torch loaded (bench/peers/blas_info.py). */
  blas: { kind: string; library?: string | null; reference: boolean; [k: string]: unknown };
}

/** Encodes peak_fma over `n` invocations: OUT[i] gets the sum of invocation i's accumulators. */
function encodePeakFma(ctx: GpuContext, out: GPUBuffer, o: { n: number; iters: number; mul: number; add: number }): void {
  const g = grid1d(o.n, FMA_WORKGROUP);
  runKernel(ctx, 'peakFma', {
    bind: { OUT: out },
    uniform: { n: o.n, iters: o.iters, rowPitch: g.rowPitch, mul: o.mul, add: o.add },
    groups: g.groups,
    cost: { flops: o.n * o.iters * FMA_FLOPS_PER_ITER, bytes: 4 * o.n },
  });
}

/** Encodes peak_copy: Y[0..n) = X[0..n) over n vec4s. */
function encodePeakCopy(ctx: GpuContext, X: GPUBuffer, Y: GPUBuffer, n: number): void {
  const g = grid1d(n, COPY_WORKGROUP);
  runKernel(ctx, 'peakCopy', { bind: { X, Y }, uniform: { n, rowPitch: g.rowPitch }, groups: g.groups, cost: { flops: 0, bytes: 32 * n } });
}

/** Runs peak_fma once and returns OUT (one value per invocation). */
export async function peakFmaValues(ctx: GpuContext, o: { n: number; iters: number; mul: number; add: number }): Promise<Float32Array> {
  const out = ctx.acquireBuffer(4 * o.n, 'peak_fma');
  try {
    encodePeakFma(ctx, out, o);
    return new Float32Array(await ctx.readBuffer(out, 0, 4 * o.n));
  } finally {
    ctx.releaseBuffer(out);
  }
}

/**
 * Runs peak_copy over the first `n` vec4s of `src` into a buffer of `src`'s length that starts
 * as `fill`, and returns that buffer.
 */
export async function peakCopyValues(ctx: GpuContext, src: Float32Array, n: number, fill: number): Promise<Float32Array> {
  if (src.length % 4 || 4 * n > src.length) throw new Error(`peakCopyValues: ${n} vec4s do not fit in ${src.length} floats`);
  const X = ctx.acquireBuffer(4 * src.length, 'peak_copy');
  const Y = ctx.acquireBuffer(4 * src.length, 'peak_copy');
  try {
    ctx.writeBuffer(X, 0, src);
    ctx.writeBuffer(Y, 0, new Float32Array(src.length).fill(fill));
    encodePeakCopy(ctx, X, Y, n);
    return new Float32Array(await ctx.readBuffer(Y, 0, 4 * src.length));
  } finally {
    ctx.releaseBuffer(X);
    ctx.releaseBuffer(Y);
  }
}

/** Sizes of the WGSL ceilings: work per timed dispatch, tens of ms on a 2-core llvmpipe. */
function wgslPeakPlan(ctx: GpuContext, quick?: boolean): { fmaInvocations: number; fmaIters: number; copyBytes: number; repeats: number } {
  const limit = Math.min(ctx.limits.maxStorageBufferBindingSize!, ctx.limits.maxBufferSize!);
  const copyBytes = Math.min(64 * 2 ** 20, Math.floor(limit / 16) * 16);
  return { fmaInvocations: 65536, fmaIters: quick ? 128 : 256, copyBytes, repeats: quick ? 3 : 7 };
}

/** Times the two WGSL kernels on the backend's adapter (GPU timestamps when it has them). */
export async function measureWgslPeaks(backend: GpuBackend, opts: { quick?: boolean } = {}): Promise<Ceilings> {
  const ctx = backend.ctx;
  const plan = wgslPeakPlan(ctx, opts.quick);
  const out = ctx.acquireBuffer(4 * plan.fmaInvocations, 'peak_fma');
  const X = ctx.acquireBuffer(plan.copyBytes, 'peak_copy');
  const Y = ctx.acquireBuffer(plan.copyBytes, 'peak_copy');
  try {
    const fmaArgs = { n: plan.fmaInvocations, iters: plan.fmaIters, mul: 0.999, add: 0.001 };
    const fma = await timeIt(backend, () => encodePeakFma(ctx, out, fmaArgs), { warmup: 1, repeats: plan.repeats });
    const flops = plan.fmaInvocations * plan.fmaIters * FMA_FLOPS_PER_ITER;
    ctx.clear(X); // defined contents (pages touched before timing)
    const nVec4 = plan.copyBytes / 16;
    const copy = await timeIt(backend, () => encodePeakCopy(ctx, X, Y, nVec4), { warmup: 1, repeats: plan.repeats });
    const bytes = 2 * plan.copyBytes;
    const timing = fma.timing === 'gpu-timestamp' ? 'GPU timestamps' : 'wall time';
    return {
      flops: {
        value: flops / (fma.min * 1e6),
        median: flops / (fma.median * 1e6),
        unit: 'GFLOP/s',
        repeats: fma.repeats,
        what: `WGSL FMA loop (peak_fma: ${plan.fmaInvocations} invocations × ${plan.fmaIters} iterations × 16 chains, ${timing})`,
      },
      bandwidth: {
        value: bytes / (copy.min * 1e6),
        median: bytes / (copy.median * 1e6),
        unit: 'GB/s',
        repeats: copy.repeats,
        what: `WGSL streaming vec4 copy (peak_copy: ${plan.copyBytes / 2 ** 20} MiB read + written, ${timing})`,
      },
    };
  } finally {
    for (const b of [out, X, Y]) ctx.releaseBuffer(b);
  }
}

const PEAKS_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'peers', 'native_peaks.py');

/**
 * PyTorch's matmul and copy on this CPU (bench/peers/native_peaks.py, 2 threads), or why not.
 * The script's stderr (e.g. the reference-BLAS warning) passes through to ours.
 */
export function measureNativePeaks(opts: { quick?: boolean; python?: string; threads?: number } = {}): NativeCeilings | { error: string } {
  const python = opts.python ?? '/usr/bin/python3';
  if (!torchAvailable(python)) return { error: TORCH_MISSING };
  const n = opts.quick ? 1024 : 2048;
  const repeats = opts.quick ? 3 : 5;
  const args = [PEAKS_SCRIPT, '--matmul-n', String(n), '--copy-mib', '64', '--repeats', String(repeats), '--threads', String(opts.threads ?? 2)];
  const r = spawnSync(python, args, {
    env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' },
    encoding: 'utf8',
    timeout: 10 * 60_000,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = (r.stdout ?? '')
    .split('\n')
    .reverse()
    .find((l) => l.trim().startsWith('{'));
  if (r.status !== 0 || !line) return { error: `native_peaks.py ${r.error ? r.error.message : `exited with ${r.status ?? r.signal}`}` };
  const j = JSON.parse(line) as {
    matmul_n: number;
    matmul_gflops: number[];
    copy_mib: number;
    copy_gbs: number[];
    threads: number;
    torch: string;
    blas: NativeCeilings['blas'];
  };
  return {
    flops: {
      value: Math.max(...j.matmul_gflops),
      median: median(j.matmul_gflops),
      unit: 'GFLOP/s',
      repeats: j.matmul_gflops.length,
      what: `PyTorch ${j.torch} float32 matmul ${j.matmul_n}³ (${j.threads} threads, BLAS: ${j.blas.kind})`,
    },
    bandwidth: {
      value: Math.max(...j.copy_gbs),
      median: median(j.copy_gbs),
      unit: 'GB/s',
      repeats: j.copy_gbs.length,
      what: `PyTorch copy_ of ${j.copy_mib} MiB (${j.threads} threads)`,
    },
    torch: j.torch,
    threads: j.threads,
    blas: j.blas,
  };
}
