/**
 * The designs measured on adapters this project has met (committed benchmark results), used
 * when nothing is tuned on the adapter in hand. Each entry is one shape on one adapter, in
 * milliseconds per network-step; the choice is the fastest design measured there that fits,
 * so on a measured adapter it is never slower than the default it was measured against.
 */
import type { RnnDesign } from '../tensor.ts';
import type { GpuContext } from './context.ts';
import { designFits } from './rnn_design.ts';

interface DesignMeasurement {
  /** The adapter, as GPUAdapterInfo names it. */
  vendor: string;
  device: string;
  N: number;
  B: number;
  T: number;
  K: number;
  ms: Partial<Record<RnnDesign, number>>;
  /** The committed file the numbers come from. */
  source: string;
}

const H200 = { vendor: 'nvidia', device: 'nvidia-h200', N: 312, B: 128, T: 50, source: 'bench/results/h200-2026-11-30-designs.txt' };

/** Whole training steps of the paper network with WDC inside a sweep (per network-step). */
const MEASURED: readonly DesignMeasurement[] = [
  { ...H200, K: 1, ms: { persistent: 17.02, 'per-step': 20.04 } },
  { ...H200, K: 8, ms: { persistent: 3.67, 'per-step': 4.16 } },
  { ...H200, K: 32, ms: { persistent: 3.33, 'per-step': 2.97 } },
  { ...H200, K: 55, ms: { persistent: 3.3, 'per-step': 3.09 } },
];

/**
 * The fastest measured design for this adapter at the nearest measured K of the same N, B and
 * T (nearest in log K), or null when the adapter or the shape was never measured.
 */
export function measuredDesign(
  ctx: GpuContext,
  shape: { N: number; B: number; T: number; K: number },
): { design: RnnDesign; ms: number; source: string } | null {
  const { vendor, device } = ctx.summary;
  const here = MEASURED.filter((m) => m.vendor === vendor && m.device === device && m.N === shape.N && m.B === shape.B && m.T === shape.T);
  if (!here.length) return null;
  const nearest = here.reduce((a, m) => (Math.abs(Math.log(m.K / shape.K)) < Math.abs(Math.log(a.K / shape.K)) ? m : a));
  const fits = (Object.entries(nearest.ms) as [RnnDesign, number][]).filter(([d]) => designFits(ctx, shape.N, shape.B, d));
  if (!fits.length) return null;
  const [design, ms] = fits.reduce((a, b) => (b[1] < a[1] ? b : a));
  return { design, ms, source: nearest.source };
}
