/**
 * `bench profile`: one training step broken into its kernels. Every dispatch runs in its own
 * timestamped pass, so the total is somewhat above an unprofiled step; shares are of the
 * profiled total. Categories follow the step's structure: RNN step forward and backward,
 * input/read-out and weight-gradient matmuls, expm forward, Fréchet adjoint, the fused
 * regulariser kernels, loss and Adam.
 */
import { GpuBackend } from '../engine/gpu/backend.ts';
import type { ProfileSpan } from '../engine/gpu/context.ts';
import { RnnTrainer } from '../engine/rnn/trainer.ts';
import type { Backend } from '../engine/tensor.ts';
import { WdcRegularizer } from '../engine/regularizers/communicability.ts';
import { canonicalWorkload, paperWorkload, type WorkloadRun } from './rnn.ts';
import { printTable, type BenchRecord } from './harness.ts';
import type { SuiteOptions } from './harness.ts';

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
  gflops: number | null;
  gbs: number | null;
  share: number;
}

function summarizeProfile(spans: ProfileSpan[]): ProfileRow[] {
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

export async function benchProfile(backend: Backend, opts: SuiteOptions & { workload?: string; reg?: boolean }): Promise<BenchRecord[]> {
  if (!(backend instanceof GpuBackend)) throw new Error('bench profile needs a WebGPU adapter (timestamp queries)');
  if (!backend.ctx.hasTimestamps) throw new Error(`bench profile needs timestamp queries, which ${backend.describe()} lacks`);
  const names = opts.workload ? [opts.workload] : ['canonical-100'];
  const records: BenchRecord[] = [];
  for (const name of names) {
    const wl = PROFILE_WORKLOADS[name];
    if (!wl) throw new Error(`unknown workload '${name}'; choose from ${Object.keys(PROFILE_WORKLOADS).join(', ')}`);
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
      for (const r of rows)
        records.push({ suite: 'profile', name: `${name} reg=${reg} ${r.category}`, unit: 'ms', workload: name, reg, ...r, timing: 'gpu-timestamp' });
      if (!opts.json) {
        console.log(
          `\nprofile: ${name} (${wl.describe}), regulariser ${reg ? 'on (WDC)' : 'off'}: ${total.toFixed(1)} ms per step (profiled, one pass per dispatch)`,
        );
        printTable(
          ['part of the step', 'ms', 'dispatches', 'GFLOP/s', 'GB/s', 'share'],
          rows.map((r) => [r.category, r.ms, r.dispatches, r.gflops ?? '-', r.gbs ?? '-', `${(r.share * 100).toFixed(1)}%`]),
        );
      }
    }
  }
  return records;
}
