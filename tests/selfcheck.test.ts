/**
 * The in-place kernel self-checks (engine/selfcheck.ts) pass on this machine's adapter; the
 * browser suite (tests/browser.test.ts) runs the same checks on Chromium's.
 */
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../engine/cpu/backend.ts';
import { kernelSelfCheck } from '../engine/selfcheck.ts';
import { hasAdapter, useGpu } from './helpers/gpu.ts';

describe('kernel self-checks', () => {
  const gpu = useGpu();
  it.skipIf(!hasAdapter)('every GPU kernel family matches its CPU twin', async () => {
    const results = await kernelSelfCheck(gpu.get(), new CpuBackend('f64'));
    expect(results.length).toBeGreaterThan(15);
    for (const r of results) expect(r.error, r.name).toBeLessThanOrEqual(r.tolerance);
  });
});
