/**
 * The coordinator of a queued sweep (`sweep --queue`): plans the grid, enqueues one job per run
 * not yet done, and waits until every job has completed or failed, recording each finished run
 * in the manifest; and the queue's status and drain (`queue status|drain`).
 *
 * Delivery is at least once: a worker that dies leaves its jobs locked until the lock expires,
 * then BullMQ's stalled-job check hands them to another worker (see queue_worker.ts).
 */
import { join } from 'node:path';
import type { Queue } from 'bullmq';
import { formatDuration } from './progress.ts';
import type { Protocol } from './protocol.ts';
import { corruptRefusal, CorruptRunRecordError, readRunRecord } from './run.ts';
import { runId, runRelDir, type FinalRecord, type RunSpec } from './record.ts';
import { manifestWriter, newInvocation, planRuns, splitDone, type SweepPlan } from './sweep.ts';
import { withDirLock } from './lock.ts';
import { jobIdOf, runJob, type RunJob } from './queue_job.ts';
import { checkQueueName, openQueue, openQueueEvents, probe, DEFAULT_QUEUE_NAME, type QueueUrl } from './queue_redis.ts';

export interface QueueSweepOptions extends SweepPlan {
  queue: QueueUrl;
  queueName?: string;
  out: string;
  dataDir: string;
  protocol: Protocol;
  preset?: string | null;
  allowMixedCommits?: boolean;
  /** Retrain runs whose final.json is corrupt, setting it aside first (see `splitDone`). */
  redoCorrupt?: boolean;
  /** Attempts of a job that throws (a bad job, a broken worker); a diverged run is a result. */
  attempts?: number;
  pollMs?: number;
  quiet?: boolean;
  tty?: boolean;
  log?: (line: string) => void;
  /** A run's progress as its worker reports it (`kind` 'step' or 'epoch'), through Redis. */
  onProgress?: (spec: RunSpec, data: Record<string, unknown>) => void;
  /** A run's record, once its job completed. */
  onRunDone?: (rec: FinalRecord) => void;
  /** Polled while waiting: true takes the jobs still waiting off the queue and returns. */
  shouldStop?: () => boolean;
}

interface FailedRun {
  id: string;
  reason: string;
}

export interface QueueSweepResult {
  planned: RunSpec[];
  ran: string[];
  skipped: string[];
  failed: FailedRun[];
  wallSeconds: number;
  /** Given up by `shouldStop` before every job finished. */
  stopped: boolean;
}

/** Each planned run not done is a job; waits until every job is completed or failed. */
export async function queueSweep(o: QueueSweepOptions): Promise<QueueSweepResult> {
  const t0 = Date.now();
  const log = o.log ?? ((s: string) => (o.quiet ? undefined : process.stderr.write(s + '\n')));
  const name = checkQueueName(o.queueName ?? DEFAULT_QUEUE_NAME);
  await probe(o.queue);
  // One coordinator per directory (workers write run directories, never the manifest).
  return await withDirLock(o.out, 'sweep', log, async () => {
    const q = openQueue<RunJob>(o.queue, name, log);
    try {
      const planned = planRuns(o);
      const inv = newInvocation(o, `queue ${o.queue.shown}/${name}`, planned.length);
      inv.queue = `${o.queue.shown}/${name}`;
      const { save, record } = manifestWriter(o.out, inv);
      const { todo, skipped } = splitDone(planned, { ...o, log }, inv, record);
      await save();
      log(`sweep: ${planned.length} runs planned, ${skipped.length} already done, ${todo.length} to run on the workers of ${o.queue.shown}/${name} → ${o.out}`);
      // Listening before the jobs exist, so that no early progress is missed.
      const events = o.onProgress ? await watchProgress(o, name, new Map(todo.map((s) => [jobIdOf(s, o.protocol), s])), log) : null;
      try {
        const jobs = await enqueue(q.queue, todo, o);
        const onFinished = async (ran: number) => {
          inv.ran = ran;
          await save();
        };
        const { ran, failed, stopped } = await waitForJobs(q.queue, jobs, { ...o, t0, record, onFinished });
        inv.finishedAt = stopped ? null : new Date().toISOString();
        inv.wallSeconds = (Date.now() - t0) / 1000;
        await save();
        return { planned, ran, skipped, failed, wallSeconds: inv.wallSeconds, stopped };
      } finally {
        await events?.close();
      }
    } finally {
      await q.close();
    }
  });
}

/** Passes the jobs' progress on as their runs' progress (the queue's events, on their own connection). */
async function watchProgress(o: QueueSweepOptions, name: string, jobs: Map<string, RunSpec>, log: (s: string) => void) {
  const e = openQueueEvents(o.queue, name, log);
  e.events.on('progress', ({ jobId, data }) => {
    const spec = jobs.get(jobId);
    if (spec && data && typeof data === 'object') o.onProgress!(spec, data as Record<string, unknown>);
  });
  await e.events.waitUntilReady();
  return e;
}

/**
 * Enqueues a job per run; returns them by job id. A finished job of a run that is not done
 * (its directory was removed) is run again; a pending one is left as it is (enqueuing twice is
 * a no-op).
 */
async function enqueue(queue: Queue<RunJob>, todo: RunSpec[], o: { protocol: Protocol; attempts?: number }): Promise<Map<string, RunSpec>> {
  const ids = new Map<string, RunSpec>();
  for (const spec of todo) {
    const id = jobIdOf(spec, o.protocol);
    ids.set(id, spec);
    const state = await queue.getJobState(id);
    if (state === 'completed' || state === 'failed') await (await queue.getJob(id))?.remove();
  }
  await queue.addBulk(
    [...ids].map(([id, spec]) => ({
      name: runId(spec),
      data: runJob(spec, o.protocol),
      opts: { jobId: id, attempts: o.attempts ?? 2, backoff: { type: 'fixed', delay: 1000 } },
    })),
  );
  return ids;
}

interface WaitOptions {
  out: string;
  t0: number;
  pollMs?: number;
  quiet?: boolean;
  tty?: boolean;
  /** Adds a finished run to the manifest. */
  record: (dir: string, rec: FinalRecord) => void;
  /** After a poll in which jobs finished: the runs done so far. */
  onFinished: (ran: number) => Promise<void>;
  onRunDone?: (rec: FinalRecord) => void;
  shouldStop?: () => boolean;
}

/** Polls the jobs until each is completed or failed, showing progress; the runs done and failed. */
async function waitForJobs(
  queue: Queue<RunJob>,
  jobs: Map<string, RunSpec>,
  o: WaitOptions,
): Promise<{ ran: string[]; failed: FailedRun[]; stopped: boolean }> {
  const ran: string[] = [];
  const failed: FailedRun[] = [];
  const pending = new Map(jobs);
  const show = progressPrinter(o);
  while (pending.size) {
    if (o.shouldStop?.()) {
      await giveUpWaiting(queue, pending);
      show(null);
      return { ran, failed, stopped: true };
    }
    if (await takeFinished(queue, pending, o, ran, failed)) await o.onFinished(ran.length);
    const counts = await queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized');
    show(progressLine(jobs.size, pending.size, counts, failed.length, (Date.now() - o.t0) / 1000));
    if (pending.size) await new Promise((r) => setTimeout(r, o.pollMs ?? 1000));
  }
  show(null);
  return { ran, failed, stopped: false };
}

/** Takes the jobs still waiting off the queue; those a worker has begun finish there and land in --out. */
async function giveUpWaiting(queue: Queue<RunJob>, pending: Map<string, RunSpec>): Promise<void> {
  const states = await Promise.all([...pending.keys()].map(async (id) => [id, await queue.getJobState(id)] as const));
  for (const [id, state] of states) if (state === 'waiting' || state === 'delayed' || state === 'prioritized') await queue.remove(id).catch(() => 0);
}

/**
 * Moves the jobs of `pending` that finished into `ran` (a completed job whose run directory
 * holds its record, which is recorded) or `failed`; whether any finished.
 */
async function takeFinished(queue: Queue<RunJob>, pending: Map<string, RunSpec>, o: WaitOptions, ran: string[], failed: FailedRun[]): Promise<boolean> {
  let changed = false;
  // All states at once: the commands are in flight together on the one connection.
  const list = [...pending];
  const states = await Promise.all(list.map(([id]) => queue.getJobState(id)));
  for (const [k, [id, spec]] of list.entries()) {
    const state = states[k]!;
    if (state === 'completed') {
      const dir = join(o.out, runRelDir(spec));
      const rec = completedRecord(dir);
      if (typeof rec !== 'string') {
        o.record(dir, rec);
        o.onRunDone?.(rec);
        ran.push(rec.id);
      } else failed.push({ id: runId(spec), reason: rec });
    } else if (state === 'failed' || state === 'unknown') {
      const job = await queue.getJob(id);
      failed.push({ id: runId(spec), reason: job?.failedReason || (state === 'unknown' ? 'the job was removed from the queue' : 'failed') });
    } else continue;
    pending.delete(id);
    changed = true;
  }
  return changed;
}

/** The record a completed job wrote into `dir`, or why there is none to count (a missing or corrupt final.json). */
function completedRecord(dir: string): FinalRecord | string {
  try {
    return readRunRecord(dir) ?? `the job completed but ${join(dir, 'final.json')} is missing: do the workers write to this --out?`;
  } catch (e) {
    if (e instanceof CorruptRunRecordError) return corruptRefusal(e).message;
    throw e;
  }
}

/** One progress line: a bar, the runs done, the jobs active and waiting, the failures, an ETA. */
function progressLine(total: number, left: number, counts: Record<string, number>, failed: number, elapsedS: number): string {
  const done = total - left;
  const eta = done > 0 && left > 0 ? formatDuration((elapsedS / done) * left) : left ? '?' : '0s';
  const width = 24;
  const filled = Math.round((done / Math.max(1, total)) * width);
  const waiting = (counts.waiting ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0);
  return `queue: ${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${done}/${total} runs done (${counts.active ?? 0} active, ${waiting} waiting, ${failed} failed) ETA ${eta}`;
}

/**
 * Shows progress lines on stderr: redrawn in place on a terminal, otherwise a line whenever
 * something but the ETA changed. `null` ends the display.
 */
function progressPrinter(o: { quiet?: boolean; tty?: boolean }): (line: string | null) => void {
  const tty = o.tty ?? Boolean(process.stderr.isTTY || process.env.CORTICAL_RNN_STDERR_TTY === '1');
  let last = '';
  return (line) => {
    if (o.quiet) return;
    if (line === null) {
      if (tty) process.stderr.write('\n');
      return;
    }
    if (tty) process.stderr.write(`\r\x1b[2K${line}`);
    else if (line.replace(/ ETA .*/, '') !== last.replace(/ ETA .*/, '')) process.stderr.write(line + '\n');
    last = line;
  };
}

// ───────────────────────────── status and drain ─────────────────────────────

export interface QueueStatus {
  counts: Record<string, number>;
  workers: { name: string; addr: string; age: string }[];
}

export async function queueStatus(q: QueueUrl, queueName = DEFAULT_QUEUE_NAME): Promise<QueueStatus> {
  await probe(q);
  const { queue, close } = openQueue(q, checkQueueName(queueName), () => {});
  try {
    const counts = await queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized');
    const workers = (await queue.getWorkers()).map((w) => ({
      name: (w.rawname ?? w.name ?? '?').replace(/^.*:w:/, ''),
      addr: w.addr ?? '?',
      age: w.age ?? '?',
    }));
    return { counts, workers };
  } finally {
    await close();
  }
}

/** Removes the queue's pending (waiting and delayed) jobs; running ones finish. */
export async function drainQueue(q: QueueUrl, queueName = DEFAULT_QUEUE_NAME): Promise<number> {
  await probe(q);
  const { queue, close } = openQueue(q, checkQueueName(queueName), () => {});
  try {
    const c = await queue.getJobCounts('waiting', 'delayed', 'prioritized');
    await queue.drain(true);
    return Object.values(c).reduce((a, b) => a + b, 0);
  } finally {
    await close();
  }
}
