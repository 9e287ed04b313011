/**
 * The adapter's subnormal mode is probed and recorded (engine/gpu/subnormals.ts), and
 * scripts/flush-subnormals.sh makes llvmpipe flush them in its own threads only: the probe
 * reads 'kept' without it and 'flushed' under it, while JavaScript keeps float64 subnormals on
 * the main thread and in worker threads (the analyses run there, in float64).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasAdapter, useGpu } from './helpers/gpu.ts';

interface Probe {
  adapter: string;
  subnormals: string;
  jsKeeps: { main: boolean; worker: boolean };
}

const cache = mkdtempSync(join(tmpdir(), 'cortical-rnn-cache-'));
afterAll(() => rmSync(cache, { recursive: true, force: true }));

function probeChild(flush: boolean): Probe {
  const node = [process.execPath, '--import', 'tsx', 'tests/helpers/subnormals_probe.ts'];
  const [cmd, ...args] = flush ? ['scripts/flush-subnormals.sh', ...node] : node;
  const out = execFileSync(cmd!, args, { env: { ...process.env, CORTICAL_RNN_CACHE: cache }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return JSON.parse(out.trim().split('\n').pop()!) as Probe;
}

describe('subnormal floats', () => {
  const gpu = useGpu();

  it.skipIf(!hasAdapter)('the probe gives a definite mode, and the adapter description records it', () => {
    const mode = gpu.get().ctx.summary.subnormals;
    expect(['kept', 'flushed']).toContain(mode);
    expect(gpu.get().describe()).toContain(`subnormals ${mode}]`);
  });

  it.skipIf(!hasAdapter)(
    'llvmpipe keeps them; under scripts/flush-subnormals.sh its threads flush them and JavaScript still keeps them',
    () => {
      const plain = probeChild(false);
      expect(plain.subnormals).toBe(gpu.get().ctx.summary.subnormals);
      if (!/llvmpipe/.test(plain.adapter)) return expect(plain.adapter).not.toMatch(/llvmpipe/); // the shim is for Mesa's CPU drivers
      expect(plain.subnormals).toBe('kept');
      const flushed = probeChild(true);
      expect(flushed.subnormals).toBe('flushed');
      expect(flushed.jsKeeps).toEqual({ main: true, worker: true });
      expect(plain.jsKeeps).toEqual({ main: true, worker: true });
      // Built once into the cache, named by its source's hash.
      expect(readdirSync(cache).filter((f) => /^flush-subnormals-[0-9a-f]{12}\.so$/.test(f))).toHaveLength(1);
    },
    120_000,
  );
});
