/** Error paths of the engine: each failure is a thrown, typed error naming the kernel. */
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../engine/cpu/backend.ts';
import type { Batch } from '../engine/data.ts';
import { GpuOutOfMemoryError, KernelCompileError, ShapeError } from '../engine/errors.ts';
import { Rng } from '../engine/rng.ts';
import { initParams, type RnnConfig } from '../engine/rnn/params.ts';
import { RnnTrainer } from '../engine/rnn/trainer.ts';
import type { Backend } from '../engine/tensor.ts';
import { hasAdapter, useGpu } from './helpers/gpu.ts';

/** The error `fn` throws or rejects with (null when it succeeds). */
async function errorOf(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
    return null;
  } catch (e) {
    return e;
  }
}

/** Labels for 5 rows against logits of 4: the cross-entropy check both backends share rejects it. */
function badCrossEntropy(be: Backend): () => unknown {
  return () => be.softmaxCrossEntropy(be.zeros([4, 3]), be.zeros([5]));
}

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
  it('cross-entropy labels that do not match the logits rows', async () => {
    const err = await errorOf(badCrossEntropy(cpu));
    expect(err).toBeInstanceOf(ShapeError);
    expect((err as Error).message).toBe("shape error in 'softmaxCrossEntropy': labels [5] do not match 4 rows");
  });
});

describe('trainer size mismatches', () => {
  const cpu = new CpuBackend('f64');
  const cfg: RnnConfig = { nIn: 2, nHidden: 4, nOut: 3, alpha: 1, outputBias: false };
  const T = 3;
  const B = 2;
  const params = initParams(cfg, new Rng(1));
  const batch = (t = T, xValues = t * B * cfg.nIn): Batch => {
    const mask = new Float32Array(t * B).fill(1);
    return { T: t, B, x: new Float32Array(xValues), labels: new Float32Array(t * B), lossMask: mask, scoreMask: mask };
  };
  const pair = () => new RnnTrainer(cpu, cfg, [{ params }, { params }]);

  /** Each mismatch is a ShapeError whose message is word for word the one users already match. */
  async function expectShapeError(fn: () => unknown, message: string): Promise<void> {
    const err = await errorOf(fn);
    expect(err).toBeInstanceOf(ShapeError);
    expect((err as ShapeError).message).toBe(message);
  }

  it('a trainer without models', async () => {
    await expectShapeError(() => new RnnTrainer(cpu, cfg, []), 'RnnTrainer needs at least one model');
  });
  it('a recurrent mask of the wrong size', async () => {
    await expectShapeError(() => new RnnTrainer(cpu, cfg, [{ params, recurrentMask: [1, 0, 1] }]), 'model 0: recurrent mask has 3 entries, expected 16');
  });
  it('fewer batches than models', async () => {
    await expectShapeError(() => pair().step([batch()]), 'expected 2 batches (one per model), got 1');
  });
  it('batches of different lengths', async () => {
    await expectShapeError(() => pair().logits([batch(), batch(T + 1)]), 'batch 1 is T=4, B=2; all models need T=3, B=2');
  });
  it('a batch with the wrong number of inputs', async () => {
    await expectShapeError(() => pair().gradients([batch(T, 5), batch()]), 'batch 0: x has 5 values, expected 12 (T=3, B=2, nIn=2)');
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

  it('the GPU rejects a bad cross-entropy with the same typed error as the CPU (one shared check)', async () => {
    const onCpu = await errorOf(badCrossEntropy(new CpuBackend()));
    const onGpu = await errorOf(badCrossEntropy(gpu.get()));
    expect(onGpu).toBeInstanceOf(ShapeError);
    expect(onCpu).toBeInstanceOf(ShapeError);
    expect((onGpu as ShapeError).op).toBe((onCpu as ShapeError).op);
    expect((onGpu as Error).message).toBe((onCpu as Error).message);
  });

  it('a buffer over the adapter limit is a GpuOutOfMemoryError naming the op and the limit', () => {
    const be = gpu.get();
    const limit = be.ctx.limits.maxStorageBufferBindingSize!;
    const n = Math.ceil(Math.sqrt(limit / 4)) + 16;
    expect(() => be.zeros([n, n])).toThrow(GpuOutOfMemoryError);
    expect(() => be.zeros([n, n])).toThrow(/'zeros'.*exceeds the adapter's limit.*maxStorageBufferBindingSize/);
  });
});
