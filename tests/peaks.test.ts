/**
 * The roofline's ceiling kernels compute what they claim: peak_fma's written value is the
 * float32 recurrence a ← a·mul + add run 4·iters times on each of an invocation's sixteen
 * accumulators and summed as the WGSL sums them (held against a CPU reference of that
 * recurrence), and peak_copy copies exactly n vec4s. A loop that ran a different number of
 * iterations, dropped accumulators or copied past n would fail here.
 */
import { describe, expect, it } from 'vitest';
import { FMA_FLOPS_PER_ITER, peakCopyValues, peakFmaValues } from '../bench/peaks.ts';
import { hasAdapter, useGpu } from './helpers/gpu.ts';

const f = Math.fround;

/** OUT[i] of shaders/peak_fma.wgsl, in float32 on the CPU (each multiply and add rounded). */
function fmaReference(i: number, iters: number, mul: number, add: number): number {
  const m = f(mul);
  const c = f(add);
  const s = f(f(i & 1023) * f(1 / 1024));
  const acc = Array.from({ length: 16 }, (_, k) => f(s + k)); // a0 = s+0..s+3, a1 = s+4..s+7, …
  for (let it = 0; it < 4 * iters; it++) for (let k = 0; k < 16; k++) acc[k] = f(f(acc[k]! * m) + c);
  const t = [0, 1, 2, 3].map((lane) => f(f(f(acc[lane]! + acc[4 + lane]!) + acc[8 + lane]!) + acc[12 + lane]!));
  return f(f(f(t[0]! + t[1]!) + t[2]!) + t[3]!);
}

describe.runIf(hasAdapter)('roofline ceiling kernels', () => {
  const gpu = useGpu();

  it('peak_fma counts its iterations exactly (a ← a + 1)', async () => {
    // 1100 invocations: not a multiple of the 64-wide workgroup, and past 1024 (s wraps)
    const n = 1100;
    const iters = 37;
    const out = await peakFmaValues(gpu.get().ctx, { n, iters, mul: 1, add: 1 });
    expect(out).toHaveLength(n);
    for (let i = 0; i < n; i++) {
      // exact in float32: 16·s + (0 + … + 15) + 16 · 4 · iters
      expect(out[i], `invocation ${i}`).toBe(fmaReference(i, iters, 1, 1));
    }
    expect(out[5]).toBe(f(16 * (5 / 1024) + 120 + 64 * iters));
  });

  it('peak_fma runs the recurrence a ← a·mul + add (float32 CPU reference)', async () => {
    const n = 300;
    const iters = 25;
    const mul = 0.97;
    const add = 0.05;
    const out = await peakFmaValues(gpu.get().ctx, { n, iters, mul, add });
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const ref = fmaReference(i, iters, mul, add);
      worst = Math.max(worst, Math.abs(out[i]! - ref) / Math.abs(ref));
    }
    // a fused multiply-add rounds once where the reference rounds twice
    expect(worst).toBeLessThan(1e-5);
    // one iteration more or less is far outside that tolerance
    expect(Math.abs(fmaReference(7, iters + 1, mul, add) - fmaReference(7, iters, mul, add)) / fmaReference(7, iters, mul, add)).toBeGreaterThan(1e-3);
    expect(FMA_FLOPS_PER_ITER).toBe(4 * 16 * 2); // four rounds of sixteen FMAs
  });

  it('peak_copy copies n vec4s and nothing past them', async () => {
    const len = 4 * 1000;
    const src = Float32Array.from({ length: len }, (_, k) => f(Math.sin(k) * 1000));
    const n = 997;
    const out = await peakCopyValues(gpu.get().ctx, src, n, -7);
    expect(Array.from(out.subarray(0, 4 * n))).toEqual(Array.from(src.subarray(0, 4 * n)));
    expect(Array.from(out.subarray(4 * n))).toEqual(new Array(len - 4 * n).fill(-7));
  });
});
