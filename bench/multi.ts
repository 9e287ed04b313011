/**
 * `bench multi`: throughput of K networks trained in the same dispatches, in network-steps per
 * second against K (1, 4, 16, 64), with the WDC regulariser, and the efficiency against K
 * times the single-network throughput. K is capped by the adapter's memory limits.
 */
import { GpuBackend } from '../engine/gpu/backend.ts';
import { RnnTrainer, maxModelsFor } from '../engine/rnn/trainer.ts';
import { initParams } from '../engine/rnn/params.ts';
import { Rng } from '../engine/rng.ts';
import type { Backend } from '../engine/tensor.ts';
import { WdcRegularizer } from '../engine/regularizers/communicability.ts';
import { paperWorkload } from './rnn.ts';
import { median, printTable, type BenchRecord } from './harness.ts';
import type { SuiteOptions } from './harness.ts';

export async function benchMulti(backend: Backend, opts: SuiteOptions & { ks?: number[] }): Promise<BenchRecord[]> {
  if (!(backend instanceof GpuBackend)) throw new Error('bench multi needs a WebGPU adapter');
  const software = backend.ctx.summary.isFallbackAdapter;
  // The paper workload (N = 312, B = 128, T = 50) takes seconds per step on a CPU adapter:
  // there the default is a smaller network; --sizes 312 runs the paper size.
  const N = opts.sizes?.[0] ?? (software ? 70 : 312);
  const B = software && !opts.sizes ? 32 : 128;
  const T = 50;
  const base = paperWorkload(N, B, T);
  const cap = maxModelsFor(backend, base.cfg, T, B);
  const requested = opts.ks ?? (opts.quick ? [1, 4] : [1, 4, 16, 64]);
  // K beyond the memory cap cannot run; the cap itself is measured instead.
  const ks = requested.filter((k) => k <= cap);
  if (requested.some((k) => k > cap) && !ks.includes(cap)) ks.push(cap);
  const records: BenchRecord[] = [];
  let single = NaN;
  for (const K of ks) {
    const specs = Array.from({ length: K }, (_, k) => ({
      params: initParams(base.cfg, new Rng(k, 'multi')),
      regularizers: [new WdcRegularizer({ lambda: 0.3, D: base.D, sMin: 1e-4 })],
    }));
    const trainer = new RnnTrainer(backend, base.cfg, specs);
    const batches = Array.from({ length: K }, () => base.batch);
    await trainer.step(batches);
    const times: number[] = [];
    const budget = opts.quick ? 1000 : 3000;
    const t0 = performance.now();
    while (times.length < 3 || (performance.now() - t0 < budget && times.length < 20)) {
      const s = performance.now();
      await trainer.step(batches);
      times.push(performance.now() - s);
    }
    trainer.dispose();
    backend.ctx.trimPool();
    const ms = median(times);
    const throughput = (K * 1000) / ms;
    if (K === 1) single = throughput;
    records.push({
      suite: 'multi',
      name: `K=${K}`,
      unit: 'network-steps/s',
      K,
      N,
      B,
      T,
      reg: 'WDC',
      median: ms,
      min: Math.min(...times),
      max: Math.max(...times),
      repeats: times.length,
      warmup: 1,
      timing: 'wall',
      throughput,
      efficiency: throughput / (K * single),
    });
  }
  if (!opts.json) {
    printTable(
      ['K', 'ms/step (all K)', 'network-steps/s', 'speed-up vs K=1', 'efficiency (vs K x single)'],
      records.map((r) => [
        r.K as number,
        r.median as number,
        r.throughput as number,
        `${((r.throughput as number) / single).toFixed(2)}x`,
        (r.efficiency as number).toFixed(2),
      ]),
    );
    console.log(`N = ${N}, B = ${B}, T = ${T}, WDC regulariser (λ = 0.3), paper model; K capped at ${cap} by the adapter's memory limits.`);
  }
  return records;
}
