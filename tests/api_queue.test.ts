/**
 * The API in queue mode, on the real Redis and a real worker process: a submitted run is
 * trained by the worker, its steps and epochs reach the API's event stream through Redis, and
 * its files land in the server's results directory as the local pool would write them.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../cli/serve/server.ts';
import type { Backend } from '../engine/tensor.ts';
import { parseQueueUrl } from '../experiments/queue_redis.ts';
import { RunPool } from '../experiments/run_pool.ts';
import { cliProc, DATA, haveData, haveRedis, killStarted, redisUrl, type Proc } from './helpers/services.ts';

const TINY = { epochs: 2, steps: 4, trainTrials: 128, testTrials: 64, valTrials: 64, batchSize: 64, nNull: 2, nMatched: 2 };
const SPEC = { field: '5_3_4', task: 'gonogo', variant: 'W*D*C', seed: 1, mode: 'corrected' };
const KEY = 'corrected.5_3_4.gonogo.WsDsC.seed-1';

describe.runIf(haveData && haveRedis)('the HTTP API on a queue', () => {
  const root = mkdtempSync(join(tmpdir(), 'crnn-api-queue-'));
  const results = join(root, 'results');
  const name = `api-${process.pid}-${Date.now()}`;
  let app: FastifyInstance;
  let base: string;
  let worker: Proc;
  // The server has no engine of its own here: asking for one fails the test.
  const pool = new RunPool({
    out: results,
    dataDir: DATA,
    backend: () => Promise.reject<Backend>(new Error('no engine in queue mode')),
    queue: { url: parseQueueUrl(redisUrl), name },
  });

  beforeAll(async () => {
    mkdirSync(join(root, 'web'), { recursive: true });
    mkdirSync(results);
    writeFileSync(join(root, 'web', 'index.html'), '<p>workbench</p>');
    const info = async () => ({});
    app = await startServer({
      webDir: join(root, 'web'),
      dataDir: DATA,
      resultsDir: results,
      host: '127.0.0.1',
      port: 0,
      api: { pool, dataDir: DATA, resultsDir: results, token: null, info },
    });
    base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/api/v1`;
    worker = cliProc(['worker', '--queue', redisUrl, '--queue-name', name, '--out', results, '--data', DATA, '--models-per-batch', '1']);
    await worker.waitFor(/worker \S+: pid/, 60_000);
  }, 120_000);
  afterAll(async () => {
    worker?.child.kill('SIGTERM');
    await worker?.exit;
    await pool.close();
    await app.close();
    killStarted();
    rmSync(root, { recursive: true, force: true });
  });

  it("relays a worker's progress through Redis and lands the run in the results directory", { timeout: 300_000 }, async () => {
    const sub = await (
      await fetch(`${base}/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ spec: SPEC, preset: 'quick', protocol: TINY }),
      })
    ).json();
    expect(sub.runs).toEqual([KEY]);
    const text = await (await fetch(`${base}/submissions/${sub.submission}/events`)).text();
    const events = text
      .split('\n\n')
      .filter((b) => b.startsWith('id:'))
      .map((b) => ({ event: /\nevent: (\S+)/.exec(b)![1]!, data: JSON.parse(/\ndata: (.*)/.exec(b)![1]!) as Record<string, unknown> }));
    expect(events.at(-1)).toMatchObject({ event: 'done' });
    expect(events.filter((e) => e.event === 'step').map((e) => e.data.step)).toEqual([1, 2, 3, 4]);
    expect(events.filter((e) => e.event === 'epoch').map((e) => e.data.epoch)).toEqual([1, 2]);
    expect(events.find((e) => e.event === 'run-done')!.data).toMatchObject({ run: KEY, status: 'ok' });
    const dir = join(results, 'runs/corrected/5_3_4/gonogo/WsDsC/seed-1');
    expect(existsSync(join(dir, 'final.json'))).toBe(true);
    const rec = await (await fetch(`${base}/runs/${KEY}`)).json();
    expect(rec).toEqual(JSON.parse(readFileSync(join(dir, 'final.json'), 'utf8')));
    expect(rec.history.map((h: { epoch: number }) => h.epoch)).toEqual([1, 2]);
    expect(worker.out()).toMatch(new RegExp(`${rec.id.replace(/[*.]/g, '\\$&')} ok`));
  });
});
