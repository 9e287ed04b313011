/**
 * GFLOP/s of the tiled matmul designs (subgroup register tiles where the adapter can run them,
 * workgroup-memory tiles) against the naive one-thread-per-output baseline, for square sizes.
 * FLOPs = 2·n³.
 */
import { GpuBackend, subgroupMatmulUnsupported } from '../engine/gpu/backend.ts';
import type { MatmulKernel } from '../engine/gpu/tensor.ts';
import type { Backend, Tensor } from '../engine/tensor.ts';
import { Rng } from '../engine/rng.ts';
import { median, printTable, timeIt, type BenchRecord, type Sample } from './harness.ts';

export interface MatmulBenchOptions {
  sizes?: number[];
  repeats?: number;
  warmup?: number;
}

/** The kernels timed on a backend: each tiled design it can run, one transposed run, the naive baseline. */
function matmulKernels(backend: Backend, a: Tensor, b: Tensor): { kernel: string; tiled: boolean; isDefault: boolean; run: () => void }[] {
  if (!(backend instanceof GpuBackend)) return [{ kernel: 'cpu', tiled: false, isDefault: true, run: () => backend.scope(() => void backend.matmul(a, b)) }];
  const designs: MatmulKernel[] = subgroupMatmulUnsupported(backend.ctx) ? ['workgroup'] : ['subgroup', 'workgroup'];
  const chosen = backend.matmulKernel;
  const withDesign = (design: MatmulKernel, fn: () => void) => () => {
    backend.matmulKernel = design;
    try {
      backend.scope(fn);
    } finally {
      backend.matmulKernel = chosen;
    }
  };
  return [
    ...designs.map((d) => ({ kernel: d, tiled: true, isDefault: d === chosen, run: withDesign(d, () => void backend.matmul(a, b)) })),
    { kernel: `${chosen} transB`, tiled: false, isDefault: false, run: withDesign(chosen, () => void backend.matmul(a, b, { transB: true })) },
    { kernel: 'naive', tiled: false, isDefault: false, run: () => backend.scope(() => void backend.matmulNaive(a, b)) },
  ];
}

export async function benchMatmul(backend: Backend, opts: MatmulBenchOptions = {}): Promise<BenchRecord[]> {
  const sizes = opts.sizes ?? [64, 128, 256, 512, 1024];
  const records: BenchRecord[] = [];
  const rng = new Rng(0, 'bench-matmul');
  const software = backend instanceof GpuBackend && backend.ctx.summary.isFallbackAdapter;
  for (const n of sizes) {
    const data = Float32Array.from({ length: n * n }, () => rng.uniformIn(-1, 1));
    const a = backend.fromArray(data, [n, n]);
    const b = backend.fromArray(data, [n, n]);
    const flops = 2 * n ** 3;
    // Fewer repeats at large sizes keep the CPU adapter's run short; medians still hold.
    const repeats = opts.repeats ?? (n >= 1024 ? 5 : 9);
    // The naive kernel takes over a second per run at 1024 on a CPU adapter.
    const kernels = matmulKernels(backend, a, b).filter((k) => !(k.kernel === 'naive' && n > 512 && software));
    // Kernels alternate repeat by repeat, so a drifting machine biases none of them, and each
    // tiled/naive ratio is taken per repeat pair (its median is reported).
    const samples = new Map<string, Sample[]>(kernels.map((k) => [k.kernel, []]));
    for (let r = 0; r < repeats; r++) {
      for (const k of kernels) {
        samples.get(k.kernel)!.push(await timeIt(backend, k.run, { repeats: 1, warmup: r === 0 ? (opts.warmup ?? 1) : 0 }));
      }
    }
    const times = (k: string) => samples.get(k)!.map((x) => x.median);
    for (const k of kernels) {
      const t = times(k.kernel);
      const med = median(t);
      const rec: BenchRecord = {
        suite: 'matmul',
        name: `${k.kernel} ${n}³`,
        unit: 'ms',
        kernel: k.kernel,
        default: k.isDefault,
        n,
        median: med,
        min: Math.min(...t),
        max: Math.max(...t),
        repeats,
        warmup: opts.warmup ?? 1,
        timing: samples.get(k.kernel)![0]!.timing,
        gflops: flops / (med * 1e6),
        gflopsBest: flops / (Math.min(...t) * 1e6),
      };
      if (k.tiled && samples.has('naive')) {
        const naive = times('naive');
        rec.speedupOverNaive = median(t.map((x, i) => naive[i]! / x));
      }
      records.push(rec);
    }
    a.dispose();
    b.dispose();
  }
  return records;
}

export function printMatmul(records: BenchRecord[]): void {
  const sizes = [...new Set(records.map((r) => r.n as number))];
  const kernels = [...new Set(records.map((r) => r.kernel as string))];
  const tiled = kernels.filter((k) => records.some((r) => r.kernel === k && typeof r.speedupOverNaive === 'number'));
  const rows = sizes.map((n) => {
    const row: (string | number)[] = [n];
    for (const k of kernels) {
      const r = records.find((x) => x.n === n && x.kernel === k);
      row.push(r ? `${(r.gflops as number).toFixed(2)} (${(r.median as number).toFixed(2)} ms)` : '-');
    }
    for (const k of tiled) {
      const r = records.find((x) => x.n === n && x.kernel === k);
      row.push(typeof r?.speedupOverNaive === 'number' ? `${r.speedupOverNaive.toFixed(1)}x` : '-');
    }
    return row;
  });
  const isDefault = (k: string) => records.some((r) => r.kernel === k && r.default);
  printTable(['n', ...kernels.map((k) => `${k}${isDefault(k) ? ' (default)' : ''} GFLOP/s`), ...tiled.map((k) => `${k}/naive`)], rows);
  const timing = records[0]?.timing;
  console.log(
    `timing: ${timing === 'gpu-timestamp' ? 'GPU timestamp queries' : 'wall clock (no timestamp queries)'}; medians over repeats; x/naive is the median of per-repeat ratios`,
  );
}
