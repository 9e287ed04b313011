/**
 * Sweeps across machines on a BullMQ job queue in Redis: a coordinator (`sweep --queue URL`)
 * enqueues one job per run not yet done and waits for them; workers (`worker --queue URL --out
 * DIR`) pull jobs, train them (compatible jobs together, as the local sweep batches) and write
 * each run directory into DIR, a filesystem every worker and the coordinator share.
 *
 * Delivery is at least once: a worker that dies leaves its jobs locked until the lock expires,
 * then BullMQ's stalled-job check hands them to another worker. A run is trained into a private
 * directory under DIR/.partial and renamed into place when complete, so a run directory is
 * either absent or whole, and a redone run that someone finished meanwhile is dropped.
 *
 * A worker trusts nothing in a job: the payload is validated (names against the known fields,
 * tasks, variants and modes; numbers in range) before anything runs, and the run directory is
 * built only from validated names.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, relative } from 'node:path';
import { Queue, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { OptionError } from '../engine/errors.ts';
import type { Backend, RnnDesign } from '../engine/tensor.ts';
import { fields } from '../connectome/fields.ts';
import { dirSource } from '../connectome/files.ts';
import { modelsPerBatch } from '../engine/rnn/trainer.ts';
import { getTask } from '../tasks/index.ts';
import { makeDir } from './files.ts';
import { formatDuration } from './progress.ts';
import { PAPER_PROTOCOL, resolveProtocol, type Mode, type Protocol } from './protocol.ts';
import { CorruptRunRecordError, readRunRecord, runGroup, setAsideRecords } from './run.ts';
import { runId, runKey, runRelDir, type FinalRecord, type RunSpec } from './record.ts';
import { prepareField } from './prepare.ts';
import { rnnConfigFor, syntheticGrid } from './setup.ts';
import { corruptRefusal, doneRun, manifestWriter, newInvocation, planRuns, protocolMismatch, readManifest, splitDone, type SweepPlan } from './sweep.ts';
import { getVariant } from './variants.ts';
import { lockDir } from './lock.ts';

export const DEFAULT_QUEUE_NAME = 'cortical-rnn';
const JOB_SCHEMA = 'cortical-rnn/job/1';

/** A Redis URL: `url` to connect with, `shown` safe to print (no password). */
export interface QueueUrl {
  url: string;
  shown: string;
}

/** '--queue redis://[user:password@]HOST:PORT[/DB]' (or rediss:// for TLS). */
export function parseQueueUrl(spec: string, flag = '--queue'): QueueUrl {
  const expected = 'a Redis URL redis://[USER:PASSWORD@]HOST:PORT[/DB] (rediss:// for TLS)';
  let u: URL;
  try {
    u = new URL(spec.trim());
  } catch {
    throw new OptionError(flag, expected, `"${spec}"`);
  }
  if ((u.protocol !== 'redis:' && u.protocol !== 'rediss:') || !u.hostname) throw new OptionError(flag, expected, `"${redact(spec)}"`);
  const db = u.pathname.replace(/^\//, '');
  if (db && !/^\d{1,2}$/.test(db)) throw new OptionError(flag, `${expected}, DB a number 0-99`, `"${redact(spec)}"`);
  return { url: u.toString(), shown: redact(u.toString()) };
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/** A name for the queue (it prefixes Redis keys): letters, digits, '_' and '-'. */
export function checkQueueName(name: string, flag = '--queue-name'): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) throw new OptionError(flag, "a name of letters, digits, '_' and '-'", `"${name}"`);
  return name;
}

/**
 * Fails within `timeoutMs` with one line when Redis cannot be reached (refused, unknown host,
 * wrong password), instead of the client's endless reconnecting.
 */
async function probe(q: QueueUrl, timeoutMs = 5000): Promise<void> {
  const r = new Redis(q.url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  // The client's own rejection is often only "Connection is closed"; the cause comes as an event.
  let cause = '';
  r.on('error', (e: Error) => (cause ||= e.message));
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    });
    await Promise.race([
      (async () => {
        await r.connect();
        await r.ping();
      })(),
      timeout,
    ]);
  } catch (e) {
    const m = cause || (e as Error).message || String(e);
    throw new Error(`--queue ${q.shown}: expected a reachable Redis server, got ${m}`, { cause: e });
  } finally {
    clearTimeout(timer);
    r.disconnect();
  }
}

/**
 * A connection that outlives a Redis restart: commands wait for the reconnection instead of
 * failing (BullMQ needs maxRetriesPerRequest null), and an outage is logged once.
 */
function connection(q: QueueUrl, log: (s: string) => void): Redis {
  const r = new Redis(q.url, { maxRetriesPerRequest: null, retryStrategy: (times) => Math.min(200 * times, 2000) });
  let down = false;
  r.on('error', (e: Error) => {
    if (!down) log(`queue: lost Redis at ${q.shown} (${e.message}); reconnecting`);
    down = true;
  });
  r.on('ready', () => {
    if (down) log(`queue: reconnected to Redis at ${q.shown}`);
    down = false;
  });
  return r;
}

/** What a job carries: the run and the protocol, nothing else (the worker has its own paths). */
export interface RunJob {
  schema: typeof JOB_SCHEMA;
  spec: RunSpec;
  protocol: Protocol;
}

/**
 * The job id of a run: the run id made safe for BullMQ (no ':', and no '/' or '*' so it reads
 * as one token), plus the protocol's digest, so enqueuing a run twice is a no-op while the same
 * run under another protocol is another job.
 */
export function jobIdOf(spec: RunSpec, protocol: Protocol): string {
  const digest = createHash('sha256').update(JSON.stringify(protocol)).digest('hex').slice(0, 12);
  return `${runKey(spec)}.${digest}`;
}

/** Bounds a job's numbers are held to (far beyond any real protocol, short of absurd). */
const JOB_LIMITS = { epochs: 10_000, steps: 10_000_000, batchSize: 65_536, nNull: 100_000, nMatched: 10_000, lr: 10, lambda: 1000, mu: 1000, inputNoise: 10 };

const PROTOCOL_KEYS = Object.keys(PAPER_PROTOCOL).sort().join(',');
const SPEC_KEYS = ['field', 'mode', 'positive', 'seed', 'task', 'variant'].join(',');
const SPEC_KEYS_LAMBDA = ['field', 'lambda', 'mode', 'positive', 'seed', 'task', 'variant'].join(',');

function shown(x: unknown): string {
  const s = typeof x === 'string' ? `"${x}"` : JSON.stringify(x);
  return s === undefined ? 'nothing' : s.length > 80 ? s.slice(0, 77) + '…' : s;
}

function object(x: unknown, what: string): Record<string, unknown> {
  if (!x || typeof x !== 'object' || Array.isArray(x)) throw new OptionError(what, 'an object', shown(x));
  return x as Record<string, unknown>;
}

/**
 * A job's payload checked field by field (one-line error naming the field): the field must be
 * one of the data directory's, the task, variant and mode known, the seed an integer, the
 * protocol the shape of one with every number in range. Names are returned canonical.
 */
export function validateJob(data: unknown, dataDir: string): RunJob {
  const j = object(data, 'job');
  if (j.schema !== JOB_SCHEMA) throw new OptionError('job.schema', `"${JOB_SCHEMA}"`, shown(j.schema));
  const s = object(j.spec, 'job.spec');
  const keys = Object.keys(s).sort().join(',');
  if (keys !== SPEC_KEYS && keys !== SPEC_KEYS_LAMBDA)
    throw new OptionError('job.spec', `exactly the keys ${SPEC_KEYS} (and lambda, optionally)`, shown(Object.keys(s).join(',')));
  const name = (k: string): string => {
    const v = s[k];
    // Before any lookup: a name is a plain token, never a path.
    if (typeof v !== 'string' || !/^[A-Za-z0-9_*!-]{1,64}$/.test(v))
      throw new OptionError(`job.spec.${k}`, "a name of letters, digits, '_', '-', '*' and '!'", shown(v));
    return v;
  };
  const field = name('field');
  // A synthetic grid (grid-AxBxC, checked by its own parser) or a field of the data directory.
  if (!syntheticGrid(field)) {
    const known = fields(dirSource(dataDir)).map((f) => f.field);
    if (!known.includes(field)) throw new OptionError('job.spec.field', `one of the ${known.length} fields of ${dataDir}, or a grid-AxBxC`, shown(field));
  }
  const task = getTask(name('task'), 'job.spec.task').name;
  const variant = getVariant(name('variant'), 'job.spec.variant').name;
  const mode = name('mode');
  if (mode !== 'paper' && mode !== 'corrected') throw new OptionError('job.spec.mode', "'paper' or 'corrected'", shown(mode));
  const seed = s.seed;
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 2 ** 31)
    throw new OptionError('job.spec.seed', 'an integer from 0 to 2^31', shown(seed));
  if (typeof s.positive !== 'boolean') throw new OptionError('job.spec.positive', 'true or false', shown(s.positive));
  const lambda = s.lambda;
  if (lambda !== undefined && (typeof lambda !== 'number' || !Number.isFinite(lambda) || lambda < 0 || lambda > JOB_LIMITS.lambda))
    throw new OptionError('job.spec.lambda', `a number from 0 to ${JOB_LIMITS.lambda}`, shown(lambda));
  const spec: RunSpec = { field, task, variant, seed, mode: mode as Mode, positive: s.positive, ...(lambda !== undefined ? { lambda } : {}) };
  return { schema: JOB_SCHEMA, spec, protocol: validateProtocol(j.protocol) };
}

function validateProtocol(x: unknown): Protocol {
  const p = object(x, 'job.protocol');
  if (Object.keys(p).sort().join(',') !== PROTOCOL_KEYS)
    throw new OptionError('job.protocol', `exactly the keys ${PROTOCOL_KEYS}`, shown(Object.keys(p).join(',')));
  const splits = object(p.splits, 'job.protocol.splits');
  if (Object.keys(splits).sort().join(',') !== 'test,train,val')
    throw new OptionError('job.protocol.splits', 'exactly the keys test,train,val', shown(Object.keys(splits).join(',')));
  const num = (k: string, v: unknown, max: number, nullable = false): number | undefined => {
    if (nullable && v === null) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new OptionError(`job.protocol.${k}`, 'a number', shown(v));
    if (v > max) throw new OptionError(`job.protocol.${k}`, `at most ${max.toLocaleString('en')}`, shown(v));
    return v;
  };
  let r: Protocol;
  try {
    // The command line's own checks (positive integers, trials within bounds, batch ≤ trials).
    r = resolveProtocol(PAPER_PROTOCOL, {
      epochs: num('epochs', p.epochs, JOB_LIMITS.epochs),
      steps: num('steps', p.steps, JOB_LIMITS.steps, true),
      lr: num('lr', p.lr, JOB_LIMITS.lr),
      batchSize: num('batchSize', p.batchSize, JOB_LIMITS.batchSize),
      trainTrials: num('splits.train', splits.train, Infinity),
      testTrials: num('splits.test', splits.test, Infinity),
      valTrials: num('splits.val', splits.val, Infinity),
      nNull: num('nNull', p.nNull, JOB_LIMITS.nNull),
      nMatched: num('nMatched', p.nMatched, JOB_LIMITS.nMatched),
      lambda: num('lambda', p.lambda, JOB_LIMITS.lambda),
      mu: num('mu', p.mu, JOB_LIMITS.mu),
    });
  } catch (e) {
    if (e instanceof OptionError && !e.option.startsWith('job.')) throw new OptionError(`job.protocol (${e.option.replace(/^--/, '')})`, e.expected, e.got);
    throw e;
  }
  if (p.steps === null) r.steps = null;
  const noise = num('inputNoise', p.inputNoise, JOB_LIMITS.inputNoise)!;
  if (noise < 0) throw new OptionError('job.protocol.inputNoise', 'a number ≥ 0', shown(noise));
  r.inputNoise = noise;
  return r;
}

// ───────────────────────────── the coordinator ─────────────────────────────

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
}

export interface QueueSweepResult {
  planned: RunSpec[];
  ran: string[];
  skipped: string[];
  failed: { id: string; reason: string }[];
  wallSeconds: number;
}

/** Each planned run not done is a job; waits until every job is completed or failed. */
export async function queueSweep(o: QueueSweepOptions): Promise<QueueSweepResult> {
  const t0 = Date.now();
  const log = o.log ?? ((s: string) => (o.quiet ? undefined : process.stderr.write(s + '\n')));
  const name = checkQueueName(o.queueName ?? DEFAULT_QUEUE_NAME);
  await probe(o.queue);
  await makeDir(o.out);
  // One coordinator per directory (workers write run directories, never the manifest).
  const lock = await lockDir(o.out, 'sweep', { log });
  const conn = connection(o.queue, log);
  const queue = new Queue<RunJob>(name, { connection: conn });
  queue.on('error', () => {}); // the connection logs outages
  try {
    const planned = planRuns(o);
    const inv = newInvocation(o, `queue ${o.queue.shown}/${name}`, planned.length);
    inv.queue = `${o.queue.shown}/${name}`;
    const { save, record } = manifestWriter(o.out, inv);
    const { todo, skipped } = splitDone(planned, { ...o, log }, inv, record);
    await save();
    log(`sweep: ${planned.length} runs planned, ${skipped.length} already done, ${todo.length} to run on the workers of ${o.queue.shown}/${name} → ${o.out}`);

    // A finished job of a run that is not done (its directory was removed) is run again; a
    // pending one is left as it is (enqueuing twice is a no-op).
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
        data: { schema: JOB_SCHEMA, spec, protocol: o.protocol } as RunJob,
        opts: { jobId: id, attempts: o.attempts ?? 2, backoff: { type: 'fixed', delay: 1000 } },
      })),
    );

    const ran: string[] = [];
    const failed: { id: string; reason: string }[] = [];
    const pending = new Set(ids.keys());
    const tty = o.tty ?? Boolean(process.stderr.isTTY || process.env.CORTICAL_RNN_STDERR_TTY === '1');
    let lastLine = '';
    const total = ids.size;
    while (pending.size) {
      let changed = false;
      // All states at once: the commands are in flight together on the one connection.
      const list = [...pending];
      const states = await Promise.all(list.map((id) => queue.getJobState(id)));
      for (const [k, id] of list.entries()) {
        const state = states[k]!;
        const spec = ids.get(id)!;
        if (state === 'completed') {
          const dir = join(o.out, runRelDir(spec));
          const rec = completedRecord(dir);
          if (typeof rec !== 'string') {
            record(dir, rec);
            ran.push(rec.id);
          } else failed.push({ id: runId(spec), reason: rec });
          pending.delete(id);
          changed = true;
        } else if (state === 'failed' || state === 'unknown') {
          const job = await queue.getJob(id);
          failed.push({ id: runId(spec), reason: job?.failedReason || (state === 'unknown' ? 'the job was removed from the queue' : 'failed') });
          pending.delete(id);
          changed = true;
        }
      }
      if (changed) {
        inv.ran = ran.length;
        await save();
      }
      const counts = await queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized');
      const done = total - pending.size;
      const el = (Date.now() - t0) / 1000;
      const eta = done > 0 && pending.size > 0 ? formatDuration((el / done) * pending.size) : pending.size ? '?' : '0s';
      const width = 24;
      const filled = Math.round((done / Math.max(1, total)) * width);
      const line = `queue: ${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${done}/${total} runs done (${counts.active ?? 0} active, ${(counts.waiting ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0)} waiting, ${failed.length} failed) ETA ${eta}`;
      if (!o.quiet) {
        if (tty) process.stderr.write(`\r\x1b[2K${line}`);
        else if (line.replace(/ ETA .*/, '') !== lastLine.replace(/ ETA .*/, '')) process.stderr.write(line + '\n');
      }
      lastLine = line;
      if (pending.size) await new Promise((r) => setTimeout(r, o.pollMs ?? 1000));
    }
    if (tty && !o.quiet) process.stderr.write('\n');
    inv.finishedAt = new Date().toISOString();
    inv.wallSeconds = (Date.now() - t0) / 1000;
    await save();
    return { planned, ran, skipped, failed, wallSeconds: inv.wallSeconds };
  } finally {
    await queue.close().catch(() => {});
    conn.disconnect();
    await lock.release();
  }
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

// ───────────────────────────── the workers ─────────────────────────────

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

export interface WorkerHandle {
  /** Resolves when the worker has stopped; the summary of what it did. */
  done: Promise<{ completed: number; failed: number; handedBack: number }>;
  /** First call: finish the running batch, hand back the rest, exit. Second: hand back all now. */
  stop(): Promise<void>;
}

interface Held {
  job: Job<RunJob>;
  token: string;
  run: RunJob;
  resolve: (v: { id: string; status: string }) => void;
  reject: (e: Error) => void;
}

function batchKey(j: RunJob): string {
  return `${j.spec.field}|${j.spec.task}|${j.spec.mode}|${JSON.stringify(j.protocol)}`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

/** Pulls jobs and trains them until stopped (or idle for idleExitSeconds). */
export async function startWorker(o: WorkerOptions): Promise<WorkerHandle> {
  const log = o.log ?? ((s: string) => (o.quiet ? undefined : process.stderr.write(s + '\n')));
  const name = checkQueueName(o.queueName ?? DEFAULT_QUEUE_NAME);
  await probe(o.queue);
  await makeDir(o.out);
  const me = `${hostname()}-${process.pid}`;
  const partial = join(o.out, '.partial');
  await makeDir(partial);
  // Leftovers of this host's dead workers (a kill -9 mid-run) are never renamed into place.
  for (const e of readdirSync(partial)) {
    const m = /^(.*)-(\d+)-\d+$/.exec(e);
    if (m && m[1] === hostname() && !alive(Number(m[2]))) await rm(join(partial, e), { recursive: true, force: true });
  }
  const conn = connection(o.queue, log);
  const queue = new Queue<RunJob>(name, { connection: conn });
  queue.on('error', () => {});

  let limit = o.modelsPerBatch ?? 1;
  const held: Held[] = [];
  let current: Held[] = [];
  let running = false;
  let stopping = 0;
  let tmpCount = 0;
  const stats = { completed: 0, failed: 0, handedBack: 0 };
  // Distinct jobs: one handed back and fetched again before the worker closes goes back twice.
  const handedBack = new Set<string>();
  let gather: NodeJS.Timeout | undefined;

  const maxFor = (j: RunJob): number => {
    if (o.modelsPerBatch) return o.modelsPerBatch;
    const task = getTask(j.spec.task);
    return Math.max(1, modelsPerBatch(o.backend, rnnConfigFor(task, prepareField(o.dataDir, j.spec.field).n), task.T, j.protocol.batchSize));
  };

  /** The directory's protocol (its sweep's latest invocation), which a job must match. */
  const checkDirectory = (run: RunJob) => {
    const m = readManifest(o.out);
    const inv = m?.invocations[m.invocations.length - 1];
    if (inv && JSON.stringify(inv.protocol) !== JSON.stringify(run.protocol)) throw protocolMismatch(join(o.out, 'sweep.json'), inv.protocol, run.protocol);
  };

  const trainBatch = async (batch: Held[]) => {
    const todo: Held[] = [];
    for (const h of batch) {
      try {
        // Redelivered after someone finished it (or a local sweep did): nothing to redo.
        const done = doneRun(join(o.out, runRelDir(h.run.spec)), h.run.protocol, { allowMixedCommits: true });
        if (done) h.resolve({ id: done.id, status: done.status });
        else todo.push(h);
      } catch (e) {
        log(`worker ${me}: refused job ${h.job.id}: ${(e as Error).message}`);
        h.reject(new UnrecoverableError((e as Error).message));
      }
    }
    if (!todo.length) return;
    const tmp = new Map<Held, string>();
    for (const h of todo) tmp.set(h, join(partial, `${me}-${++tmpCount}`));
    log(`worker ${me}: training ${todo.map((h) => runId(h.run.spec)).join(', ')}`);
    try {
      const recs = await runGroup(
        todo.map((h) => h.run.spec),
        (spec) => {
          const h = todo.find((x) => x.run.spec === spec)!;
          return {
            dataDir: o.dataDir,
            backend: o.backend,
            protocol: h.run.protocol,
            dir: tmp.get(h)!,
            design: o.design,
            progress: { label: runId(spec), quiet: true },
          };
        },
      );
      for (let k = 0; k < todo.length; k++) {
        const h = todo[k]!;
        const target = join(o.out, runRelDir(h.run.spec));
        await publish(tmp.get(h)!, target);
        log(`worker ${me}: ${recs[k]!.id} ${recs[k]!.status} → ${relative(o.out, target)}`);
        h.resolve({ id: recs[k]!.id, status: recs[k]!.status });
      }
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      log(`worker ${me}: failed ${todo.map((h) => runId(h.run.spec)).join(', ')}: ${err.message}`);
      for (const h of todo) h.reject(err);
    } finally {
      for (const d of tmp.values()) await rm(d, { recursive: true, force: true });
    }
  };

  const flush = async () => {
    if (running || !held.length || stopping) return;
    running = true;
    try {
      const key = batchKey(held[0]!.run);
      const k = Math.min(limit, maxFor(held[0]!.run));
      const batch: Held[] = [];
      for (const h of [...held]) {
        if (batch.length < k && batchKey(h.run) === key) {
          batch.push(h);
          held.splice(held.indexOf(h), 1);
        }
      }
      current = batch;
      await trainBatch(batch);
    } finally {
      current = [];
      running = false;
    }
    if (held.length) scheduleFlush();
  };
  const scheduleFlush = () => {
    clearTimeout(gather);
    // Wait a moment for the worker to fetch the batch's other jobs (none at one per batch).
    gather = setTimeout(() => void flush(), held.length >= limit ? 0 : 300);
  };

  const worker = new Worker<RunJob>(
    name,
    async (job, token) => {
      if (stopping) {
        // Fetched while stopping: straight back to the queue.
        await job.moveToWait(token);
        handedBack.add(job.id!);
        stats.handedBack = handedBack.size;
        throw new WaitingError();
      }
      let run: RunJob;
      try {
        run = validateJob(job.data, o.dataDir);
        checkDirectory(run);
      } catch (e) {
        log(`worker ${me}: refused job ${job.id}: ${(e as Error).message}`);
        stats.failed++;
        throw new UnrecoverableError((e as Error).message);
      }
      if (!o.modelsPerBatch && limit === 1) {
        limit = maxFor(run);
        if (limit > 1) worker.concurrency = limit;
      }
      // A redelivery of a job this worker still holds (its lock expired while the event loop
      // was busy, and the stalled check handed it back): the new token replaces the old.
      const dup = held.findIndex((h) => h.job.id === job.id);
      if (dup >= 0) held.splice(dup, 1)[0]!.reject(new WaitingError());
      return await new Promise<{ id: string; status: string }>((resolve, reject) => {
        held.push({
          job,
          token: token!,
          run,
          resolve: (v) => {
            stats.completed++;
            resolve(v);
          },
          reject: (e) => {
            if (!(e instanceof WaitingError)) stats.failed++; // not handed back: failed
            reject(e);
          },
        });
        scheduleFlush();
      });
    },
    {
      connection: conn,
      concurrency: limit,
      autorun: false,
      name: me,
      lockDuration: o.lockMs ?? 60_000,
      stalledInterval: o.stalledMs ?? 30_000,
      maxStalledCount: 3,
      drainDelay: 1,
    },
  );
  worker.on('error', () => {}); // the connection logs outages
  worker.on('stalled', (id) => log(`worker ${me}: job ${id} stalled (its worker died or was too busy to renew the lock): back in the queue`));

  const handBack = async (hs: Held[]) => {
    for (const h of hs) {
      await h.job.moveToWait(h.token).catch(() => {});
      handedBack.add(h.job.id!);
      stats.handedBack = handedBack.size;
      h.reject(new WaitingError());
    }
  };

  let resolveDone!: (v: typeof stats) => void;
  const done = new Promise<typeof stats>((r) => (resolveDone = r));
  let idleSince = Date.now();
  let seenWork = false;
  let idleTimer: NodeJS.Timeout | undefined;
  let checking = false;
  const finish = async () => {
    clearInterval(idleTimer);
    await worker.close().catch(() => {});
    await queue.close().catch(() => {});
    conn.disconnect();
    resolveDone(stats);
  };

  const stop = async () => {
    stopping++;
    if (stopping === 1) {
      log(
        `worker ${me}: stopping: ${running ? 'finishing the running batch, ' : ''}handing back ${held.length} waiting job(s) (signal again to hand back everything now)`,
      );
      clearTimeout(gather);
      await handBack(held.splice(0));
      await finish();
    } else if (stopping === 2) {
      log(`worker ${me}: handing back the running batch now`);
      await handBack([...held.splice(0), ...current]);
      resolveDone(stats);
    }
  };

  if (o.idleExitSeconds !== undefined) {
    idleTimer = setInterval(() => {
      if (checking || stopping) return;
      checking = true;
      void (async () => {
        try {
          const c = await queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized', 'completed', 'failed');
          // A queue that never had a job is waiting for its coordinator: the clock starts with work.
          seenWork ||= Object.values(c).some((x) => x > 0);
          const busy = !seenWork || running || held.length > 0 || c.active! + c.waiting! + c.delayed! + c.prioritized! > 0;
          if (busy) idleSince = Date.now();
          else if ((Date.now() - idleSince) / 1000 >= o.idleExitSeconds!) {
            log(`worker ${me}: queue idle for ${o.idleExitSeconds} s, exiting`);
            await stop();
          }
        } finally {
          checking = false;
        }
      })();
    }, 500);
  }

  log(
    `worker ${me}: pid ${process.pid}, queue ${o.queue.shown}/${name}, writing runs to ${o.out}, ${o.modelsPerBatch ? `up to ${o.modelsPerBatch}` : 'as many as the adapter allows'} networks per batch`,
  );
  void worker.run();
  return { done, stop };
}

/**
 * Moves a complete run directory into place: a directory that is already complete there (the
 * same run, finished by another worker) wins and ours is dropped; a partial one is replaced,
 * keeping the corrupt records set aside in it. A corrupt final.json there is refused.
 */
async function publish(tmp: string, target: string): Promise<void> {
  if (finishedThere(target)) return;
  await makeDir(join(target, '..'));
  if (existsSync(target)) {
    for (const name of setAsideRecords(target)) await rename(join(target, name), join(tmp, name));
    const aside = `${tmp}.old`;
    await rename(target, aside).catch(() => {});
    await rm(aside, { recursive: true, force: true });
  }
  try {
    await rename(tmp, target);
  } catch (e) {
    // Another worker renamed the same run into place between our check and our rename: its
    // run stands, and the records set aside go back beside it.
    if (!finishedThere(target)) throw e;
    for (const name of setAsideRecords(tmp)) await rename(join(tmp, name), join(target, name)).catch(() => {});
  }
}

/** Whether `target` holds a finished run; a corrupt final.json is refused, never replaced. */
function finishedThere(target: string): boolean {
  try {
    return readRunRecord(target) !== null;
  } catch (e) {
    throw e instanceof CorruptRunRecordError ? corruptRefusal(e) : e;
  }
}

// ───────────────────────────── status and drain ─────────────────────────────

export interface QueueStatus {
  counts: Record<string, number>;
  workers: { name: string; addr: string; age: string }[];
}

export async function queueStatus(q: QueueUrl, queueName = DEFAULT_QUEUE_NAME): Promise<QueueStatus> {
  await probe(q);
  const conn = connection(q, () => {});
  const queue = new Queue(checkQueueName(queueName), { connection: conn });
  try {
    const counts = await queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized');
    const workers = (await queue.getWorkers()).map((w) => ({
      name: (w.rawname ?? w.name ?? '?').replace(/^.*:w:/, ''),
      addr: w.addr ?? '?',
      age: w.age ?? '?',
    }));
    return { counts, workers };
  } finally {
    await queue.close().catch(() => {});
    conn.disconnect();
  }
}

/** Removes the queue's pending (waiting and delayed) jobs; running ones finish. */
export async function drainQueue(q: QueueUrl, queueName = DEFAULT_QUEUE_NAME): Promise<number> {
  await probe(q);
  const conn = connection(q, () => {});
  const queue = new Queue(checkQueueName(queueName), { connection: conn });
  try {
    const c = await queue.getJobCounts('waiting', 'delayed', 'prioritized');
    await queue.drain(true);
    return Object.values(c).reduce((a, b) => a + b, 0);
  } finally {
    await queue.close().catch(() => {});
    conn.disconnect();
  }
}
