/**
 * Result files: written whole or not at all, and a failed write says which path and why
 * (disk full, permission, a file where a directory should be) in one line.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';

/** The error of a failed file operation on `path`, as one line saying what to do. */
function fsError(path: string, action: string, e: unknown): Error {
  const problem = fsProblem(e);
  return problem ? new Error(`${path}: expected to ${action}, got ${problem}`, { cause: e }) : (e as Error);
}

/** Writes a file atomically (temp file + rename), so a crash never leaves half a file. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw fsError(path, 'write it', e);
  }
}

/** mkdir -p, failing with one line that names the directory. */
export async function makeDir(path: string): Promise<void> {
  try {
    await mkdir(path, { recursive: true });
  } catch (e) {
    throw fsError(path, 'create this directory', e);
  }
}

/** What a failed file operation means, from its error code (null when it is not one). */
export function fsProblem(e: unknown): string | null {
  const code = (e as { code?: string } | null)?.code;
  const what: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EISDIR: 'a directory',
    ENOTDIR: 'a path through something that is not a directory',
    EEXIST: 'a file already there',
    ELOOP: 'a loop of symbolic links',
    ENOSPC: 'no space left on the device (free some, or write elsewhere with --out)',
    EROFS: 'a read-only file system',
  };
  return code ? (what[code] ?? null) : null;
}
