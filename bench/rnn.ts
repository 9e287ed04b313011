/**
 * `bench rnn`: the canonical workload of ../shared/peers/WORKLOAD.md (a rate RNN's full BPTT
 * training step: forward over T steps, BPTT, Adam, loss read back) at N = 100, 256, 512, 1024,
 * B = 32, T = 100, without the regulariser, for both recurrent designs. Wall time per step
 * (the step ends with the loss on the host, as the peers' does). Prints the PyTorch CPU
 * figures measured on this machine class (../shared/peers/results.jsonl) beside ours.
 */
import { readFileSync } from 'node:fs';
import { GpuBackend } from '../engine/gpu/backend.ts';
import { persistentShape } from '../engine/gpu/rnn_design.ts';
import { RnnTrainer } from '../engine/rnn/trainer.ts';
import { stepMask, type Batch } from '../engine/data.ts';
import type { HostParams, RnnConfig } from '../engine/rnn/params.ts';
import type { Backend, RnnDesign } from '../engine/tensor.ts';
import type { RecurrentRegularizer } from '../engine/regularizers/regularizer.ts';
import { makeWorkload, N_IN, N_OUT } from './peers/workload.ts';
import { Rng } from '../engine/rng.ts';
import { initParams } from '../engine/rnn/params.ts';
import { median, printTable, type BenchRecord } from './harness.ts';
import type { SuiteOptions } from './harness.ts';

export interface WorkloadRun {
  cfg: RnnConfig;
  params: HostParams;
  batch: Batch;
  D: Float64Array;
}

/** The canonical workload's data and initial weights (seed 0), in the engine's layout. */
export function canonicalWorkload(N: number, B = 32, T = 100, seed = 0): WorkloadRun {
  const w = makeWorkload({ seed, N, B, T });
  const cfg: RnnConfig = { nIn: N_IN, nHidden: N, nOut: N_OUT, alpha: 0.2, outputBias: false };
  return {
    cfg,
    params: { W_in: Float64Array.from(w.W_in), W_rec: Float64Array.from(w.W_rec), b: Float64Array.from(w.b), W_out: Float64Array.from(w.W_out) },
    batch: { T, B, x: w.x, labels: Float32Array.from(w.labels), lossMask: stepMask(T, B, 'all'), scoreMask: stepMask(T, B, 'all') },
    D: Float64Array.from(w.D),
  };
}

export interface StepTiming {
  median: number;
  min: number;
  max: number;
  steps: number;
  warmup: number;
  lossFirst: number;
  lossLast: number;
}

/** Times consecutive training steps (continuing from each other's weights, like a real run). */
export async function timeTrainingSteps(
  backend: Backend,
  run: WorkloadRun,
  opts: { design?: RnnDesign; regularizers?: RecurrentRegularizer[]; budgetS?: number; minSteps?: number; maxSteps?: number; warmup?: number },
): Promise<StepTiming> {
  const trainer = new RnnTrainer(backend, run.cfg, [{ params: run.params, regularizers: opts.regularizers }], { design: opts.design });
  try {
    const warmup = opts.warmup ?? 2;
    let lossFirst = NaN;
    for (let i = 0; i < warmup; i++) {
      const [r] = await trainer.step([run.batch]);
      if (i === 0) lossFirst = r!.loss;
    }
    const times: number[] = [];
    let lossLast = NaN;
    const budget = (opts.budgetS ?? 3) * 1000;
    const start = performance.now();
    while (times.length < (opts.maxSteps ?? 50) && (times.length < (opts.minSteps ?? 3) || performance.now() - start < budget)) {
      const t0 = performance.now();
      lossLast = (await trainer.step([run.batch]))[0]!.loss;
      times.push(performance.now() - t0);
    }
    return { median: median(times), min: Math.min(...times), max: Math.max(...times), steps: times.length, warmup, lossFirst, lossLast };
  } finally {
    trainer.dispose();
  }
}

/** PyTorch figures measured for this machine class (ms/step), keyed by `${peer}:${N}:${reg}`. */
function peerReference(): Map<string, number> {
  const out = new Map<string, number>();
  const dir = process.env.CORTICAL_RNN_PEERS ?? '../shared/peers';
  try {
    for (const line of readFileSync(`${dir}/results.jsonl`, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const r = JSON.parse(line) as { peer: string; N: number | null; reg: boolean; ms_per_step: number | null };
      if (r.N !== null && r.ms_per_step !== null) out.set(`${r.peer}:${r.N}:${r.reg}`, r.ms_per_step);
    }
  } catch {
    // no reference file: the columns print as '-'
  }
  return out;
}

export async function benchRnn(backend: Backend, opts: SuiteOptions): Promise<BenchRecord[]> {
  const sizes = opts.sizes ?? (opts.quick ? [100, 256] : [100, 256, 512, 1024]);
  const records: BenchRecord[] = [];
  const ref = peerReference();
  for (const N of sizes) {
    const run = canonicalWorkload(N);
    const designs: RnnDesign[] = ['per-step'];
    if (backend instanceof GpuBackend && persistentShape(backend.ctx, N, run.batch.B) && N <= 512) designs.push('persistent');
    for (const design of designs) {
      const big = N >= 1024;
      const s = await timeTrainingSteps(backend, run, {
        design,
        budgetS: opts.quick ? 1.5 : 3,
        minSteps: big ? 2 : 3,
        maxSteps: big ? 3 : 50,
        warmup: big ? 1 : 2,
      });
      records.push({
        suite: 'rnn',
        name: `rnn N=${N} ${design}`,
        unit: 'ms/step',
        N,
        B: run.batch.B,
        T: run.batch.T,
        reg: false,
        design,
        ...s,
        timing: 'wall',
        torchCpuMs: ref.get(`torch-cpu:${N}:false`) ?? null,
        tfjsWebgpuMs: ref.get(`tfjs-webgpu-vulkan:${N}:false`) ?? null,
      });
      if (backend instanceof GpuBackend) backend.ctx.trimPool();
    }
  }
  if (!opts.json) {
    printTable(
      ['N', 'design', 'ms/step median', 'min', 'max', 'steps', 'loss[0]', 'PyTorch CPU ms*', 'vs PyTorch', 'tfjs-webgpu ms*', 'vs tfjs-webgpu'],
      records.map((r) => [
        r.N as number,
        r.design as string,
        r.median as number,
        r.min as number,
        r.max as number,
        r.steps as number,
        (r.lossFirst as number).toFixed(6),
        (r.torchCpuMs as number | null) ?? '-',
        r.torchCpuMs ? `${((r.torchCpuMs as number) / (r.median as number)).toFixed(2)}x` : '-',
        (r.tfjsWebgpuMs as number | null) ?? '-',
        r.tfjsWebgpuMs ? `${((r.tfjsWebgpuMs as number) / (r.median as number)).toFixed(1)}x` : '-',
      ]),
    );
    console.log('B = 32, T = 100, α = 0.2, no regulariser; wall time per full training step (loss read back).');
    console.log(
      '* reference figures from ../shared/peers/results.jsonl (same machine class, not this run); `bench peers` runs the peers side by side. "vs" > 1 means faster than the peer.',
    );
  }
  return records;
}

/**
 * The paper's model at benchmark scale: an Elman relu RNN (α = 1) with 8 inputs, 4 classes and
 * an output bias, loss at the last step, on random inputs; D from random positions in the unit
 * cube. N = 312, B = 128, T = 50 is field 6_6_2 on the one-step inference task.
 */
export function paperWorkload(N = 312, B = 128, T = 50, seed = 0): WorkloadRun {
  const rng = new Rng(seed, 'paper-workload');
  const cfg: RnnConfig = { nIn: 8, nHidden: N, nOut: 4, alpha: 1, outputBias: true };
  const params = initParams(cfg, rng.fork('init'));
  const pos = Float64Array.from({ length: 3 * N }, () => rng.uniform());
  const D = new Float64Array(N * N);
  for (let i = 0; i < N; i++)
    for (let j = 0; j < N; j++) D[i * N + j] = Math.hypot(pos[3 * i]! - pos[3 * j]!, pos[3 * i + 1]! - pos[3 * j + 1]!, pos[3 * i + 2]! - pos[3 * j + 2]!);
  return {
    cfg,
    params,
    batch: {
      T,
      B,
      x: Float32Array.from({ length: T * B * 8 }, () => (rng.uniform() < 0.3 ? 1 : 0)),
      labels: Float32Array.from({ length: T * B }, () => rng.int(4)),
      lossMask: stepMask(T, B, 'last'),
      scoreMask: stepMask(T, B, 'last'),
    },
    D,
  };
}
