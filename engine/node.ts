/**
 * The Node platform: Dawn through the `webgpu` package, and fs for the WGSL sources. The only
 * engine module that touches Node APIs; browsers use `browserPlatform` from the core instead.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isatty } from 'node:tty';
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

/** The open flags that make a reopened descriptor the same kind of stream: access mode (O_ACCMODE is 3 on Linux), O_NONBLOCK, O_APPEND. */
const STREAM_FLAGS = 3 | constants.O_NONBLOCK | constants.O_APPEND;

/**
 * The flags to reopen fd 2 with, or null where a reopened fd 2 would not be the same stream: a
 * socket cannot be reopened, and a regular file without O_APPEND would lose the offset it may
 * share with stdout (`>log 2>&1`). A terminal, a pipe or an appended file reopen whole.
 */
function stderrReopenFlags(): number | null {
  try {
    const st = fstatSync(2);
    const flags = parseInt(/^flags:\s*([0-7]+)$/m.exec(readFileSync('/proc/self/fdinfo/2', 'utf8'))?.[1] ?? '', 8);
    if (!Number.isInteger(flags)) return null;
    const reopens = st.isFIFO() || (st.isCharacterDevice() && isatty(2)) || (st.isFile() && (flags & constants.O_APPEND) !== 0);
    return reopens ? (flags & STREAM_FLAGS) | constants.O_NOCTTY : null;
  } catch {
    return null;
  }
}

/** Opens `path` as fd 2, which the caller has just closed (the lowest free descriptor: Node keeps 0 and 1 open). */
function openAsStderr(path: string, flags: number): void {
  const fd = openSync(path, flags);
  if (fd !== 2) {
    closeSync(fd);
    throw new Error(`expected to reopen stderr as file descriptor 2, got ${fd}`);
  }
}

/**
 * Runs `fn` with fd 2 on /dev/null. When Dawn first enumerates the adapters it prints two notices
 * about its binding limits ("maxDynamic…BuffersPerPipelineLayout artificially reduced …") from
 * native code straight to fd 2, where no JavaScript stream can filter them, and Node has no dup2:
 * so fd 2 is closed, opened on /dev/null, then reopened on the same terminal or pipe through
 * /proc/self/fd. Only on Linux, with nothing queued on process.stderr, and where
 * `stderrReopenFlags` allows; elsewhere `fn` runs as is (the CLI also filters its child's
 * stderr, bin/cortical-rnn.js).
 */
function withStderrMuted<T>(fn: () => T): T {
  // Not while file operations are in flight on libuv's threads: one of them could open a file in
  // the instant fd 2 is closed and receive descriptor 2.
  const fsBusy = process.getActiveResourcesInfo().some((r) => r.startsWith('FSReq'));
  const flags = process.platform === 'linux' && process.stderr.writableLength === 0 && !fsBusy ? stderrReopenFlags() : null;
  if (flags === null) return fn();
  let saved: number;
  try {
    saved = openSync('/proc/self/fd/2', flags); // a pipe whose reader is gone refuses (ENXIO): left as is
  } catch {
    return fn();
  }
  try {
    closeSync(2);
    openAsStderr('/dev/null', constants.O_WRONLY);
    try {
      return fn();
    } finally {
      closeSync(2);
      openAsStderr(`/proc/self/fd/${saved}`, flags);
    }
  } finally {
    closeSync(saved);
  }
}

/** Dawn's entry point whose adapter requests keep its start-up notices off stderr. */
function quietGpu(gpu: GPU): GPU {
  const requestAdapter: GPU['requestAdapter'] = (options) => withStderrMuted(() => gpu.requestAdapter(options));
  return new Proxy(gpu, {
    get(target, key) {
      if (key === 'requestAdapter') return requestAdapter;
      const value: unknown = Reflect.get(target, key, target);
      // Native methods refuse a Proxy as `this`.
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** DEBUG=cortical-rnn (as the CLI reads it) shows Dawn's start-up notices. */
const debugRequested = () => /(^|,)cortical-rnn(,|$)/.test(process.env.DEBUG ?? '');

/** The Node platform; unless `verbose`, Dawn's start-up notices stay off stderr. */
function makeNodePlatform(verbose: boolean | undefined): Platform {
  return {
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
      return (verbose ?? debugRequested()) ? gpu : quietGpu(gpu);
    },
    defaultBackend: () => (({ linux: 'vulkan', darwin: 'metal', win32: 'd3d12' }) as Record<string, string>)[process.platform] ?? 'default',
    adapterOptions: (request) => (request.backend === 'opengl' ? { featureLevel: 'compatibility' } : {}),
    loadText: (url) => readFile(fileURLToPath(url), 'utf8'),
    notice: (m) => process.stderr.write(`[cortical-rnn] ${m}\n`),
  };
}

/** The Node platform: Dawn's start-up notices stay off stderr unless DEBUG=cortical-rnn. */
export const nodePlatform: Platform = makeNodePlatform(undefined);

export interface NodeBackendOptions extends EngineOptions {
  /** Let Dawn's start-up notices about its binding limits through to stderr (default: DEBUG=cortical-rnn). */
  verbose?: boolean;
}

/** A backend for Node; `CORTICAL_RNN_REQUIRE_GPU=1` turns a missing adapter into an error. */
export function createNodeBackend(opts: NodeBackendOptions = {}): Promise<Backend> {
  const { verbose, ...engine } = opts;
  const requireGpu = engine.requireGpu ?? process.env.CORTICAL_RNN_REQUIRE_GPU === '1';
  return createBackend(verbose === undefined ? nodePlatform : makeNodePlatform(verbose), { ...engine, requireGpu });
}

export * from './index.ts';
