/**
 * The in-place kernel self-checks (engine/selfcheck.ts) pass on this machine's adapter; the
 * browser suite (tests/browser.test.ts) runs the same checks on Chromium's. On llvmpipe they
 * also run with the subgroup tiles at 16, 8 and 4 lanes (512-, 256- and 128-bit vectors), and at
 * 32 lanes (1024-bit) with the workgroup tiles (the subgroup tiles are written for 4 to 16),
 * each in a child process, since the vector width is fixed when the Vulkan driver loads.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../engine/cpu/backend.ts';
import { kernelSelfCheck, type CheckResult } from '../engine/selfcheck.ts';
import { hasAdapter, useGpu } from './helpers/gpu.ts';

const execFileAsync = promisify(execFile);

describe('kernel self-checks', () => {
  const gpu = useGpu();
  it.skipIf(!hasAdapter)('every GPU kernel family matches its CPU twin', async () => {
    const results = await kernelSelfCheck(gpu.get(), new CpuBackend('f64'));
    expect(results.length).toBeGreaterThan(15);
    for (const r of results) expect(r.error, r.name).toBeLessThanOrEqual(r.tolerance);
  });

  for (const [bits, lanes] of [
    [1024, 32],
    [512, 16],
    [256, 8],
    [128, 4],
  ] as const) {
    it.skipIf(!hasAdapter)(
      `${lanes} lanes (llvmpipe, ${bits}-bit vectors) with ${lanes > 16 ? 'workgroup' : 'subgroup'} tiles: every kernel matches its CPU twin`,
      async () => {
        // Asynchronously: a child that runs for minutes would otherwise block this worker's event
        // loop past vitest's 60 s RPC timeout, which fails the whole run with an unhandled error.
        const { stdout: line } = await execFileAsync(process.execPath, ['--import', 'tsx', 'tests/helpers/lanes_selfcheck.ts'], {
          env: { ...process.env, LP_NATIVE_VECTOR_WIDTH: String(bits) },
          encoding: 'utf8',
          maxBuffer: 64 << 20,
        });
        const out = JSON.parse(line.trim().split('\n').pop()!) as { adapter: string; lanes: number[]; tileLanes: number | null; results: CheckResult[] };
        if (!/llvmpipe/.test(out.adapter)) return expect(out.adapter).not.toMatch(/llvmpipe/); // the variable is llvmpipe's
        expect(out.lanes).toEqual([lanes, lanes]);
        expect(out.tileLanes).toBe(lanes > 16 ? null : lanes);
        expect(out.results.length).toBeGreaterThan(15);
        for (const r of out.results) expect(r.error, `${r.name} at ${lanes} lanes`).toBeLessThanOrEqual(r.tolerance);
      },
      300_000,
    );
  }
});
