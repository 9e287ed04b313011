/** Options and helpers shared by the CLI commands. */
import type { Argv } from 'yargs';
import { createNodeBackend } from '../engine/node.ts';
import type { Backend, RnnDesign } from '../engine/tensor.ts';
import { parseRnnDesign, RNN_DESIGNS } from '../engine/gpu/rnn_design.ts';
import type { EngineOptions } from '../engine/engine.ts';

export const BACKEND_CHOICES = ['gpu', 'cpu', 'vulkan', 'metal', 'd3d12', 'opengl'] as const;

const MATMUL_KERNEL_CHOICES = ['auto', 'workgroup', 'subgroup'] as const;

export function withBackendOption<T>(y: Argv<T>) {
  return y
    .option('backend', {
      choices: BACKEND_CHOICES,
      default: 'gpu' as const,
      describe: "'gpu' = best WebGPU adapter (CPU fallback with a notice); 'cpu' = reference backend; or force a Dawn backend",
    })
    .option('matmul-kernel', {
      choices: MATMUL_KERNEL_CHOICES,
      default: 'auto' as const,
      describe: "tiled matmul design: 'auto' = subgroup register tiles on CPU adapters that support them, workgroup-memory tiles elsewhere",
    });
}

/** --rnn-design: the recurrent kernels' design, or 'auto' (tuned per shape on GPUs; engine/rnn/tune.ts). */
export function withDesignOption<T>(y: Argv<T>) {
  return y.option('rnn-design', {
    type: 'string',
    default: 'auto',
    describe: `recurrent kernel design: 'auto' (a hardware GPU's tuned choice, cached; CORTICAL_RNN_TUNE=0 turns tuning off), or one of ${RNN_DESIGNS.join(', ')} (no tuning)`,
  });
}

/** The design --rnn-design names; an unknown one is a one-line usage error listing the designs. */
export function rnnDesignOf(args: { rnnDesign?: string }): RnnDesign | 'auto' {
  return parseRnnDesign(args.rnnDesign ?? 'auto');
}

/** The backend choice of withBackendOption's flags. */
export interface BackendArgs {
  backend: EngineOptions['backend'];
  matmulKernel?: (typeof MATMUL_KERNEL_CHOICES)[number];
}

/** Runs fn with a backend and always destroys it, so Dawn's device thread ends with the process. */
export async function withBackend<R>(args: BackendArgs, fn: (b: Backend) => Promise<R>, opts: EngineOptions = {}): Promise<R> {
  const matmulKernel = args.matmulKernel === 'auto' ? undefined : args.matmulKernel;
  // --verbose promises Dawn's start-up notices, which the library keeps off stderr otherwise.
  const verbose = process.argv.includes('--verbose') || undefined;
  const b = await createNodeBackend({ backend: args.backend, matmulKernel, verbose, ...opts });
  try {
    return await fn(b);
  } finally {
    b.destroy();
  }
}
