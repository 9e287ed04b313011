/**
 * `bench host`: how much of a training step of K networks side by side is host work on the main
 * thread. It runs trainNetworks itself on the paper's shape (T = 50, B = 128, the inference
 * task's nIn = 8 and 5120 training trials per network, input noise σ = 0.05, the WDC
 * regulariser) and reads each step's parts from its onStepTiming hook: building the batches (or
 * waiting for the workers that build them), the trainer's submission (upload packing, recording),
 * starting the next batches, waiting for the device, tallying. Host time is all but the wait for
 * the device. Every K runs twice in the same process: batches built in this thread, then in
 * worker threads.
 */
import { GpuBackend } from '../engine/gpu/backend.ts';
import { maxModelsFor } from '../engine/rnn/trainer.ts';
import { trainNetworks, type StepTiming, type TrainNetwork } from '../engine/rnn/train.ts';
import { initParams } from '../engine/rnn/params.ts';
import { Rng } from '../engine/rng.ts';
import type { Dataset } from '../engine/data.ts';
import type { Backend } from '../engine/tensor.ts';
import { WdcRegularizer } from '../engine/regularizers/communicability.ts';
import { inferenceTask } from '../tasks/index.ts';
import { paperWorkload } from './rnn.ts';
import { median, printTable, type BenchRecord, type SuiteOptions } from './harness.ts';

const T = 50;
const B = 128;
const TRAIN_TRIALS = 5120;
const INPUT_NOISE = 0.05;
const PARTS = ['batches', 'submit', 'prefetch', 'wait', 'tally'] as const;
const PATHS = [
  { path: 'in-thread', workers: false },
  { path: 'workers', workers: true },
] as const;

export async function benchHost(backend: Backend, opts: SuiteOptions & { ks?: number[] }): Promise<BenchRecord[]> {
  if (!(backend instanceof GpuBackend)) throw new Error('bench host needs a WebGPU adapter');
  const software = backend.ctx.summary.isFallbackAdapter;
  // On a CPU adapter the paper's N = 312 takes seconds per step at K = 55: a small N keeps the
  // run to seconds (the host work does not depend on N); --sizes 312 runs the paper size.
  const N = opts.sizes?.[0] ?? (software ? 32 : 312);
  const base = paperWorkload(N, B, T);
  const cap = maxModelsFor(backend, base.cfg, T, B);
  const ks = [...new Set((opts.ks ?? (opts.quick ? [1, 55] : [1, 8, 55])).map((k) => Math.min(k, cap)))];
  const sets = Array.from({ length: Math.max(...ks) }, (_, k) => inferenceTask.generate(TRAIN_TRIALS, new Rng(k, 'bench-host')));
  const steps = opts.quick ? 5 : 10;
  const warmup = 2;
  const records: BenchRecord[] = [];
  for (const K of ks) {
    for (const { path, workers } of PATHS) {
      const run = await timeRun(backend, base, sets.slice(0, K), { steps: warmup + steps, workers });
      const timed = run.timings.slice(warmup);
      records.push(hostRecord({ K, N, path, timed, warmup, startMs: run.startMs }));
      backend.ctx.trimPool();
    }
  }
  if (!opts.json) printHost(records, N, cap);
  return records;
}

/** One trainNetworks run of K networks, with each step's timing and the time before its first step. */
async function timeRun(
  backend: Backend,
  base: ReturnType<typeof paperWorkload>,
  sets: Dataset[],
  o: { steps: number; workers: boolean },
): Promise<{ timings: StepTiming[]; startMs: number }> {
  const networks: TrainNetwork[] = sets.map((train, k) => ({
    params: initParams(base.cfg, new Rng(k, 'bench-host')),
    splits: { train },
    seed: k,
    regularizers: [new WdcRegularizer({ lambda: 0.3, D: base.D, sMin: 1e-4 })],
  }));
  const timings: StepTiming[] = [];
  let startMs = NaN;
  const t0 = performance.now();
  const { trainer } = await trainNetworks(backend, base.cfg, networks, {
    steps: o.steps,
    batchSize: B,
    inputNoise: INPUT_NOISE,
    evalEveryEpoch: false,
    batchWorkers: o.workers,
    onStepTiming: (t) => {
      // until the first batches were there: the trainer's and the feed's set-up, the workers' start
      if (!timings.length) startMs = performance.now() - t0 - stepMs(t) + t.batches;
      timings.push(t);
    },
  });
  trainer.dispose();
  return { timings, startMs };
}

function stepMs(t: StepTiming): number {
  return PARTS.reduce((s, p) => s + t[p], 0);
}

/** A run's medians per network-step: the step, its host part (all but the device wait) and each part. */
function hostRecord(r: { K: number; N: number; path: string; timed: StepTiming[]; warmup: number; startMs: number }): BenchRecord {
  const { K, timed } = r;
  const totals = timed.map((t) => stepMs(t) / K);
  const hosts = timed.map((t) => (stepMs(t) - t.wait) / K);
  const shares = timed.map((t) => (100 * (stepMs(t) - t.wait)) / stepMs(t));
  const parts = Object.fromEntries(PARTS.map((p) => [p, median(timed.map((t) => t[p] / K))]));
  return {
    suite: 'host',
    name: `K=${K} ${r.path}`,
    unit: 'ms/network-step',
    K,
    N: r.N,
    B,
    T,
    nIn: inferenceTask.nIn,
    inputNoise: INPUT_NOISE,
    reg: 'WDC',
    path: r.path,
    threads: timed[0]?.threads ?? 0,
    median: median(totals),
    min: Math.min(...totals),
    max: Math.max(...totals),
    hostMs: median(hosts),
    hostShare: median(shares),
    parts,
    startMs: r.startMs,
    repeats: timed.length,
    warmup: r.warmup,
    timing: 'wall',
  };
}

function printHost(records: BenchRecord[], N: number, cap: number): void {
  const ms = (r: BenchRecord, p: (typeof PARTS)[number]) => (r.parts as Record<string, number>)[p]!;
  printTable(
    ['K', 'batches built', 'threads', 'ms/network-step', 'host ms', 'host %', 'batches', 'submit', 'prefetch', 'tally', 'device wait', 'start ms'],
    records.map((r) => [
      r.K as number,
      r.path as string,
      r.threads as number,
      r.median as number,
      r.hostMs as number,
      `${(r.hostShare as number).toFixed(1)}%`,
      ms(r, 'batches'),
      ms(r, 'submit'),
      ms(r, 'prefetch'),
      ms(r, 'tally'),
      ms(r, 'wait'),
      r.startMs as number,
    ]),
  );
  console.log(
    `Medians over ${records[0]?.repeats} steps per network-step (ms), after ${records[0]?.warmup} warm-up steps. N = ${N}, B = ${B}, T = ${T}, ` +
      `inference task (nIn = ${inferenceTask.nIn}, ${TRAIN_TRIALS} trials), input noise σ = ${INPUT_NOISE}, WDC regulariser; K capped at ${cap}. ` +
      'Host = the step minus the wait for the device; "start ms": from the call until the first batches (workers start there).',
  );
}
