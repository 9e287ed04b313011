/**
 * `cortical-rnn serve [--data DIR] [--results DIR] [--host H] [--port P] [--token T]`: the web
 * workbench (dist/web, built with Vite on first use), read-only the data and results
 * directories, and with a results directory the API at /api/v1/ (docs/api.md), whose runs
 * train on this machine's engine into that directory.
 */
import type { CommandModule } from 'yargs';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OptionError } from '../../engine/errors.ts';
import { resolveDataDir } from '../../connectome/datadir.ts';
import { startServer } from '../serve/server.ts';
import type { ApiOptions } from '../serve/api.ts';
import { withBackendOption, type BackendArgs } from '../common.ts';
import { createNodeBackend } from '../../engine/node.ts';
import type { Backend } from '../../engine/tensor.ts';
import { RunPool } from '../../experiments/run_pool.ts';
import { codeVersion } from '../../experiments/provenance.ts';
import { checkQueueName, DEFAULT_QUEUE_NAME, parseQueueUrl, probe } from '../../experiments/queue_redis.ts';

type Args = BackendArgs & {
  data?: string;
  results?: string;
  host: string;
  port: number;
  rebuild?: boolean;
  token?: string;
  maxPerClient: number;
  queue?: string;
  queueName?: string;
};

/** The package root: the nearest folder above this module with cortical-rnn's package.json. */
function packageRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const p = join(d, 'package.json');
    if (existsSync(p) && (JSON.parse(readFileSync(p, 'utf8')) as { name?: string }).name === 'cortical-rnn') return d;
    const up = dirname(d);
    if (up === d) throw new Error(`${fileURLToPath(import.meta.url)}: expected to sit inside the cortical-rnn package, got no package.json above it`);
    d = up;
  }
}

/** The newest modification time (ms) of the .ts/.wgsl/.html/.css files under these folders. */
function newestSource(dirs: string[]): number {
  let newest = 0;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|wgsl|html|css)$/.test(e.name)) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  for (const d of dirs) if (existsSync(d)) walk(d);
  return newest;
}

/**
 * The built workbench, built now (Vite, a development dependency) when missing, asked for, or
 * older than the sources of a development checkout (so an edit is never served stale).
 */
async function webBundle(rebuild: boolean): Promise<string> {
  const root = packageRoot();
  const out = join(root, 'dist', 'web');
  const index = join(out, 'index.html');
  const sources = ['web', 'engine', 'shaders', 'connectome', 'tasks', 'analysis', 'experiments'].map((d) => join(root, d));
  if (!rebuild && existsSync(index) && newestSource(sources) <= statSync(index).mtimeMs) return out;
  const config = join(root, 'web', 'vite.config.ts');
  if (!existsSync(config))
    throw new Error(`${out}: expected the built workbench (npm run build:web), got no such directory and no web/ sources to build it from`);
  process.stdout.write(`building the workbench into ${out} (npm run build:web does the same)…\n`);
  let vite: typeof import('vite');
  try {
    vite = await import('vite');
  } catch {
    throw new Error(`${out}: expected the built workbench, got none, and Vite is not installed to build it (run npm ci, then npm run build:web)`);
  }
  await vite.build({ configFile: config, logLevel: 'warn' });
  return out;
}

function dirFlag(flag: string, value: string): string {
  const p = resolve(value);
  if (!existsSync(p) || !statSync(p).isDirectory()) throw new OptionError(flag, 'a directory', `"${value}" (no such directory)`);
  return p;
}

export const command: CommandModule<object, Args> = {
  command: 'serve',
  describe: 'Serve the web workbench (train on the browser’s WebGPU, 3D connectome, results browser) and, read-only, the data and results directories',
  builder: (y) =>
    withBackendOption(y)
      .option('results', { type: 'string', describe: 'results directory to browse (default: ./results when it exists)' })
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'interface to listen on (the default is this machine only)' })
      .option('port', { type: 'number', default: 8080, describe: 'TCP port (0: any free port)' })
      .option('rebuild', { type: 'boolean', describe: 'rebuild the workbench bundle (dist/web) first' })
      .option('token', { type: 'string', describe: "the API's bearer token (default $CORTICAL_RNN_TOKEN); required when --host is not a loopback address" })
      .option('max-per-client', { type: 'number', default: 8, describe: 'API submissions queued or running per client address' })
      .option('queue', {
        type: 'string',
        describe: "train the API's runs on the workers of this Redis queue (redis://HOST:PORT) instead of this machine's engine",
      })
      .option('queue-name', { type: 'string', describe: `the BullMQ queue's name (default ${DEFAULT_QUEUE_NAME})` }) as never,
  handler: async (a) => {
    if (!Number.isInteger(a.port) || a.port < 0 || a.port > 65535) throw new OptionError('--port', 'a TCP port in 0..65535', String(a.port));
    if (!a.host) throw new OptionError('--host', 'an interface address such as 127.0.0.1', 'an empty string');
    const dataDir = resolveDataDir(a.data);
    const resultsDir = a.results !== undefined ? dirFlag('--results', a.results) : existsSync('results') ? resolve('results') : null;
    const token = a.token ?? process.env.CORTICAL_RNN_TOKEN ?? null;
    if (token !== null && token.length < 16) throw new OptionError('--token', 'a bearer token of at least 16 characters', `${token.length} characters`);
    if (!token && !isLoopback(a.host))
      throw new OptionError('--token', `a bearer token (or CORTICAL_RNN_TOKEN) to listen on ${a.host}, which other machines can reach`, 'none');
    if (!Number.isInteger(a.maxPerClient) || a.maxPerClient < 1) throw new OptionError('--max-per-client', 'an integer ≥ 1', String(a.maxPerClient));
    const webDir = await webBundle(Boolean(a.rebuild));
    const api = resultsDir ? await apiOptions(a, dataDir, resultsDir, token) : undefined;
    const server = await startServer({ webDir, dataDir, resultsDir, host: a.host, port: a.port, api }).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') throw new OptionError('--port', 'a free port', `${a.port} (in use)`);
      if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') throw new OptionError('--host', 'an address of this machine', `"${a.host}" (${e.code})`);
      throw e;
    });
    const addr = server.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : a.port;
    // A wildcard address is no URL; and WebGPU needs a secure context, which plain http has on loopback only.
    const host = a.host === '0.0.0.0' || a.host === '::' ? '127.0.0.1' : a.host;
    const shown = host.includes(':') ? `[${host}]` : host;
    process.stdout.write(`data:    ${dataDir} (read-only, at /data/)\n`);
    process.stdout.write(`results: ${resultsDir ?? 'none (pass --results DIR)'}${resultsDir ? ' (read-only, at /results/)' : ''}\n`);
    process.stdout.write(`workbench: http://${shown}:${port}/  (open it in a browser with WebGPU; Ctrl-C stops)\n`);
    process.stdout.write(
      api ? `api: http://${shown}:${port}/api/v1/${token ? ' (bearer token required)' : ''}\n` : 'api: none (pass --results DIR for runs to land in)\n',
    );
    const stop = () => void Promise.all([api?.pool.close(), server.close()]).finally(() => process.exit(0));
    process.once('SIGINT', stop).once('SIGTERM', stop);
    if (!isLoopback(a.host))
      process.stdout.write(
        `note: listening on ${a.host}, reachable from other machines; browsers give WebGPU to secure contexts only, so over plain http open it as 127.0.0.1 or localhost (e.g. through an ssh tunnel)\n`,
      );
  },
};

function isLoopback(host: string): boolean {
  return /^(127\.|::1$|localhost$)/.test(host);
}

/** The API's runs: a pool training into `resultsDir` on this machine's engine (created on first use), or on a queue's workers. */
async function apiOptions(a: Args, dataDir: string, resultsDir: string, token: string | null): Promise<ApiOptions> {
  let backend: Promise<Backend> | null = null;
  const engine = () => (backend ??= createNodeBackend({ backend: a.backend, matmulKernel: a.matmulKernel === 'auto' ? undefined : a.matmulKernel }));
  const queue = a.queue ? { url: parseQueueUrl(a.queue), name: checkQueueName(a.queueName ?? DEFAULT_QUEUE_NAME) } : undefined;
  if (queue) await probe(queue.url);
  const pool = new RunPool({ out: resultsDir, dataDir, backend: engine, maxPerClient: a.maxPerClient, queue });
  const info = async () => ({
    api: 'cortical-rnn/api/1',
    backend: queue ? `the workers of ${queue.url.shown}/${queue.name}` : (await engine()).describe(),
    code: codeVersion(),
    data: dataDir,
    results: resultsDir,
  });
  return { pool, dataDir, resultsDir, token, info };
}
