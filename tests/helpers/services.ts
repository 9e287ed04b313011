/**
 * The services of the distributed-sweep tests, started by scripts/services.sh (as .ci/run does):
 * Redis at $CORTICAL_RNN_TEST_REDIS, Slurm through $SLURM_CONF. Without them the tests are
 * skipped, unless CORTICAL_RNN_REQUIRE_SERVICES=1 (CI), in which case they fail.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';

const required = process.env.CORTICAL_RNN_REQUIRE_SERVICES === '1';
export const redisUrl = process.env.CORTICAL_RNN_TEST_REDIS ?? '';

async function redisUp(): Promise<boolean> {
  if (!redisUrl) return false;
  const r = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

export const haveRedis = await redisUp();
export const haveSlurm = Boolean(process.env.SLURM_CONF) && spawnSync('sinfo', ['-h'], { encoding: 'utf8', timeout: 10_000 }).status === 0;

if (required && !haveRedis)
  throw new Error(`CORTICAL_RNN_REQUIRE_SERVICES=1 but no Redis answers at CORTICAL_RNN_TEST_REDIS="${redisUrl}" (bash scripts/services.sh start)`);
if (required && !haveSlurm) throw new Error('CORTICAL_RNN_REQUIRE_SERVICES=1 but no Slurm answers through SLURM_CONF (bash scripts/services.sh start)');

/** A CLI process (node bin/cortical-rnn.js …) whose output is collected and can be waited on. */
export interface Proc {
  child: ChildProcess;
  out: () => string;
  /** Resolves with the first match of `re` in the output so far or to come. */
  waitFor: (re: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const started = new Set<ChildProcess>();

/** Kills what cliProc started and is still running (a failed or timed-out test's processes). */
export function killStarted(): void {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  started.clear();
}

export function cliProc(args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, ['bin/cortical-rnn.js', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  let text = '';
  const waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  const feed = (d: Buffer) => {
    text += d.toString();
    for (const w of [...waiters]) {
      const m = text.match(w.re);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  child.stdout!.on('data', feed);
  child.stderr!.on('data', feed);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return {
    child,
    out: () => text,
    exit,
    waitFor: (re, timeoutMs = 120_000) =>
      new Promise((resolve, reject) => {
        const m = text.match(re);
        if (m) return resolve(m);
        const t = setTimeout(() => reject(new Error(`no ${re} within ${timeoutMs} ms; output:\n${text}`)), timeoutMs);
        waiters.push({
          re,
          resolve: (x) => {
            clearTimeout(t);
            resolve(x);
          },
        });
      }),
  };
}

/** Whether a process is alive. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs the CLI to its end without blocking the test worker (a long spawnSync starves vitest's
 * own messages): exit status, stdout, stderr, its lines and its wall time.
 */
export async function cliRun(args: string[], env: Record<string, string> = {}, timeoutMs = 600_000) {
  const t0 = Date.now();
  const child = spawn(process.execPath, ['bin/cortical-rnn.js', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stdout, stderr, seconds: (Date.now() - t0) / 1000, lines: stderr.split('\n').filter(Boolean) };
}

/** The data directory (absolute), whether it has the small grid's field, and the CLI's env for it. */
export const DATA = resolve(existsSync('../shared/data') ? '../shared/data' : (process.env.CORTICAL_RNN_DATA ?? '../shared/data'));
export const haveData = existsSync(join(DATA, 'microns-fields', '5_3_4'));
export const dataEnv = { CORTICAL_RNN_DATA: DATA };
/** The small grid of the distributed tests: field 5_3_4 (N = 70), 2 tasks × 3 variants × 2 seeds. */
export const GRID = ['--field', '5_3_4', '--tasks', 'gonogo,pdm', '--variants', 'W,WD*C,W*D*C', '--seeds', '2'];
/** A few steps of tiny splits per run. */
export const TINY = [
  '--train-trials',
  '128',
  '--test-trials',
  '64',
  '--val-trials',
  '64',
  '--epochs',
  '1',
  '--batch-size',
  '64',
  '--n-null',
  '4',
  '--n-matched',
  '2',
];
