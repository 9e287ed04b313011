/**
 * The Node platform: Dawn through the `webgpu` package, and fs for the WGSL sources. The only
 * engine module that touches Node APIs; browsers use `browserPlatform` from the core instead.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { create, globals } from 'webgpu';
import type { GpuRequest, Platform } from './platform.ts';
import { createBackend, type EngineOptions } from './engine.ts';
import type { Backend } from './tensor.ts';

let globalsInstalled = false;
const gpuByFlags = new Map<string, GPU>();

/**
 * Dawn instance flags for a request; OpenGL (stock Mesa) needs a surfaceless EGL platform.
 * Dawn rounds GPU timestamps to multiples of 65,536 ns unless told otherwise (a browser's guard
 * against timing attacks). Every kernel of a GPU runs shorter than that, so the benchmarks would
 * read 0 or 65.5 µs (seen on an H200); a Node process has nothing to guard.
 */
function dawnFlags(request: GpuRequest): string[] {
  const flags: string[] = ['disable-dawn-features=timestamp_quantization'];
  if (request.backend) flags.push(`backend=${request.backend}`);
  if (request.backend === 'opengl' && !process.env.EGL_PLATFORM) process.env.EGL_PLATFORM = 'surfaceless';
  return flags;
}

export const nodePlatform: Platform = {
  name: 'node',
  gpu(request) {
    if (!globalsInstalled) {
      Object.assign(globalThis, globals);
      globalsInstalled = true;
    }
    const flags = dawnFlags(request);
    const key = flags.join(' ');
    let gpu = gpuByFlags.get(key);
    if (!gpu) {
      gpu = create(flags) as GPU;
      gpuByFlags.set(key, gpu);
    }
    return gpu;
  },
  defaultBackend: () => (({ linux: 'vulkan', darwin: 'metal', win32: 'd3d12' }) as Record<string, string>)[process.platform] ?? 'default',
  adapterOptions: (request) => (request.backend === 'opengl' ? { featureLevel: 'compatibility' } : {}),
  loadText: (url) => readFile(fileURLToPath(url), 'utf8'),
  notice: (m) => process.stderr.write(`[cortical-rnn] ${m}\n`),
};

/** A backend for Node; `CORTICAL_RNN_REQUIRE_GPU=1` turns a missing adapter into an error. */
export function createNodeBackend(opts: EngineOptions = {}): Promise<Backend> {
  const requireGpu = opts.requireGpu ?? process.env.CORTICAL_RNN_REQUIRE_GPU === '1';
  return createBackend(nodePlatform, { ...opts, requireGpu });
}

export * from './index.ts';
