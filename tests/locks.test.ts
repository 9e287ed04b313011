/**
 * One writer per results directory: two sweeps started at once into one directory lose no
 * record and train nothing twice (the second waits for the first's lock, then finds every run
 * done); a lock left by a dead process is broken; a live one is refused when asked not to wait.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lockDir } from '../experiments/lock.ts';
import { readManifest } from '../experiments/sweep.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cortical-rnn-lock-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const haveData = existsSync('../shared/data/microns-fields/5_3_4');

function run(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done) => {
    const p = spawn(process.execPath, ['bin/cortical-rnn.js', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => done({ code, stderr }));
  });
}

describe('results directory lock', () => {
  it.skipIf(!haveData)('two sweeps at once into one directory: both invocations recorded, no run trained twice', { timeout: 300_000 }, async () => {
    const out = join(tmp, 'twice');
    const args = ['sweep', '--backend', 'cpu', '--quick', '--tasks', 'gonogo', '--variants', 'W,WD', '--seeds', '1', '--out', out];
    const tiny = ['--train-trials', '128', '--test-trials', '64', '--val-trials', '64', '--epochs', '1', '--n-null', '4', '--n-matched', '2'];
    const [a, b] = await Promise.all([run([...args, ...tiny]), run([...args, ...tiny])]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(a.stderr + b.stderr).toMatch(/sweep: waiting for sweep pid \d+ on \S+ since \S+ to finish writing/);
    const m = readManifest(out)!;
    expect(m.invocations).toHaveLength(2);
    expect(m.invocations.map((i) => i.ran).sort()).toEqual([0, 2]);
    expect(m.invocations.map((i) => i.skipped).sort()).toEqual([0, 2]);
    expect(Object.keys(m.runs)).toHaveLength(2);
    expect(existsSync(join(out, '.lock'))).toBe(false);
  });

  it('breaks a stale lock (its process is gone) and refuses a live one when not waiting', async () => {
    const dir = join(tmp, 'stale');
    mkdirSync(dir, { recursive: true });
    // a pid that is not running: a child that has exited
    const dead = await new Promise<number>((done) => {
      const p = spawn(process.execPath, ['-e', '0']);
      p.on('close', () => done(p.pid!));
    });
    writeFileSync(join(dir, '.lock'), JSON.stringify({ pid: dead, host: hostname(), startedAt: '2026-01-01T00:00:00Z', what: 'sweep' }));
    const lines: string[] = [];
    const lock = await lockDir(dir, 'sweep', { log: (l) => lines.push(l) });
    expect(lines.join('\n')).toMatch(new RegExp(`broke the stale lock of sweep pid ${dead}`));
    expect(JSON.parse(readFileSync(join(dir, '.lock'), 'utf8')).pid).toBe(process.pid);
    // held by a live process (this one): a second writer that does not wait is refused, naming the holder
    await expect(lockDir(dir, 'train', { wait: false })).rejects.toThrow(
      new RegExp(
        `\\.lock: expected no other writer in this directory, got sweep pid ${process.pid} on ${hostname()} since .*; wait for it to finish or use another --out`,
      ),
    );
    await lock.release();
    expect(existsSync(join(dir, '.lock'))).toBe(false);
  });

  it('the lock is never seen half-written, so a waiting writer always names the holder', { timeout: 60_000 }, async () => {
    // Another process reads the lock as fast as it can while 8 writers take it in turn, 25 times
    // each: every lock it sees must be a whole owner record.
    const dir = join(tmp, 'race');
    mkdirSync(dir, { recursive: true });
    const stop = join(tmp, 'race.stop');
    const reader = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('fs'); const [lock, stop] = process.argv.slice(1); let whole = 0, partial = 0;
         process.stdout.write('ready\\n');
         while (!fs.existsSync(stop)) {
           let text; try { text = fs.readFileSync(lock, 'utf8'); } catch { continue; }
           try { JSON.parse(text).pid.toFixed(); whole++; } catch { partial++; }
         }
         process.stdout.write(JSON.stringify({ whole, partial }) + '\\n');`,
        join(dir, '.lock'),
        stop,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    await new Promise<void>((ready) => reader.stdout.on('data', (d) => (out += d) && out.includes('ready') && ready()));
    const lines: string[] = [];
    let holders = 0;
    await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        for (let k = 0; k < 25; k++) {
          const lock = await lockDir(dir, `writer-${i}`, { pollMs: 1, log: (l) => lines.push(l) });
          holders++;
          expect(holders).toBe(1); // alone while it holds the lock
          await new Promise((r) => setTimeout(r, 1));
          holders--;
          await lock.release();
        }
      }),
    );
    writeFileSync(stop, '');
    await new Promise((r) => reader.on('close', r));
    const seen = JSON.parse(out.slice(out.indexOf('{'))) as { whole: number; partial: number };
    expect(seen.partial).toBe(0);
    expect(seen.whole).toBeGreaterThan(0); // the reader really saw locks come and go
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toMatch(/^writer-\d: waiting for writer-\d pid \d+ on \S+ since \S+ to finish writing/);
    expect(readdirSync(dir)).toEqual([]); // no lock and no private lock file left behind
  });

  it('an unreadable lock is named as such, not broken and not mistaken for a holder', async () => {
    const dir = join(tmp, 'garbage');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '.lock'), 'not json');
    await expect(lockDir(dir, 'train', { wait: false })).rejects.toThrow(
      /\.lock: expected no other writer in this directory, got the writer of an unreadable lock \(remove it/,
    );
    expect(readFileSync(join(dir, '.lock'), 'utf8')).toBe('not json');
  });
});
