/**
 * A real `serve` with the API, in process, for the API, queue and browser tests: a results
 * directory, a run pool (on this machine's engine, made on first use, unless the test gives
 * the pool's options), and the server on a free loopback port. Also an SSE reader.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { startServer } from '../../cli/serve/server.ts';
import { createNodeBackend } from '../../engine/node.ts';
import type { Backend } from '../../engine/tensor.ts';
import { RunPool, type PoolOptions } from '../../experiments/run_pool.ts';

export interface ApiServer {
  app: FastifyInstance;
  /** http://127.0.0.1:PORT */
  origin: string;
  /** origin + /api/v1 */
  base: string;
  pool: RunPool;
  /** The engine the pool trains on (made on first use). */
  engine: () => Promise<Backend>;
  close(): Promise<void>;
}

export async function startApiServer(o: {
  dataDir: string;
  results: string;
  /** The built workbench; default a one-page stand-in. */
  webDir?: string;
  token?: string | null;
  pool?: Partial<PoolOptions>;
  /** close() leaves the pool alone (one whose runs never end). */
  leavePool?: boolean;
}): Promise<ApiServer> {
  let backend: Promise<Backend> | null = null;
  const engine = () => (backend ??= createNodeBackend());
  mkdirSync(o.results, { recursive: true });
  const webDir = o.webDir ?? join(o.results, '..', 'web');
  if (!o.webDir) {
    mkdirSync(webDir, { recursive: true });
    writeFileSync(join(webDir, 'index.html'), '<p>workbench</p>');
  }
  const pool = new RunPool({ out: o.results, dataDir: o.dataDir, backend: engine, ...o.pool });
  const info = async () => (o.pool?.queue ? {} : { api: 'cortical-rnn/api/1', backend: (await engine()).describe() });
  const api = { pool, dataDir: o.dataDir, resultsDir: o.results, token: o.token ?? null, info };
  const app = await startServer({ webDir, dataDir: o.dataDir, resultsDir: o.results, host: '127.0.0.1', port: 0, api });
  const origin = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const close = async () => {
    if (!o.leavePool) await pool.close();
    await app.close();
    await backend?.then((b) => b.destroy());
  };
  return { app, origin, base: `${origin}/api/v1`, pool, engine, close };
}

export interface SseEvent {
  id: number;
  event: string;
  data: Record<string, unknown>;
}

/** Reads an event stream to its end (the server closes it after its last event). */
export async function readEvents(url: string, headers: Record<string, string> = {}): Promise<{ contentType: string | null; events: SseEvent[] }> {
  const res = await fetch(url, { headers });
  const events = (await res.text())
    .split('\n\n')
    .filter((b) => b.startsWith('id:'))
    .map((b) => {
      const f = Object.fromEntries(b.split('\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]));
      return { id: Number(f.id), event: f.event!, data: JSON.parse(f.data!) as Record<string, unknown> };
    });
  return { contentType: res.headers.get('content-type'), events };
}
