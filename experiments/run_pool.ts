/**
 * The server's runs: submissions (one run, or a sweep) wait in a queue and are trained one at a
 * time by `sweep` into the server's results directory, exactly as `cortical-rnn sweep` would
 * write them (lock, provenance, batch planner, lifecycle). Each submission keeps its numbered
 * event log, so a client that reconnects with the last id it saw misses nothing.
 */
import { randomBytes } from 'node:crypto';
import type { Backend } from '../engine/tensor.ts';
import type { StepInfo } from '../engine/rnn/train.ts';
import type { RunObserver } from './lifecycle.ts';
import type { Protocol } from './protocol.ts';
import { runId, runKey, type FinalRecord, type RunSpec } from './record.ts';
import { protocolSteps } from './setup.ts';
import { epochData } from './progress.ts';
import { planRuns, sweep, type SweepPlan } from './sweep.ts';
import { queueSweep } from './queue_coordinator.ts';
import type { QueueUrl } from './queue_redis.ts';

type SubmissionStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
const TERMINAL: ReadonlySet<string> = new Set(['done', 'failed', 'cancelled']);

/** One event of a submission's log; `data.run` names the run (its key) when the event is one run's. */
export interface PoolEvent {
  id: number;
  event: string;
  data: Record<string, unknown>;
}

export interface Submission {
  id: string;
  kind: 'run' | 'sweep';
  client: string;
  plan: SweepPlan;
  protocol: Protocol;
  preset: string;
  /** The run keys, in plan order. */
  runs: string[];
  status: SubmissionStatus;
  error: string | null;
  createdAt: string;
  events: PoolEvent[];
  listeners: Set<(e: PoolEvent) => void>;
  cancelRequested: boolean;
}

export interface PoolOptions {
  out: string;
  dataDir: string;
  /** The engine's backend, created on first use. */
  backend: () => Promise<Backend>;
  /** Submissions queued or running per client (default 8). */
  maxPerClient?: number;
  /** Submissions queued or running in all (default 64). */
  maxPending?: number;
  /** How long a new submission waits for others to train beside it (default 50 ms). */
  gatherMs?: number;
  /** Events kept per submission (default 200,000): beyond it, step events are no longer logged. */
  maxEvents?: number;
  /** Train on the workers of this BullMQ queue instead of this machine's engine. */
  queue?: { url: QueueUrl; name?: string };
}

/** A request refused for a limit (HTTP 429). */
export class PoolLimitError extends Error {
  override name = 'PoolLimitError';
}

/** Thrown from a run's step to stop it when its submission is cancelled. */
class CancelledError extends Error {
  override name = 'CancelledError';
}

export class RunPool {
  private readonly subs = new Map<string, Submission>();
  /** Run key → the submission whose training of it began last. */
  private readonly trainedBy = new Map<string, string>();
  private readonly queue: Submission[] = [];
  private running: Promise<void> | null = null;
  private runningGroup: Submission[] = [];
  private pumping: NodeJS.Timeout | null = null;

  constructor(private readonly o: PoolOptions) {}

  /** Queues a submission; refused (PoolLimitError) beyond the client's or the server's bound. */
  submit(kind: 'run' | 'sweep', plan: SweepPlan, protocol: Protocol, preset: string, client: string): Submission {
    const pending = [...this.subs.values()].filter((s) => s.status === 'queued' || s.status === 'running');
    const perClient = this.o.maxPerClient ?? 8;
    if (pending.filter((s) => s.client === client).length >= perClient)
      throw new PoolLimitError(`expected at most ${perClient} submissions queued or running per client, got one more from ${client}`);
    if (pending.length >= (this.o.maxPending ?? 64))
      throw new PoolLimitError(`expected at most ${this.o.maxPending ?? 64} submissions queued or running, got one more`);
    const sub: Submission = {
      id: `s-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`,
      kind,
      client,
      plan,
      protocol,
      preset,
      runs: planRuns(plan).map(runKey),
      status: 'queued',
      error: null,
      createdAt: new Date().toISOString(),
      events: [],
      listeners: new Set(),
      cancelRequested: false,
    };
    this.subs.set(sub.id, sub);
    this.queue.push(sub);
    this.emit(sub, 'queued', { submission: sub.id, runs: sub.runs, position: this.queue.length });
    this.pump();
    return sub;
  }

  get(id: string): Submission | undefined {
    return this.subs.get(id);
  }

  /** The submission that trained run `key` (its latest), else the latest that holds it (queued, or found it done). */
  holding(key: string): Submission | undefined {
    const trainer = this.trainedBy.get(key);
    return (trainer && this.subs.get(trainer)) || [...this.subs.values()].reverse().find((s) => s.runs.includes(key));
  }

  /** Every run of every submission, by key: its spec (from the validated plan) and the submission `holding` names. */
  runs(): Map<string, { spec: RunSpec; submission: Submission }> {
    const out = new Map<string, { spec: RunSpec; submission: Submission }>();
    for (const sub of this.subs.values()) for (const spec of planRuns(sub.plan)) out.set(runKey(spec), { spec, submission: this.holding(runKey(spec)) ?? sub });
    return out;
  }

  /** Whether a submission is over (its last event logged). */
  static ended(sub: Submission): boolean {
    return sub.status === 'done' || sub.status === 'failed' || sub.status === 'cancelled';
  }

  /**
   * Cancels a queued submission at once; a running one ends at once when it trains beside
   * others (their shared dispatches go on), else at its next training step.
   */
  cancel(sub: Submission): void {
    if (sub.status === 'queued') {
      this.queue.splice(this.queue.indexOf(sub), 1);
      this.finish(sub, 'cancelled', null);
    } else if (sub.status === 'running') {
      sub.cancelRequested = true;
      if (this.runningGroup.some((s) => s !== sub && !s.cancelRequested)) this.finish(sub, 'cancelled', null);
    }
  }

  /**
   * Calls `listener` with every event of `sub` after id `after` (those logged, then live), with
   * `filter` applied; returns the unsubscribe function.
   */
  subscribe(sub: Submission, after: number, filter: (e: PoolEvent) => boolean, listener: (e: PoolEvent) => void): () => void {
    for (const e of sub.events) if (e.id > after && filter(e)) listener(e);
    const live = (e: PoolEvent) => filter(e) && listener(e);
    sub.listeners.add(live);
    return () => sub.listeners.delete(live);
  }

  /** Cancels everything and waits for the running submission to stop. */
  async close(): Promise<void> {
    if (this.pumping) clearTimeout(this.pumping);
    this.pumping = null;
    for (const s of [...this.queue]) this.cancel(s);
    for (const s of this.subs.values()) if (s.status === 'running') s.cancelRequested = true;
    await this.running;
  }

  private emit(sub: Submission, event: string, data: Record<string, unknown>): void {
    const last = sub.events.at(-1)?.id ?? 0;
    const e: PoolEvent = { id: last + 1, event, data };
    if (event !== 'step' || sub.events.length < (this.o.maxEvents ?? 200_000)) sub.events.push(e);
    for (const l of sub.listeners) l(e);
  }

  private finish(sub: Submission, status: 'done' | 'failed' | 'cancelled', error: string | null): void {
    sub.status = status;
    sub.error = error;
    this.emit(sub, status, { submission: sub.id, status, ...(error ? { error } : {}) });
    sub.listeners.clear();
  }

  /** Starts the next group a moment after a submission arrives, so that a burst of them trains together. */
  private pump(): void {
    if (this.running || this.pumping || !this.queue.length) return;
    this.pumping = setTimeout(() => {
      this.pumping = null;
      if (this.running || !this.queue.length) return;
      const group = this.nextGroup();
      this.runningGroup = group;
      this.running = this.execute(group).finally(() => {
        this.running = null;
        this.runningGroup = [];
        this.pump();
      });
    }, this.o.gatherMs ?? 50);
  }

  /** The first queued submission and every queued one that can train beside it: the same field and protocol. */
  private nextGroup(): Submission[] {
    const first = this.queue[0]!;
    const group = this.queue.filter((s) => s.plan.field === first.plan.field && JSON.stringify(s.protocol) === JSON.stringify(first.protocol));
    for (const s of group) this.queue.splice(this.queue.indexOf(s), 1);
    return group;
  }

  /**
   * Trains a group of submissions as one sweep of all their runs (each once), so that compatible
   * runs share dispatches as the batch planner groups them; each submission gets its own runs'
   * events and its own end.
   */
  private async execute(group: Submission[]): Promise<void> {
    for (const sub of group) {
      sub.status = 'running';
      this.emit(sub, 'started', { submission: sub.id, ...(group.length > 1 ? { trainsWith: group.filter((g) => g !== sub).map((g) => g.id) } : {}) });
    }
    const specs = [...new Map(group.flatMap((s) => planRuns(s.plan)).map((spec) => [runKey(spec), spec])).values()];
    const live = () => group.filter((s) => !RunPool.ended(s));
    try {
      const skipped = this.o.queue ? await this.onQueue(group, specs, this.o.queue) : await this.onEngine(group, specs);
      const keyOf = new Map(specs.map((s) => [runId(s), runKey(s)]));
      for (const id of skipped)
        for (const sub of live()) if (sub.runs.includes(keyOf.get(id) ?? '')) this.emit(sub, 'run-skipped', { run: keyOf.get(id), reason: 'already done' });
      for (const sub of live()) this.finish(sub, sub.cancelRequested ? 'cancelled' : 'done', null);
    } catch (e) {
      for (const sub of live()) {
        if (e instanceof CancelledError || sub.cancelRequested) this.finish(sub, 'cancelled', null);
        else this.finish(sub, 'failed', oneLine(e));
      }
    }
  }

  /** The group's log lines go to each of its submissions. */
  private logTo(group: Submission[]): (line: string) => void {
    return (line) => group.filter((s) => !RunPool.ended(s)).forEach((s) => this.emit(s, 'log', { line }));
  }

  /** Trains the runs on this machine's engine; the ids of those found done. */
  private async onEngine(group: Submission[], specs: RunSpec[]): Promise<string[]> {
    const first = group[0]!;
    const result = await sweep({
      ...first.plan,
      specs,
      out: this.o.out,
      dataDir: this.o.dataDir,
      backend: await this.o.backend(),
      protocol: first.protocol,
      preset: first.preset,
      // A server's results directory outlives its code: runs of earlier commits count as done.
      allowMixedCommits: true,
      quiet: true,
      log: this.logTo(group),
      observe: (spec) => this.observer(group, spec),
    });
    return result.skipped;
  }

  /**
   * Trains the runs on the queue's workers, their progress relayed through Redis; the ids of
   * those found done. Cancelling takes the waiting jobs off the queue once every submission of
   * the group is cancelled; runs a worker has begun finish there. A run that failed on its
   * worker fails the group.
   */
  private async onQueue(group: Submission[], specs: RunSpec[], queue: { url: QueueUrl; name?: string }): Promise<string[]> {
    const first = group[0]!;
    const relay = new Map<string, RunObserver>();
    const observerOf = (spec: RunSpec) => relay.get(runKey(spec)) ?? relay.set(runKey(spec), this.observer(group, spec)).get(runKey(spec))!;
    const result = await queueSweep({
      ...first.plan,
      specs,
      queue: queue.url,
      queueName: queue.name,
      out: this.o.out,
      dataDir: this.o.dataDir,
      protocol: first.protocol,
      preset: first.preset,
      allowMixedCommits: true,
      quiet: true,
      pollMs: 200,
      log: this.logTo(group),
      onProgress: (spec, d) => relayProgress(observerOf(spec), d),
      onRunDone: (rec) => observerOf(rec.spec).onFinish?.(rec, null),
      shouldStop: () => group.every((s) => s.cancelRequested),
    });
    if (result.failed.length)
      throw new Error(
        `${result.failed.length} of ${result.planned.length} runs failed on the workers; the first: ${result.failed[0]!.id}: ${result.failed[0]!.reason}`,
      );
    return result.skipped;
  }

  /**
   * A run's events, to every submission of the group that holds it and is not over: each step
   * (with an ETA), each epoch, its end. The group's training stops at the next step once every
   * submission in it is cancelled; a submission cancelled beside others ends at once, while the
   * runs it shared dispatches with train on.
   */
  private observer(group: Submission[], spec: RunSpec): RunObserver {
    const run = runKey(spec);
    const totalSteps = protocolSteps(group[0]!.protocol).totalSteps;
    const holders = () => group.filter((s) => s.runs.includes(run) && !RunPool.ended(s));
    const emit = (event: string, data: Record<string, unknown>) => holders().forEach((s) => this.emit(s, event, { run, ...data }));
    let t0 = 0;
    return {
      onStart: () => {
        this.trainedBy.set(run, group.find((s) => s.runs.includes(run))!.id);
        emit('run-started', {});
      },
      onStep: (s: StepInfo) => {
        if (group.every((g) => g.cancelRequested)) throw new CancelledError(`${run}: cancelled`);
        if (s.step === 1) {
          t0 = Date.now();
          this.trainedBy.set(run, group.find((g) => g.runs.includes(run))!.id);
        }
        const perStep = s.step > 1 ? (Date.now() - t0) / 1000 / (s.step - 1) : null;
        emit('step', {
          step: s.step,
          totalSteps,
          epoch: s.epoch,
          loss: s.loss,
          ce: s.ce,
          reg: s.reg,
          eta_s: perStep === null ? null : perStep * (totalSteps - s.step),
        });
      },
      onEpoch: (e) => emit('epoch', epochData(e)),
      onFinish: (rec: FinalRecord) => emit('run-done', { status: rec.status, accuracy: rec.accuracy, divergence: rec.divergence }),
    };
  }
}

/** An error as one line: its message's first line. */
function oneLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n', 1)[0]!;
}

/** Whether an event ends its submission's stream. */
export function isTerminal(e: PoolEvent): boolean {
  return TERMINAL.has(e.event) && e.data.run === undefined;
}

/** A worker's progress report (its job's progress) as the run's observer calls. */
function relayProgress(o: RunObserver, d: Record<string, unknown>): void {
  const n = (k: string) => (typeof d[k] === 'number' ? (d[k] as number) : NaN);
  if (d.kind === 'step') {
    try {
      void o.onStep?.({ step: n('step'), epoch: n('epoch'), loss: n('loss'), ce: n('ce'), reg: n('reg') });
    } catch {
      // cancelled: the worker's run goes on, its steps are no longer relayed
    }
  } else if (d.kind === 'epoch') {
    const e = {
      epoch: n('epoch'),
      step: n('step'),
      meanLoss: n('meanLoss'),
      meanCe: n('meanCe'),
      meanReg: n('meanReg'),
      trainAccuracy: n('trainAccuracy'),
      seconds: n('seconds'),
    };
    o.onEpoch?.(typeof d.evalAccuracy === 'number' ? { ...e, evalAccuracy: d.evalAccuracy } : e, new Float64Array(0));
  }
}
