/**
 * The HTTP API under /api/v1/: engine info, submitting runs and sweeps (validated by the
 * queue's job schema and validator), the runs with their records, metrics and weights,
 * cancelling, a results directory's report, and live progress as Server-Sent Events. Every
 * run a request names is looked up by its key among the runs the server knows (its pool's
 * and its results directory's): no file path is ever joined from request text.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { OptionError } from '../../engine/errors.ts';
import { PAPER_PROTOCOL, QUICK_PRESET, resolveProtocol, type Mode, type Protocol, type ProtocolOverrides } from '../../experiments/protocol.ts';
import { runJob, validateJob } from '../../experiments/queue_job.ts';
import { runId, runKey, runRelDir, type RunSpec } from '../../experiments/record.ts';
import { buildReport, loadSweepDir } from '../../experiments/report.ts';
import { CorruptRunRecordError, readResumable, readRunRecord } from '../../experiments/run.ts';
import { isTerminal, PoolLimitError, RunPool, type PoolEvent, type Submission } from '../../experiments/run_pool.ts';
import { findRunDirs, planRuns, type SweepPlan } from '../../experiments/sweep.ts';
import { getVariant } from '../../experiments/variants.ts';
import { openApiDocument, RUN_REQUEST_SCHEMA, SWEEP_REQUEST_SCHEMA, type RunRequest, type SweepRequest } from './openapi.ts';
import { safeSegments, within } from './paths.ts';

export interface ApiOptions {
  pool: RunPool;
  dataDir: string;
  resultsDir: string;
  /** Required as `Authorization: Bearer <token>` on every route but the OpenAPI document; null: none (loopback only). */
  token: string | null;
  /** What GET /info answers beside the limits (the engine's adapter, the code's version). */
  info: () => Promise<Record<string, unknown>>;
  /** Request bodies above this many bytes are refused (413). */
  bodyLimit?: number;
  /** Runs one sweep submission may plan (default 1,000). */
  maxRunsPerSweep?: number;
}

/** A refusal with its HTTP status and one-line message. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Whether the request carries the token; compared in constant time (digests of equal length). */
function authorised(req: FastifyRequest, token: string): boolean {
  const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
  return m !== null && timingSafeEqual(digest(m[1]!), digest(token));
}

/** Every error as `{ error }` in one line, with its status. */
function sendError(err: FastifyError | Error, reply: FastifyReply): FastifyReply {
  const e = err as FastifyError & { status?: number };
  if (e.validation)
    return reply.code(400).send({
      error: `${e.validationContext ?? 'body'}${e.validation[0]?.instancePath ?? ''}: expected it to ${e.validation[0]?.message ?? 'match the schema'}`,
    });
  const status = err instanceof ApiError ? err.status : err instanceof OptionError ? 400 : err instanceof PoolLimitError ? 429 : (e.statusCode ?? 500);
  return reply.code(status).send({ error: String(err.message).split('\n', 1)[0] });
}

export function registerApi(app: FastifyInstance, o: ApiOptions): void {
  app.setErrorHandler((err, _req, reply) => sendError(err as Error, reply));
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: `${req.method} ${req.url}: expected one of the API's routes (GET /api/v1/openapi.json lists them)` }),
  );
  app.addHook('onRequest', async (req, reply) => {
    if (o.token === null || req.routeOptions.url === '/api/v1/openapi.json') return;
    if (!authorised(req, o.token))
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: 'expected the header Authorization: Bearer <token>, got none or a wrong token' });
  });
  app.get('/openapi.json', async () => openApiDocument());
  app.get('/info', async () => ({ ...(await o.info()), limits: { bodyBytes: o.bodyLimit ?? 64 * 1024, runsPerSweep: o.maxRunsPerSweep ?? 1000 } }));
  app.post('/runs', { schema: { body: RUN_REQUEST_SCHEMA } }, async (req, reply) =>
    reply.code(202).send(summary(submitRun(o, req.body as RunRequest, req.ip))),
  );
  app.post('/sweeps', { schema: { body: SWEEP_REQUEST_SCHEMA } }, async (req, reply) =>
    reply.code(202).send(summary(submitSweep(o, req.body as SweepRequest, req.ip))),
  );
  app.get('/submissions/:id', async (req) => summary(submission(o, req)));
  app.delete('/submissions/:id', async (req) => cancel(o, submission(o, req)));
  app.get('/submissions/:id/events', (req, reply) => streamEvents(o, submission(o, req), null, req, reply));
  app.get('/runs', async () => ({ runs: [...(await runIndex(o)).values()].map(({ spec: _spec, dir: _dir, ...r }) => r) }));
  app.get('/runs/:key', async (req) => finishedRecord(await knownRun(o, req)));
  app.delete('/runs/:key', async (req) => cancel(o, holdingSubmission(o, await knownRun(o, req))));
  app.get('/runs/:key/events', async (req, reply) => {
    const run = await knownRun(o, req);
    return streamEvents(o, holdingSubmission(o, run), run.key, req, reply);
  });
  app.get('/runs/:key/metrics.csv', async (req, reply) => reply.type('text/csv; charset=utf-8').send(await readRunFile(await knownRun(o, req), 'metrics.csv')));
  app.get('/runs/:key/weights', async (req) => ({ files: await weightFiles((await knownRun(o, req)).dir) }));
  app.get('/runs/:key/weights/:name', async (req, reply) => {
    const run = await knownRun(o, req);
    const name = (req.params as { name: string }).name;
    if (!(await weightFiles(run.dir)).includes(name))
      throw new ApiError(404, `run ${run.key}: expected one of its weight files (GET …/weights lists them), got "${name}"`);
    return reply.type('application/octet-stream').send(await readRunFile(run, name));
  });
  app.get('/report', async (req) => reportOf(o, (req.query as { dir?: string }).dir ?? ''));
}

/** The preset's protocol with the request's overrides, checked as the command line checks flags. */
function protocolOf(preset: 'paper' | 'quick' | undefined, overrides: ProtocolOverrides | undefined): Protocol {
  return resolveProtocol(preset === 'quick' ? QUICK_PRESET.protocol : PAPER_PROTOCOL, overrides ?? {});
}

/**
 * Refuses (409) a submission whose runs the results directory already holds under another
 * protocol: the sweep would stop on them, in words meant for the command line.
 */
function checkNoConflict(o: ApiOptions, plan: SweepPlan, protocol: Protocol): void {
  for (const spec of planRuns(plan)) {
    const rec = readResumable(join(o.resultsDir, runRelDir(spec)), () => {});
    if (!rec || JSON.stringify(rec.protocol) === JSON.stringify(protocol)) continue;
    const differ = Object.keys(protocol).filter((k) => JSON.stringify(rec.protocol[k as keyof Protocol]) !== JSON.stringify(protocol[k as keyof Protocol]));
    throw new ApiError(
      409,
      `run ${runKey(spec)}: the results directory holds it trained with another protocol (${differ.map((k) => `${k} ${JSON.stringify(rec.protocol[k as keyof Protocol])}`).join(', ')}); submit it with that protocol, or another seed`,
    );
  }
}

/** One run: the queue's job validator checks it (names against the data and tables) and makes it canonical. */
function submitRun(o: ApiOptions, body: RunRequest, client: string): Submission {
  const job = validateJob(runJob({ positive: false, ...body.spec } as RunSpec, protocolOf(body.preset, body.protocol)), o.dataDir);
  const s = job.spec;
  const plan: SweepPlan = {
    field: s.field,
    tasks: [s.task],
    variants: [getVariant(s.variant)],
    seeds: [s.seed],
    modes: [s.mode],
    positive: s.positive,
    ...(s.lambda !== undefined ? { lambdas: { [s.variant]: [s.lambda] } } : {}),
  };
  checkNoConflict(o, plan, job.protocol);
  return o.pool.submit('run', plan, job.protocol, body.preset ?? 'paper', client);
}

/** A sweep: every planned run goes through the same validator before any is queued. */
function submitSweep(o: ApiOptions, body: SweepRequest, client: string): Submission {
  const protocol = protocolOf(body.preset, body.protocol);
  const modes: Mode[] = body.mode === 'both' ? ['paper', 'corrected'] : [body.mode ?? 'corrected'];
  const seeds = Array.from({ length: body.seeds ?? 1 }, (_, i) => (body.seedStart ?? 1) + i);
  const total = modes.length * seeds.length * body.tasks.length * body.variants.length * (body.lambdas?.length ?? 1);
  const max = o.maxRunsPerSweep ?? 1000;
  if (total > max) throw new ApiError(400, `body: expected at most ${max} runs in one sweep, got ${total}`);
  const first = (t: string, v: string) => ({ field: body.field, task: t, variant: v, seed: seeds[0]!, mode: modes[0]!, positive: body.positive ?? false });
  const tasks = body.tasks.map((t) => validateJob(runJob(first(t, body.variants[0]!), protocol), o.dataDir).spec.task);
  const variants = body.variants.map((v) => getVariant(validateJob(runJob(first(body.tasks[0]!, v), protocol), o.dataDir).spec.variant));
  for (const seed of seeds) validateJob(runJob({ ...first(tasks[0]!, variants[0]!.name), seed }, protocol), o.dataDir);
  const plan: SweepPlan = {
    field: body.field,
    tasks,
    variants,
    seeds,
    modes,
    positive: body.positive ?? false,
    ...(body.lambdas ? { lambdas: Object.fromEntries(variants.map((v) => [v.name, body.lambdas!])) } : {}),
  };
  checkNoConflict(o, plan, protocol);
  return o.pool.submit('sweep', plan, protocol, body.preset ?? 'paper', client);
}

function summary(s: Submission): Record<string, unknown> {
  return {
    submission: s.id,
    kind: s.kind,
    status: s.status,
    error: s.error,
    runs: s.runs,
    createdAt: s.createdAt,
    events: `/api/v1/submissions/${s.id}/events`,
  };
}

function submission(o: ApiOptions, req: FastifyRequest): Submission {
  const id = (req.params as { id: string }).id;
  const s = o.pool.get(id);
  if (!s) throw new ApiError(404, `submission "${id}": expected one this server accepted, got an unknown id`);
  return s;
}

function cancel(o: ApiOptions, s: Submission): Record<string, unknown> {
  o.pool.cancel(s);
  return summary(s);
}

interface KnownRun {
  key: string;
  id: string;
  spec: RunSpec;
  dir: string;
  status: string;
  submission: string | null;
  error?: string;
}

/**
 * Every run the server knows, by key: the pool's (queued, running, cancelled, failed) and the
 * finished ones in its results directory (status from their final.json, read strictly).
 */
async function runIndex(o: ApiOptions): Promise<Map<string, KnownRun>> {
  const out = new Map<string, KnownRun>();
  const add = (spec: RunSpec, status: string, submission: string | null, error?: string) => {
    const key = runKey(spec);
    out.set(key, { key, id: runId(spec), spec, dir: join(o.resultsDir, runRelDir(spec)), status, submission, ...(error ? { error } : {}) });
  };
  for (const [, { spec, submission }] of o.pool.runs())
    add(spec, submission.status === 'done' ? 'done' : submission.status, submission.id, submission.error ?? undefined);
  for (const dir of findRunDirs(o.resultsDir)) {
    try {
      const rec = readRunRecord(dir);
      if (rec) add(rec.spec, rec.status, out.get(runKey(rec.spec))?.submission ?? null);
    } catch (e) {
      if (!(e instanceof CorruptRunRecordError)) throw e;
    }
  }
  return out;
}

async function knownRun(o: ApiOptions, req: FastifyRequest): Promise<KnownRun> {
  const key = (req.params as { key: string }).key;
  const run = (await runIndex(o)).get(key);
  if (!run) throw new ApiError(404, `run "${key}": expected the key of a run this server knows (GET /api/v1/runs lists them), got an unknown key`);
  return run;
}

function holdingSubmission(o: ApiOptions, run: KnownRun): Submission {
  const s = o.pool.holding(run.key);
  if (!s) throw new ApiError(409, `run ${run.key}: expected a run submitted to this server, got one it found finished in its results directory`);
  return s;
}

function finishedRecord(run: KnownRun): unknown {
  const rec = readRunRecord(run.dir);
  if (!rec) throw new ApiError(409, `run ${run.key}: expected a finished run, got status ${run.status} (no final.json yet)`);
  return rec;
}

async function readRunFile(run: KnownRun, name: string): Promise<Buffer> {
  try {
    return await readFile(join(run.dir, name));
  } catch {
    throw new ApiError(404, `run ${run.key}: expected its ${name}, got none (status ${run.status})`);
  }
}

/** A run directory's weight files: W_rec_init.npy, W_rec_epochNN.npy, params_final/*.npy. */
async function weightFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const params = await readdir(join(dir, 'params_final')).catch(() => [] as string[]);
  const weights = names
    .filter((n) => /^W_rec_(init|epoch\d+)\.npy$/.test(n))
    .sort((a, b) => (a === 'W_rec_init.npy' ? -1 : b === 'W_rec_init.npy' ? 1 : a.localeCompare(b, 'en', { numeric: true })));
  return [
    ...weights,
    ...params
      .filter((n) => n.endsWith('.npy'))
      .sort()
      .map((n) => `params_final/${n}`),
  ];
}

/** The report's JSON of a results directory under the server's, named as a relative path. */
async function reportOf(o: ApiOptions, rel: string): Promise<unknown> {
  const segs = safeSegments(`/${rel}`);
  const real = segs && (await within(o.resultsDir, join(o.resultsDir, ...segs)));
  if (!real) throw new ApiError(404, `report dir "${rel}": expected a folder inside the server's results directory`);
  return buildReport(loadSweepDir(real)).json;
}

/**
 * Server-Sent Events of a submission (or of one of its runs): the logged events after
 * Last-Event-ID, then live ones, until the submission ends. A comment every 15 s keeps proxies open.
 */
function streamEvents(o: ApiOptions, sub: Submission, run: string | null, req: FastifyRequest, reply: FastifyReply): void {
  const header = req.headers['last-event-id'];
  const after = Number((Array.isArray(header) ? header[0] : header) ?? (req.query as { lastEventId?: string }).lastEventId ?? 0) || 0;
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  const write = (e: PoolEvent) => {
    res.write(`id: ${e.id}\nevent: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`);
    if (isTerminal(e)) close();
  };
  const beat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  let unsubscribe = () => {};
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(beat);
    unsubscribe();
    res.end();
  };
  req.raw.on('close', close);
  const filter = (e: PoolEvent) => run === null || e.data.run === undefined || e.data.run === run;
  unsubscribe = o.pool.subscribe(sub, after, filter, write);
  // Resumed at or after its last event: nothing more will come.
  if (closed || RunPool.ended(sub)) close();
}
