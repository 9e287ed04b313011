/**
 * The workbench's HTTP server (Fastify): the built web app at /, read-only the data directory
 * at /data/ and a results directory at /results/, and the API at /api/v1/ (api.ts). Nothing
 * outside those trees is served: a path is refused (404) when a segment decodes to '.', '..'
 * or a dotfile, or holds a slash, backslash, NUL or '%' (double encoding), and when its real
 * path (symlinks resolved) leaves its root. A directory path ending in '/' answers a JSON
 * listing. Files go out through @fastify/static once the path has passed those checks.
 */
import type { Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';
import { registerApi, type ApiOptions } from './api.ts';
import { safeSegments, within } from './paths.ts';

export { safeSegments };

export interface ServeOptions {
  /** The built workbench (index.html and its assets). */
  webDir: string;
  dataDir: string | null;
  resultsDir: string | null;
  host: string;
  port: number;
  /** The API's runs and its bearer token; without, the server has no /api/v1/. */
  api?: ApiOptions;
}

/** Listings stop here, so a huge tree cannot stall the server. */
const MAX_LISTING = 50_000;

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

function notFound(reply: FastifyReply): FastifyReply {
  return reply.code(404).type('text/plain; charset=utf-8').send('not found\n');
}

/** The root and real path a GET names, or null (a 404) when it is unsafe or outside every tree. */
async function resolveTree(o: ServeOptions, url: string): Promise<{ root: string; real: string; isDir: boolean } | null> {
  const segs = safeSegments(url);
  if (!segs) return null;
  let root: string | null;
  let rest: string[];
  if (segs[0] === 'data') [root, rest] = [o.dataDir, segs.slice(1)];
  else if (segs[0] === 'results') [root, rest] = [o.resultsDir, segs.slice(1)];
  else [root, rest] = [o.webDir, segs.length ? segs : ['index.html']];
  if (!root) return null;
  const real = await within(root, join(root, ...rest));
  if (!real) return null;
  return { root, real, isDir: (await stat(real)).isDirectory() };
}

async function serveTree(o: ServeOptions, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const url = req.raw.url ?? '/';
  const hit = await resolveTree(o, url).catch(() => null);
  if (!hit) return notFound(reply);
  reply.header('x-content-type-options', 'nosniff').header('cache-control', 'no-cache');
  if (hit.isDir) {
    if (hit.root === o.webDir || !url.split(/[?#]/, 1)[0]!.endsWith('/')) return notFound(reply);
    const recursive = /[?&]recursive=1(&|$)/.test(url);
    return reply.type('application/json; charset=utf-8').send(JSON.stringify({ entries: await listing(hit.root, hit.real, recursive) }));
  }
  // The real path is checked to lie inside its root; send serves it relative to the real root.
  const realRoot = await realpath(hit.root);
  return reply.sendFile(relative(realRoot, hit.real), realRoot, { dotfiles: 'allow', cacheControl: false });
}

/** The server, not yet listening: the trees, and the API when `o.api` is given. */
async function buildServer(o: ServeOptions): Promise<FastifyInstance> {
  const app = Fastify({
    bodyLimit: o.api?.bodyLimit ?? 64 * 1024,
    // A URL the router cannot decode is simply not a file here.
    frameworkErrors: (err, _req, reply) =>
      err.code === 'FST_ERR_BAD_URL' ? notFound(reply as FastifyReply) : (reply as FastifyReply).code(400).send({ error: err.message }),
    // A request is refused, never repaired: no type coercion, no silently dropped properties.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: true } },
  });
  await app.register(fastifyStatic, { root: o.webDir, serve: false });
  if (o.api) await app.register((api, _opts, done) => (registerApi(api, o.api!), done()), { prefix: '/api/v1' });
  app.route({ method: 'GET', url: '/*', handler: (req, reply) => serveTree(o, req, reply) });
  app.setNotFoundHandler((req, reply) =>
    req.method === 'GET' || req.method === 'HEAD' ? notFound(reply) : reply.code(405).header('allow', 'GET, HEAD').send(),
  );
  return app;
}

/** Starts the server; resolves once it listens (port 0 picks a free one: read app.server.address()). */
export async function startServer(o: ServeOptions): Promise<FastifyInstance> {
  const app = await buildServer(o);
  await app.listen({ port: o.port, host: o.host });
  return app;
}
