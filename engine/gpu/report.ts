/**
 * What `cortical-rnn info` says of an adapter, as label/value rows, so the CLI and the web
 * workbench describe an adapter the same way.
 */
import { formatBytes } from './context.ts';
import type { GpuBackend } from './backend.ts';

const BYTE_LIMITS = new Set(['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize', 'maxUniformBufferBindingSize']);

const SUBNORMAL_NOTES = {
  kept: 'kept (f32 below 2^-126 computed in full; a CPU adapter takes a slow path on each: scripts/flush-subnormals.sh)',
  flushed: 'flushed to zero',
  mixed: 'flushed by some threads only',
  unknown: 'not probed',
} as const;

export function adapterReport(b: GpuBackend): { rows: [string, string][]; limits: [string, string][] } {
  const s = b.ctx.summary;
  return {
    rows: [
      ['adapter', s.description],
      ['vendor', s.vendor],
      ['architecture', s.architecture],
      ['device', s.device],
      ['backend', `${s.backend}${s.isFallbackAdapter ? ' (software adapter)' : ''}`],
      ['features', s.features.join(', ')],
      ['subgroups', s.subgroupMinSize && s.subgroupMaxSize ? `${s.subgroupMinSize}..${s.subgroupMaxSize} lanes` : 'size not reported'],
      ['subnormals', SUBNORMAL_NOTES[s.subnormals]],
      ['matmul', `${b.matmulKernel} tiles${b.matmulKernel === 'subgroup' ? ' (registers shared by subgroupBroadcast)' : ' (staged in workgroup memory)'}`],
    ],
    limits: Object.entries(s.limits).map(([k, v]) => [k, BYTE_LIMITS.has(k) ? `${formatBytes(v)} (${v})` : String(v)]),
  };
}
