/**
 * How a queue worker's runs reach the shared results directory: each run is trained into a
 * private directory under DIR/.partial and renamed into place when complete, so a run directory
 * is either absent or whole, and a redone run that someone finished meanwhile is dropped.
 */
import { existsSync, readdirSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { makeDir } from './files.ts';
import { corruptRefusal, CorruptRunRecordError, readRunRecord, setAsideRecords } from './run.ts';

/** The private directories of this process: `<partial>/<host>-<pid>-<n>`. */
export class PartialDirs {
  private count = 0;

  constructor(
    readonly root: string,
    readonly owner: string,
  ) {}

  /** A fresh directory name for the next run. */
  next(): string {
    return join(this.root, `${this.owner}-${++this.count}`);
  }

  /** Creates the folder and removes the leftovers of this host's dead workers (a kill -9 mid-run), never renamed into place. */
  async open(): Promise<void> {
    await makeDir(this.root);
    for (const e of readdirSync(this.root)) {
      const m = /^(.*)-(\d+)-\d+$/.exec(e);
      if (m && m[1] === hostname() && !alive(Number(m[2]))) await rm(join(this.root, e), { recursive: true, force: true });
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

/**
 * Moves a complete run directory into place: a directory that is already complete there (the
 * same run, finished by another worker) wins and ours is dropped; a partial one is replaced,
 * keeping the corrupt records set aside in it. A corrupt final.json there is refused.
 */
export async function publish(tmp: string, target: string): Promise<void> {
  if (finishedThere(target)) return;
  await makeDir(join(target, '..'));
  if (existsSync(target)) {
    for (const name of setAsideRecords(target)) await rename(join(target, name), join(tmp, name));
    const aside = `${tmp}.old`;
    await rename(target, aside).catch(() => {});
    await rm(aside, { recursive: true, force: true });
  }
  try {
    await rename(tmp, target);
  } catch (e) {
    // Another worker renamed the same run into place between our check and our rename: its
    // run stands, and the records set aside go back beside it.
    if (!finishedThere(target)) throw e;
    for (const name of setAsideRecords(tmp)) await rename(join(tmp, name), join(target, name)).catch(() => {});
  }
}

/** Whether `target` holds a finished run; a corrupt final.json is refused, never replaced. */
function finishedThere(target: string): boolean {
  try {
    return readRunRecord(target) !== null;
  } catch (e) {
    throw e instanceof CorruptRunRecordError ? corruptRefusal(e) : e;
  }
}
