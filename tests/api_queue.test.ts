/**
 * The API in queue mode, on the real Redis and a real worker process: a submitted run is
 * trained by the worker, its steps and epochs reach the API's event stream through Redis, and
 * its files land in the server's results directory as the local pool would write them.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../engine/tensor.ts';
import { parseQueueUrl } from '../experiments/queue_redis.ts';
import { readEvents, startApiServer, type ApiServer } from './helpers/api_server.ts';
import { cliProc, DATA, haveData, haveRedis, killStarted, redisUrl, type Proc } from './helpers/services.ts';

const TINY = { epochs: 2, steps: 4, trainTrials: 128, testTrials: 64, valTrials: 64, batchSize: 64, nNull: 2, nMatched: 2 };
const SPEC = { field: '5_3_4', task: 'gonogo', variant: 'W*D*C', seed: 1, mode: 'corrected' };
const KEY = 'corrected.5_3_4.gonogo.WsDsC.seed-1';

describe.runIf(haveData && haveRedis)('the HTTP API on a queue', () => {
  const root = mkdtempSync(join(tmpdir(), 'crnn-api-queue-'));
  const results = join(root, 'results');
  const name = `api-${process.pid}-${Date.now()}`;
  let server: ApiServer;
  let base: string;
  let worker: Proc;

  beforeAll(async () => {
    // The server has no engine of its own here: asking for one fails the test.
    const pool = { backend: () => Promise.reject<Backend>(new Error('no engine in queue mode')), queue: { url: parseQueueUrl(redisUrl), name } };
    server = await startApiServer({ dataDir: DATA, results, pool });
    base = server.base;
    worker = cliProc(['worker', '--queue', redisUrl, '--queue-name', name, '--out', results, '--data', DATA, '--models-per-batch', '1']);
    await worker.waitFor(/worker \S+: pid/, 60_000);
  }, 120_000);
  afterAll(async () => {
    worker?.child.kill('SIGTERM');
    await worker?.exit;
    await server.close();
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
    const { events } = await readEvents(`${base}/submissions/${sub.submission}/events`);
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
