/**
 * Run by tests/selfcheck.test.ts in a child process whose LP_NATIVE_VECTOR_WIDTH sets
 * llvmpipe's subgroup size (the variable must be set before the Vulkan driver loads): the
 * kernel self-checks with the subgroup tiles forced on where they run (4 to 16 lanes), else with
 * the workgroup tiles (32 lanes: the other kernels, every recurrent design among them, still
 * run at that width). Prints one JSON line.
 */
import { CpuBackend } from '../../engine/cpu/backend.ts';
import { GpuBackend, subgroupMatmulUnsupported } from '../../engine/gpu/backend.ts';
import { createNodeBackend } from '../../engine/node.ts';
import { kernelSelfCheck } from '../../engine/selfcheck.ts';

const be = await createNodeBackend({ requireGpu: true });
if (!(be instanceof GpuBackend)) throw new Error('no WebGPU adapter');
const s = be.ctx.summary;
const why = subgroupMatmulUnsupported(be.ctx);
const out: Record<string, unknown> = { adapter: be.describe(), lanes: [s.subgroupMinSize, s.subgroupMaxSize], unsupported: why };
if (!why) be.matmulKernel = 'subgroup';
out.tileLanes = be.subgroupLanes;
out.results = await kernelSelfCheck(be, new CpuBackend('f64'));
process.stdout.write(`${JSON.stringify(out)}\n`);
be.destroy();
