/**
 * An advisory lock on a results directory, so that two writers (sweeps, trains) never work in
 * one directory at once: DIR/.lock, created exclusively, holds the owner's pid, host and start.
 * A lock whose process is gone (same host, pid not alive) is stale and is broken; a live one is
 * waited for (one line says whose it is), or refused when waiting is off.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { link, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { makeDir } from './files.ts';

interface LockOwner {
  pid: number;
  host: string;
  startedAt: string;
  what: string;
}

export interface DirLock {
  path: string;
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM'; // exists, owned by someone else
  }
}

/** The lock's owner; null when there is no lock; 'unreadable' when it is not an owner record. */
async function readOwner(path: string): Promise<LockOwner | null | 'unreadable'> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return null;
    throw e;
  }
  try {
    const owner = JSON.parse(text) as LockOwner;
    return typeof owner?.pid === 'number' && typeof owner.host === 'string' ? owner : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

/** Whether `x`, read from a lock file, is the record `owner` wrote (the same taking of the lock). */
function isRecord(x: LockOwner | null | 'unreadable', owner: LockOwner): boolean {
  return x !== null && x !== 'unreadable' && x.pid === owner.pid && x.host === owner.host && x.startedAt === owner.startedAt;
}

let lockAttempts = 0;

/**
 * Takes DIR/.lock for `what` (e.g. 'sweep'). With `wait` (default) a live holder is waited for,
 * polling every `pollMs`; without, it is refused with an error naming the holder.
 */
export async function lockDir(dir: string, what: string, o: { wait?: boolean; pollMs?: number; log?: (line: string) => void } = {}): Promise<DirLock> {
  const path = join(dir, '.lock');
  const me: LockOwner = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), what };
  let announced = false;
  // The lock appears with its owner already written (a private file linked into place), so a
  // second writer never reads a half-written lock and never has to call its holder "unknown".
  const mine = `${path}.new-${me.host}-${me.pid}-${++lockAttempts}`;
  await writeFile(mine, JSON.stringify(me) + '\n');
  try {
    for (;;) {
      try {
        await link(mine, path);
        return {
          path,
          release: async () => {
            if (isRecord(await readOwner(path), me)) await rm(path, { force: true });
          },
        };
      } catch (e) {
        if ((e as { code?: string }).code !== 'EEXIST') throw e;
      }
      const owner = await readOwner(path);
      if (!owner) continue; // released this instant: try again at once
      if (owner !== 'unreadable' && owner.host === me.host && !alive(owner.pid)) {
        // Stale: break it by renaming (only one breaker wins the rename), then try again. If what
        // was renamed is not the stale lock (another breaker already replaced it with a live
        // one), it is put back.
        const stale = `${path}.stale-${owner.pid}-${process.pid}`;
        try {
          await rename(path, stale);
          const taken = await readOwner(stale);
          if (taken !== null && !isRecord(taken, owner)) await link(stale, path).catch(() => {});
          else o.log?.(`${what}: broke the stale lock of ${owner.what} pid ${owner.pid} (no longer running) in ${dir}`);
          await rm(stale, { force: true });
        } catch {
          // someone else broke it first
        }
        continue;
      }
      const who =
        owner === 'unreadable'
          ? 'the writer of an unreadable lock (remove it if no one is writing here)'
          : `${owner.what} pid ${owner.pid} on ${owner.host} since ${owner.startedAt}`;
      if (o.wait === false) {
        throw new Error(`${path}: expected no other writer in this directory, got ${who}; wait for it to finish or use another --out`);
      }
      if (!announced) {
        o.log?.(`${what}: waiting for ${who} to finish writing ${dir} (${path})`);
        announced = true;
      }
      await new Promise((r) => setTimeout(r, o.pollMs ?? 500));
    }
  } finally {
    await rm(mine, { force: true });
  }
}

/**
 * How every writer of a results directory (train, sweep, the queue's coordinator) works in it:
 * creates DIR, waits for its lock as `what`, runs `work`, and releases the lock however it ends.
 */
export async function withDirLock<T>(dir: string, what: string, log: ((line: string) => void) | undefined, work: () => Promise<T>): Promise<T> {
  await makeDir(dir);
  const lock = await lockDir(dir, what, { log });
  try {
    return await work();
  } finally {
    await lock.release();
  }
}
