import type { CommandModule } from 'yargs';
import { GpuBackend } from '../../engine/gpu/backend.ts';
import { adapterReport } from '../../engine/gpu/report.ts';
import { withBackend, withBackendOption } from '../common.ts';

export const command: CommandModule<object, { backend: (typeof import('../common.ts').BACKEND_CHOICES)[number]; json?: boolean }> = {
  command: 'info',
  describe: 'Print the WebGPU adapter (vendor, architecture, description, backend), its features and limits',
  builder: (y) => withBackendOption(y).option('json', { type: 'boolean', describe: 'machine-readable output' }),
  handler: async (args) => {
    await withBackend(args, async (b) => {
      if (!(b instanceof GpuBackend)) {
        console.log(args.json ? JSON.stringify({ backend: 'cpu', description: b.describe() }) : `backend: ${b.describe()}`);
        return;
      }
      const s = b.ctx.summary;
      if (args.json) {
        console.log(JSON.stringify({ ...s, matmulKernel: b.matmulKernel }, null, 2));
        return;
      }
      const r = adapterReport(b);
      for (const [k, v] of r.rows) console.log(`${`${k}:`.padEnd(14)}${v}`);
      console.log('limits:');
      for (const [k, v] of r.limits) console.log(`  ${k.padEnd(34)} ${v}`);
    });
  },
};
