/**
 * The workbench's HTTP server (node:http): the built web app at /, and read-only the data
 * directory at /data/ and a results directory at /results/. Nothing outside those trees is
 * served: a path is refused (404) when a segment decodes to '.', '..' or a dotfile, or holds
 * a slash, backslash, NUL or '%' (double encoding), and when its real path (symlinks
 * resolved) leaves its root. A directory path ending in '/' answers a JSON listing.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createReadStream, type Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { extname, join, sep } from 'node:path';

export interface ServeOptions {
  /** The built workbench (index.html and its assets). */
  webDir: string;
  dataDir: string | null;
  resultsDir: string | null;
  host: string;
  port: number;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.wgsl': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** Listings stop here, so a huge tree cannot stall the server. */
const MAX_LISTING = 50_000;

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

async function within(root: string, path: string): Promise<string | null> {
  try {
    const [r, p] = await Promise.all([realpath(root), realpath(path)]);
    return p === r || p.startsWith(r.endsWith(sep) ? r : r + sep) ? p : null;
  } catch {
    return null;
  }
}

async function listing(root: string, dir: string, recursive: boolean): Promise<{ name: string; dir: boolean }[]> {
  const out: { name: string; dir: boolean }[] = [];
  const walk = async (rel: string) => {
    let entries: Dirent[];
    try {
      entries = await readdir(join(dir, rel), { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      if (e.name.startsWith('.') || out.length >= MAX_LISTING) continue;
      const name = rel ? `${rel}/${e.name}` : e.name;
      // A symlink is listed only when it stays inside the root.
      const real = await within(root, join(dir, name));
      if (!real) continue;
      const isDir = (await stat(real)).isDirectory();
      out.push({ name, dir: isDir });
      if (isDir && recursive && !e.isSymbolicLink()) await walk(name);
    }
  };
  await walk('');
  return out;
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
  res.end('not found\n');
}

async function handle(o: ServeOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' });
    res.end();
    return;
  }
  const url = req.url ?? '/';
  const segs = safeSegments(url);
  if (!segs) return notFound(res);
  let root: string | null;
  let rest: string[];
  if (segs[0] === 'data') [root, rest] = [o.dataDir, segs.slice(1)];
  else if (segs[0] === 'results') [root, rest] = [o.resultsDir, segs.slice(1)];
  else [root, rest] = [o.webDir, segs.length ? segs : ['index.html']];
  if (!root) return notFound(res);
  const real = await within(root, join(root, ...rest));
  if (!real) return notFound(res);
  const st = await stat(real);
  const headers = { 'x-content-type-options': 'nosniff', 'cache-control': 'no-cache' };
  if (st.isDirectory()) {
    if (root === o.webDir || !url.split(/[?#]/, 1)[0]!.endsWith('/')) return notFound(res);
    const recursive = /[?&]recursive=1(&|$)/.test(url);
    const body = JSON.stringify({ entries: await listing(root, real, recursive) });
    res.writeHead(200, { ...headers, 'content-type': TYPES['.json']! });
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  res.writeHead(200, { ...headers, 'content-type': TYPES[extname(real).toLowerCase()] ?? 'application/octet-stream', 'content-length': st.size });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(real).pipe(res);
}

/** Starts the server; resolves once it listens (port 0 picks a free one: read server.address()). */
export function startServer(o: ServeOptions): Promise<Server> {
  const server = createServer((req, res) => {
    handle(o, req, res).catch(() => {
      if (!res.headersSent) notFound(res);
      else res.destroy();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
