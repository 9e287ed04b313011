/**
 * `bench profile`: one training step broken into its kernels. Every dispatch runs in its own
 * timestamped pass, so the total is somewhat above an unprofiled step; shares are of the
 * profiled total. Categories follow the step's structure: RNN step forward and backward,
 * input/read-out and weight-gradient matmuls, expm forward, Fréchet adjoint, the fused
 * regulariser kernels, loss and Adam.
 *
 * Then the roofline (bench/roofline.ts): the machine's ceilings measured first in the same run
 * (bench/peaks.ts: WGSL FMA loop and streaming copy on this adapter, PyTorch's matmul and copy
 * natively), and per part of the step its FLOPs, bytes, intensity and share of the roof, as a
 * table and an SVG plot (bench-roofline-<workload>[-wdc].svg).
 */
import { writeFileSync } from 'node:fs';
import { GpuBackend } from '../engine/gpu/backend.ts';
import type { ProfileSpan } from '../engine/gpu/context.ts';
import { RnnTrainer } from '../engine/rnn/trainer.ts';
import type { Backend } from '../engine/tensor.ts';
import { WdcRegularizer } from '../engine/regularizers/communicability.ts';
import { canonicalWorkload, paperWorkload, type WorkloadRun } from './rnn.ts';
import { printTable, type BenchRecord } from './harness.ts';
import type { SuiteOptions } from './harness.ts';
import { measureNativePeaks, measureWgslPeaks, type Ceiling } from './peaks.ts';
import { printRoofline, rooflineRow, rooflineSvg, type Roof } from './roofline.ts';

/** Which part of the step a dispatch belongs to, from its phase label and kernel name. */
function categoryOf(label: string): string {
  const [phase, kernel] = label.includes('|') ? label.split('|') : ['', label];
  const k = kernel!;
  if (k.startsWith('rnn_') && k.includes('forward')) return 'RNN step forward';
  if (k.startsWith('rnn_') && k.includes('backward')) return 'RNN step backward (BPTT)';
  if (k.startsWith('matmul'))
    return phase === 'backward'
      ? 'weight-gradient matmuls'
      : phase === 'forward'
        ? 'input drive and read-out matmuls'
        : phase === 'expm forward'
          ? 'expm forward'
          : phase === 'Fréchet adjoint'
            ? 'Fréchet adjoint'
            : 'other matmuls';
  if (phase === 'expm forward' || phase === 'Fréchet adjoint') return phase;
  if (k.startsWith('expm_')) return 'expm (forward + adjoint)';
  if (k.startsWith('comm_') || k.startsWith('sort_')) return 'fused regulariser (elementwise, sort)';
  if (k === 'adam') return 'Adam';
  if (k.startsWith('softmax_ce')) return 'loss (softmax cross-entropy)';
  return `other (${k})`;
}

interface ProfileRow {
  category: string;
  ms: number;
  dispatches: number;
  /** Σ of the dispatches' costs; null when one of them states none */
  flops: number | null;
  bytes: number | null;
  gflops: number | null;
  gbs: number | null;
  share: number;
}

/** Per part of the step (categoryOf): time, dispatches, summed costs, GFLOP/s, GB/s and share. */
export function summarizeProfile(spans: ProfileSpan[]): ProfileRow[] {
  const acc = new Map<string, { ms: number; n: number; flops: number; bytes: number; costed: boolean }>();
  for (const s of spans) {
    const c = categoryOf(s.label);
    const a = acc.get(c) ?? { ms: 0, n: 0, flops: 0, bytes: 0, costed: true };
    a.ms += s.ms;
    a.n++;
    if (s.cost) {
      a.flops += s.cost.flops;
      a.bytes += s.cost.bytes;
    } else a.costed = false;
    acc.set(c, a);
  }
  const total = [...acc.values()].reduce((t, a) => t + a.ms, 0);
  return [...acc.entries()]
    .map(([category, a]) => ({
      category,
      ms: a.ms,
      dispatches: a.n,
      flops: a.costed ? a.flops : null,
      bytes: a.costed ? a.bytes : null,
      gflops: a.costed && a.ms > 0 ? a.flops / (a.ms * 1e6) : null,
      gbs: a.costed && a.ms > 0 ? a.bytes / (a.ms * 1e6) : null,
      share: total > 0 ? a.ms / total : 0,
    }))
    .sort((x, y) => y.ms - x.ms);
}

const PROFILE_WORKLOADS: Record<string, { describe: string; make: () => WorkloadRun }> = {
  canonical: { describe: 'WORKLOAD.md: N = 256, B = 32, T = 100, α = 0.2', make: () => canonicalWorkload(256) },
  'canonical-100': { describe: 'WORKLOAD.md at N = 100', make: () => canonicalWorkload(100) },
  paper: {
    describe: 'the paper model: N = 312, B = 128, T = 50, Elman (α = 1), 8 inputs, 4 classes, loss at the last step',
    make: () => paperWorkload(),
  },
};

/** The ceilings as records, printed as a table unless --json. */
function reportCeilings(wgsl: { flops: Ceiling; bandwidth: Ceiling }, native: ReturnType<typeof measureNativePeaks>, json?: boolean): BenchRecord[] {
  const rows: { source: string; c: Ceiling }[] = [
    { source: 'wgsl', c: wgsl.flops },
    { source: 'wgsl', c: wgsl.bandwidth },
  ];
  if (!('error' in native)) rows.push({ source: 'native', c: native.flops }, { source: 'native', c: native.bandwidth });
  const records: BenchRecord[] = rows.map(({ source, c }) => ({
    suite: 'profile',
    name: `ceiling ${source} ${c.unit === 'GB/s' ? 'bandwidth' : 'compute'}`,
    source,
    ...c,
    ...(source === 'native' && !('error' in native) ? { blas: native.blas, torch: native.torch, threads: native.threads } : {}),
  }));
  if ('error' in native) records.push({ suite: 'profile', name: 'ceiling native', unit: '-', source: 'native', error: native.error });
  if (!json) {
    console.log('\nroofline ceilings, measured now (best of the repeats; median beside it):');
    printTable(
      ['ceiling', 'best', 'median', 'unit', 'what'],
      rows.map(({ source, c }) => [`${source === 'wgsl' ? 'WGSL, this adapter' : 'native (PyTorch CPU)'}`, c.value, c.median, c.unit, c.what]),
    );
    if ('error' in native) console.log(`native ceilings skipped: ${native.error}`);
    else if (native.blas.reference)
      console.log(`WARNING: PyTorch runs on the reference BLAS (${native.blas.library ?? '?'}): its matmul ceiling is not the CPU's`);
  }
  return records;
}

export async function benchProfile(backend: Backend, opts: SuiteOptions & { workload?: string; reg?: boolean; svg?: string }): Promise<BenchRecord[]> {
  if (!(backend instanceof GpuBackend)) throw new Error('bench profile needs a WebGPU adapter (timestamp queries)');
  if (!backend.ctx.hasTimestamps) throw new Error(`bench profile needs timestamp queries, which ${backend.describe()} lacks`);
  const names = opts.workload ? [opts.workload] : ['canonical-100'];
  for (const name of names)
    if (!PROFILE_WORKLOADS[name]) throw new Error(`unknown workload '${name}'; choose from ${Object.keys(PROFILE_WORKLOADS).join(', ')}`);
  const wgsl = await measureWgslPeaks(backend, { quick: opts.quick });
  backend.ctx.trimPool(); // the copy's 2 × 64 MiB
  const native = measureNativePeaks({ quick: opts.quick });
  const records: BenchRecord[] = reportCeilings(wgsl, native, opts.json);
  const roof: Roof = { name: 'WGSL peaks, this adapter', gflops: wgsl.flops.value, gbs: wgsl.bandwidth.value };
  const roofs = 'error' in native ? [roof] : [roof, { name: 'PyTorch CPU, native', gflops: native.flops.value, gbs: native.bandwidth.value }];
  for (const name of names) {
    const wl = PROFILE_WORKLOADS[name]!;
    const run = wl.make();
    for (const reg of opts.reg === undefined ? [false, true] : [opts.reg]) {
      const regs = reg ? [new WdcRegularizer({ lambda: 0.01, D: run.D, sMin: 1e-4 })] : [];
      const trainer = new RnnTrainer(backend, run.cfg, [{ params: run.params, regularizers: regs }]);
      await trainer.step([run.batch]); // warm-up: pipelines compiled, adaptive squarings settled
      await trainer.step([run.batch]);
      const spans = (await backend.ctx.profile(async () => void (await trainer.step([run.batch]))))!;
      trainer.dispose();
      const rows = summarizeProfile(spans);
      const total = rows.reduce((t, r) => t + r.ms, 0);
      const roofline = rows.map((r) => rooflineRow(r, roof));
      rows.forEach((r, i) => {
        const { intensity, roof: bound, boundBy, ofRoof } = roofline[i]!;
        records.push({
          suite: 'profile',
          name: `${name} reg=${reg} ${r.category}`,
          unit: 'ms',
          workload: name,
          reg,
          ...r,
          intensity,
          roof: bound,
          boundBy,
          ofRoof,
          timing: 'gpu-timestamp',
        });
      });
      const svgPath = opts.svg ?? `bench-roofline-${name}${reg ? '-wdc' : ''}.svg`;
      writeFileSync(
        svgPath,
        rooflineSvg(roofline, roofs, `roofline: ${name}, ${reg ? 'WDC regulariser' : 'no regulariser'} (${backend.ctx.summary.description})`),
      );
      if (!opts.json) {
        console.log(
          `\nprofile: ${name} (${wl.describe}), regulariser ${reg ? 'on (WDC)' : 'off'}: ${total.toFixed(1)} ms per step (profiled, one pass per dispatch)`,
        );
        printTable(
          ['part of the step', 'ms', 'dispatches', 'GFLOP/s', 'GB/s', 'share'],
          rows.map((r) => [r.category, r.ms, r.dispatches, r.gflops ?? '-', r.gbs ?? '-', `${(r.share * 100).toFixed(1)}%`]),
        );
        console.log('');
        printRoofline(roofline, roof);
        console.log(`plot: ${svgPath}`);
      }
    }
  }
  return records;
}
