/**
 * The roofline of a profiled step (bench profile): for each part of the step, its FLOPs and
 * bytes (from the dispatches' `cost`), arithmetic intensity AI = FLOPs / bytes, achieved
 * GFLOP/s and GB/s, and the bound the machine's ceilings put on it,
 *
 *   roof = min(peak GFLOP/s, AI · peak GB/s)      (GFLOP/s; GB/s · FLOP/byte = GFLOP/s)
 *
 * with the part's achieved GFLOP/s as a share of that roof. A part that moves data without
 * arithmetic (AI = 0: copies, fills) is held against the bandwidth ceiling alone. Parts whose
 * dispatches do not all state a cost get no roofline figures. Also an SVG plot (log–log): the
 * ceilings as roofs and one point per part of the step.
 */
import { lineChart, type Series } from '../experiments/svg.ts';
import { printTable } from './harness.ts';

/** The machine's ceilings: peak compute and streaming bandwidth. */
export interface Roof {
  name: string;
  gflops: number;
  gbs: number;
}

export interface RooflineRow {
  category: string;
  ms: number;
  /** null when some dispatch of the part states no cost */
  flops: number | null;
  bytes: number | null;
  /** FLOP per byte */
  intensity: number | null;
  gflops: number | null;
  gbs: number | null;
  /** min(peak GFLOP/s, AI · peak GB/s); 0 for a part without arithmetic */
  roof: number | null;
  boundBy: 'compute' | 'memory' | null;
  /** achieved / roof (for AI = 0: achieved GB/s / peak GB/s) */
  ofRoof: number | null;
}

/** The roofline figures of one part of the step against `peak`. */
export function rooflineRow(part: { category: string; ms: number; flops: number | null; bytes: number | null }, peak: Roof): RooflineRow {
  const { category, ms, flops, bytes } = part;
  if (flops === null || bytes === null || !(ms > 0) || !(bytes > 0)) {
    return { category, ms, flops, bytes, intensity: null, gflops: null, gbs: null, roof: null, boundBy: null, ofRoof: null };
  }
  const gflops = flops / (ms * 1e6);
  const gbs = bytes / (ms * 1e6);
  const intensity = flops / bytes;
  const memoryRoof = intensity * peak.gbs;
  const roof = Math.min(peak.gflops, memoryRoof);
  const boundBy = memoryRoof < peak.gflops ? 'memory' : 'compute';
  const ofRoof = flops > 0 ? gflops / roof : gbs / peak.gbs;
  return { category, ms, flops, bytes, intensity, gflops, gbs, roof, boundBy, ofRoof };
}

/** The intensity at which the two ceilings meet (FLOP/byte). */
export function ridgePoint(peak: Roof): number {
  return peak.gflops / peak.gbs;
}

export function printRoofline(rows: RooflineRow[], peak: Roof): void {
  console.log(
    `roofline against ${peak.name}: ${peak.gflops.toFixed(1)} GFLOP/s, ${peak.gbs.toFixed(2)} GB/s, ridge at ${ridgePoint(peak).toFixed(1)} FLOP/byte`,
  );
  const pct = (x: number | null) => (x === null ? '-' : `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`);
  printTable(
    ['part of the step', 'ms', 'GFLOP', 'MB', 'FLOP/byte', 'GFLOP/s', 'GB/s', 'roof GFLOP/s', 'bound by', '% of roof'],
    rows.map((r) => [
      r.category,
      r.ms,
      r.flops === null ? '-' : r.flops / 1e9,
      r.bytes === null ? '-' : r.bytes / 1e6,
      r.intensity ?? '-',
      r.gflops ?? '-',
      r.gbs ?? '-',
      r.roof === null || r.flops === 0 ? '-' : r.roof,
      r.boundBy ?? '-',
      pct(r.ofRoof),
    ]),
  );
  console.log('roof = min(peak GFLOP/s, FLOP/byte × peak GB/s); a part without arithmetic is held against the peak GB/s; "-": no cost stated.');
}

/**
 * Log–log roofline plot: each roof as min(P, AI·BW) (the first solid, the others dashed), one
 * point per part with a cost and arithmetic (AI > 0).
 */
export function rooflineSvg(rows: RooflineRow[], roofs: Roof[], title: string): string {
  const pts = rows.filter((r) => r.intensity !== null && r.intensity > 0 && r.gflops !== null && r.gflops > 0);
  const ais = [...pts.map((r) => r.intensity!), ...roofs.map(ridgePoint)];
  const lo = ais.length ? Math.min(...ais) / 2 : 0.01;
  const hi = ais.length ? Math.max(...ais) * 2 : 100;
  const roofSeries: Series[] = roofs.map((roof, i) => {
    const xs = [lo, ridgePoint(roof), hi].filter((x) => x >= lo && x <= hi).sort((a, b) => a - b);
    return {
      name: `${roof.name} (${roof.gflops.toFixed(0)} GFLOP/s, ${roof.gbs.toFixed(1)} GB/s)`,
      x: xs,
      y: xs.map((x) => Math.min(roof.gflops, x * roof.gbs)),
      dashed: i > 0,
      colour: i === 0 ? '#222222' : '#888888',
    };
  });
  const pointSeries: Series[] = pts.map((r) => ({ name: r.category, x: [r.intensity!], y: [r.gflops!], markers: true, radius: 6 }));
  const legend = [...roofSeries, ...pointSeries];
  return lineChart({
    title,
    xLabel: 'arithmetic intensity (FLOP/byte, log scale)',
    yLabel: 'GFLOP/s (log scale)',
    series: legend,
    xLog: true,
    yLog: true,
    width: 900,
    height: Math.max(360, 60 + legend.length * 15),
    legendWidth: 340,
  });
}
