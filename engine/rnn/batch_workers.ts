/**
 * The training batches of K networks, built ahead of the step that consumes them: in worker
 * threads where Node offers them, else in this thread. The input noise dominates: a paper-task
 * batch holds T·B·nIn = 51 200 normals, about 3 ms of JavaScript, so K = 55 networks take more
 * host time per step than the device's step does on a data-centre GPU.
 *
 * Network k's batches are the same bit for bit on either path: its trial order is drawn from the
 * same forks of its seed, and its input-noise stream lives, for the whole run, in the one place
 * that draws from it (one worker, or this thread), which builds its batches in step order.
 */
import { batchOrder, gatherBatch, type Batch, type Dataset } from '../data.ts';
import { EngineError, OptionError } from '../errors.ts';
import { Rng } from '../rng.ts';

type WorkerThreads = typeof import('node:worker_threads');
type NodeWorker = import('node:worker_threads').Worker;

/** One network's training batches in step order: its trial order per epoch and its input-noise stream. */
class NetworkBatches {
  private readonly trainRng: Rng;
  private readonly noiseRng: Rng;
  private readonly stepsPerEpoch: number;
  private epoch = -1;
  private order: Int32Array[] = [];
  private nextStep = 0;

  constructor(
    private readonly train: Dataset,
    seed: number,
    private readonly batchSize: number,
    private readonly noise: number,
  ) {
    // The stream names trainNetworks has always used: a run's batches do not depend on where they are built.
    this.trainRng = new Rng(seed, 'train');
    this.noiseRng = this.trainRng.fork('input-noise');
    this.stepsPerEpoch = Math.ceil(train.nTrials / batchSize);
  }

  /** The batch of step `step` (from 0 over the whole run); steps come in order, as the noise stream advances. */
  build(step: number): Batch {
    if (step !== this.nextStep) throw new EngineError(`NetworkBatches: step ${step} asked for, expected step ${this.nextStep} (steps come in order)`);
    const epoch = Math.floor(step / this.stepsPerEpoch);
    if (epoch !== this.epoch) {
      this.order = batchOrder(this.train, this.batchSize, this.trainRng.fork(`epoch-${epoch}`));
      this.epoch = epoch;
    }
    this.nextStep++;
    return gatherBatch(this.train, this.order[step % this.stepsPerEpoch]!, this.noise, this.noiseRng);
  }
}

/** The batches of every network, one training step at a time. */
export interface BatchFeed {
  /** Worker threads building the batches (0: this thread builds them). */
  readonly threads: number;
  /** Starts building step `step`'s batches (in this thread: builds them now). Beyond the run's last step it does nothing. */
  prefetch(step: number): void;
  /** Step `step`'s batches, one per network; steps are taken in order. */
  take(step: number): Promise<Batch[]>;
  /** Ends the workers; call it when training ends or throws. */
  close(): Promise<void>;
}

interface BatchFeedOptions {
  batchSize: number;
  /** σ of the input noise (0: none). */
  noise: number;
  /** Steps in the run: nothing is built beyond them. */
  steps: number;
  /** Worker threads: 'auto' (default) uses them where they pay off, true forces them, false keeps the batches in this thread. */
  workers?: 'auto' | boolean;
  /**
   * The device computes on this machine's cores (a CPU adapter such as llvmpipe): 'auto' keeps
   * the batches in this thread, as workers would take those cores from the device. Measured with
   * `bench host` on 2 cores: workers made a step of K = 8 or 55 networks 7–45 % slower there.
   */
  deviceOnHostCores?: boolean;
}

/** One network's source of batches: its training set and seed. */
export interface FeedNetwork {
  train: Dataset;
  seed: number;
}

/**
 * 'auto' starts workers when the in-thread builds they take over would cost more than starting
 * them. Measured on a 2-core x86 machine under Node 20: a build costs ~47 ns per input value with
 * noise (gather and Box–Muller; a paper-task batch of 51 200 values: ~2.4 ms) and ~10 ns without;
 * a worker starts in 0.25–0.9 s from the TypeScript sources (it registers tsx first), less when
 * compiled; with workers this thread spends ~0.02 ms a step posting requests and taking the
 * transferred batches. So K = 55 paper-task networks pay for workers within a few steps and one
 * network within ~200 steps (a 400-step paper run), while the tests' tiny runs never do.
 */
const BUILD_NS_PER_VALUE = { noise: 47, plain: 10 };
const WORKER_START_MS = 500;
/** Nor when a step's builds are this short: messaging and latency would eat the gain. */
const MIN_BUILD_MS_PER_STEP = 0.5;

/** The batch feed of a run: worker threads where they pay off (or are forced), else this thread. */
export function openBatchFeed(networks: FeedNetwork[], opts: BatchFeedOptions): BatchFeed {
  const node = opts.workers === false ? null : nodeWorkers();
  const threads = feedThreads(networks, opts, node);
  return threads === 0 ? new InThreadFeed(networks, opts) : new WorkerFeed(networks, opts, node!, threads);
}

/** How many workers build the batches: min(cores, K) when workers are on, 0 for this thread. */
function feedThreads(networks: FeedNetwork[], opts: BatchFeedOptions, node: NodeWorkers | null): number {
  const choice = opts.workers ?? 'auto';
  if (choice === false || networks.length === 0) return 0;
  if (!node) {
    if (choice === true) {
      throw new OptionError('batchWorkers', "false or 'auto' here (no Node worker threads, or no tsx to run them from the sources)", 'true');
    }
    return 0;
  }
  if (choice === 'auto') {
    if (opts.deviceOnHostCores) return 0;
    const ds = networks[0]!.train;
    const values = networks.length * ds.T * Math.min(opts.batchSize, ds.nTrials) * ds.nIn;
    const buildMs = (values * (opts.noise > 0 ? BUILD_NS_PER_VALUE.noise : BUILD_NS_PER_VALUE.plain)) / 1e6;
    if (buildMs < MIN_BUILD_MS_PER_STEP || buildMs * opts.steps < WORKER_START_MS) return 0;
  }
  return Math.max(1, Math.min(node.cores, networks.length));
}

/** Builds each step's batches in this thread (browsers, small runs, or when asked). */
class InThreadFeed implements BatchFeed {
  readonly threads = 0;
  private readonly streams: NetworkBatches[];
  private readonly built = new Map<number, Batch[]>();

  constructor(
    networks: FeedNetwork[],
    private readonly opts: BatchFeedOptions,
  ) {
    this.streams = networks.map((n) => new NetworkBatches(n.train, n.seed, opts.batchSize, opts.noise));
  }

  prefetch(step: number): void {
    if (step >= this.opts.steps || this.built.has(step)) return;
    const batches = this.streams.map((s) => s.build(step));
    this.built.set(step, batches);
  }

  take(step: number): Promise<Batch[]> {
    this.prefetch(step);
    const batches = this.built.get(step);
    if (!batches) return Promise.reject(new EngineError(`batch feed: step ${step} is beyond the run's ${this.opts.steps} steps`));
    this.built.delete(step);
    return Promise.resolve(batches);
  }

  async close(): Promise<void> {}
}

interface NodeWorkers {
  cores: number;
  start(workerData: WorkerInit): NodeWorker;
}

/** Node's core count and a way to start a batch worker; null where there are no worker threads (browsers). */
function nodeWorkers(): NodeWorkers | null {
  const get = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  if (typeof get !== 'function') return null;
  const threads = get('node:worker_threads') as WorkerThreads | undefined;
  const os = get('node:os') as typeof import('node:os') | undefined;
  if (!threads?.Worker || !os) return null;
  // The file name is a variable so that bundlers do not emit the worker as an asset of a browser build.
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSource ? WORKER_SOURCE : WORKER_COMPILED, import.meta.url);
  let boot: string | null = null;
  if (fromSource) {
    // Hooks registered in this thread do not reach a worker's: from the sources the worker registers tsx first.
    const module = get('node:module') as typeof import('node:module');
    const url = get('node:url') as typeof import('node:url');
    let tsx: string;
    try {
      tsx = url.pathToFileURL(module.createRequire(import.meta.url).resolve('tsx/esm/api')).href;
    } catch {
      return null;
    }
    boot = `(async () => { const { register } = await import(${JSON.stringify(tsx)}); register(); await import(${JSON.stringify(entry.href)}); })()`;
  }
  const start = (workerData: WorkerInit) => (boot ? new threads.Worker(boot, { eval: true, workerData }) : new threads.Worker(entry, { workerData }));
  return { cores: os.availableParallelism(), start };
}

const WORKER_SOURCE = './batch_worker.ts';
const WORKER_COMPILED = './batch_worker.js';

/** What a worker is started with: its networks (by index k), their training sets in shared memory, and the batch options. */
interface WorkerInit {
  networks: { k: number; seed: number; train: Dataset }[];
  batchSize: number;
  noise: number;
}

/** A worker's answer to a step's request: its networks' batches, or the error that stopped it. */
interface WorkerReply {
  step: number;
  batches?: { k: number; batch: Batch }[];
  error?: { name: string; message: string; stack?: string };
}

/** The worker side: builds its networks' batches, one step per request, and transfers them back (no copies). */
export function serveBatches(): void {
  const get = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  const threads = get?.('node:worker_threads') as WorkerThreads | undefined;
  const port = threads?.parentPort;
  if (!threads || !port) throw new EngineError('serveBatches: runs only in a batch worker thread');
  const init = threads.workerData as WorkerInit;
  const streams = init.networks.map((n) => ({ k: n.k, batches: new NetworkBatches(n.train, n.seed, init.batchSize, init.noise) }));
  port.on('message', ({ step }: { step: number }) => {
    let reply: WorkerReply;
    try {
      reply = { step, batches: streams.map((s) => ({ k: s.k, batch: s.batches.build(step) })) };
    } catch (e) {
      const err = e as Error;
      port.postMessage({ step, error: { name: err.name, message: err.message, stack: err.stack } } satisfies WorkerReply);
      return;
    }
    port.postMessage(reply, batchBuffers(reply.batches!));
  });
}

/** The distinct buffers of some batches (lossMask is scoreMask itself when the task has no loss mask). */
function batchBuffers(batches: { batch: Batch }[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const { batch } of batches) {
    for (const a of [batch.x, batch.labels, batch.lossMask, batch.scoreMask]) buffers.add((a as Float32Array).buffer as ArrayBuffer);
  }
  return [...buffers];
}

/** A step's batches as the workers' answers come in. */
interface StepSlot {
  batches: Batch[];
  answers: number;
  taken: boolean;
  promise: Promise<Batch[]>;
  resolve: (b: Batch[]) => void;
  reject: (e: Error) => void;
}

/**
 * Builds each step's batches in worker threads, network k in worker k mod P for the whole run
 * (its noise stream lives there). Up to `depth` steps are in flight, so the workers build the
 * next step's batches while the device runs this one and while this thread tallies it.
 */
class WorkerFeed implements BatchFeed {
  private readonly workers: NodeWorker[];
  private readonly slots = new Map<number, StepSlot>();
  private requested = 0;
  private failure: Error | null = null;
  private closing = false;

  constructor(
    private readonly networks: FeedNetwork[],
    private readonly opts: BatchFeedOptions,
    node: NodeWorkers,
    readonly threads: number,
    private readonly depth = 2,
  ) {
    const shared = new Map<Dataset, Dataset>();
    const share = (ds: Dataset) => shared.get(ds) ?? shared.set(ds, sharedDataset(ds)).get(ds)!;
    this.workers = [];
    try {
      for (let w = 0; w < threads; w++) {
        const mine = networks.flatMap((n, k) => (k % threads === w ? [{ k, seed: n.seed, train: share(n.train) }] : []));
        this.workers.push(node.start({ networks: mine, batchSize: opts.batchSize, noise: opts.noise }));
      }
    } catch (e) {
      for (const worker of this.workers) void worker.terminate(); // those started before the one that could not start
      throw e;
    }
    this.workers.forEach((worker, w) => {
      worker.on('message', (m: WorkerReply) => this.onReply(w, m));
      worker.on('error', (e: Error) => this.fail(w, e));
      worker.on('messageerror', (e: Error) => this.fail(w, e));
      worker.on('exit', (code: number) => this.fail(w, new Error(`exited (code ${code}) while batches were still expected`)));
    });
  }

  prefetch(step: number): void {
    const last = Math.min(step + this.depth, this.opts.steps);
    for (; this.requested < last && !this.failure; this.requested++) {
      const s = this.requested;
      let resolve!: (b: Batch[]) => void;
      let reject!: (e: Error) => void;
      const promise = new Promise<Batch[]>((res, rej) => ((resolve = res), (reject = rej)));
      promise.catch(() => {}); // a failure surfaces where its step is taken
      this.slots.set(s, { batches: new Array<Batch>(this.networks.length), answers: 0, taken: false, promise, resolve, reject });
      for (const worker of this.workers) worker.postMessage({ step: s });
    }
  }

  take(step: number): Promise<Batch[]> {
    this.prefetch(step);
    if (this.failure) return Promise.reject(this.failure);
    const slot = this.slots.get(step);
    if (!slot || slot.taken) return Promise.reject(new EngineError(`batch feed: step ${step} is taken already or beyond the run's ${this.opts.steps} steps`));
    slot.taken = true;
    if (slot.answers === this.workers.length) this.slots.delete(step);
    return slot.promise;
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private onReply(w: number, m: WorkerReply): void {
    if (m.error) {
      const e = new Error(m.error.message);
      e.name = m.error.name;
      if (m.error.stack) e.stack = m.error.stack;
      this.fail(w, e);
      return;
    }
    const slot = this.slots.get(m.step);
    if (!slot) return; // a step given up on after a failure
    for (const { k, batch } of m.batches!) slot.batches[k] = batch;
    if (++slot.answers < this.workers.length) return;
    if (slot.taken) this.slots.delete(m.step);
    slot.resolve(slot.batches);
  }

  /** A worker failed: every step still expected fails with the error, and so does every later take. */
  private fail(w: number, cause: Error): void {
    if (this.closing || this.failure) return;
    const e = new EngineError(`batch worker ${w + 1} of ${this.workers.length}: ${cause.name}: ${cause.message}`);
    (e as { cause?: unknown }).cause = cause;
    this.failure = e;
    for (const slot of this.slots.values()) slot.reject(e);
    this.slots.clear();
  }
}

/** A training set whose arrays live in shared memory: every worker reads the same copy, and none is cloned per message. */
function sharedDataset(ds: Dataset): Dataset {
  const share = <A extends Float32Array | Int32Array>(a: A): A => {
    const out = new (a.constructor as new (b: SharedArrayBuffer) => A)(new SharedArrayBuffer(a.byteLength));
    out.set(a);
    return out;
  };
  return {
    nTrials: ds.nTrials,
    T: ds.T,
    nIn: ds.nIn,
    nOut: ds.nOut,
    inputs: share(ds.inputs),
    labels: share(ds.labels),
    mask: share(ds.mask),
    ...(ds.lossMask ? { lossMask: share(ds.lossMask) } : {}),
    trialInfo: {}, // batches do not read it
  };
}
