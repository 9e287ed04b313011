/**
 * How a request's path becomes a file path: decoded once per segment, refused when a segment is
 * unsafe, and accepted only when its real path (symlinks resolved) stays inside its root.
 */
import { realpath } from 'node:fs/promises';
import { sep } from 'node:path';

/** The decoded segments of a request path, or null when any is unsafe. */
export function safeSegments(rawUrl: string): string[] | null {
  const path = rawUrl.split(/[?#]/, 1)[0]!;
  if (!path.startsWith('/') || path.includes('\\')) return null;
  const out: string[] = [];
  const parts = path.slice(1).split('/');
  for (let i = 0; i < parts.length; i++) {
    const raw = parts[i]!;
    if (raw === '') {
      if (i === parts.length - 1) break; // the trailing slash of a directory
      return null;
    }
    let s: string;
    try {
      s = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (s.startsWith('.') || /[/\\\0%]/.test(s)) return null;
    out.push(s);
  }
  return out;
}

/** The real path of `path` when it lies inside `root` (symlinks resolved), else null. */
export async function within(root: string, path: string): Promise<string | null> {
  try {
    const [r, p] = await Promise.all([realpath(root), realpath(path)]);
    return p === r || p.startsWith(r.endsWith(sep) ? r : r + sep) ? p : null;
  } catch {
    return null;
  }
}
