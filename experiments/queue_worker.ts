/**
 * A queue worker (`worker --queue URL --out DIR`): pulls jobs, validates each, trains compatible
 * ones together (batch_plan.ts, as the local sweep batches) and moves each finished run
 * directory into DIR, a filesystem every worker and the coordinator share (queue_publish.ts).
 *
 * Jobs are held until a batch is formed: BullMQ's concurrency is the batch size, so the worker
 * fetches a batch's jobs, waits a moment for the rest, then trains them while their locks are
 * renewed. A job whose lock lapses (its worker died) goes back to the queue by BullMQ's
 * stalled-job check. Stopping finishes the running batch and hands the held jobs back.
 */
import { rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, relative } from 'node:path';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import type { Backend, RnnDesign } from '../engine/tensor.ts';
import { makeDir } from './files.ts';
import { runGroup } from './run.ts';
import type { RunObserver } from './lifecycle.ts';
import { epochData } from './progress.ts';
import { runId, runRelDir } from './record.ts';
import { doneRun, protocolMismatch, readManifest } from './sweep.ts';
import { batchSizeFor, nextBatch } from './batch_plan.ts';
import { validateJob, type RunJob } from './queue_job.ts';
import { checkQueueName, openQueue, probe, DEFAULT_QUEUE_NAME, type OpenQueue, type QueueUrl } from './queue_redis.ts';
import { PartialDirs, publish } from './queue_publish.ts';

export interface WorkerOptions {
  queue: QueueUrl;
  queueName?: string;
  out: string;
  dataDir: string;
  backend: Backend;
  design?: RnnDesign | 'auto';
  /** Networks per batch; default: what the adapter allows for the first job's shape. */
  modelsPerBatch?: number;
  /** Exit after the queue, once it had jobs, has had none waiting or active for this long (job arrays). */
  idleExitSeconds?: number;
  /** How long a job stays locked without renewal before another worker may take it over. */
  lockMs?: number;
  /** How often this worker looks for stalled jobs (of dead workers). */
  stalledMs?: number;
  log?: (line: string) => void;
  quiet?: boolean;
}

interface WorkerStats {
  completed: number;
  failed: number;
  handedBack: number;
}

export interface WorkerHandle {
  /** Resolves when the worker has stopped; the summary of what it did. */
  done: Promise<WorkerStats>;
  /** First call: finish the running batch, hand back the rest, exit. Second: hand back all now. */
  stop(): Promise<void>;
}

type JobResult = { id: string; status: string };

/** A job taken from the queue and waiting in this worker for its batch to train. */
interface Held {
  job: Job<RunJob>;
  token: string;
  run: RunJob;
  resolve: (v: JobResult) => void;
  reject: (e: Error) => void;
}

/** Pulls jobs and trains them until stopped (or idle for idleExitSeconds). */
export async function startWorker(o: WorkerOptions): Promise<WorkerHandle> {
  const log = o.log ?? ((s: string) => (o.quiet ? undefined : process.stderr.write(s + '\n')));
  const name = checkQueueName(o.queueName ?? DEFAULT_QUEUE_NAME);
  await probe(o.queue);
  await makeDir(o.out);
  const me = `${hostname()}-${process.pid}`;
  const partial = new PartialDirs(join(o.out, '.partial'), me);
  await partial.open();
  const w = new QueueWorker(o, name, me, partial, log);
  log(
    `worker ${me}: pid ${process.pid}, queue ${o.queue.shown}/${name}, writing runs to ${o.out}, ${o.modelsPerBatch ? `up to ${o.modelsPerBatch}` : 'as many as the adapter allows'} networks per batch`,
  );
  w.run();
  return { done: w.done, stop: () => w.stop() };
}

class QueueWorker {
  readonly done: Promise<WorkerStats>;
  private resolveDone!: (s: WorkerStats) => void;
  private readonly stats: WorkerStats = { completed: 0, failed: 0, handedBack: 0 };
  private readonly q: OpenQueue<RunJob>;
  private readonly worker: Worker<RunJob>;
  /** Networks per batch: the option, or (from the first job) what the adapter allows. */
  private limit: number;
  /** Jobs fetched and not yet training, in arrival order. */
  private held: Held[] = [];
  /** The batch training now. */
  private current: Held[] = [];
  private running = false;
  /** Stop requests so far: 1 finishes the running batch, 2 hands it back too. */
  private stopping = 0;
  // Distinct jobs: one handed back and fetched again before the worker closes goes back twice.
  private readonly handedBack = new Set<string>();
  private gather: NodeJS.Timeout | undefined;
  private readonly idle = { since: Date.now(), seenWork: false, checking: false, timer: undefined as NodeJS.Timeout | undefined };

  constructor(
    private readonly o: WorkerOptions,
    name: string,
    private readonly me: string,
    private readonly partial: PartialDirs,
    private readonly log: (s: string) => void,
  ) {
    this.done = new Promise((r) => (this.resolveDone = r));
    this.limit = o.modelsPerBatch ?? 1;
    this.q = openQueue<RunJob>(o.queue, name, log);
    this.worker = new Worker<RunJob>(name, (job, token) => this.onJob(job, token!), {
      connection: this.q.connection,
      concurrency: this.limit,
      autorun: false,
      name: me,
      lockDuration: o.lockMs ?? 60_000,
      stalledInterval: o.stalledMs ?? 30_000,
      maxStalledCount: 3,
      drainDelay: 1,
    });
    this.worker.on('error', () => {}); // the connection logs outages
    this.worker.on('stalled', (id) => log(`worker ${me}: job ${id} stalled (its worker died or was too busy to renew the lock): back in the queue`));
  }

  run(): void {
    if (this.o.idleExitSeconds !== undefined) this.idle.timer = setInterval(() => this.checkIdle(this.o.idleExitSeconds!), 500);
    void this.worker.run();
  }

  /** BullMQ's processor: a job's result once its batch has trained (or why it failed). */
  private async onJob(job: Job<RunJob>, token: string): Promise<JobResult> {
    if (this.stopping) {
      // Fetched while stopping: straight back to the queue.
      await job.moveToWait(token);
      this.countHandedBack(job);
      throw new WaitingError();
    }
    const run = this.accept(job);
    if (!this.o.modelsPerBatch && this.limit === 1) {
      this.limit = batchSizeFor(run, this.o);
      if (this.limit > 1) this.worker.concurrency = this.limit;
    }
    // A redelivery of a job this worker still holds (its lock expired while the event loop
    // was busy, and the stalled check handed it back): the new token replaces the old.
    const dup = this.held.findIndex((h) => h.job.id === job.id);
    if (dup >= 0) this.held.splice(dup, 1)[0]!.reject(new WaitingError());
    return await new Promise<JobResult>((resolve, reject) => {
      this.held.push({
        job,
        token,
        run,
        resolve: (v) => {
          this.stats.completed++;
          resolve(v);
        },
        reject: (e) => {
          if (!(e instanceof WaitingError)) this.stats.failed++; // not handed back: failed
          reject(e);
        },
      });
      this.scheduleFlush();
    });
  }

  /** The job validated and of this directory's protocol; otherwise refused for good (never retried). */
  private accept(job: Job<RunJob>): RunJob {
    try {
      const run = validateJob(job.data, this.o.dataDir);
      this.checkDirectory(run);
      return run;
    } catch (e) {
      this.log(`worker ${this.me}: refused job ${job.id}: ${(e as Error).message}`);
      this.stats.failed++;
      throw new UnrecoverableError((e as Error).message);
    }
  }

  /** The directory's protocol (its sweep's latest invocation), which a job must match. */
  private checkDirectory(run: RunJob): void {
    const m = readManifest(this.o.out);
    const inv = m?.invocations[m.invocations.length - 1];
    if (inv && JSON.stringify(inv.protocol) !== JSON.stringify(run.protocol))
      throw protocolMismatch(join(this.o.out, 'sweep.json'), inv.protocol, run.protocol);
  }

  private scheduleFlush(): void {
    clearTimeout(this.gather);
    // Wait a moment for the worker to fetch the batch's other jobs (none at one per batch).
    this.gather = setTimeout(() => void this.flush(), this.held.length >= this.limit ? 0 : 300);
  }

  /** Trains the next batch of held jobs: the first held job's kind, as many as the planner allows. */
  private async flush(): Promise<void> {
    if (this.running || !this.held.length || this.stopping) return;
    this.running = true;
    try {
      const batch = nextBatch(
        this.held,
        (h) => h.run,
        (run) => Math.min(this.limit, batchSizeFor(run, this.o)),
      );
      this.held = this.held.filter((h) => !batch.includes(h));
      this.current = batch;
      await this.trainBatch(batch);
    } finally {
      this.current = [];
      this.running = false;
    }
    if (this.held.length) this.scheduleFlush();
  }

  private async trainBatch(batch: Held[]): Promise<void> {
    const todo = this.notDone(batch);
    if (!todo.length) return;
    const dirs = new Map(todo.map((h) => [h, this.partial.next()]));
    const ids = todo.map((h) => runId(h.run.spec)).join(', ');
    this.log(`worker ${this.me}: training ${ids}`);
    try {
      const recs = await runGroup(
        todo.map((h) => h.run.spec),
        (spec) => {
          const h = todo.find((x) => x.run.spec === spec)!;
          return {
            dataDir: this.o.dataDir,
            backend: this.o.backend,
            protocol: h.run.protocol,
            dir: dirs.get(h)!,
            design: this.o.design,
            progress: { label: runId(spec), quiet: true },
            observer: jobProgress(h.job),
          };
        },
      );
      for (const [k, h] of todo.entries()) {
        const target = join(this.o.out, runRelDir(h.run.spec));
        await publish(dirs.get(h)!, target);
        this.log(`worker ${this.me}: ${recs[k]!.id} ${recs[k]!.status} → ${relative(this.o.out, target)}`);
        h.resolve({ id: recs[k]!.id, status: recs[k]!.status });
      }
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      this.log(`worker ${this.me}: failed ${ids}: ${err.message}`);
      for (const h of todo) h.reject(err);
    } finally {
      for (const d of dirs.values()) await rm(d, { recursive: true, force: true });
    }
  }

  /** The jobs of a batch still to train: one redelivered after someone finished it (or a local sweep did) completes at once. */
  private notDone(batch: Held[]): Held[] {
    const todo: Held[] = [];
    for (const h of batch) {
      try {
        const done = doneRun(join(this.o.out, runRelDir(h.run.spec)), h.run.protocol, { allowMixedCommits: true });
        if (done) h.resolve({ id: done.id, status: done.status });
        else todo.push(h);
      } catch (e) {
        this.log(`worker ${this.me}: refused job ${h.job.id}: ${(e as Error).message}`);
        h.reject(new UnrecoverableError((e as Error).message));
      }
    }
    return todo;
  }

  private countHandedBack(job: Job<RunJob>): void {
    this.handedBack.add(job.id!);
    this.stats.handedBack = this.handedBack.size;
  }

  private async handBack(hs: Held[]): Promise<void> {
    for (const h of hs) {
      await h.job.moveToWait(h.token).catch(() => {});
      this.countHandedBack(h.job);
      h.reject(new WaitingError());
    }
  }

  async stop(): Promise<void> {
    this.stopping++;
    if (this.stopping === 1) {
      this.log(
        `worker ${this.me}: stopping: ${this.running ? 'finishing the running batch, ' : ''}handing back ${this.held.length} waiting job(s) (signal again to hand back everything now)`,
      );
      clearTimeout(this.gather);
      await this.handBack(this.held.splice(0));
      await this.finish();
    } else if (this.stopping === 2) {
      this.log(`worker ${this.me}: handing back the running batch now`);
      await this.handBack([...this.held.splice(0), ...this.current]);
      this.resolveDone(this.stats);
    }
  }

  private async finish(): Promise<void> {
    clearInterval(this.idle.timer);
    await this.worker.close().catch(() => {});
    await this.q.close();
    this.resolveDone(this.stats);
  }

  /** Stops once the queue, having had work, has had none waiting or running for `seconds`. */
  private checkIdle(seconds: number): void {
    if (this.idle.checking || this.stopping) return;
    this.idle.checking = true;
    void (async () => {
      try {
        const c = await this.q.queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized', 'completed', 'failed');
        // A queue that never had a job is waiting for its coordinator: the clock starts with work.
        this.idle.seenWork ||= Object.values(c).some((x) => x > 0);
        const busy = !this.idle.seenWork || this.running || this.held.length > 0 || c.active! + c.waiting! + c.delayed! + c.prioritized! > 0;
        if (busy) this.idle.since = Date.now();
        else if ((Date.now() - this.idle.since) / 1000 >= seconds) {
          this.log(`worker ${this.me}: queue idle for ${seconds} s, exiting`);
          await this.stop();
        }
      } finally {
        this.idle.checking = false;
      }
    })();
  }
}

/**
 * A run's steps and epochs as its job's progress, which reaches whoever watches the queue's
 * events (the API) through Redis. Not awaited: training never waits on Redis, and the updates
 * keep their order on the one connection.
 */
function jobProgress(job: Job<RunJob>): RunObserver {
  const send = (data: Record<string, unknown>) => void job.updateProgress(data).catch(() => {});
  return {
    onStep: (s) => send({ kind: 'step', step: s.step, epoch: s.epoch, loss: s.loss, ce: s.ce, reg: s.reg }),
    onEpoch: (e) => send({ kind: 'epoch', ...epochData(e) }),
  };
}
