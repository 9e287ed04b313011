/**
 * Benchmark plumbing: repeated timing with warm-up, medians, GPU timestamps where the adapter
 * has them (wall time otherwise, and the record says which), and records carrying the adapter,
 * versions and date so results from different machines can be compared.
 */
import { readFileSync } from 'node:fs';
import { GpuBackend } from '../engine/gpu/backend.ts';
import type { Backend } from '../engine/tensor.ts';
import type { PeerKind } from './peers/run.ts';

/** Options every bench suite takes (the CLI's flags). */
export interface SuiteOptions {
  sizes?: number[];
  /** bench multi, host: how many networks side by side. */
  ks?: number[];
  quick?: boolean;
  json?: boolean;
  /** bench profile: which workload (see bench/profile.ts). */
  workload?: string;
  /** bench peers: which peers run (default: PyTorch CPU and TensorFlow.js). */
  peers?: PeerKind[];
  /** bench peers: the Python that holds PyTorch (default /usr/bin/python3, Debian's). */
  python?: string;
}

type TimingSource = 'gpu-timestamp' | 'wall';

export interface Sample {
  median: number;
  min: number;
  max: number;
  repeats: number;
  warmup: number;
  timing: TimingSource;
}

export interface BenchRecord extends Record<string, unknown> {
  suite: string;
  name: string;
  unit: string;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Times `run` (which encodes one unit of GPU work or does CPU work): `warmup` untimed runs,
 * then `repeats` timed ones. With timestamps, each sample is the GPU time of the run's passes;
 * otherwise wall time including a sync.
 */
export async function timeIt(
  backend: Backend,
  run: () => void | Promise<void>,
  opts: { warmup?: number; repeats?: number; preferWall?: boolean } = {},
): Promise<Sample> {
  const warmup = opts.warmup ?? 2;
  const repeats = opts.repeats ?? 7;
  for (let i = 0; i < warmup; i++) {
    await run();
    await backend.sync();
  }
  const times: number[] = [];
  let timing: TimingSource = 'wall';
  for (let i = 0; i < repeats; i++) {
    if (backend instanceof GpuBackend && backend.ctx.hasTimestamps && !opts.preferWall) {
      const ms = await backend.ctx.timeGpu(run);
      if (ms !== null) {
        times.push(ms);
        timing = 'gpu-timestamp';
        continue;
      }
    }
    await backend.sync();
    const t0 = performance.now();
    await run();
    await backend.sync();
    times.push(performance.now() - t0);
    timing = 'wall';
  }
  return { median: median(times), min: Math.min(...times), max: Math.max(...times), repeats, warmup, timing };
}

/** Where and with what a benchmark ran: attached to every JSON record. */
export function environment(backend: Backend): Record<string, unknown> {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  let webgpuVersion = 'unknown';
  try {
    webgpuVersion = (JSON.parse(readFileSync(new URL('../node_modules/webgpu/package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    // not installed beside the project
  }
  const adapter = backend instanceof GpuBackend ? backend.ctx.summary : null;
  return {
    date: new Date().toISOString(),
    engine: 'cortical-rnn',
    engineVersion: pkg.version,
    node: process.version,
    webgpu: webgpuVersion,
    backend: backend.name,
    adapter: adapter
      ? {
          description: adapter.description,
          vendor: adapter.vendor,
          architecture: adapter.architecture,
          backend: adapter.backend,
          software: adapter.isFallbackAdapter,
        }
      : backend.describe(),
  };
}

/** Prints rows as an aligned text table. */
export function printTable(headers: string[], rows: (string | number)[][]): void {
  const cells = [headers, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? formatNumber(c) : c)))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => String(r[i] ?? '').length)));
  const line = (r: (string | number)[]) => r.map((c, i) => String(c).padStart(widths[i]!)).join('  ');
  console.log(line(cells[0]!));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of cells.slice(1)) console.log(line(r));
}

function formatNumber(x: number): string {
  if (!Number.isFinite(x) || Number.isInteger(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1000) return x.toFixed(0);
  if (a >= 100) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toPrecision(3);
}
