/** Result files: written whole or not at all. */
import { rename, rm, writeFile } from 'node:fs/promises';

/** Writes a file atomically (temp file + rename), so a crash never leaves half a file. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
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
    ELOOP: 'a loop of symbolic links',
    ENOSPC: 'no space left on the device (free some, or write elsewhere with --out)',
    EROFS: 'a read-only file system',
  };
  return code ? (what[code] ?? null) : null;
}
