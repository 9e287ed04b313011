/**
 * The WebGPU device layer: adapter and device acquisition, the limits and features the
 * kernels need, shader and pipeline caches, a buffer pool, one command encoder batching all
 * dispatches until the next sync point, timestamp timing, and translation of WebGPU failures
 * into typed errors that name the kernel.
 */
import { DeviceLostError, GpuOutOfMemoryError, KernelCompileError, KernelValidationError } from '../errors.ts';
import type { GpuRequest, Platform } from '../platform.ts';
import { SHADER_FRAGMENTS, SHADER_NAMES, type ShaderName } from '../../shaders/names.ts';

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  description: string;
  device: string;
  backend: string;
  isFallbackAdapter: boolean;
  /** Subgroup (SIMD) width range the adapter reports; 0 when it does not say. */
  subgroupMinSize: number;
  subgroupMaxSize: number;
  features: string[];
  limits: Record<string, number>;
  /** Whether f32 subnormals survive arithmetic here: probed by createGpuContext (subnormals.ts). */
  subnormals: 'kept' | 'flushed' | 'mixed' | 'unknown';
}

/** Limits that matter to the kernels; requested at the adapter's maximum. */
const WANTED_LIMITS = [
  'maxStorageBuffersPerShaderStage',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxUniformBufferBindingSize',
] as const;

const OPTIONAL_FEATURES = ['timestamp-query', 'shader-f16', 'subgroups'] as const;

export interface KernelSpec {
  shader: ShaderName;
  /** WGSL override constants; part of the pipeline cache key. */
  constants?: Record<string, number>;
  entryPoint?: string;
  /** Work of this dispatch, for profiles (GFLOP/s, GB/s); optional. */
  cost?: { flops: number; bytes: number };
}

/** A storage binding: a buffer plus an optional byte offset/size window. */
export interface Binding {
  buffer: GPUBuffer;
  offset?: number;
  size?: number;
}

/** One timed pass of a profile: the dispatch's label ('phase|kernel' or 'kernel'), time and cost. */
export interface ProfileSpan {
  label: string;
  ms: number;
  cost?: { flops: number; bytes: number };
}

export class GpuContext {
  private shaderSources = new Map<ShaderName, string>();
  private modules = new Map<string, GPUShaderModule>();
  private pipelines = new Map<string, GPUComputePipeline>();
  private compileChecks: Promise<void>[] = [];
  private uniformCache = new Map<string, GPUBuffer>();
  private wordsCache = new Map<string, GPUBuffer>();
  private pool = new Map<number, GPUBuffer[]>();
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private pendingErrors: Error[] = [];
  private lostError: DeviceLostError | null = null;
  private destroyed = false;
  private currentKernel = '';
  /** Timestamp capture: when on, each flushed pass writes a begin/end pair. */
  private timing: {
    querySet: GPUQuerySet;
    count: number;
    capacity: number;
    overflow: boolean;
    labels: string[] | null;
    costs: (KernelSpec['cost'] | undefined)[];
  } | null = null;
  /** Bytes currently allocated (pooled or live). */
  allocatedBytes = 0;
  dispatchCount = 0;

  private constructor(
    readonly platform: Platform,
    readonly adapter: GPUAdapter,
    readonly device: GPUDevice,
    readonly summary: AdapterSummary,
  ) {
    device.lost.then((info) => {
      if (!this.destroyed) this.lostError = new DeviceLostError(info.reason ?? 'unknown', info.message);
    });
    const onError = (ev: Event) => {
      const err = (ev as GPUUncapturedErrorEvent).error;
      this.pendingErrors.push(this.translate(err, this.kernelFromMessage(err.message)));
    };
    device.addEventListener?.('uncapturederror', onError);
  }

  /** Acquires an adapter (hardware first) and a device with the limits and features we use. */
  static async create(platform: Platform, request: GpuRequest = {}): Promise<GpuContext | null> {
    const gpu = platform.gpu(request);
    if (!gpu) return null;
    const extra = platform.adapterOptions?.(request) ?? {};
    const adapter =
      (await gpu.requestAdapter({ powerPreference: request.powerPreference ?? 'high-performance', ...extra })) ?? (await gpu.requestAdapter(extra));
    if (!adapter) return null;
    const requiredLimits: Record<string, number> = {};
    const adapterLimits = adapter.limits as unknown as Record<string, number>;
    for (const name of WANTED_LIMITS) {
      const v = adapterLimits[name];
      if (typeof v === 'number') requiredLimits[name] = v;
    }
    const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f)) as GPUFeatureName[];
    const device = await adapter.requestDevice({ requiredFeatures, requiredLimits, label: 'cortical-rnn' });
    const info = adapter.info;
    const limits: Record<string, number> = {};
    const deviceLimits = device.limits as unknown as Record<string, number>;
    for (const name of WANTED_LIMITS) limits[name] = deviceLimits[name]!;
    const summary: AdapterSummary = {
      vendor: info.vendor || 'unknown',
      architecture: info.architecture || 'unknown',
      // Browsers may leave the description empty (Chromium's SwiftShader does): vendor and architecture then.
      description: info.description || [info.vendor, info.architecture].filter(Boolean).join(' ') || 'unknown',
      device: info.device || 'unknown',
      backend: request.backend ?? platform.defaultBackend?.() ?? guessBackend(info, platform.name),
      isFallbackAdapter: Boolean((info as { isFallbackAdapter?: boolean }).isFallbackAdapter),
      subgroupMinSize: (info as { subgroupMinSize?: number }).subgroupMinSize ?? 0,
      subgroupMaxSize: (info as { subgroupMaxSize?: number }).subgroupMaxSize ?? 0,
      features: [...device.features].sort(),
      limits,
      subnormals: 'unknown',
    };
    const ctx = new GpuContext(platform, adapter, device, summary);
    await ctx.loadShaders();
    return ctx;
  }

  get hasTimestamps(): boolean {
    return this.device.features.has('timestamp-query');
  }

  get limits(): Record<string, number> {
    return this.summary.limits;
  }

  /** One line naming the adapter, as printed by tests and benchmarks. */
  describe(): string {
    const s = this.summary;
    return `${s.description} [vendor ${s.vendor}, ${s.architecture}, backend ${s.backend}${s.isFallbackAdapter ? ', software' : ''}, subnormals ${s.subnormals}]`;
  }

  private async loadShaders(): Promise<void> {
    const fragments = new Map<string, string>();
    await Promise.all(
      SHADER_FRAGMENTS.map(async (name) => {
        fragments.set(name, await this.platform.loadText(new URL(`../../shaders/lib/${name}.wgsl`, import.meta.url)));
      }),
    );
    await Promise.all(
      SHADER_NAMES.map(async (name) => {
        const url = new URL(`../../shaders/${name}.wgsl`, import.meta.url);
        this.shaderSources.set(name, spliceIncludes(await this.platform.loadText(url), fragments, name));
      }),
    );
  }

  /** A short FNV-1a digest of the named programs' WGSL (includes spliced): it changes with their code. */
  sourceDigest(names: readonly ShaderName[]): string {
    let h = 0x811c9dc5;
    for (const name of names) {
      const code = this.shaderSources.get(name) ?? '';
      for (let i = 0; i < code.length; i++) h = Math.imul(h ^ code.charCodeAt(i), 0x01000193) >>> 0;
    }
    return h.toString(16).padStart(8, '0');
  }

  /** Compiles a WGSL module (cached); compile errors surface at the next sync as KernelCompileError. */
  module(kernel: string, code: string): GPUShaderModule {
    let mod = this.modules.get(code);
    if (!mod) {
      this.checkAlive();
      mod = this.device.createShaderModule({ code, label: kernel });
      this.modules.set(code, mod);
      const check = mod.getCompilationInfo().then((ci) => {
        const errors = ci.messages.filter((m) => m.type === 'error');
        if (errors.length) {
          throw new KernelCompileError(
            kernel,
            errors.map((m) => `  line ${m.lineNum}:${m.linePos}: ${m.message}`),
          );
        }
      });
      check.catch(() => undefined); // reported at sync
      this.compileChecks.push(check);
    }
    return mod;
  }

  /** The pipeline of a kernel specialisation, cached by shader + constants. */
  pipeline(spec: KernelSpec, codeOverride?: string): GPUComputePipeline {
    const constants = spec.constants ?? {};
    const key = `${spec.shader}|${spec.entryPoint ?? 'main'}|${Object.entries(constants)
      .sort()
      .map(([k, v]) => `${k}=${v}`)
      .join(',')}${codeOverride ? `|${hashString(codeOverride)}` : ''}`;
    let p = this.pipelines.get(key);
    if (!p) {
      const code = codeOverride ?? this.shaderSources.get(spec.shader);
      if (code === undefined) throw new Error(`unknown shader '${spec.shader}'`);
      const mod = this.module(spec.shader, code);
      p = this.device.createComputePipeline({
        label: spec.shader,
        layout: 'auto',
        compute: { module: mod, entryPoint: spec.entryPoint ?? 'main', constants },
      });
      this.pipelines.set(key, p);
    }
    return p;
  }

  /** Surfaces compile errors of every module created so far. */
  async checkCompilation(): Promise<void> {
    const checks = this.compileChecks;
    this.compileChecks = [];
    await Promise.all(checks);
  }

  /** A storage buffer of at least `bytes`, from the pool when one of that size is free. */
  acquireBuffer(bytes: number, kernel = 'alloc'): GPUBuffer {
    this.checkAlive();
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    const maxBinding = this.limits.maxStorageBufferBindingSize!;
    const maxBuffer = this.limits.maxBufferSize!;
    if (size > Math.min(maxBinding, maxBuffer)) {
      throw new GpuOutOfMemoryError(
        kernel,
        `a ${formatBytes(size)} buffer exceeds the adapter's limit (maxStorageBufferBindingSize ${formatBytes(maxBinding)}, maxBufferSize ${formatBytes(maxBuffer)})`,
      );
    }
    const free = this.pool.get(size);
    if (free && free.length) return free.pop()!;
    const buf = this.device.createBuffer({
      size,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      label: kernel,
    });
    this.allocatedBytes += size;
    return buf;
  }

  private dummy: GPUBuffer | null = null;
  /** A small storage buffer for bindings a kernel specialisation never reads. */
  dummyBuffer(): GPUBuffer {
    this.dummy ??= this.device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE, label: 'unused' });
    return this.dummy;
  }

  releaseBuffer(buf: GPUBuffer): void {
    if (this.destroyed) return;
    const list = this.pool.get(buf.size) ?? [];
    list.push(buf);
    this.pool.set(buf.size, list);
  }

  /** Frees every pooled buffer (e.g. between benchmark sizes). */
  trimPool(): void {
    for (const list of this.pool.values())
      for (const b of list) {
        this.allocatedBytes -= b.size;
        b.destroy();
      }
    this.pool.clear();
  }

  /** An immutable uniform buffer with these words, cached by content. */
  uniform(words: ArrayLike<number>, kind: 'u32' | 'f32mix' = 'u32', floats?: ArrayLike<number>): GPUBuffer {
    const data = new ArrayBuffer(Math.max(16, Math.ceil((words.length + (floats?.length ?? 0)) / 4) * 16));
    const u = new Uint32Array(data);
    for (let i = 0; i < words.length; i++) u[i] = words[i]!;
    if (floats) new Float32Array(data, words.length * 4, floats.length).set(floats);
    const key = `${kind}:${Array.from(u).join(',')}`;
    let buf = this.uniformCache.get(key);
    if (!buf) {
      if (this.uniformCache.size > 4096) this.uniformCache.clear(); // old buffers are GC'd with their bind groups
      buf = this.device.createBuffer({ size: data.byteLength, usage: GPUBufferUsage.UNIFORM, mappedAtCreation: true });
      new Uint8Array(buf.getMappedRange()).set(new Uint8Array(data));
      buf.unmap();
      this.uniformCache.set(key, buf);
    }
    return buf;
  }

  /** Encodes one dispatch: storage bindings in order, then the uniform (if any) as the last binding. */
  dispatch(spec: KernelSpec, storage: Binding[], uniform: GPUBuffer | null, workgroups: [number, number?, number?], codeOverride?: string): void {
    this.checkAlive();
    const pipeline = this.pipeline(spec, codeOverride);
    const entries: GPUBindGroupEntry[] = storage.map((b, i) => ({
      binding: i,
      resource: { buffer: b.buffer, offset: b.offset ?? 0, size: b.size },
    }));
    if (uniform) entries.push({ binding: storage.length, resource: { buffer: uniform } });
    const maxWg = this.limits.maxComputeWorkgroupsPerDimension!;
    const [x, y = 1, z = 1] = workgroups;
    if (x > maxWg || y > maxWg || z > maxWg) {
      throw new KernelValidationError(spec.shader, `dispatch (${x}, ${y}, ${z}) exceeds maxComputeWorkgroupsPerDimension ${maxWg}`);
    }
    if (x === 0 || y === 0 || z === 0) return;
    this.currentKernel = spec.shader;
    const bindGroup = this.device.createBindGroup({ label: spec.shader, layout: pipeline.getBindGroupLayout(0), entries });
    const profiling = this.timing?.labels;
    if (profiling) this.endPass(); // one timestamped pass per dispatch
    const pass = this.computePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y, z);
    if (profiling) {
      profiling.push(this.profileLabel ? `${this.profileLabel}|${spec.shader}` : spec.shader);
      this.timing!.costs.push(spec.cost);
      this.endPass();
    }
    this.dispatchCount++;
  }

  /**
   * An immutable storage buffer of u32 words, cached by content: index tables that stay the same
   * from step to step, written without the flush that writeBuffer needs.
   */
  storageWords(words: ArrayLike<number>): GPUBuffer {
    const key = Array.from(words).join(',');
    let buf = this.wordsCache.get(key);
    if (!buf) {
      if (this.wordsCache.size > 4096) this.wordsCache.clear();
      buf = this.device.createBuffer({ size: Math.max(16, Math.ceil(words.length / 4) * 16), usage: GPUBufferUsage.STORAGE, mappedAtCreation: true });
      new Uint32Array(buf.getMappedRange()).set(words);
      buf.unmap();
      this.wordsCache.set(key, buf);
    }
    return buf;
  }

  /** Encodes a buffer clear (zeros) in order with the dispatches. */
  clear(buf: GPUBuffer, offset = 0, size?: number): void {
    this.endPass();
    this.commandEncoder().clearBuffer(buf, offset, size);
  }

  /** Encodes a buffer-to-buffer copy in order with the dispatches. */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, size: number): void {
    this.endPass();
    this.commandEncoder().copyBufferToBuffer(src, srcOffset, dst, dstOffset, size);
  }

  /** Writes host data into a buffer after all queued work (which is flushed first). */
  writeBuffer(buf: GPUBuffer, offset: number, data: ArrayBufferView): void {
    this.flush();
    this.device.queue.writeBuffer(buf, offset, data.buffer, data.byteOffset, data.byteLength);
  }

  private commandEncoder(): GPUCommandEncoder {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder({ label: 'cortical-rnn' });
    return this.encoder;
  }

  private computePass(): GPUComputePassEncoder {
    if (!this.pass) {
      const desc: GPUComputePassDescriptor = {};
      const t = this.timing;
      if (t && t.count + 2 <= t.capacity) {
        desc.timestampWrites = { querySet: t.querySet, beginningOfPassWriteIndex: t.count, endOfPassWriteIndex: t.count + 1 };
        t.count += 2;
      } else if (t) {
        t.overflow = true;
      }
      this.pass = this.commandEncoder().beginComputePass(desc);
    }
    return this.pass;
  }

  private endPass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }

  /** Submits everything encoded so far. */
  flush(): void {
    this.endPass();
    if (this.encoder) {
      const cb = this.encoder.finish();
      this.encoder = null;
      this.device.queue.submit([cb]);
    }
  }

  /** Flushes, waits for the queue, and throws any deferred error. */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    await this.raisePending();
  }

  /** Throws the first deferred error (compile errors first: they explain later validation errors). */
  async raisePending(): Promise<void> {
    this.checkAlive();
    try {
      await this.checkCompilation();
    } catch (compileError) {
      this.pendingErrors = []; // validation errors that follow from the broken module
      throw compileError;
    }
    const e = this.pendingErrors.shift();
    if (e) {
      this.pendingErrors = [];
      throw e;
    }
  }

  /** Copies a buffer range to the host. */
  async readBuffer(buf: GPUBuffer, offset: number, bytes: number): Promise<ArrayBuffer> {
    this.checkAlive();
    const size = Math.ceil(bytes / 4) * 4;
    const staging = this.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'readback' });
    this.endPass();
    this.commandEncoder().copyBufferToBuffer(buf, offset, staging, 0, size);
    this.flush();
    try {
      await staging.mapAsync(GPUMapMode.READ);
    } catch (e) {
      await this.raisePending();
      throw e;
    }
    const out = staging.getMappedRange().slice(0, bytes);
    staging.unmap();
    staging.destroy();
    await this.raisePending();
    return out;
  }

  /**
   * Runs `fn` (which encodes work) and returns the GPU time of that work in milliseconds: the
   * sum over its compute passes of (end − begin) timestamps. Returns null when the adapter has
   * no timestamp queries or the work used more passes than the query set holds; callers then
   * fall back to wall time and say so.
   */
  async timeGpu(fn: () => void | Promise<void>): Promise<number | null> {
    const spans = await this.timePasses(fn, false);
    return spans === null ? null : spans.reduce((a, s) => a + s.ms, 0);
  }

  /** A label for the dispatches encoded while profiling (e.g. 'expm forward'), else the kernel. */
  profileLabel: string | null = null;

  /**
   * Per-kernel GPU times of the work `fn` encodes: every dispatch runs in its own timestamped
   * pass (which adds pass overhead, so the sum exceeds an unprofiled run). Null without
   * timestamp queries.
   */
  async profile(fn: () => void | Promise<void>): Promise<ProfileSpan[] | null> {
    return this.timePasses(fn, true);
  }

  private async timePasses(fn: () => void | Promise<void>, perDispatch: boolean): Promise<ProfileSpan[] | null> {
    this.flush();
    if (!this.hasTimestamps) {
      await fn();
      await this.sync();
      return null;
    }
    const capacity = 4096;
    const t = {
      querySet: this.device.createQuerySet({ type: 'timestamp', count: capacity }),
      count: 0,
      capacity,
      overflow: false,
      labels: perDispatch ? ([] as string[]) : null,
      costs: [] as (KernelSpec['cost'] | undefined)[],
    };
    this.timing = t;
    try {
      await fn();
      this.flush();
    } finally {
      this.timing = null;
    }
    try {
      if (t.overflow || t.count === 0) {
        await this.sync();
        return null;
      }
      const bytes = t.count * 8;
      const resolve = this.device.createBuffer({ size: bytes, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
      const enc = this.device.createCommandEncoder();
      enc.resolveQuerySet(t.querySet, 0, t.count, resolve, 0);
      const staging = this.device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      enc.copyBufferToBuffer(resolve, 0, staging, 0, bytes);
      this.device.queue.submit([enc.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      const ts = new BigUint64Array(staging.getMappedRange().slice(0));
      staging.unmap();
      staging.destroy();
      resolve.destroy();
      await this.raisePending();
      const spans: ProfileSpan[] = [];
      for (let i = 0; i + 1 < t.count; i += 2) {
        const ns = ts[i + 1]! > ts[i]! ? ts[i + 1]! - ts[i]! : 0n;
        spans.push({ label: t.labels?.[i / 2] ?? 'pass', ms: Number(ns) / 1e6, cost: t.costs[i / 2] });
      }
      return spans;
    } finally {
      t.querySet.destroy();
    }
  }

  private kernelFromMessage(message: string): string {
    const m = /\[(?:ComputePipeline|ShaderModule(?:Descriptor)?|BindGroup|Buffer|ComputePassEncoder)\s+"+([^"]+)"+\]/.exec(message);
    return m?.[1] ?? (this.currentKernel || 'unknown');
  }

  private translate(err: GPUError, kernel: string): Error {
    const name = (err as { constructor?: { name?: string } }).constructor?.name ?? '';
    if (name.includes('OutOfMemory') || /out of memory/i.test(err.message)) return new GpuOutOfMemoryError(kernel, err.message);
    return new KernelValidationError(kernel, err.message);
  }

  private checkAlive(): void {
    if (this.lostError) throw this.lostError;
    if (this.destroyed) throw new DeviceLostError('destroyed', 'the GPU context was destroyed');
  }

  get isLost(): boolean {
    return this.lostError !== null;
  }

  /** Releases the device; Dawn keeps a thread busy while a device lives. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.encoder = null;
    this.pass = null;
    for (const list of this.pool.values()) for (const b of list) b.destroy();
    this.pool.clear();
    for (const b of this.uniformCache.values()) b.destroy();
    this.uniformCache.clear();
    this.device.destroy();
  }
}

/** Replaces `//!include name` lines with the fragment's text (WGSL has no includes). */
function spliceIncludes(code: string, fragments: Map<string, string>, kernel: string, depth = 0): string {
  if (depth > 4) throw new Error(`shader '${kernel}': includes nest too deep`);
  return code.replace(/^\/\/!include (\w+)\s*$/gm, (_, name: string) => {
    const f = fragments.get(name);
    if (f === undefined) throw new Error(`shader '${kernel}' includes unknown fragment '${name}'`);
    return spliceIncludes(f, fragments, kernel, depth + 1);
  });
}

function guessBackend(info: GPUAdapterInfo, platform: string): string {
  if (platform === 'browser') return 'browser';
  const d = `${info.description} ${info.device}`.toLowerCase();
  if (d.includes('opengl') || d.includes('gl ')) return 'opengl';
  return 'default (vulkan/metal/d3d12)';
}

export function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} B`;
}

function hashString(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16);
}
