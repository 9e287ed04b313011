/**
 * Does the adapter keep float32 subnormals (|x| < 2^-126) or flush them to zero? WGSL allows
 * either. GPUs flush or handle them at full speed; a CPU adapter (llvmpipe) keeps them and an
 * x86 core then takes a slow path on every such operation (about 10× here), which made the
 * epochs of networks whose weights shrink under an L1 cost 2–3.5× slower (issue 11).
 * `scripts/flush-subnormals.sh` makes llvmpipe's threads flush; runs record which it was.
 *
 * The probe runs the FMA loop of peak_fma with mul = 0 and add = 1e-40 (a subnormal from the
 * uniform, so nothing folds at compile time): each of an invocation's 16 accumulators becomes
 * 1e-40 and OUT[i] their sum, 1.6e-39, still subnormal. Kept: every OUT[i] is that sum;
 * flushed (FTZ or DAZ): every OUT[i] is 0. Enough invocations run to reach every worker thread.
 */
import { runKernel } from './program.ts';
import { grid1d } from './tensor.ts';
import type { AdapterSummary, GpuContext } from './context.ts';

export type SubnormalMode = Exclude<AdapterSummary['subnormals'], 'unknown'>;

const PROBE_INVOCATIONS = 64 * 256;
const PROBE_WORKGROUP = 64;
const SUBNORMAL = 1e-40;

export async function probeSubnormals(ctx: GpuContext): Promise<SubnormalMode> {
  const n = PROBE_INVOCATIONS;
  const out = ctx.acquireBuffer(4 * n, 'subnormal_probe');
  try {
    const g = grid1d(n, PROBE_WORKGROUP);
    runKernel(ctx, 'peakFma', { bind: { OUT: out }, uniform: { n, iters: 1, rowPitch: g.rowPitch, mul: 0, add: SUBNORMAL }, groups: g.groups });
    const v = new Float32Array(await ctx.readBuffer(out, 0, 4 * n));
    let zeros = 0;
    for (const x of v) if (x === 0) zeros++;
    return zeros === n ? 'flushed' : zeros === 0 ? 'kept' : 'mixed';
  } finally {
    ctx.releaseBuffer(out);
  }
}
