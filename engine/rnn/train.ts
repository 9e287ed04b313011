/**
 * The training loop: K ≥ 1 networks of one shape, each with its own data, seed, regularisers
 * and constraints, trained side by side by one RnnTrainer (one network is K = 1).
 *   trainNetworks(backend, cfg, networks, { epochs | steps, batchSize, lr, inputNoise })
 * Each network draws its batches and input noise from its own seed, so it follows the same
 * trajectory whether it is trained alone or beside others. Per-step and per-epoch callbacks;
 * W_rec after every epoch; evaluation on a held-out set. A network that produces NaN/Inf is
 * recorded as diverged (a NonFiniteError naming the step, the tensor and the model); the
 * others train on. `train` is the one-network form, which throws the error instead.
 */
import type { Backend } from '../tensor.ts';
import type { RecurrentRegularizer } from '../regularizers/regularizer.ts';
import { gatherBatch, type Batch, type Dataset, type Splits } from '../data.ts';
import { RnnTrainer, type AdamOptions } from './trainer.ts';
import { openBatchFeed, type BatchFeed } from './batch_workers.ts';
import { ShapeError, type NonFiniteError } from '../errors.ts';
import type { RnnDesign } from '../tensor.ts';
import type { HostParams, RnnConfig } from './params.ts';

export interface StepInfo {
  step: number;
  /** The epoch this step belongs to, numbered from 1. */
  epoch: number;
  loss: number;
  ce: number;
  reg: number;
}

export interface EpochInfo {
  /** Numbered from 1, as in metrics.csv and the W_rec_epochNN.npy names. */
  epoch: number;
  step: number;
  meanLoss: number;
  meanCe: number;
  meanReg: number;
  /** Running training accuracy over the epoch, with input noise on (the paper's number). */
  trainAccuracy: number;
  /** Accuracy on the held-out evaluation set (validation when given, else test). */
  evalAccuracy?: number;
  evalLoss?: number;
  seconds: number;
}

/** One network of a training run: its weights, data, seed, regularisers and constraints. */
export interface TrainNetwork {
  params: HostParams;
  splits: Splits;
  seed: number;
  regularizers?: RecurrentRegularizer[];
  positiveOnly?: boolean;
  recurrentMask?: ArrayLike<number>;
  onStep?: (info: StepInfo) => void | Promise<void>;
  onEpoch?: (info: EpochInfo, W_rec: Float64Array) => void | Promise<void>;
}

export interface TrainOptions {
  epochs?: number;
  /** Stop after this many steps in total (overrides epochs when smaller). */
  steps?: number;
  batchSize?: number;
  lr?: number;
  adam?: Partial<AdamOptions>;
  /** σ of the Gaussian input noise during training (paper: 0.05). */
  inputNoise?: number;
  design?: RnnDesign | 'auto';
  /** Keep W_rec after each epoch in the result (default false; onEpoch receives it anyway). */
  snapshots?: boolean;
  /** Evaluate on the held-out set after every epoch (default: val ?? test, when present). */
  evalEveryEpoch?: boolean;
  /**
   * Build the training batches (input noise included) in worker threads: 'auto' (default) where
   * they pay off, true always (Node only), false in this thread. The batches are the same either way.
   */
  batchWorkers?: 'auto' | boolean;
  /** Called after every step with where its wall time went on this thread (`bench host` reads it). */
  onStepTiming?: (t: StepTiming) => void;
}

/** Where one training step's wall time went on this thread, in ms; the parts add up to the step. */
export interface StepTiming {
  step: number;
  /** Worker threads building the batches (0: this thread builds them). */
  threads: number;
  /** Building this step's batches here, or waiting for the workers that build them. */
  batches: number;
  /** The trainer's step up to its first await: upload packing, recording and submitting the device work. */
  submit: number;
  /** Starting the next step's batches while the device runs (in this thread: building them). */
  prefetch: number;
  /** Waiting for the step's results: the device's work and the read-back. */
  wait: number;
  /** Tallying the results: accuracies, sums, the onStep callbacks. */
  tally: number;
}

export interface NetworkResult {
  history: EpochInfo[];
  steps: number;
  snapshots: Float64Array[];
  /** Set when this network produced NaN/Inf; the others trained on. */
  diverged?: NonFiniteError;
}

/** Correct and scored decisions of logits [T·B, C] at the batch's scored rows. */
export function countCorrect(logits: ArrayLike<number>, batch: Batch, nOut: number): { correct: number; total: number } {
  let correct = 0;
  let total = 0;
  for (let r = 0; r < batch.T * batch.B; r++) {
    if (!batch.scoreMask[r]) continue;
    let best = 0;
    for (let c = 1; c < nOut; c++) if (logits[r * nOut + c]! > logits[r * nOut + best]!) best = c;
    total++;
    if (best === batch.labels[r]) correct++;
  }
  return { correct, total };
}

/** Σ mask·CE and Σ mask of logits [T·B, C] over the loss mask (float64, on the host). */
function maskedCrossEntropy(logits: ArrayLike<number>, batch: Batch, nOut: number): { sum: number; weight: number } {
  let sum = 0;
  let weight = 0;
  for (let r = 0; r < batch.T * batch.B; r++) {
    const w = batch.lossMask[r]!;
    if (!w) continue;
    let mx = -Infinity;
    for (let k = 0; k < nOut; k++) mx = Math.max(mx, logits[r * nOut + k]!);
    let se = 0;
    for (let k = 0; k < nOut; k++) se += Math.exp(logits[r * nOut + k]! - mx);
    sum += w * (Math.log(se) + mx - logits[r * nOut + batch.labels[r]!]!);
    weight += w;
  }
  return { sum, weight };
}

/** Accuracy (at the scored steps) and mean loss of model k on sets[k], without noise or updates. */
export async function evaluate(trainer: RnnTrainer, sets: Dataset[], batchSize = 128): Promise<{ accuracy: number; loss: number }[]> {
  if (sets.length !== trainer.K) {
    throw new ShapeError('evaluate', { message: `evaluate: expected ${trainer.K} datasets (one per model), got ${sets.length}` });
  }
  const nOut = trainer.cfg.nOut;
  const n = sets[0]!.nTrials;
  if (sets.some((ds) => ds.nTrials !== n)) throw new ShapeError('evaluate', { message: 'evaluate: every model needs a dataset of the same size' });
  const acc = sets.map(() => ({ correct: 0, total: 0, loss: 0, weight: 0 }));
  for (let start = 0; start < n; start += batchSize) {
    const idx = Int32Array.from({ length: Math.min(batchSize, n - start) }, (_, i) => start + i);
    const batchList = sets.map((ds) => gatherBatch(ds, idx));
    const logits = await trainer.logits(batchList, 'masked'); // the scored and weighed rows are all it reads
    batchList.forEach((batch, k) => {
      const c = countCorrect(logits[k]!, batch, nOut);
      const l = maskedCrossEntropy(logits[k]!, batch, nOut);
      const a = acc[k]!;
      a.correct += c.correct;
      a.total += c.total;
      a.loss += l.sum;
      a.weight += l.weight;
    });
  }
  return acc.map((a) => ({ accuracy: a.total ? a.correct / a.total : NaN, loss: a.weight ? a.loss / a.weight : NaN }));
}

/** One network's running totals over an epoch. */
interface EpochSums {
  loss: number;
  ce: number;
  reg: number;
  n: number;
  correct: number;
  total: number;
}

/** Adds one step's results to each live network's totals (marking the diverged) and calls its onStep. */
async function tallyStep(
  networks: TrainNetwork[],
  results: NetworkResult[],
  sums: EpochSums[],
  stepResults: Awaited<ReturnType<RnnTrainer['step']>>,
  batchList: Batch[],
  nOut: number,
  step: number,
  epoch: number,
): Promise<void> {
  for (let k = 0; k < networks.length; k++) {
    if (results[k]!.diverged) continue;
    const r = stepResults[k]!;
    if (r.diverged) {
      results[k]!.diverged = r.diverged;
      continue;
    }
    const c = countCorrect(r.logits!, batchList[k]!, nOut);
    const s = sums[k]!;
    s.correct += c.correct;
    s.total += c.total;
    s.loss += r.loss;
    s.ce += r.ce;
    s.reg += r.reg;
    s.n++;
    results[k]!.steps = step;
    await networks[k]!.onStep?.({ step, epoch, loss: r.loss, ce: r.ce, reg: r.reg });
  }
}

/** Each live network's EpochInfo (with its evaluation), kept in its history, and its onEpoch called. */
async function endEpoch(
  trainer: RnnTrainer,
  networks: TrainNetwork[],
  results: NetworkResult[],
  sums: EpochSums[],
  e: { epoch: number; step: number; seconds: number; evals: { accuracy: number; loss: number }[] | null; snapshots?: boolean },
): Promise<void> {
  const params = await trainer.getAllParams();
  for (let k = 0; k < networks.length; k++) {
    if (results[k]!.diverged) continue;
    const s = sums[k]!;
    const info: EpochInfo = {
      epoch: e.epoch,
      step: e.step,
      meanLoss: s.loss / s.n,
      meanCe: s.ce / s.n,
      meanReg: s.reg / s.n,
      trainAccuracy: s.total ? s.correct / s.total : NaN,
      seconds: e.seconds,
    };
    if (e.evals) {
      info.evalAccuracy = e.evals[k]!.accuracy;
      info.evalLoss = e.evals[k]!.loss;
    }
    results[k]!.history.push(info);
    if (e.snapshots) results[k]!.snapshots.push(params[k]!.W_rec);
    await networks[k]!.onEpoch?.(info, params[k]!.W_rec);
  }
}

/** What every step of a run shares: its networks, their results and this epoch's sums. */
interface StepContext {
  trainer: RnnTrainer;
  feed: BatchFeed;
  networks: TrainNetwork[];
  results: NetworkResult[];
  sums: EpochSums[];
  epoch: number;
  onTiming?: (t: StepTiming) => void;
}

/** Training step `step` (from 0) of every network, with the next step's batches started while the device runs it. */
async function trainStep(c: StepContext, step: number): Promise<void> {
  const t0 = performance.now();
  const batchList = await c.feed.take(step);
  const t1 = performance.now();
  // step() submits the device work before its first await, so the next batches (input noise
  // included, drawn in the same order as before) are built while the device runs this one.
  const pending = c.trainer.step(batchList, { returnLogits: 'masked' }); // countCorrect reads the scored rows
  const t2 = performance.now();
  c.feed.prefetch(step + 1);
  const t3 = performance.now();
  const stepResults = await pending;
  const t4 = performance.now();
  await tallyStep(c.networks, c.results, c.sums, stepResults, batchList, c.trainer.cfg.nOut, step + 1, c.epoch);
  const t5 = performance.now();
  c.onTiming?.({ step: step + 1, threads: c.feed.threads, batches: t1 - t0, submit: t2 - t1, prefetch: t3 - t2, wait: t4 - t3, tally: t5 - t4 });
}

/** Whether the backend is a WebGPU CPU adapter (llvmpipe, SwiftShader), read without importing the GPU backend. */
function isSoftwareAdapter(backend: Backend): boolean {
  return (backend as { ctx?: { summary?: { isFallbackAdapter?: boolean } } }).ctx?.summary?.isFallbackAdapter === true;
}

/** Trains K networks side by side; returns the trainer (for evaluation and weights) and each network's result. */
export async function trainNetworks(
  backend: Backend,
  cfg: RnnConfig,
  networks: TrainNetwork[],
  opts: TrainOptions = {},
): Promise<{ trainer: RnnTrainer; results: NetworkResult[] }> {
  const batchSize = opts.batchSize ?? 128;
  const nTrain = networks[0]!.splits.train.nTrials;
  if (networks.some((m) => m.splits.train.nTrials !== nTrain)) {
    throw new ShapeError('train', { message: 'train: every network needs the same number of training trials' });
  }
  const stepsPerEpoch = Math.ceil(nTrain / batchSize);
  const epochs = opts.epochs ?? (opts.steps ? Math.ceil(opts.steps / stepsPerEpoch) : 10);
  const maxSteps = opts.steps ?? epochs * stepsPerEpoch;
  const trainer = new RnnTrainer(
    backend,
    cfg,
    networks.map((m) => ({ params: m.params, regularizers: m.regularizers, positiveOnly: m.positiveOnly, recurrentMask: m.recurrentMask })),
    { adam: { ...opts.adam, ...(opts.lr !== undefined ? { lr: opts.lr } : {}) }, design: opts.design },
  );
  const results: NetworkResult[] = networks.map(() => ({ history: [], steps: 0, snapshots: [] }));
  const live = () => results.some((r) => !r.diverged);
  const evalSets = networks.map((m) => m.splits.val ?? m.splits.test);
  const evalEach = opts.evalEveryEpoch !== false && evalSets.every(Boolean);
  let step = 0;
  let feed: BatchFeed | null = null;
  try {
    feed = openBatchFeed(
      networks.map((m) => ({ train: m.splits.train, seed: m.seed })),
      {
        batchSize,
        noise: opts.inputNoise ?? 0,
        steps: Math.min(maxSteps, epochs * stepsPerEpoch),
        workers: opts.batchWorkers,
        deviceOnHostCores: isSoftwareAdapter(backend),
      },
    );
    for (let epoch = 0; epoch < epochs && step < maxSteps && live(); epoch++) {
      const t0 = Date.now();
      const sums: EpochSums[] = networks.map(() => ({ loss: 0, ce: 0, reg: 0, n: 0, correct: 0, total: 0 }));
      const c: StepContext = { trainer, feed, networks, results, sums, epoch: epoch + 1, onTiming: opts.onStepTiming };
      for (let b = 0; b < stepsPerEpoch && step < maxSteps && live(); b++) await trainStep(c, step++);
      const seconds = (Date.now() - t0) / 1000;
      if (!live()) break;
      const evals = evalEach ? await evaluate(trainer, evalSets as Dataset[], batchSize) : null;
      await endEpoch(trainer, networks, results, sums, { epoch: epoch + 1, step, seconds, evals, snapshots: opts.snapshots });
    }
  } catch (e) {
    trainer.dispose();
    throw e;
  } finally {
    await feed?.close();
  }
  return { trainer, results };
}

/** One network: `trainNetworks` with K = 1. A divergence is thrown as the NonFiniteError. */
export async function train(
  backend: Backend,
  cfg: RnnConfig,
  network: TrainNetwork,
  opts: TrainOptions = {},
): Promise<{ trainer: RnnTrainer } & NetworkResult> {
  const { trainer, results } = await trainNetworks(backend, cfg, [network], opts);
  const r = results[0]!;
  if (r.diverged) {
    trainer.dispose();
    throw r.diverged;
  }
  return { trainer, ...r };
}
