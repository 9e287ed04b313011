/**
 * `bench reg`: value + gradient of the WDC and EMD regularisers (issue 4) at N = 70, 160, 312
 * by default (--sizes for 1024, 2857: a 2857² expm on a CPU adapter takes tens of seconds),
 * split into the expm forward, the adjoint (Fréchet pass) and the rest (strengths,
 * normalisation, G_C and for EMD the sort, the strength gradient, the fused elementwise kernel,
 * the value's reduction). GFLOP/s count the 2N³ products only: (6 + s) forward, (12 + 3s)
 * adjoint, s the squaring count. Beside them: the Fréchet block form (expm of a 2N×2N block
 * matrix) against the recurrence, and the PyTorch CPU cost of the regulariser measured on this
 * machine class (../shared/peers/results.md: reg=true minus reg=false, ms per training step).
 * With `budget`, one training step of the paper's workload (N = 312, B = 128, T = 50) with and
 * without WDC, for the "regulariser < one forward–backward pass" budget.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { GpuBackend } from '../engine/gpu/backend.ts';
import { gridDistances } from '../connectome/geometry.ts';
import { EmdRegularizer, WdcRegularizer } from '../engine/regularizers/communicability.ts';
import type { GpuStage } from '../engine/regularizers/gpu.ts';
import { expmFrechetBlockGpu, expmFrechetGpu, expmProducts } from '../engine/expm/gpu.ts';
import { uniformAt } from '../engine/rng.ts';
import type { Backend } from '../engine/tensor.ts';
import { printTable, timeIt, type BenchRecord } from './harness.ts';

interface RegBenchOptions {
  sizes?: number[];
  quick?: boolean;
  /** also time the Fréchet block form (default: N ≤ 312) */
  block?: boolean;
  /** also time training steps of the paper's workload with and without WDC */
  budget?: boolean;
}

const DEFAULT_REG_SIZES = [70, 160, 312];

function problem(n: number): { W: Float64Array; D: Float64Array; K: Float64Array } {
  const W = new Float64Array(n * n);
  const K = new Float64Array(n * n);
  for (let k = 0; k < n * n; k++) {
    W[k] = uniformAt(101, k) < 0.5 ? 0 : (uniformAt(102, k) - 0.5) * 0.2;
    K[k] = uniformAt(103, k) < 0.02 ? 1 + Math.floor(3 * uniformAt(104, k)) : 0;
  }
  const { D } = gridDistances(n);
  let mx = 0;
  for (const v of D) mx = Math.max(mx, v);
  return { W, D: D.map((v) => v / mx), K };
}

/** PyTorch CPU regulariser cost (ms/step: reg=true − reg=false) per N, from results.md. */
function torchRegCost(path = resolve(process.cwd(), '../shared/peers/results.md')): Map<number, { withReg: number; without: number }> {
  const out = new Map<number, { withReg: number; without: number }>();
  if (!existsSync(path)) return out;
  const text = readFileSync(path, 'utf8');
  const section = (title: string): string => {
    const i = text.indexOf(title);
    return i < 0 ? '' : text.slice(i, text.indexOf('\n## ', i + 1) < 0 ? undefined : text.indexOf('\n## ', i + 1));
  };
  const parse = (sec: string): Map<number, number> => {
    const m = new Map<number, number>();
    const header = /\| peer \|(.*)\|/.exec(sec);
    const row = /\| torch-cpu \|(.*)\|/.exec(sec);
    if (!header || !row) return m;
    const ns = header[1]!.split('|').map((h) => Number(/N=(\d+)/.exec(h)?.[1]));
    const cells = row[1]!.split('|');
    ns.forEach((n, i) => {
      const ms = /\(([\d.]+) ms/.exec(cells[i] ?? '');
      const sps = /^\s*([\d.]+)/.exec(cells[i] ?? '');
      // steps/s is the more precise figure; ms is rounded
      if (Number.isFinite(n) && sps) m.set(n, 1000 / Number(sps[1]));
      else if (Number.isFinite(n) && ms) m.set(n, Number(ms[1]));
    });
    return m;
  };
  const off = parse(section('## reg=false'));
  const on = parse(section('## reg=true'));
  for (const [n, w] of on) if (off.has(n)) out.set(n, { withReg: w, without: off.get(n)! });
  return out;
}

async function benchReg(backend: Backend, opts: RegBenchOptions = {}): Promise<BenchRecord[]> {
  const sizes = opts.sizes ?? DEFAULT_REG_SIZES;
  const records: BenchRecord[] = [];
  for (const n of sizes) {
    const { W, D, K } = problem(n);
    const regs = [new WdcRegularizer({ lambda: 0.3, D }), new EmdRegularizer({ lambda: 0.3, mu: 0.1, D, K })];
    const repeats = opts.quick ? 2 : n >= 1024 ? 2 : 7;
    const warmup = 1;
    const Wt = backend.fromArray(W, [n, n]);
    for (const reg of regs) {
      if (backend instanceof GpuBackend) {
        const be = backend;
        // one untimed call: compiles, and its lagged plan read sets the encoded squarings
        be.wiringCostStage(reg, Wt, n, 'full');
        await be.sync();
        await new Promise((r) => setTimeout(r, 20));
        const stages: GpuStage[] = reg.kind === 'EMD' ? ['forward', 'gc', 'adjoint', 'full'] : ['forward', 'adjoint', 'full'];
        const t: Partial<Record<GpuStage, number>> = {};
        let timing = '';
        let medianFull = 0;
        for (const stage of stages) {
          const s = await timeIt(be, () => be.wiringCostStage(reg, Wt, n, stage), { repeats, warmup });
          // minima: on a shared CPU adapter other load only ever adds time, and the split
          // subtracts stages, so medians of noisy runs can give negative differences
          t[stage] = s.min;
          medianFull = s.median;
          timing = s.timing;
        }
        const sq = reg.stats.squarings ?? 0;
        const p = expmProducts(sq);
        const gf = (products: number, ms: number) => (2 * n ** 3 * products) / (ms * 1e6);
        const fwd = t.forward!;
        const adj = t.adjoint! - (t.gc ?? fwd);
        const rest = t.full! - fwd - adj;
        records.push({
          suite: 'reg',
          name: `${reg.name} N=${n}`,
          unit: 'ms',
          reg: reg.name,
          n,
          backend: backend.name,
          timing,
          squarings: sq,
          encodedSquarings: reg.stats.encoded,
          norm1: reg.stats.norm,
          total: t.full!,
          totalMedian: medianFull,
          expmForward: fwd,
          adjoint: adj,
          sort: t.gc !== undefined ? t.gc - fwd : 0,
          rest,
          gflopsForward: gf(p.forward, fwd),
          gflopsAdjoint: gf(p.frechet, adj),
          gflopsTotal: gf(p.forward + p.frechet, t.full!),
        });
      } else {
        if (n > 320) continue; // the float64 oracle is O(N³) in JS
        const s = await timeIt(backend, () => backend.scope(() => void reg.apply(backend, Wt, n)), { repeats: opts.quick ? 1 : 3, warmup: 0 });
        records.push({ suite: 'reg', name: `${reg.name} N=${n}`, unit: 'ms', reg: reg.name, n, backend: backend.name, timing: s.timing, total: s.median });
      }
    }
    if (backend instanceof GpuBackend && (opts.block ?? n <= 312)) {
      const be = backend;
      const M = be.fromArray(problem(n).W.map(Math.abs), [n, n]);
      const E = be.fromArray(D, [n, n]);
      const rec = await timeIt(
        be,
        async () => {
          const r = await expmFrechetGpu(be, M, E, n);
          r.E.dispose();
          r.L.dispose();
        },
        { repeats: opts.quick ? 1 : 3, warmup: 1 },
      );
      const blk = await timeIt(
        be,
        async () => {
          const r = await expmFrechetBlockGpu(be, M, E, n);
          r.L.dispose();
        },
        { repeats: opts.quick ? 1 : 3, warmup: 1 },
      );
      records.push({ suite: 'reg', name: `frechet N=${n}`, unit: 'ms', n, kind: 'frechet', recurrence: rec.min, block: blk.min, timing: rec.timing });
      M.dispose();
      E.dispose();
    }
    Wt.dispose();
    if (backend instanceof GpuBackend) backend.ctx.trimPool();
  }
  if (opts.budget && backend instanceof GpuBackend) records.push(...(await budgetRecords(backend)));
  return records;
}

/** Training steps of the paper's workload (N = 312, B = 128, T = 50) with and without WDC. */
async function budgetRecords(be: GpuBackend): Promise<BenchRecord[]> {
  type RnnBench = typeof import('./rnn.ts');
  let mod: RnnBench;
  try {
    const path = './rnn.ts';
    mod = (await import(path)) as RnnBench;
  } catch {
    return [];
  }
  const run = mod.canonicalWorkload(312, 128, 50);
  const reg = new WdcRegularizer({ lambda: 0.01, D: run.D });
  const opts = { budgetS: 10, minSteps: 2, maxSteps: 3, warmup: 1 };
  const without = await mod.timeTrainingSteps(be, run, opts);
  const withReg = await mod.timeTrainingSteps(be, run, { ...opts, regularizers: [reg] });
  return [
    {
      suite: 'reg',
      name: 'budget N=312 B=128 T=50',
      unit: 'ms',
      kind: 'budget',
      stepWithout: without.median,
      stepWithWdc: withReg.median,
      regCost: withReg.median - without.median,
    },
  ];
}

function printReg(records: BenchRecord[]): void {
  const main = records.filter((r) => r.reg);
  const gpu = main.some((r) => r.backend === 'webgpu');
  if (gpu) {
    printTable(
      ['reg', 'N', 's', 'total ms', 'median ms', 'expm fwd ms', 'adjoint ms', 'sort ms', 'rest ms', 'GFLOP/s fwd', 'GFLOP/s adj', 'GFLOP/s all'],
      main.map((r) => [
        r.reg as string,
        r.n as number,
        r.squarings as number,
        r.total as number,
        r.totalMedian as number,
        r.expmForward as number,
        r.adjoint as number,
        r.sort as number,
        r.rest as number,
        r.gflopsForward as number,
        r.gflopsAdjoint as number,
        r.gflopsTotal as number,
      ]),
    );
  } else {
    printTable(
      ['reg', 'N', 'total ms (float64 oracle)'],
      main.map((r) => [r.reg as string, r.n as number, r.total as number]),
    );
  }
  const fr = records.filter((r) => r.kind === 'frechet');
  if (fr.length) {
    console.log('\nFréchet derivative L_exp(M, E) incl. forward expm: recurrence vs block form (2N×2N)');
    printTable(
      ['N', 'recurrence ms', 'block ms', 'block/recurrence'],
      fr.map((r) => [r.n as number, r.recurrence as number, r.block as number, (r.block as number) / (r.recurrence as number)]),
    );
  }
  const torch = torchRegCost();
  if (torch.size) {
    console.log('\nPyTorch CPU (this machine class, ../shared/peers/results.md): regulariser cost per training step = reg=true − reg=false');
    printTable(
      ['N', 'torch reg=false ms', 'torch reg=true ms', 'torch regulariser ms'],
      [...torch].map(([n, t]) => [n, t.without, t.withReg, t.withReg - t.without]),
    );
  }
  const b = records.find((r) => r.kind === 'budget');
  if (b) {
    console.log(
      `\nbudget (N=312, B=128, T=50): training step ${(b.stepWithout as number).toFixed(0)} ms without, ${(b.stepWithWdc as number).toFixed(0)} ms with WDC (regulariser ≈ ${(b.regCost as number).toFixed(0)} ms)`,
    );
  }
  const timing = main[0]?.timing;
  if (timing)
    console.log(
      `timing: ${timing === 'gpu-timestamp' ? 'GPU timestamp queries' : 'wall clock'}; minima over repeats (median of the full call beside), split = differences of staged runs`,
    );
}

/** The suite entry for bench/suites.ts. */
export async function runRegSuite(backend: Backend, opts: { sizes?: number[]; quick?: boolean; json?: boolean }): Promise<BenchRecord[]> {
  const records = await benchReg(backend, { sizes: opts.sizes, quick: opts.quick });
  if (!opts.json) printReg(records);
  return records;
}
