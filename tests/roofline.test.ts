/**
 * The roofline arithmetic of `bench profile` (bench/roofline.ts) on constructed profile spans:
 * spans are grouped into the step's parts with their costs summed, and each part's intensity,
 * achieved rates, roof, bound and share of the roof follow from the ceilings. The SVG plots the
 * roofs and one point per part with arithmetic.
 */
import { describe, expect, it } from 'vitest';
import type { ProfileSpan } from '../engine/gpu/context.ts';
import { summarizeProfile } from '../bench/profile.ts';
import { ridgePoint, rooflineRow, rooflineSvg, type Roof } from '../bench/roofline.ts';

const peak: Roof = { name: 'test peaks', gflops: 25, gbs: 2 };

const spans: ProfileSpan[] = [
  // two weight-gradient products: 2 ms each, 2e7 FLOPs and 1e6 bytes each
  { label: 'backward|matmul_subgroup', ms: 2, cost: { flops: 2e7, bytes: 1e6 } },
  { label: 'backward|matmul_subgroup', ms: 2, cost: { flops: 2e7, bytes: 1e6 } },
  // Adam: memory-bound
  { label: 'adam', ms: 1, cost: { flops: 1e5, bytes: 4e5 } },
  // a transpose: bytes, no arithmetic
  { label: 'transpose', ms: 1, cost: { flops: 0, bytes: 2e6 } },
  // the expm forward: one dispatch with a cost and one without
  { label: 'expm forward|matmul', ms: 3, cost: { flops: 1e6, bytes: 1e5 } },
  { label: 'expm forward|expm_mm', ms: 5 },
];

const byCategory = (category: string) => {
  const row = summarizeProfile(spans).find((r) => r.category === category);
  if (!row) throw new Error(`no part '${category}'`);
  return rooflineRow(row, peak);
};

describe('roofline arithmetic', () => {
  it('sums the costs of a part and puts a high-intensity part under the compute roof', () => {
    const r = byCategory('weight-gradient matmuls');
    expect(r.ms).toBe(4);
    expect(r.flops).toBe(4e7);
    expect(r.bytes).toBe(2e6);
    expect(r.intensity).toBeCloseTo(20, 12);
    expect(r.gflops).toBeCloseTo(10, 12); // 4e7 FLOP in 4 ms
    expect(r.gbs).toBeCloseTo(0.5, 12);
    expect(r.roof).toBeCloseTo(25, 12); // min(25, 20 · 2 = 40)
    expect(r.boundBy).toBe('compute');
    expect(r.ofRoof).toBeCloseTo(0.4, 12);
  });

  it('puts a low-intensity part under the bandwidth roof', () => {
    const r = byCategory('Adam');
    expect(r.intensity).toBeCloseTo(0.25, 12);
    expect(r.gflops).toBeCloseTo(0.1, 12);
    expect(r.gbs).toBeCloseTo(0.4, 12);
    expect(r.roof).toBeCloseTo(0.5, 12); // min(25, 0.25 · 2)
    expect(r.boundBy).toBe('memory');
    expect(r.ofRoof).toBeCloseTo(0.2, 12); // the same as 0.4 GB/s of 2 GB/s
  });

  it('holds a part without arithmetic against the bandwidth alone', () => {
    const r = byCategory('other (transpose)');
    expect(r.intensity).toBe(0);
    expect(r.gbs).toBeCloseTo(2, 12);
    expect(r.boundBy).toBe('memory');
    expect(r.ofRoof).toBeCloseTo(1, 12);
  });

  it('gives no figures to a part where one dispatch states no cost', () => {
    const r = byCategory('expm forward');
    expect(r.ms).toBe(8);
    expect(r.flops).toBeNull();
    expect(r.intensity).toBeNull();
    expect(r.roof).toBeNull();
    expect(r.ofRoof).toBeNull();
  });

  it('meets the ceilings at the ridge point', () => {
    expect(ridgePoint(peak)).toBeCloseTo(12.5, 12);
    const atRidge = rooflineRow({ category: 'x', ms: 1, flops: 12.5e6, bytes: 1e6 }, peak);
    expect(atRidge.roof).toBeCloseTo(25, 12);
    const below = rooflineRow({ category: 'x', ms: 1, flops: 12e6, bytes: 1e6 }, peak);
    expect(below.boundBy).toBe('memory');
    expect(below.roof).toBeCloseTo(24, 12);
  });
});

describe('roofline plot', () => {
  it('draws each roof and one point per part with arithmetic, on log axes', () => {
    const rows = summarizeProfile(spans).map((r) => rooflineRow(r, peak));
    const svg = rooflineSvg(rows, [peak, { name: 'native', gflops: 100, gbs: 10 }], 'test');
    expect(svg.startsWith('<svg')).toBe(true);
    // the two roofs as paths (the second dashed), the parts with AI > 0 as r=6 points
    expect(svg.match(/<path /g)).toHaveLength(2);
    expect(svg).toContain('stroke-dasharray');
    const plotted = rows.filter((r) => r.intensity !== null && r.intensity > 0).map((r) => r.category);
    expect(plotted.sort()).toEqual(['Adam', 'weight-gradient matmuls']);
    expect(svg.match(/r="6"/g)).toHaveLength(plotted.length);
    for (const c of plotted) expect(svg).toContain(`>${c}</text>`);
    expect(svg).not.toContain('>other (transpose)</text>');
    // decade ticks on both axes
    for (const t of ['0.1', '1', '10', '100']) expect(svg).toContain(`>${t}</text>`);
  });
});
