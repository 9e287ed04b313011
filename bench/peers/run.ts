/**
 * Runs one peer in its own process and collects its JSON lines (one per configuration).
 *
 *   tfjs-webgpu / tfjs-wasm / tfjs-cpu: `process.execPath <tsx cli> bench/peers/tfjs_main.ts ...`
 *   torch-cpu (and torch-cuda):         `/usr/bin/python3 bench/peers/torch_peer.py ...` with
 *                                       OMP_WAIT_POLICY=PASSIVE; `variants` picks the PyTorch
 *                                       variants, all in that one process
 *
 * Nothing is installed here: a peer that cannot start comes back as one line with
 * `steps_per_s: null` and an `error` saying how to enable it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PeerResult } from './workload.ts';

export type { PeerResult } from './workload.ts';

export const PEER_KINDS = ['tfjs-webgpu', 'tfjs-wasm', 'tfjs-cpu', 'torch-cpu', 'torch-cuda'] as const;
export type PeerKind = (typeof PEER_KINDS)[number];

/**
 * PyTorch variants (torch_peer.py --variants): torch.nn.RNN (cuDNN on CUDA), the hand-written
 * eager loop, that loop captured in a CUDA graph, and K networks batched through bmm.
 */
export const TORCH_VARIANTS = ['cudnn', 'eager', 'graph', 'bmm'] as const;
export type TorchVariant = (typeof TORCH_VARIANTS)[number];

export interface PeerRunOptions {
  /** Hidden sizes, run one after another in the same process. Default [100, 256]. */
  Ns?: number[];
  /**
   * A workload file (peer_data.ts) to train on instead of the canonical workload: N, B, T and
   * alpha come from it (Ns, B, T and alpha are then not passed).
   */
  data?: string;
  /** Name of the workload in the output lines. */
  workload?: string;
  /** Default 'both' (false then true). */
  reg?: boolean | 'both';
  /** Seconds of timed steps per configuration (WORKLOAD default 5). */
  budgetS?: number;
  B?: number;
  T?: number;
  alpha?: number;
  lambda?: number;
  seed?: number;
  warmup?: number;
  minSteps?: number;
  maxSteps?: number;
  /** Dawn native backend for tfjs-webgpu (default: Dawn's default, as the engine). */
  dawnBackend?: string;
  /** torch: torch.compile the loss (PyTorch >= 2 only). */
  compile?: boolean;
  /** torch: the variants, one after another in the same process (default: the eager loop). */
  variants?: readonly TorchVariant[];
  /** torch: how many networks the bmm variant trains at once (default 16). */
  bmmK?: number;
  /** torch: thread count (default 2). */
  threads?: number;
  /** torch: interpreter (default /usr/bin/python3, where Debian's python3-torch lives). */
  python?: string;
  /** Kill the peer after this long (default 30 min). */
  timeoutMs?: number;
  /** Receives the peer's stderr as it arrives (default: kept, its tail goes into errors). */
  onStderr?: (chunk: string) => void;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

export const TORCH_MISSING = 'PyTorch not installed: apt-get install python3-torch (Debian) to enable this peer';

function tsxCli(): string {
  return path.join(path.dirname(require.resolve('tsx/package.json')), 'dist', 'cli.mjs');
}

function commonArgs(o: PeerRunOptions): string[] {
  const a: string[] = [];
  const add = (k: string, v: number | string | undefined) => {
    if (v !== undefined) a.push(`--${k}`, String(v));
  };
  if (o.data) add('data', o.data);
  else add('N', (o.Ns ?? [100, 256]).join(','));
  add('workload', o.workload);
  add('reg', o.reg === undefined ? 'both' : String(o.reg));
  add('budget', o.budgetS);
  if (!o.data) {
    add('B', o.B);
    add('T', o.T);
    add('alpha', o.alpha);
  }
  add('lambda', o.lambda);
  add('seed', o.seed);
  add('warmup', o.warmup);
  add('min-steps', o.minSteps);
  add('max-steps', o.maxSteps);
  return a;
}

function failure(peer: string, error: string): PeerResult[] {
  return [{ peer, N: null, reg: null, steps_per_s: null, ms_per_step: null, probe: true, error }];
}

/** True when `python -c 'import torch'` succeeds. */
export function torchAvailable(python = '/usr/bin/python3'): boolean {
  const r = spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 });
  return r.status === 0;
}

/** Parses the JSON lines of a peer's stdout (other lines, e.g. tfjs's banner, are skipped). */
export function parsePeerLines(stdout: string): PeerResult[] {
  const out: PeerResult[] = [];
  for (const line of stdout.split('\n')) {
    const s = line.trim();
    if (!s.startsWith('{')) continue;
    try {
      const r = JSON.parse(s) as PeerResult;
      if (typeof r.peer === 'string') out.push(r);
    } catch {
      /* not a result line */
    }
  }
  return out;
}

/**
 * Spawns the peer, waits for it and returns its result lines. Never throws for a peer that
 * is missing or crashes: those come back as a line with `error`.
 */
export async function runPeerProcess(kind: PeerKind, opts: PeerRunOptions = {}): Promise<PeerResult[]> {
  let cmd: string;
  let args: string[];
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (kind.startsWith('tfjs-')) {
    const backend = kind.slice('tfjs-'.length);
    cmd = process.execPath;
    args = [tsxCli(), path.join(HERE, 'tfjs_main.ts'), '--backend', backend, ...commonArgs(opts)];
    if (opts.dawnBackend) args.push('--dawn', opts.dawnBackend);
  } else if (kind === 'torch-cpu' || kind === 'torch-cuda') {
    const python = opts.python ?? '/usr/bin/python3';
    if (!torchAvailable(python)) return failure(kind, TORCH_MISSING);
    cmd = python;
    args = [path.join(HERE, 'torch_peer.py'), '--device', kind === 'torch-cuda' ? 'cuda' : 'cpu', ...commonArgs(opts)];
    if (opts.threads !== undefined) args.push('--threads', String(opts.threads));
    if (opts.compile) args.push('--compile');
    if (opts.variants) args.push('--variants', opts.variants.join(','));
    if (opts.bmmK !== undefined) args.push('--bmm-k', String(opts.bmmK));
    env.OMP_WAIT_POLICY = 'PASSIVE';
  } else {
    return failure(String(kind), `unknown peer kind ${String(kind)}`);
  }

  return await new Promise<PeerResult[]>((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (stderr.length > 64_000) stderr = stderr.slice(-32_000);
      opts.onStderr?.(d);
    });
    const timer = setTimeout(
      () => {
        timedOut = true;
        child.kill('SIGKILL');
      },
      opts.timeoutMs ?? 30 * 60_000,
    );
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve(failure(kind, `cannot start ${cmd}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const lines = parsePeerLines(stdout);
      if (code === 0 && !timedOut && lines.length > 0) return resolve(lines);
      const tail = stderr.trim().split('\n').slice(-5).join(' | ');
      const why = timedOut ? `timed out after ${opts.timeoutMs ?? 1_800_000} ms` : `exited with ${code ?? signal}`;
      const err = `${kind} ${why}${tail ? `: ${tail}` : ''}`;
      resolve(lines.length > 0 ? [...lines, ...failure(kind, err)] : failure(kind, err));
    });
  });
}

/** A line's name: the peer, and its variant unless it is the eager loop (the peer's original line). */
export function peerLabel(r: PeerResult): string {
  return r.variant && r.variant !== 'eager' ? `${r.peer} ${r.variant}` : r.peer;
}

/** Ratio of two peers' steps/s for the same (N, reg), null when either did not run. */
export function speedRatio(a: PeerResult[], b: PeerResult[], N: number, reg: boolean): number | null {
  const find = (rs: PeerResult[]) => rs.find((r) => r.N === N && r.reg === reg && r.steps_per_s != null)?.steps_per_s ?? null;
  const x = find(a);
  const y = find(b);
  return x != null && y != null ? x / y : null;
}
