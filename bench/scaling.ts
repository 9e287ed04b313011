/**
 * `bench scaling`: ms per training step against N, with and without the WDC regulariser, on
 * the canonical workload's shape (B = 32, T = 100). Sizes run from 70 to 2,857 (the V1
 * layer 2/3–4 set) and up to 12,000 (synthetic: the workload's generator at that N). Writes
 * an SVG plot (log–log). CPU adapters get a short default list; pass --sizes for more.
 */
import { writeFileSync } from 'node:fs';
import { GpuBackend } from '../engine/gpu/backend.ts';
import type { Backend } from '../engine/tensor.ts';
import { WdcRegularizer } from '../engine/regularizers/communicability.ts';
import { canonicalWorkload, timeTrainingSteps } from './rnn.ts';
import { printTable, type BenchRecord } from './harness.ts';
import type { SuiteOptions } from './harness.ts';

const FULL_SCALING_SIZES = [70, 160, 312, 1024, 2857, 6000, 12000];

function defaultScalingSizes(backend: Backend, quick?: boolean): number[] {
  const software = !(backend instanceof GpuBackend) || backend.ctx.summary.isFallbackAdapter;
  if (quick) return [70, 160];
  return software ? [70, 160, 312] : FULL_SCALING_SIZES;
}

export async function benchScaling(backend: Backend, opts: SuiteOptions & { svg?: string }): Promise<BenchRecord[]> {
  const sizes = opts.sizes ?? defaultScalingSizes(backend, opts.quick);
  const records: BenchRecord[] = [];
  for (const N of sizes) {
    const run = canonicalWorkload(N);
    for (const reg of [false, true]) {
      const big = N >= 1024;
      const regs = reg ? [new WdcRegularizer({ lambda: 0.01, D: run.D, sMin: 1e-4 })] : [];
      try {
        const s = await timeTrainingSteps(backend, run, {
          regularizers: regs,
          budgetS: opts.quick ? 1 : 2,
          minSteps: big ? 1 : 3,
          maxSteps: big ? 2 : 20,
          warmup: 1,
        });
        records.push({ suite: 'scaling', name: `N=${N} reg=${reg}`, unit: 'ms/step', N, B: 32, T: 100, reg, ...s, timing: 'wall' });
      } catch (e) {
        records.push({ suite: 'scaling', name: `N=${N} reg=${reg}`, unit: 'ms/step', N, reg, error: (e as Error).message });
      }
      if (backend instanceof GpuBackend) backend.ctx.trimPool();
    }
  }
  if (!opts.json) {
    printTable(
      ['N', 'ms/step (no reg)', 'ms/step (WDC)', 'regulariser share'],
      sizes.map((N) => {
        const a = records.find((r) => r.N === N && r.reg === false);
        const b = records.find((r) => r.N === N && r.reg === true);
        const ma = a?.median as number | undefined;
        const mb = b?.median as number | undefined;
        return [N, ma ?? String(a?.error ?? '-'), mb ?? String(b?.error ?? '-'), ma && mb ? `${(((mb - ma) / mb) * 100).toFixed(0)}%` : '-'];
      }),
    );
  }
  const svgPath = opts.svg ?? 'bench-scaling.svg';
  writeFileSync(svgPath, scalingSvg(records));
  if (!opts.json) console.log(`plot: ${svgPath}`);
  return records;
}

/** A log–log line plot of ms/step against N, one line with and one without the regulariser. */
function scalingSvg(records: BenchRecord[]): string {
  const W = 640,
    H = 400,
    L = 70,
    R = 20,
    T = 30,
    Bm = 50;
  const pts = records.filter((r) => typeof r.median === 'number');
  if (!pts.length) return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><text x="20" y="40">no data</text></svg>`;
  const xs = pts.map((r) => Math.log10(r.N as number));
  const ys = pts.map((r) => Math.log10(r.median as number));
  const [x0, x1] = [Math.min(...xs), Math.max(...xs) + 1e-9];
  const [y0, y1] = [Math.floor(Math.min(...ys)), Math.ceil(Math.max(...ys)) + 1e-9];
  const px = (x: number) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const py = (y: number) => H - Bm - ((y - y0) / (y1 - y0)) * (H - T - Bm);
  const line = (reg: boolean, color: string) => {
    const p = pts.filter((r) => r.reg === reg).sort((a, b) => (a.N as number) - (b.N as number));
    const d = p.map((r, i) => `${i ? 'L' : 'M'}${px(Math.log10(r.N as number)).toFixed(1)},${py(Math.log10(r.median as number)).toFixed(1)}`).join(' ');
    const dots = p
      .map(
        (r) =>
          `<circle cx="${px(Math.log10(r.N as number)).toFixed(1)}" cy="${py(Math.log10(r.median as number)).toFixed(1)}" r="3" fill="${color}"><title>N=${r.N}: ${(r.median as number).toFixed(1)} ms</title></circle>`,
      )
      .join('');
    return `<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>${dots}`;
  };
  const yTicks = [];
  for (let e = Math.ceil(y0); e <= y1; e++)
    yTicks.push(
      `<line x1="${L}" x2="${W - R}" y1="${py(e)}" y2="${py(e)}" stroke="#ddd"/><text x="${L - 8}" y="${py(e) + 4}" text-anchor="end" font-size="11">${10 ** e >= 1 ? 10 ** e : (10 ** e).toPrecision(1)}</text>`,
    );
  const xTicks = [...new Set(pts.map((r) => r.N as number))].map(
    (n) => `<text x="${px(Math.log10(n))}" y="${H - Bm + 16}" text-anchor="middle" font-size="11">${n}</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">
<text x="${W / 2}" y="18" text-anchor="middle" font-size="13">ms per training step vs N (B = 32, T = 100)</text>
${yTicks.join('\n')}
${xTicks.join('\n')}
<line x1="${L}" x2="${W - R}" y1="${H - Bm}" y2="${H - Bm}" stroke="#333"/><line x1="${L}" x2="${L}" y1="${T}" y2="${H - Bm}" stroke="#333"/>
<text x="${W / 2}" y="${H - 12}" text-anchor="middle" font-size="12">N (hidden units, log scale)</text>
<text x="16" y="${H / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 16 ${H / 2})">ms/step (log scale)</text>
${line(false, '#1f77b4')}
${line(true, '#d62728')}
<rect x="${L + 10}" y="${T + 4}" width="12" height="3" fill="#1f77b4"/><text x="${L + 28}" y="${T + 9}" font-size="11">no regulariser</text>
<rect x="${L + 10}" y="${T + 18}" width="12" height="3" fill="#d62728"/><text x="${L + 28}" y="${T + 23}" font-size="11">with WDC regulariser</text>
</svg>
`;
}
