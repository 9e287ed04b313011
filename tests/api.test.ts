/**
 * The HTTP API on the real server (Fastify on a loopback port, the engine on this machine's
 * adapter): its contract, the bearer token, bounds, forged specs, traversal on every route,
 * live progress with resumption, cancelling, and a run equal to `cortical-rnn train`'s.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '../cli/serve/openapi.ts';
import type { Backend } from '../engine/tensor.ts';
import { QUICK_PRESET, resolveProtocol } from '../experiments/protocol.ts';
import { forgedJobs } from './helpers/forged_jobs.ts';
import { readEvents, startApiServer, type ApiServer, type SseEvent } from './helpers/api_server.ts';

const DATA = resolve('../shared/data');
const haveData = existsSync(join(DATA, 'microns-fields', '5_3_4'));
const TOKEN = 'test-token-0123456789abcdef';
/** A tiny quick-preset protocol, as the API takes it and as `train` takes it in flags. */
const TINY = { epochs: 1, steps: 2, trainTrials: 128, testTrials: 64, valTrials: 64, batchSize: 64, nNull: 2, nMatched: 2 };
/** The same protocol as `train`'s flags (camelCase keys as kebab-case flags). */
const TINY_FLAGS = ['--quick', ...Object.entries(TINY).flatMap(([k, v]) => [`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, String(v)])];
const SPEC = { field: '5_3_4', task: 'gonogo', variant: 'W*D*C', seed: 1, mode: 'corrected' };
const KEY = 'corrected.5_3_4.gonogo.WsDsC.seed-1';

/** An SSE stream read to its end, with the token. */
async function events(url: string, headers: Record<string, string> = {}): Promise<SseEvent[]> {
  const r = await readEvents(url, { authorization: `Bearer ${TOKEN}`, ...headers });
  expect(r.contentType).toMatch(/^text\/event-stream/);
  return r.events;
}

describe.runIf(haveData)('the HTTP API', () => {
  const root = mkdtempSync(join(tmpdir(), 'crnn-api-'));
  const results = join(root, 'results');
  let server: ApiServer;
  let base: string;
  const call = (path: string, init: RequestInit & { token?: string | null } = {}) =>
    fetch(`${base}${path}`, {
      ...init,
      headers: {
        ...(init.token === null ? {} : { authorization: `Bearer ${init.token ?? TOKEN}` }),
        ...(init.body ? { 'content-type': 'application/json' } : {}),
        ...init.headers,
      },
    });
  const post = (path: string, body: unknown) => call(path, { method: 'POST', body: JSON.stringify(body) });

  beforeAll(async () => {
    server = await startApiServer({ dataDir: DATA, results, token: TOKEN, pool: { maxPerClient: 4 } });
    base = server.base;
  });
  afterAll(async () => {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('serves its OpenAPI document without a token, equal to the committed one', async () => {
    const doc = await (await call('/openapi.json', { token: null })).json();
    expect(doc).toEqual(openApiDocument());
    const committed = 'docs/api/openapi.json';
    if (process.env.UPDATE_OPENAPI === '1') writeFileSync(committed, JSON.stringify(doc, null, 2) + '\n');
    expect(JSON.parse(readFileSync(committed, 'utf8')), `${committed} is stale: rerun with UPDATE_OPENAPI=1`).toEqual(doc);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/info', '/runs', '/sweeps', '/runs/{key}/events', '/report']));
  });

  it('refuses a missing or wrong token with 401 on every route, and answers the right one', async () => {
    for (const path of ['/info', '/runs', `/runs/${KEY}`, '/submissions/s-x/events', '/report']) {
      for (const token of [null, 'test-token-0123456789abcdeX', 'short']) {
        const r = await call(path, { token });
        expect(r.status, `${path} ${token}`).toBe(401);
        expect((await r.json()).error).toMatch(/^expected the header Authorization: Bearer <token>, got none or a wrong token$/);
      }
    }
    expect((await call('/runs', { method: 'POST', token: null, body: JSON.stringify({ spec: SPEC }) })).status).toBe(401);
    const info = await (await call('/info')).json();
    expect(info).toMatchObject({ api: 'cortical-rnn/api/1', limits: { bodyBytes: 65536 } });
    expect(info.backend).toMatch(/\S/);
  });

  it('refuses an oversized body with 413 in one line, and queues nothing', async () => {
    const r = await call('/runs', { method: 'POST', body: JSON.stringify({ spec: SPEC, pad: 'x'.repeat(70_000) }) });
    expect(r.status).toBe(413);
    expect((await r.json()).error).toMatch(/^Request body is too large/);
  });

  it("refuses each of the queue's forged jobs as a request (400, one line) and writes nothing", async () => {
    const protocol = resolveProtocol(QUICK_PRESET.protocol, TINY);
    const forged = forgedJobs({ ...SPEC, mode: 'corrected', positive: false }, protocol);
    for (const f of forged) {
      const r = await post('/runs', asRequest(f.data, protocol as unknown as Record<string, unknown>));
      const body = await r.json();
      expect(r.status, `${f.what}: ${JSON.stringify(body)}`).toBe(400);
      expect(body.error, f.what).toMatch(/^[^\n]+$/);
    }
    for (const body of [
      { ...SPEC, seeds: 1e6 },
      { field: '5_3_4', tasks: ['gonogo'], variants: ['W'], seeds: 1000, lambdas: Array.from({ length: 64 }, (_, i) => i) },
      { field: '5_3_4', tasks: ['../x'], variants: ['W'] },
      { field: '5_3_4', tasks: ['gonogo'], variants: ['W'], lambdas: [-1] },
    ])
      expect((await post('/sweeps', body)).status, JSON.stringify(body).slice(0, 80)).toBe(400);
    expect(existsSync(join(results, 'runs'))).toBe(false);
  });

  it('refuses traversal on every route with 404', async () => {
    const targets = [
      '/runs/..%2f..%2fetc%2fpasswd',
      '/runs/%2e%2e',
      '/runs/..%2f..%2fetc/metrics.csv',
      '/runs/..%2f..%2fetc/weights',
      `/runs/${KEY}/weights/..%2f..%2f..%2fetc%2fpasswd`,
      `/runs/${KEY}/weights/..%2Ffinal.json`,
      '/runs/..%2f..%2fetc/events',
      '/submissions/..%2f..%2fetc',
      '/submissions/..%2f..%2fetc/events',
      '/report?dir=../../etc',
      '/report?dir=%2e%2e%2f%2e%2e',
      '/report?dir=/etc',
      '/../../etc/passwd',
    ];
    for (const t of targets) {
      const r = await call(t);
      expect(r.status, t).toBe(404);
      await r.body?.cancel();
    }
    expect((await call('/runs/x', { method: 'DELETE' })).status).toBe(404);
  });

  it('trains a run, streams its progress, replays after Last-Event-ID, and gives the same final.json as `train`', async () => {
    const t0 = Date.now();
    const r = await post('/runs', { spec: SPEC, preset: 'quick', protocol: TINY });
    expect(r.status).toBe(202);
    const sub = await r.json();
    expect(sub).toMatchObject({ kind: 'run', runs: [KEY] });
    expect(['queued', 'running']).toContain(sub.status);
    const all = await events(`${base}/submissions/${sub.submission}/events`);
    const firstEventMs = Date.now() - t0;
    expect(all.map((e) => e.id)).toEqual(all.map((_, i) => i + 1));
    expect(all[0]!.event).toBe('queued');
    expect(all.at(-1)).toMatchObject({ event: 'done', data: { status: 'done' } });
    const steps = all.filter((e) => e.event === 'step');
    expect(steps.map((e) => e.data.step)).toEqual([1, 2]);
    expect(steps[1]!.data).toMatchObject({ run: KEY, totalSteps: 2, epoch: 1 });
    expect(typeof steps[1]!.data.eta_s).toBe('number');
    expect(all.find((e) => e.event === 'epoch')!.data).toMatchObject({ run: KEY, epoch: 1, step: 2 });
    expect(all.find((e) => e.event === 'run-done')!.data).toMatchObject({ run: KEY, status: 'ok' });
    // the run's own stream, resumed after an id: exactly the events after it
    const after = steps[0]!.id;
    const rest = await events(`${base}/runs/${KEY}/events`, { 'last-event-id': String(after) });
    expect(rest.map((e) => e.id)).toEqual(all.filter((e) => e.id > after && (e.data.run === undefined || e.data.run === KEY)).map((e) => e.id));
    // resumed at its last event: closed at once, nothing replayed
    expect(await events(`${base}/submissions/${sub.submission}/events`, { 'last-event-id': String(all.at(-1)!.id) })).toEqual([]);
    // the record, metrics and weights, byte for byte as on disk
    const dir = join(results, 'runs/corrected/5_3_4/gonogo/WsDsC/seed-1');
    const rec = await (await call(`/runs/${KEY}`)).json();
    expect(rec).toEqual(JSON.parse(readFileSync(join(dir, 'final.json'), 'utf8')));
    expect(await (await call(`/runs/${KEY}/metrics.csv`)).text()).toBe(readFileSync(join(dir, 'metrics.csv'), 'utf8'));
    const { files } = await (await call(`/runs/${KEY}/weights`)).json();
    expect(files).toEqual([
      'W_rec_init.npy',
      'W_rec_epoch01.npy',
      ...readdirSync(join(dir, 'params_final'))
        .sort()
        .map((f) => `params_final/${f}`),
    ]);
    for (const f of files)
      expect(Buffer.from(await (await call(`/runs/${KEY}/weights/${encodeURIComponent(f)}`)).arrayBuffer()).equals(readFileSync(join(dir, f))), f).toBe(true);
    for (const t of [
      `/runs/${KEY}/weights/..%2f..%2f..%2f..%2f..%2fetc%2fpasswd`,
      `/runs/${KEY}/weights/..%2Ffinal.json`,
      `/runs/${KEY}/weights/W_rec_init.npy%00`,
    ])
      expect((await call(t)).status, t).toBe(404);
    const list = await (await call('/runs')).json();
    expect(list.runs).toContainEqual(expect.objectContaining({ key: KEY, status: 'ok', submission: sub.submission }));
    // the same run from the command line, into another directory
    const cli = join(root, 'cli');
    const out = spawnSync(
      process.execPath,
      [
        'bin/cortical-rnn.js',
        'train',
        '--data',
        DATA,
        '--field',
        '5_3_4',
        '--task',
        'gonogo',
        '--variant',
        'W*D*C',
        '--seed',
        '1',
        '--mode',
        'corrected',
        ...TINY_FLAGS,
        '--out',
        cli,
      ],
      { encoding: 'utf8' },
    );
    expect(out.status, out.stderr).toBe(0);
    const fromCli = JSON.parse(readFileSync(join(cli, 'runs/corrected/5_3_4/gonogo/WsDsC/seed-1/final.json'), 'utf8'));
    const comparable = (x: Record<string, unknown>) => ({
      ...x,
      timings: null,
      code: null,
      finishedAt: null,
      history: (x.history as { seconds: number }[]).map((h) => ({ ...h, seconds: 0 })),
    });
    expect(comparable(rec)).toEqual(comparable(fromCli));
    expect(firstEventMs).toBeGreaterThan(0);
  });

  it('trains a sweep submission through the batch planner, its runs listed with their status', async () => {
    const r = await post('/sweeps', {
      field: '5_3_4',
      tasks: ['gonogo'],
      variants: ['W', 'WD*C'],
      seeds: 1,
      seedStart: 3,
      mode: 'paper',
      preset: 'quick',
      protocol: TINY,
    });
    expect(r.status).toBe(202);
    const sub = await r.json();
    expect(sub.runs).toEqual(['paper.5_3_4.gonogo.W.seed-3', 'paper.5_3_4.gonogo.WDsC.seed-3']);
    const all = await events(`${base}/submissions/${sub.submission}/events`);
    expect(all.filter((e) => e.event === 'run-done').map((e) => e.data.run)).toEqual(sub.runs);
    expect(all.at(-1)!.event).toBe('done');
    const { runs } = await (await call('/runs')).json();
    for (const key of sub.runs) expect(runs).toContainEqual(expect.objectContaining({ key, status: 'ok', submission: sub.submission }));
    // submitted again: nothing to train, both found done
    const again = await (
      await post('/sweeps', {
        field: '5_3_4',
        tasks: ['gonogo'],
        variants: ['W', 'WD*C'],
        seeds: 1,
        seedStart: 3,
        mode: 'paper',
        preset: 'quick',
        protocol: TINY,
      })
    ).json();
    const second = await events(`${base}/submissions/${again.submission}/events`);
    expect(second.filter((e) => e.event === 'run-skipped').map((e) => e.data.run)).toEqual(sub.runs);
    expect(second.some((e) => e.event === 'step')).toBe(false);
    // the same runs under another protocol: refused before anything is queued, in the API's words
    const other = await post('/sweeps', {
      field: '5_3_4',
      tasks: ['gonogo'],
      variants: ['W', 'WD*C'],
      seeds: 1,
      seedStart: 3,
      mode: 'paper',
      preset: 'quick',
      protocol: { ...TINY, steps: 1 },
    });
    expect(other.status).toBe(409);
    expect((await other.json()).error).toBe(
      `run ${sub.runs[0]}: the results directory holds it trained with another protocol (steps 2); submit it with that protocol, or another seed`,
    );
    // a run's stream stays that of the submission that trained it
    const own = await events(`${base}/runs/${sub.runs[0]}/events`);
    expect(own.filter((e) => e.event === 'step').length).toBeGreaterThan(0);
    expect(own.at(-1)!.event).toBe('done');
    expect((await (await call('/runs')).json()).runs).toContainEqual(expect.objectContaining({ key: sub.runs[0], submission: sub.submission }));
  });

  it('trains a burst of single-run submissions side by side, each with its own events and end', async () => {
    const seeds = [11, 12, 13];
    const subs = await Promise.all(seeds.map(async (seed) => (await post('/runs', { spec: { ...SPEC, seed }, preset: 'quick', protocol: TINY })).json()));
    // the one cancelled beside the others ends at once; the others train on
    const streams = subs.map((sub) => events(`${base}/submissions/${sub.submission}/events`));
    const cancelled = subs[2];
    for (let i = 0; i < 600 && (await (await call(`/submissions/${cancelled.submission}`)).json()).status !== 'running'; i++)
      await new Promise((ok) => setTimeout(ok, 20));
    await call(`/submissions/${cancelled.submission}`, { method: 'DELETE' });
    const all = await Promise.all(streams);
    for (const [i, sub] of subs.entries()) {
      const started = all[i]!.find((e) => e.event === 'started')!;
      expect(started.data.trainsWith, `submission ${i}`).toEqual(subs.filter((s) => s !== sub).map((s) => s.submission));
      expect(all[i]!.filter((e) => e.data.run !== undefined).every((e) => e.data.run === sub.runs[0])).toBe(true);
    }
    expect(all[2]!.at(-1)!.event).toBe('cancelled');
    for (const i of [0, 1]) {
      expect(all[i]!.at(-1)!.event).toBe('done');
      expect(all[i]!.filter((e) => e.event === 'step').map((e) => e.data.step)).toEqual([1, 2]);
      const rec = await (await call(`/runs/${subs[i].runs[0]}`)).json();
      expect(rec.timings.networks_per_batch).toBe(3); // one dispatch for the three
    }
  });

  it('cancels a running submission at its next step, and the report of the results directory answers', async () => {
    const r = await (await post('/runs', { spec: { ...SPEC, seed: 2 }, preset: 'quick', protocol: { ...TINY, steps: 500, epochs: 50 } })).json();
    const stream = events(`${base}/submissions/${r.submission}/events`);
    for (let i = 0; i < 600 && !(await (await call(`/submissions/${r.submission}`)).json()).status.startsWith('running'); i++)
      await new Promise((ok) => setTimeout(ok, 100));
    expect((await (await call(`/runs/${r.runs[0]}`, { method: 'DELETE' })).json()).submission).toBe(r.submission);
    const all = await stream;
    expect(all.at(-1)).toMatchObject({ event: 'cancelled', data: { status: 'cancelled' } });
    expect(all.filter((e) => e.event === 'step').length).toBeLessThan(500);
    expect((await call(`/runs/${r.runs[0]}`)).status).toBe(409);
    const report = await (await call('/report?dir=')).json();
    expect(report.summary).toMatchObject({ runs: 6, ok: 6 });
  });

  it('bounds the submissions per client (429, one line)', async () => {
    const other = await startApiServer({
      dataDir: DATA,
      results: join(root, 'stuck', 'results'),
      pool: { maxPerClient: 1, backend: () => new Promise<Backend>(() => {}) },
      leavePool: true,
    });
    try {
      const url = `${other.base}/runs`;
      const submit = () =>
        fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ spec: SPEC, preset: 'quick', protocol: TINY }) });
      expect((await submit()).status).toBe(202);
      const r = await submit();
      expect(r.status).toBe(429);
      expect((await r.json()).error).toBe('expected at most 1 submissions queued or running per client, got one more from 127.0.0.1');
    } finally {
      await other.close();
    }
  });
});

/** A forged queue job as an API request: its spec, and its protocol as overrides of the quick preset. */
function asRequest(job: unknown, protocol: Record<string, unknown>): unknown {
  const j = job as { schema?: unknown; spec: Record<string, unknown>; protocol: Record<string, unknown> };
  if (!j || typeof j !== 'object' || j.schema !== 'cortical-rnn/job/1') return job;
  const over: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(j.protocol)) {
    if (JSON.stringify(v) === JSON.stringify(protocol[k])) continue;
    if (k === 'splits') over.trainTrials = (v as { train: unknown }).train;
    else over[k] = v;
  }
  return { spec: j.spec, preset: 'quick', protocol: over };
}
