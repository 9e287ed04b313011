/**
 * Training batches built in worker threads: the same bit for bit as the in-thread gatherBatch
 * with the same streams (several networks, seeds, epochs, noise on and off), the same training
 * run with workers forced on or off, workers ended when training ends or throws, and a worker's
 * failure surfacing as an error of trainNetworks, not a hang.
 */
import { availableParallelism } from 'node:os';
import * as workerThreads from 'node:worker_threads';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CpuBackend } from '../engine/cpu/backend.ts';
import { batchOrder, gatherBatch, type Batch, type Dataset } from '../engine/data.ts';
import { OptionError } from '../engine/errors.ts';
import { Rng } from '../engine/rng.ts';
import { openBatchFeed, type FeedNetwork } from '../engine/rnn/batch_workers.ts';
import { initParams, type HostParams, type RnnConfig } from '../engine/rnn/params.ts';
import { trainNetworks, type TrainNetwork } from '../engine/rnn/train.ts';
import { L1Regularizer } from '../engine/regularizers/regularizer.ts';

const cpu = new CpuBackend('f64');

/** Random trials: inputs, labels (−1 where there is no target), masks; a loss mask when asked. */
function dataset(nTrials: number, T: number, nIn: number, nOut: number, seed: number, withLossMask: boolean): Dataset {
  const rng = new Rng(seed, 'host-batches-data');
  const labels = Int32Array.from({ length: nTrials * T }, () => (rng.uniform() < 0.3 ? -1 : rng.int(nOut)));
  return {
    nTrials,
    T,
    nIn,
    nOut,
    inputs: Float32Array.from({ length: nTrials * T * nIn }, () => rng.uniformIn(-1, 1)),
    labels,
    mask: Float32Array.from(labels, (l, i) => (l >= 0 && i % T === T - 1 ? 1 : 0)),
    ...(withLossMask ? { lossMask: Float32Array.from(labels, (l) => (l >= 0 ? 1 : 0)) } : {}),
    trialInfo: {},
  };
}

/** The batches of the in-thread loop as trainNetworks has always drawn them: per-epoch orders and one noise stream per network. */
function referenceBatches(n: FeedNetwork, batchSize: number, noise: number, steps: number): Batch[] {
  const rng = new Rng(n.seed, 'train');
  const noiseRng = rng.fork('input-noise');
  const out: Batch[] = [];
  for (let epoch = 0; out.length < steps; epoch++) {
    for (const idx of batchOrder(n.train, batchSize, rng.fork(`epoch-${epoch}`))) {
      if (out.length < steps) out.push(gatherBatch(n.train, idx, noise, noiseRng));
    }
  }
  return out;
}

function expectSameBatch(got: Batch, want: Batch, where: string): void {
  expect([got.T, got.B], where).toEqual([want.T, want.B]);
  for (const key of ['x', 'labels', 'lossMask', 'scoreMask'] as const) {
    const g = got[key] as Float32Array;
    const w = want[key] as Float32Array;
    expect(g, `${where} ${key}`).toBeInstanceOf(Float32Array);
    // bit for bit: the bytes, not the values to a tolerance
    expect(Buffer.from(g.buffer, g.byteOffset, g.byteLength).equals(Buffer.from(w.buffer, w.byteOffset, w.byteLength)), `${where} ${key}`).toBe(true);
  }
  expect(got.lossMask === got.scoreMask, `${where}: lossMask is scoreMask exactly when the task has no loss mask`).toBe(want.lossMask === want.scoreMask);
}

/** Replaces node:worker_threads' Worker, as the engine reaches it, with `make`'s; records every worker and its exit. */
function spyWorkers(make?: (data: unknown) => workerThreads.Worker): { started: workerThreads.Worker[]; exited: () => number } {
  const started: workerThreads.Worker[] = [];
  let exited = 0;
  class Recording extends workerThreads.Worker {
    constructor(script: string | URL, options?: workerThreads.WorkerOptions) {
      super(script, options);
      started.push(this);
      this.on('exit', () => exited++);
    }
  }
  const Worker = make
    ? function (_script: string | URL, options?: workerThreads.WorkerOptions) {
        const w = make(options?.workerData);
        started.push(w);
        w.on('exit', () => exited++);
        return w;
      }
    : Recording;
  const real = process.getBuiltinModule.bind(process) as (id: string) => unknown;
  vi.spyOn(process, 'getBuiltinModule').mockImplementation(((id: string) =>
    id === 'node:worker_threads' ? { ...workerThreads, Worker } : real(id)) as typeof process.getBuiltinModule);
  return { started, exited: () => exited };
}

afterEach(() => vi.restoreAllMocks());

describe('training batches built in worker threads', () => {
  // 37 trials in batches of 16: the last batch of an epoch has 5 trials, so T·B·nIn = 75 normals
  // is odd there and the Box–Muller spare crosses into the next batch.
  const T = 5;
  const nIn = 3;
  const nets: FeedNetwork[] = [
    { train: dataset(37, T, nIn, 3, 1, false), seed: 0 },
    { train: dataset(37, T, nIn, 3, 2, true), seed: 7 },
    { train: dataset(37, T, nIn, 3, 3, false), seed: 123456 },
    { train: dataset(37, T, nIn, 3, 4, true), seed: 7 },
    { train: dataset(37, T, nIn, 3, 5, false), seed: 99 },
  ];
  nets.push({ train: nets[0]!.train, seed: 5 }); // two networks on one training set

  for (const noise of [0.05, 0]) {
    it(`equal gatherBatch's with the same streams, over 3 epochs (noise ${noise})`, async () => {
      const steps = 8; // 3 batches per epoch
      const want = nets.map((n) => referenceBatches(n, 16, noise, steps));
      for (const workers of [true, false]) {
        const feed = openBatchFeed(nets, { batchSize: 16, noise, steps, workers });
        try {
          expect(feed.threads).toBe(workers ? Math.min(availableParallelism(), nets.length) : 0);
          for (let s = 0; s < steps; s++) {
            const got = await feed.take(s);
            expect(got).toHaveLength(nets.length);
            got.forEach((b, k) => expectSameBatch(b, want[k]![s]!, `${workers ? 'workers' : 'in-thread'}: network ${k}, step ${s}`));
          }
          await expect(feed.take(steps)).rejects.toThrow(/beyond the run's 8 steps/);
        } finally {
          await feed.close();
        }
      }
    });
  }

  it('fall back to this thread without worker threads, and for tiny work when left to choose', async () => {
    const opts = { batchSize: 16, noise: 0.05, steps: 8 };
    expect(openBatchFeed(nets, { ...opts, workers: 'auto' }).threads).toBe(0); // 6·5·16·3 values a step: below the threshold
    const big = Array.from({ length: 8 }, (_, k) => ({ train: dataset(256, 50, 8, 3, k, false), seed: k }));
    const feed = openBatchFeed(big, { batchSize: 128, noise: 0.05, steps: 40, workers: 'auto' });
    expect(feed.threads).toBeGreaterThan(0);
    await feed.close();
    expect(openBatchFeed(big, { batchSize: 128, noise: 0.05, steps: 40, workers: 'auto', deviceOnHostCores: true }).threads).toBe(0);
    vi.spyOn(process, 'getBuiltinModule').mockReturnValue(undefined);
    expect(openBatchFeed(big, { batchSize: 128, noise: 0.05, steps: 40, workers: 'auto' }).threads).toBe(0);
    expect(() => openBatchFeed(nets, { ...opts, workers: true })).toThrow(OptionError);
  });
});

describe('trainNetworks with batch workers', () => {
  const cfg: RnnConfig = { nIn: 3, nHidden: 8, nOut: 3, alpha: 0.5, outputBias: true };

  function networks(): TrainNetwork[] {
    return [0, 1, 2].map((k) => ({
      params: initParams(cfg, new Rng(10 + k, 'init')),
      splits: { train: dataset(40, 6, cfg.nIn, cfg.nOut, 20 + k, k === 1), val: dataset(16, 6, cfg.nIn, cfg.nOut, 30 + k, k === 1) },
      seed: 40 + k,
      ...(k === 2 ? { regularizers: [new L1Regularizer(0.01)] } : {}),
    }));
  }

  async function run(batchWorkers: boolean): Promise<{ losses: number[][]; params: HostParams[]; accuracies: number[][]; threads: number[] }> {
    const nets = networks();
    const losses: number[][] = nets.map(() => []);
    nets.forEach((n, k) => (n.onStep = (s) => void losses[k]!.push(s.loss, s.ce, s.reg)));
    const threads: number[] = [];
    const { trainer, results } = await trainNetworks(cpu, cfg, nets, {
      epochs: 2,
      batchSize: 16,
      lr: 1e-2,
      inputNoise: 0.05,
      batchWorkers,
      onStepTiming: (t) => threads.push(t.threads),
    });
    const params = await trainer.getAllParams();
    trainer.dispose();
    return { losses, params, accuracies: results.map((r) => r.history.flatMap((h) => [h.trainAccuracy, h.evalAccuracy!])), threads };
  }

  it('trains K = 3 networks to the same losses and weights with workers forced on or off, and ends its workers', async () => {
    const spy = spyWorkers();
    const on = await run(true);
    expect(spy.started.length).toBe(Math.min(availableParallelism(), 3));
    expect(spy.exited()).toBe(spy.started.length);
    const off = await run(false);
    expect(spy.started.length).toBe(Math.min(availableParallelism(), 3)); // none more
    expect(on.threads.length).toBe(6); // 2 epochs of 3 steps
    expect(on.threads.every((t) => t > 0) && off.threads.every((t) => t === 0)).toBe(true);
    expect(on.losses).toEqual(off.losses);
    expect(on.accuracies).toEqual(off.accuracies);
    on.params.forEach((p, k) => {
      for (const key of Object.keys(p) as (keyof HostParams)[]) expect(Array.from(p[key]!), `network ${k} ${key}`).toEqual(Array.from(off.params[k]![key]!));
    });
    expect(on.losses[0]![0]).not.toBe(on.losses[1]![0]); // the networks differ: the comparison can fail
  });

  const failures = [
    [
      'throws',
      "require('node:worker_threads').parentPort.on('message', () => { throw new Error('worker boom'); });",
      /batch worker 1 of \d+: Error: worker boom/,
    ],
    ['exits', "require('node:worker_threads').parentPort.on('message', () => process.exit(3));", /batch worker 1 of \d+: Error: exited \(code 3\)/],
  ] as const;
  for (const [what, script, message] of failures) {
    it(`surfaces a worker that ${what} as an error of trainNetworks, and ends the other workers`, async () => {
      let n = 0;
      // The first worker fails at its first request; the others build their batches as usual.
      const spy = spyWorkers((workerData) => new workerThreads.Worker(n++ === 0 ? script : 'setInterval(() => {}, 1000);', { eval: true, workerData }));
      await expect(trainNetworks(cpu, cfg, networks(), { epochs: 1, batchSize: 16, inputNoise: 0.05, batchWorkers: true })).rejects.toThrow(message);
      expect(spy.started.length).toBeGreaterThan(0);
      expect(spy.exited()).toBe(spy.started.length);
    });
  }
});
