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

  it('a second writer never sees a half-written lock: it always names the holder', async () => {
    // Many writers race for each of 20 fresh directories; whoever loses must name the winner.
    for (let round = 0; round < 20; round++) {
      const dir = join(tmp, `race-${round}`);
      mkdirSync(dir, { recursive: true });
      const lines: string[] = [];
      const tries = Array.from({ length: 6 }, (_, i) => lockDir(dir, `writer-${i}`, { pollMs: 5, log: (l) => lines.push(l) }));
      // Each writer, once it holds the lock, checks it is alone and gives it back.
      let holders = 0;
      await Promise.all(
        tries.map(async (t) => {
          const lock = await t;
          holders++;
          expect(holders).toBe(1);
          await new Promise((r) => setTimeout(r, 2));
          holders--;
          await lock.release();
        }),
      );
      for (const l of lines) expect(l).toMatch(/^writer-\d: waiting for writer-\d pid \d+ on \S+ since \S+ to finish writing/);
      expect(lines.length).toBeGreaterThan(0);
      expect(readdirSync(dir)).toEqual([]); // no lock and no private lock file left behind
    }
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
