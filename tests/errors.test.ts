/** Error paths of the engine: each failure is a thrown, typed error naming the kernel. */
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../engine/cpu/backend.ts';
import { GpuOutOfMemoryError, KernelCompileError, ShapeError } from '../engine/errors.ts';
import { hasAdapter, useGpu } from './helpers/gpu.ts';

describe('shape errors', () => {
  const cpu = new CpuBackend();
  it('matmul with mismatched inner dimensions names the op and both shapes', () => {
    const a = cpu.zeros([3, 4]);
    const b = cpu.zeros([5, 2]);
    expect(() => cpu.matmul(a, b)).toThrow(ShapeError);
    expect(() => cpu.matmul(a, b)).toThrow(/matmul.*\[3, 4\].*\[5, 2\].*4 vs 5/);
  });
  it('elementwise ops with different shapes', () => {
    expect(() => cpu.binary('add', cpu.zeros([3]), cpu.zeros([4]))).toThrow(/'add'.*\[3\].*\[4\]/);
  });
  it('fromArray with the wrong number of values', () => {
    expect(() => cpu.fromArray([1, 2, 3], [2, 2])).toThrow(/3 values do not fill shape \[2, 2\]/);
  });
});

describe.skipIf(!hasAdapter)('GPU error paths', () => {
  const gpu = useGpu();

  it('invalid WGSL is a KernelCompileError naming the kernel and the line', async () => {
    const ctx = gpu.get().ctx;
    const bad = '@compute @workgroup_size(1) fn main() { let x: f32 = undefined_thing; }';
    try {
      ctx.dispatch({ shader: 'unary' }, [], null, [1], bad);
    } catch {
      // Some implementations reject the pipeline at once; the deferred error still names it.
    }
    const err = await ctx.sync().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KernelCompileError);
    expect((err as Error).message).toMatch(/kernel 'unary'/);
    expect((err as Error).message).toMatch(/line 1/);
    // The context stays usable after the error was reported.
    const t = gpu.get().fill([4], 3);
    expect(Array.from(await t.read())).toEqual([3, 3, 3, 3]);
  });

  it('a shape mismatch on the GPU throws before any work is queued', () => {
    const be = gpu.get();
    expect(() => be.matmul(be.zeros([3, 4]), be.zeros([5, 2]))).toThrow(ShapeError);
  });

  it('a buffer over the adapter limit is a GpuOutOfMemoryError naming the op and the limit', () => {
    const be = gpu.get();
    const limit = be.ctx.limits.maxStorageBufferBindingSize!;
    const n = Math.ceil(Math.sqrt(limit / 4)) + 16;
    expect(() => be.zeros([n, n])).toThrow(GpuOutOfMemoryError);
    expect(() => be.zeros([n, n])).toThrow(/'zeros'.*exceeds the adapter's limit.*maxStorageBufferBindingSize/);
  });
});
