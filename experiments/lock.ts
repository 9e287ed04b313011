/**
 * An advisory lock on a results directory, so that two writers (sweeps, trains) never work in
 * one directory at once: DIR/.lock, created exclusively, holds the owner's pid, host and start.
 * A lock whose process is gone (same host, pid not alive) is stale and is broken; a live one is
 * waited for (one line says whose it is), or refused when waiting is off.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { open, readFile, rename, rm } from 'node:fs/promises';

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

async function readOwner(path: string): Promise<LockOwner | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LockOwner;
  } catch {
    return null; // vanished, or half-written by its creator this instant
  }
}

/**
 * Takes DIR/.lock for `what` (e.g. 'sweep'). With `wait` (default) a live holder is waited for,
 * polling every `pollMs`; without, it is refused with an error naming the holder.
 */
export async function lockDir(dir: string, what: string, o: { wait?: boolean; pollMs?: number; log?: (line: string) => void } = {}): Promise<DirLock> {
  const path = join(dir, '.lock');
  const me: LockOwner = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), what };
  let announced = false;
  for (;;) {
    try {
      const fh = await open(path, 'wx');
      await fh.writeFile(JSON.stringify(me) + '\n');
      await fh.close();
      return {
        path,
        release: async () => {
          const owner = await readOwner(path);
          if (owner && owner.pid === me.pid && owner.host === me.host) await rm(path, { force: true });
        },
      };
    } catch (e) {
      if ((e as { code?: string }).code !== 'EEXIST') throw e;
    }
    const owner = await readOwner(path);
    if (owner && owner.host === me.host && !alive(owner.pid)) {
      // Stale: break it by renaming (only one breaker wins the rename), then try again.
      const stale = `${path}.stale-${owner.pid}-${process.pid}`;
      try {
        await rename(path, stale);
        await rm(stale, { force: true });
        o.log?.(`${what}: broke the stale lock of ${owner.what} pid ${owner.pid} (no longer running) in ${dir}`);
      } catch {
        // someone else broke it first
      }
      continue;
    }
    const who = owner ? `${owner.what} pid ${owner.pid} on ${owner.host} since ${owner.startedAt}` : 'another process';
    if (o.wait === false) {
      throw new Error(`${path}: expected no other writer in this directory, got ${who}; wait for it to finish or use another --out`);
    }
    if (!announced) {
      o.log?.(`${what}: waiting for ${who} to finish writing ${dir} (${path})`);
      announced = true;
    }
    await new Promise((r) => setTimeout(r, o.pollMs ?? 500));
  }
}
