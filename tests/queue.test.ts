/**
 * Sweeps on a Redis job queue (BullMQ), with real processes on a real Redis: the coordinator
 * (`sweep --queue`) and workers (`worker --queue`) produce the run directories a local sweep
 * produces; a worker killed with -9 mid-run has its run redone by another, with no duplicate
 * and no half-written file; a Redis restarted mid-sweep is reconnected to; an unreachable Redis
 * is one line within seconds; forged jobs are refused and write nothing.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { jobIdOf, validateJob } from '../experiments/queue_job.ts';
import { PAPER_PROTOCOL, resolveProtocol } from '../experiments/protocol.ts';
import { readRunRecord } from '../experiments/run.ts';
import { runRelDir } from '../experiments/record.ts';
import type { RunSpec } from '../experiments/record.ts';
import { alive, cliProc, cliRun, haveRedis, killStarted, redisUrl, DATA, dataEnv, GRID, haveData, TINY } from './helpers/services.ts';
import { expectSameRun, runDirs, smallGrid } from './helpers/runs.ts';
import { forgedJobs } from './helpers/forged_jobs.ts';

const env = dataEnv;
const tmp = mkdtempSync(join(tmpdir(), 'cortical-rnn-queue-'));
afterAll(() => {
  killStarted();
  rmSync(tmp, { recursive: true, force: true });
});

/** The grid's first seed only (6 runs). */
const GRID1 = [...GRID.slice(0, -1), '1'];
const PLAN = smallGrid();
const PROTOCOL = resolveProtocol(PAPER_PROTOCOL, { trainTrials: 128, testTrials: 64, valTrials: 64, epochs: 1, batchSize: 64, nNull: 4, nMatched: 2 });
/** Fast recovery of a dead worker's jobs: locks of 4 s, checked every second. */
const FAST = ['--lock-seconds', '4', '--stalled-seconds', '1'];
let queueCount = 0;
const queueName = () => `test-${process.pid}-${++queueCount}`;

const cli = (args: string[], timeoutMs = 300_000) => cliRun(args, env, timeoutMs);

/** Every planned run is done exactly once in `out`: one directory each, final.json valid. */
function expectExactly(out: string, plan: RunSpec[]): void {
  expect(runDirs(out)).toEqual(plan.map((s) => runRelDir(s)).sort());
  for (const s of plan) {
    const f = readRunRecord(join(out, runRelDir(s)));
    expect(f, runRelDir(s)).not.toBeNull();
    expect(f!.spec.variant).toBe(s.variant);
    expect(f!.protocol).toEqual(PROTOCOL);
  }
  const partial = join(out, '.partial');
  expect(existsSync(partial) ? readdirSync(partial) : []).toEqual([]);
}

describe('queue options', () => {
  it('an unreachable Redis is one line within seconds, for the coordinator and a worker', { timeout: 60_000 }, async () => {
    for (const args of [
      ['sweep', ...GRID, ...TINY, '--queue', 'redis://127.0.0.1:1', '--out', join(tmp, 'unreachable')],
      ['worker', '--queue', 'redis://127.0.0.1:1', '--out', join(tmp, 'unreachable')],
    ]) {
      const r = await cli(args, 30_000);
      expect(r.code, r.stderr).toBe(1);
      expect(r.lines, r.stderr).toHaveLength(1);
      expect(r.lines[0]).toMatch(/^cortical-rnn: --queue redis:\/\/127\.0\.0\.1:1\/?: expected a reachable Redis server, got .*ECONNREFUSED/);
      expect(r.seconds).toBeLessThan(20);
    }
  });

  it('a bad URL, queue name or shard is a usage error naming the flag', { timeout: 60_000 }, async () => {
    const cases: [string[], RegExp][] = [
      [['worker', '--queue', 'http://x:1', '--out', tmp], /^cortical-rnn: --queue: expected a Redis URL redis:\/\/.*, got "http:\/\/x:1"$/],
      [['queue', 'status', '--queue', 'redis://u:secret@h:1/abc'], /^cortical-rnn: --queue: expected .*DB a number.*, got "redis:\/\/u:\*\*\*@h:1\/abc"$/],
      [
        ['sweep', '--quick', '--queue', 'redis://127.0.0.1:1', '--queue-name', 'a:b', '--out', tmp],
        /^cortical-rnn: --queue-name: expected a name .*, got "a:b"$/,
      ],
    ];
    for (const [args, re] of cases) {
      const r = await cli(args, 30_000);
      expect(r.code, r.stderr).toBe(2);
      expect(r.lines, r.stderr).toHaveLength(1);
      expect(r.lines[0]).toMatch(re);
      expect(r.stderr).not.toMatch(/secret/);
    }
  });

  it.skipIf(!haveData)('job ids are deterministic, BullMQ-safe and differ by protocol', () => {
    const ids = PLAN.map((s) => jobIdOf(s, PROTOCOL));
    expect(new Set(ids).size).toBe(PLAN.length);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_.-]+$/);
    expect(PLAN.map((s) => jobIdOf(s, PROTOCOL))).toEqual(ids);
    expect(jobIdOf(PLAN[0]!, { ...PROTOCOL, epochs: 2 })).not.toBe(ids[0]);
  });
});

describe.skipIf(!haveData)('job validation', () => {
  it('accepts a well-formed job and refuses each forged one with a one-line reason', () => {
    expect(validateJob({ schema: 'cortical-rnn/job/1', spec: PLAN[0], protocol: PROTOCOL }, DATA)).toEqual({
      schema: 'cortical-rnn/job/1',
      spec: PLAN[0],
      protocol: PROTOCOL,
    });
    for (const f of forgedJobs(PLAN[0]!, PROTOCOL)) {
      expect(() => validateJob(f.data, DATA), f.what).toThrow(f.error);
    }
  });

  it('carries a seRNN run (synthetic grid field, its own λ) and keys it by λ', () => {
    const spec = { field: 'grid-5x5x4', task: 'inference', variant: 'WDC', seed: 2, mode: 'corrected' as const, positive: false, lambda: 0.0373 };
    expect(validateJob({ schema: 'cortical-rnn/job/1', spec, protocol: PROTOCOL }, DATA).spec).toEqual(spec);
    expect(jobIdOf(spec, PROTOCOL)).toMatch(/^corrected\.grid-5x5x4\.inference\.WDC\.lambda-0\.0373\.seed-2\.[0-9a-f]{12}$/);
    expect(jobIdOf(spec, PROTOCOL)).not.toBe(jobIdOf({ ...spec, lambda: 0.072 }, PROTOCOL));
  });
});

describe.skipIf(!haveRedis || !haveData)('sweeps through a Redis queue', () => {
  const timings: Record<string, number> = {};
  afterAll(() => console.log(`[queue timings] ${JSON.stringify(timings)}`));

  it('two workers write the run directories a local sweep writes (byte-identical, see helpers/runs.ts)', { timeout: 600_000 }, async () => {
    const local = join(tmp, 'local');
    const l = await cli(['sweep', ...GRID, ...TINY, '--out', local]);
    expect(l.code, l.stderr).toBe(0);
    timings.local_s = l.seconds;
    expectExactly(local, PLAN);

    for (const workers of [1, 2]) {
      const out = join(tmp, `queue-${workers}`);
      const name = queueName();
      const t0 = Date.now();
      // Workers pack compatible jobs two at a time (one per batch is the CPU adapters' default).
      const ws = Array.from({ length: workers }, () =>
        cliProc(['worker', '--queue', redisUrl, '--queue-name', name, '--out', out, '--models-per-batch', '2', '--idle-exit', '2'], env),
      );
      // Both workers waiting before the jobs come, so that both get some.
      for (const w of ws) await w.waitFor(/pid \d+, queue/);
      const coord = cliProc(['sweep', ...GRID, ...TINY, '--queue', redisUrl, '--queue-name', name, '--out', out], env);
      const c = await coord.exit;
      expect(c.code, coord.out()).toBe(0);
      timings[`queue_${workers}_workers_s`] = (Date.now() - t0) / 1000;
      expect(coord.out()).toMatch(/sweep done: 12 runs \(12 run by the workers, 0 already done\)/);
      // Not on a terminal: one plain line per update, no carriage returns.
      expect(coord.out()).toMatch(/^queue: \S+ 12\/12 runs done \(0 active, 0 waiting, 0 failed\)/m);
      expect(coord.out()).not.toMatch(/\r/);
      for (const w of ws) expect((await w.exit).code, w.out()).toBe(0);
      const trained = ws.map((w) => [...w.out().matchAll(/: training (.*)/g)].map((m) => m[1]!.split(', ')));
      expect(trained.flat(2).sort(), ws.map((w) => w.out()).join('\n----\n')).toHaveLength(12);
      // Packing: some dispatch trained two compatible runs together.
      expect(trained.flat().some((b) => b.length === 2)).toBe(true);
      if (workers === 2) expect(trained.every((t) => t.length > 0)).toBe(true);
      expectExactly(out, PLAN);
      for (const s of PLAN) expectSameRun(join(local, runRelDir(s)), join(out, runRelDir(s)));
      const m = JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8')) as { runs: object };
      expect(Object.keys(m.runs)).toHaveLength(12);

      // Enqueuing the same sweep again is a no-op: everything is done, nothing is queued.
      if (workers === 1) {
        const again = await cli(['sweep', ...GRID, ...TINY, '--queue', redisUrl, '--queue-name', name, '--out', out]);
        expect(again.code, again.stderr).toBe(0);
        expect(again.stdout).toMatch(/0 run by the workers, 12 already done/);
        const st = await cli(['queue', 'status', '--queue', redisUrl, '--queue-name', name]);
        expect(st.code, st.stderr).toBe(0);
        expect(st.stdout).toMatch(/waiting +0\n +active +0\n +completed +12\n +failed +0/);
      }
    }
  });

  it('kill -9 of a worker mid-run: another worker redoes its run; every run once, whole', { timeout: 600_000 }, async () => {
    const out = join(tmp, 'killed');
    const name = queueName();
    const coord = cliProc(['sweep', ...GRID, ...TINY, '--queue', redisUrl, '--queue-name', name, '--out', out], env);
    const a = cliProc(['worker', '--queue', redisUrl, '--queue-name', name, '--out', out, '--models-per-batch', '1', ...FAST], env);
    const pid = Number((await a.waitFor(/pid (\d+), queue/))[1]);
    expect(pid).not.toBe(a.child.pid); // the CLI's child, which holds the job
    const run = (await a.waitFor(/: training (\S+)/))[1]!;
    const spec = PLAN.find((s) => `${s.mode}/${s.field}/${s.task}/${s.variant}/seed-${s.seed}` === run)!;
    process.kill(pid, 'SIGKILL');
    const tKill = Date.now();
    const ea = await a.exit;
    expect(ea.signal ?? ea.code).toBeTruthy();
    expect(readRunRecord(join(out, runRelDir(spec)))).toBeNull();

    const b = cliProc(['worker', '--queue', redisUrl, '--queue-name', name, '--out', out, '--models-per-batch', '1', '--idle-exit', '2', ...FAST], env);
    const dir = join(out, runRelDir(spec));
    while (!readRunRecord(dir)) await new Promise((r) => setTimeout(r, 100));
    timings.kill_to_redone_s = (Date.now() - tKill) / 1000;
    const c = await coord.exit;
    expect(c.code, coord.out()).toBe(0);
    expect((await b.exit).code, b.out()).toBe(0);
    expect(b.out()).toContain(`training ${run}`);
    expectExactly(out, PLAN);
  });

  it('kill -9 of the CLI wrapper ends the worker process under it', { timeout: 120_000 }, async () => {
    const w = cliProc(['worker', '--queue', redisUrl, '--queue-name', queueName(), '--out', join(tmp, 'wrapper')], env);
    const pid = Number((await w.waitFor(/pid (\d+), queue/))[1]);
    w.child.kill('SIGKILL');
    await w.exit;
    const t0 = Date.now();
    while (alive(pid) && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 100));
    expect(alive(pid)).toBe(false);
  });

  it('Ctrl-C (SIGINT to wrapper and worker): it finishes its running run and exits 0; queue status names it', { timeout: 300_000 }, async () => {
    const out = join(tmp, 'sigterm');
    const name = queueName();
    const coord = cliProc(['sweep', ...GRID1, ...TINY, '--queue', redisUrl, '--queue-name', name, '--out', out], env);
    const a = cliProc(['worker', '--queue', redisUrl, '--queue-name', name, '--out', out, '--models-per-batch', '1', ...FAST], env);
    const run = (await a.waitFor(/: training (\S+)/))[1]!;
    const pid = Number((await a.waitFor(/pid (\d+), queue/))[1]);
    // `queue status` names the worker Redis sees (host-pid) and counts its running job.
    const st = await cli(['queue', 'status', '--queue', redisUrl, '--queue-name', name]);
    expect(st.code, st.stderr).toBe(0);
    expect(st.stdout).toMatch(new RegExp(`workers +1:\\n +\\S+-${pid} \\(`));
    // Ctrl-C on a terminal: SIGINT to the wrapper and to its child at once, one stop.
    a.child.kill('SIGINT');
    process.kill(pid, 'SIGINT');
    const ea = await a.exit;
    expect(ea.code, a.out()).toBe(0);
    // Every run it started (the one running at the signal included) it finished.
    const started = [...a.out().matchAll(/: training (\S+)/g)].map((m) => m[1]!);
    expect(started).toContain(run);
    for (const r of started) expect(a.out()).toContain(`${r} ok →`);
    expect(a.out()).toMatch(new RegExp(`worker done: ${started.length} runs completed, 0 failed`));
    const b = cliProc(['worker', '--queue', redisUrl, '--queue-name', name, '--out', out, '--idle-exit', '2', ...FAST], env);
    expect((await coord.exit).code, coord.out()).toBe(0);
    expect((await b.exit).code, b.out()).toBe(0);
    expectExactly(
      out,
      PLAN.filter((s) => s.seed === 1),
    );
  });

  it('SIGTERM with a job held but not started: it goes back to the queue at once, another worker does it', { timeout: 300_000 }, async () => {
    const out = join(tmp, 'handback');
    const name = queueName();
    // Two incompatible runs (two tasks): a worker of two per batch trains one and holds the other.
    const grid = [
      '--field',
      '5_3_4',
      '--tasks',
      'gonogo,pdm',
      '--variants',
      'W',
      '--seeds',
      '1',
      ...TINY.map((x, i) => (TINY[i - 1] === '--epochs' ? '3' : x)),
    ];
    const coord = cliProc(['sweep', ...grid, '--queue', redisUrl, '--queue-name', name, '--out', out], env);
    const a = cliProc(['worker', '--queue', redisUrl, '--queue-name', name, '--out', out, '--models-per-batch', '2', ...FAST], env);
    const run = (await a.waitFor(/: training (\S+)/))[1]!;
    await new Promise((r) => setTimeout(r, 1000));
    a.child.kill('SIGTERM');
    const ea = await a.exit;
    expect(ea.code, a.out()).toBe(0);
    expect(a.out()).toMatch(/handing back 1 waiting job/);
    expect(a.out()).toMatch(/worker done: 1 runs completed, 0 failed, 1 handed back/);
    const b = cliProc(['worker', '--queue', redisUrl, '--queue-name', name, '--out', out, '--idle-exit', '2', ...FAST], env);
    expect((await coord.exit).code, coord.out()).toBe(0);
    expect((await b.exit).code, b.out()).toBe(0);
    const other = [...b.out().matchAll(/: training (\S+)/g)].map((m) => m[1]!);
    expect(other).toHaveLength(1);
    expect(other[0]).not.toBe(run);
    expect(runDirs(out)).toHaveLength(2);
  });

  it('the coordinator exits non-zero naming each failed run (here: a worker writing to another --out)', { timeout: 300_000 }, async () => {
    const name = queueName();
    const one = ['--field', '5_3_4', '--tasks', 'gonogo', '--variants', 'W', '--seeds', '1', ...TINY];
    const coord = cliProc(['sweep', ...one, '--queue', redisUrl, '--queue-name', name, '--out', join(tmp, 'coordinated')], env);
    await coord.waitFor(/runs planned/);
    const w = cliProc(['worker', '--queue', redisUrl, '--queue-name', name, '--out', join(tmp, 'elsewhere'), '--idle-exit', '2', ...FAST], env);
    const c = await coord.exit;
    expect((await w.exit).code, w.out()).toBe(0);
    expect(c.code, coord.out()).toBe(1);
    const last = coord.out().trim().split('\n').pop()!;
    expect(last).toMatch(
      /^cortical-rnn: sweep --queue: expected every run to finish, got 1 failed: corrected\/5_3_4\/gonogo\/W\/seed-1 \(the job completed but \S+final\.json is missing: do the workers write to this --out\?\)$/,
    );
  });

  it('queue drain removes the pending jobs; the coordinator then names the runs as removed', { timeout: 300_000 }, async () => {
    const name = queueName();
    const coord = cliProc(['sweep', ...GRID1, ...TINY, '--queue', redisUrl, '--queue-name', name, '--out', join(tmp, 'drained')], env);
    await coord.waitFor(/0\/6 runs done \(0 active, 6 waiting/);
    const d = await cli(['queue', 'drain', '--queue', redisUrl, '--queue-name', name]);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toMatch(/: removed 6 pending job\(s\)/);
    const c = await coord.exit;
    expect(c.code, coord.out()).toBe(1);
    expect(coord.out()).toMatch(/got 6 failed: corrected\/5_3_4\/gonogo\/W\/seed-1 \(the job was removed from the queue\);/);
    const st = await cli(['queue', 'status', '--queue', redisUrl, '--queue-name', name]);
    expect(st.stdout).toMatch(/waiting +0\n +active +0\n +completed +0\n +failed +0\n +workers +0/);
  });

  it('a Redis restarted mid-sweep: coordinator and worker reconnect and the sweep completes', { timeout: 600_000 }, async () => {
    // A Redis of its own (append-only, fsync always), so the shared one is never interrupted.
    const port = 6391 + (process.pid % 500);
    const dir = join(tmp, 'redis-restart');
    mkdirSync(dir, { recursive: true });
    const startRedis = () =>
      spawnSync('redis-server', [
        '--bind',
        '127.0.0.1',
        '--port',
        String(port),
        '--dir',
        dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--save',
        '',
        '--daemonize',
        'yes',
        '--pidfile',
        join(dir, 'redis.pid'),
      ]);
    expect(startRedis().status).toBe(0);
    const url = `redis://127.0.0.1:${port}`;
    const waitPing = async () => {
      for (let i = 0; i < 50; i++) {
        if (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG') return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('test redis did not start');
    };
    try {
      await waitPing();
      const out = join(tmp, 'restarted');
      const plan = PLAN.filter((s) => s.seed === 1);
      const coord = cliProc(['sweep', ...GRID1, ...TINY, '--queue', url, '--out', out], env);
      const w = cliProc(['worker', '--queue', url, '--out', out, '--models-per-batch', '1', '--idle-exit', '3', ...FAST], env);
      await w.waitFor(/ ok → /);
      spawnSync('redis-cli', ['-p', String(port), 'shutdown']);
      await coord.waitFor(/lost Redis/, 30_000);
      await new Promise((r) => setTimeout(r, 1500));
      expect(startRedis().status).toBe(0);
      await waitPing();
      const c = await coord.exit;
      expect(c.code, coord.out()).toBe(0);
      expect(coord.out()).toMatch(/reconnected to Redis/);
      expect((await w.exit).code, w.out()).toBe(0);
      expectExactly(out, plan);
    } finally {
      spawnSync('redis-cli', ['-p', String(port), 'shutdown', 'nosave']);
    }
  });

  it('forged jobs are refused (failed, not retried) and nothing is written outside --out', { timeout: 300_000 }, async () => {
    const base = join(tmp, 'forged');
    const out = join(base, 'out');
    mkdirSync(out, { recursive: true });
    const name = queueName();
    const conn = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const q = new Queue(name, { connection: conn });
    const forged = forgedJobs(PLAN[0]!, PROTOCOL);
    await q.addBulk(forged.map((f, i) => ({ name: f.what, data: f.data, opts: { jobId: `forged-${i}`, attempts: 3 } })));
    const w = cliProc(['worker', '--queue', redisUrl, '--queue-name', name, '--out', out, '--idle-exit', '2', ...FAST], env);
    expect((await w.exit).code, w.out()).toBe(0);
    const failed = await q.getFailed(0, 100);
    expect(failed).toHaveLength(forged.length);
    for (const [i, f] of forged.entries()) {
      const job = failed.find((j) => j.id === `forged-${i}`)!;
      expect(job.failedReason, f.what).toMatch(f.error);
      expect(job.attemptsMade, f.what).toBe(1); // refused at once, never retried
    }
    await q.close();
    conn.disconnect();
    expect(readdirSync(base)).toEqual(['out']);
    expect(readdirSync(out).sort()).toEqual(['.partial']);
    expect(readdirSync(join(out, '.partial'))).toEqual([]);
    expect(existsSync(join(tmp, 'escape')) || existsSync(join(tmpdir(), 'escape'))).toBe(false);
  });

  it(
    'a corrupt final.json: coordinator and worker refuse it, naming it and --redo-corrupt; sweep --queue --redo-corrupt has it retrained, kept aside',
    { timeout: 300_000 },
    async () => {
      const out = join(tmp, 'corrupt');
      const one = ['--field', '5_3_4', '--tasks', 'gonogo', '--variants', 'W', '--seeds', '1', ...TINY];
      const l = await cli(['sweep', ...one, '--out', out]);
      expect(l.code, l.stderr).toBe(0);
      const spec = PLAN[0]!;
      const dir = join(out, runRelDir(spec));
      const original = join(tmp, 'corrupt-original');
      cpSync(dir, original, { recursive: true });
      const file = join(dir, 'final.json');
      const corrupt = readFileSync(file, 'utf8').slice(0, 30);
      writeFileSync(file, corrupt);
      const files = readdirSync(dir).sort();
      const refusal = new RegExp(
        `^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: expected a run's final record as JSON, got unparseable text \\(.+\\); rerun with --redo-corrupt to retrain it$`,
      );
      const untouched = () => {
        expect(readdirSync(dir).sort()).toEqual(files);
        expect(readFileSync(file, 'utf8')).toBe(corrupt);
      };

      // The coordinator stops before enqueuing anything.
      const name = queueName();
      const c = await cli(['sweep', ...one, '--queue', redisUrl, '--queue-name', name, '--out', out]);
      expect(c.code, c.stderr).toBe(1);
      expect(c.lines.filter((x) => x.startsWith('cortical-rnn:'))).toHaveLength(1);
      expect(c.lines.at(-1)!.replace(/^cortical-rnn: /, '')).toMatch(refusal);
      untouched();
      const conn = new Redis(redisUrl, { maxRetriesPerRequest: null });
      const q = new Queue(name, { connection: conn });
      expect(Object.values(await q.getJobCounts()).every((n) => n === 0)).toBe(true);
      // A worker handed the run's job refuses it (not retried) and leaves the directory alone.
      await q.add('corrupt', { schema: 'cortical-rnn/job/1', spec, protocol: PROTOCOL }, { jobId: 'corrupt', attempts: 3 });
      const w = cliProc(['worker', '--queue', redisUrl, '--queue-name', name, '--out', out, '--idle-exit', '2', ...FAST], env);
      expect((await w.exit).code, w.out()).toBe(0);
      const job = (await q.getFailed())[0]!;
      expect(job.failedReason).toMatch(refusal);
      expect(job.attemptsMade).toBe(1);
      await q.close();
      conn.disconnect();
      untouched();

      // --redo-corrupt: the coordinator sets the file aside and enqueues the run; a worker retrains it.
      const name2 = queueName();
      const coord = cliProc(['sweep', ...one, '--queue', redisUrl, '--queue-name', name2, '--out', out, '--redo-corrupt'], env);
      const w2 = cliProc(['worker', '--queue', redisUrl, '--queue-name', name2, '--out', out, '--idle-exit', '2', ...FAST], env);
      expect((await coord.exit).code, coord.out()).toBe(0);
      expect((await w2.exit).code, w2.out()).toBe(0);
      expect(coord.out()).toMatch(
        /final\.json: expected .*; retraining it \(--redo-corrupt\), the corrupt file kept as \S+final\.json\.corrupt-\d{8}T\d{6}\.\d{3}Z\n/,
      );
      expect(coord.out()).toMatch(/sweep done: 1 runs \(1 run by the workers, 0 already done\)/);
      const kept = readdirSync(dir).filter((e) => e.startsWith('final.json.corrupt-'));
      expect(kept).toHaveLength(1);
      expect(readFileSync(join(dir, kept[0]!), 'utf8')).toBe(corrupt);
      expectExactly(out, [spec]);
      // the retrained run is the run it was
      rmSync(join(dir, kept[0]!));
      expectSameRun(original, dir);
    },
  );

  it("a job of another protocol than the directory's is refused with the local resume's message", { timeout: 300_000 }, async () => {
    const out = join(tmp, 'other-protocol');
    const l = await cli(['sweep', '--field', '5_3_4', '--tasks', 'gonogo', '--variants', 'W', '--seeds', '1', ...TINY, '--out', out]);
    expect(l.code, l.stderr).toBe(0);
    const name = queueName();
    const conn = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const q = new Queue(name, { connection: conn });
    const other = { ...PROTOCOL, epochs: 2 };
    await q.add('other', { schema: 'cortical-rnn/job/1', spec: PLAN[0], protocol: other }, { jobId: 'other-protocol', attempts: 3 });
    const w = cliProc(['worker', '--queue', redisUrl, '--queue-name', name, '--out', out, '--idle-exit', '2', ...FAST], env);
    expect((await w.exit).code, w.out()).toBe(0);
    const job = (await q.getFailed())[0]!;
    expect(job.failedReason).toMatch(
      /sweep\.json: field "protocol": expected the protocol of this sweep \(.*\), got .*"epochs":2.*; resume with the same settings/,
    );
    expect(job.attemptsMade).toBe(1);
    await q.close();
    conn.disconnect();
  });
});
