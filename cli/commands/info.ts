import type { CommandModule } from 'yargs';
import { GpuBackend } from '../../engine/gpu/backend.ts';
import { adapterReport } from '../../engine/gpu/report.ts';
import { withBackend, withBackendOption } from '../common.ts';
import { CpuBackend } from '../../engine/cpu/backend.ts';
import { kernelSelfCheck } from '../../engine/selfcheck.ts';

export const command: CommandModule<
  object,
  {
    backend: (typeof import('../common.ts').BACKEND_CHOICES)[number];
    json?: boolean;
    selfcheck?: boolean;
  }
> = {
  command: 'info',
  describe: 'Print the WebGPU adapter (vendor, architecture, description, backend), its features and limits',
  builder: (y) =>
    withBackendOption(y).option('json', { type: 'boolean', describe: 'machine-readable output' }).option('selfcheck', {
      type: 'boolean',
      describe: 'also hold every kernel family against its CPU twin (float64) on this adapter; exits non-zero when one fails',
    }),
  handler: async (args) => {
    await withBackend(args, async (b) => {
      if (!(b instanceof GpuBackend)) {
        console.log(args.json ? JSON.stringify({ backend: 'cpu', description: b.describe() }) : `backend: ${b.describe()}`);
        return;
      }
      const s = b.ctx.summary;
      // A new adapter's first question is whether it computes right, so the check can follow the report.
      const checks = args.selfcheck ? await kernelSelfCheck(b, new CpuBackend('f64')) : undefined;
      const failed = checks?.filter((c) => !c.pass) ?? [];
      if (failed.length > 0) process.exitCode = 1;
      if (args.json) {
        console.log(JSON.stringify({ ...s, matmulKernel: b.matmulKernel, ...(checks ? { selfcheck: checks } : {}) }, null, 2));
        return;
      }
      const r = adapterReport(b);
      for (const [k, v] of r.rows) console.log(`${`${k}:`.padEnd(14)}${v}`);
      console.log('limits:');
      for (const [k, v] of r.limits) console.log(`  ${k.padEnd(34)} ${v}`);
      if (checks) {
        console.log(`self-check against the CPU twin (float64): ${checks.length - failed.length} of ${checks.length} pass`);
        for (const c of checks) console.log(`  ${c.pass ? 'ok  ' : 'FAIL'} ${c.name.padEnd(40)} error ${c.error.toExponential(2)} (tolerance ${c.tolerance})`);
      }
    });
  },
};
