import type { CommandModule } from 'yargs';
import { GpuBackend } from '../../engine/gpu/backend.ts';
import { formatBytes } from '../../engine/gpu/context.ts';
import { withBackend, withBackendOption } from '../common.ts';

const BYTE_LIMITS = new Set(['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize', 'maxUniformBufferBindingSize']);

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
      console.log(`adapter:      ${s.description}`);
      console.log(`vendor:       ${s.vendor}`);
      console.log(`architecture: ${s.architecture}`);
      console.log(`device:       ${s.device}`);
      console.log(`backend:      ${s.backend}${s.isFallbackAdapter ? ' (software adapter)' : ''}`);
      console.log(`features:     ${s.features.join(', ')}`);
      console.log(`subgroups:    ${s.subgroupMinSize && s.subgroupMaxSize ? `${s.subgroupMinSize}..${s.subgroupMaxSize} lanes` : 'size not reported'}`);
      console.log(
        `matmul:       ${b.matmulKernel} tiles${b.matmulKernel === 'subgroup' ? ' (registers shared by subgroupBroadcast)' : ' (staged in workgroup memory)'}`,
      );
      console.log('limits:');
      for (const [k, v] of Object.entries(s.limits)) console.log(`  ${k.padEnd(34)} ${BYTE_LIMITS.has(k) ? `${formatBytes(v)} (${v})` : v}`);
    });
  },
};
