/**
 * The 3D connectome: a field's neurons at their positions (µm) as instanced quads shaded like
 * spheres, coloured by module (greedy modularity, CNM, of the trained W_rec's top-10% graph),
 * and that graph's edges (the strongest 10% of connections) as a line list; rendered by a
 * small WebGPU pipeline on the engine's device, with a gl-matrix orbit camera.
 */
import { mat4, vec3 } from 'gl-matrix';
import { edgeList, thresholdTop10 } from '../analysis/graph.ts';
import { greedyModularityCNM } from '../analysis/modularity.ts';
import { fieldContextOf, listFields } from './data.ts';
import { gpuBackend, networkShown, onNetwork, type ShownNetwork } from './state.ts';
import { PALETTE_RGB as PALETTE } from './plots.ts';
import { $, el } from './dom.ts';

const WGSL = /* wgsl */ `
struct View { viewProj: mat4x4f, pointSize: vec2f, pad: vec2f }
@group(0) @binding(0) var<uniform> view: View;

struct PointOut { @builtin(position) pos: vec4f, @location(0) colour: vec3f, @location(1) corner: vec2f }
@vertex fn pointVs(@builtin(vertex_index) v: u32, @location(0) centre: vec3f, @location(1) colour: vec3f) -> PointOut {
  let corners = array<vec2f, 4>(vec2f(-1, -1), vec2f(1, -1), vec2f(-1, 1), vec2f(1, 1));
  let c = corners[v];
  let clip = view.viewProj * vec4f(centre, 1);
  return PointOut(vec4f(clip.xy + c * view.pointSize * clip.w, clip.zw), colour, c);
}
@fragment fn pointFs(i: PointOut) -> @location(0) vec4f {
  let r2 = dot(i.corner, i.corner);
  if (r2 > 1) { discard; }
  return vec4f(i.colour * (1.05 - 0.45 * r2), 1);
}

struct LineOut { @builtin(position) pos: vec4f, @location(0) colour: vec4f }
@vertex fn lineVs(@location(0) p: vec3f, @location(1) colour: vec4f) -> LineOut {
  return LineOut(view.viewProj * vec4f(p, 1), colour);
}
@fragment fn lineFs(i: LineOut) -> @location(0) vec4f { return i.colour; }
`;

interface Scene {
  n: number;
  centres: Float32Array<ArrayBuffer>;
  colours: Float32Array<ArrayBuffer>;
  lines: Float32Array<ArrayBuffer>;
  radius: number;
  label: string;
}

/** Positions re-centred, depth (y) pointing down the screen as in cortex (pia on top). */
function sceneOf(pos: ArrayLike<number>, n: number, communities: ArrayLike<number>, W: ArrayLike<number>, label: string): Scene {
  const c = [0, 0, 0];
  for (let i = 0; i < n; i++) for (let a = 0; a < 3; a++) c[a]! += pos[i * 3 + a]! / n;
  const centres = new Float32Array(n * 3);
  let radius = 1;
  for (let i = 0; i < n; i++) {
    const p = [pos[i * 3]! - c[0]!, -(pos[i * 3 + 1]! - c[1]!), pos[i * 3 + 2]! - c[2]!];
    centres.set(p, i * 3);
    radius = Math.max(radius, Math.hypot(p[0]!, p[1]!, p[2]!));
  }
  const colours = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) colours.set(PALETTE[communities[i]! % PALETTE.length]!, i * 3);
  const edges = edgeList(thresholdTop10(W, n));
  const lines = new Float32Array(edges.length * 2 * 7);
  edges.forEach(([u, v], k) => {
    const same = communities[u] === communities[v];
    const col = same ? [...PALETTE[communities[u]! % PALETTE.length]!, 0.55] : [0.35, 0.38, 0.45, 0.35];
    lines.set([...centres.subarray(u * 3, u * 3 + 3), ...col], k * 14);
    lines.set([...centres.subarray(v * 3, v * 3 + 3), ...col], k * 14 + 7);
  });
  return { n, centres, colours, lines, radius, label };
}

/** Pixel statistics of a fresh frame (read in the task that rendered it): a test's 'not blank'. */
export interface FrameStats {
  width: number;
  height: number;
  mean: number;
  variance: number;
}

/** The orbit camera: angles in radians, zoom as a multiple of twice the scene's radius. */
interface Camera {
  yaw: number;
  pitch: number;
  zoom: number;
}

/** The pipelines and their shared view uniform (viewProj, then the point size in clip units). */
interface Pipelines {
  uniform: GPUBuffer;
  bindGroup: GPUBindGroup;
  points: GPURenderPipeline;
  lines: GPURenderPipeline;
}

const depthStencil = (write: boolean): GPUDepthStencilState => ({ format: 'depth24plus', depthWriteEnabled: write, depthCompare: 'less' });

function pointPipeline(device: GPUDevice, layout: GPUPipelineLayout, module: GPUShaderModule, format: GPUTextureFormat): GPURenderPipeline {
  return device.createRenderPipeline({
    layout,
    vertex: {
      module,
      entryPoint: 'pointVs',
      buffers: [
        { arrayStride: 12, stepMode: 'instance', attributes: [{ shaderLocation: 0, offset: 0, format: 'float32x3' }] },
        { arrayStride: 12, stepMode: 'instance', attributes: [{ shaderLocation: 1, offset: 0, format: 'float32x3' }] },
      ],
    },
    fragment: { module, entryPoint: 'pointFs', targets: [{ format }] },
    primitive: { topology: 'triangle-strip' },
    depthStencil: depthStencil(true),
  });
}

// Lines are translucent and leave depth unwritten, so edges never hide one another.
function linePipeline(device: GPUDevice, layout: GPUPipelineLayout, module: GPUShaderModule, format: GPUTextureFormat): GPURenderPipeline {
  return device.createRenderPipeline({
    layout,
    vertex: {
      module,
      entryPoint: 'lineVs',
      buffers: [
        {
          arrayStride: 28,
          attributes: [
            { shaderLocation: 0, offset: 0, format: 'float32x3' },
            { shaderLocation: 1, offset: 12, format: 'float32x4' },
          ],
        },
      ],
    },
    fragment: {
      module,
      entryPoint: 'lineFs',
      targets: [
        {
          format,
          blend: { color: { srcFactor: 'src-alpha', dstFactor: 'one-minus-src-alpha' }, alpha: { srcFactor: 'one', dstFactor: 'one-minus-src-alpha' } },
        },
      ],
    },
    primitive: { topology: 'line-list' },
    depthStencil: depthStencil(false),
  });
}

function createPipelines(device: GPUDevice, format: GPUTextureFormat): Pipelines {
  const module = device.createShaderModule({ code: WGSL, label: 'connectome3d' });
  const uniform = device.createBuffer({ size: 80, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const layout = device.createBindGroupLayout({ entries: [{ binding: 0, visibility: GPUShaderStage.VERTEX, buffer: {} }] });
  const bindGroup = device.createBindGroup({ layout, entries: [{ binding: 0, resource: { buffer: uniform } }] });
  const pipelineLayout = device.createPipelineLayout({ bindGroupLayouts: [layout] });
  const points = pointPipeline(device, pipelineLayout, module, format);
  const lines = linePipeline(device, pipelineLayout, module, format);
  return { uniform, bindGroup, points, lines };
}

/** The view uniform for a w×h (device pixels) target: the camera's viewProj and 5 CSS px points. */
function viewUniform(radius: number, cam: Camera, w: number, h: number, dpr: number): Float32Array<ArrayBuffer> {
  const dist = radius * 2 * cam.zoom;
  const eye = vec3.fromValues(dist * Math.cos(cam.pitch) * Math.sin(cam.yaw), dist * Math.sin(cam.pitch), dist * Math.cos(cam.pitch) * Math.cos(cam.yaw));
  const view = mat4.lookAt(mat4.create(), eye, [0, 0, 0], [0, 1, 0]);
  const proj = mat4.perspectiveZO(mat4.create(), Math.PI / 4, w / h, dist * 0.05, dist * 4);
  const vp = mat4.multiply(mat4.create(), proj, view);
  const px = 5 * dpr;
  const u = new Float32Array(20);
  u.set(vp as Float32Array, 0);
  u.set([(2 * px) / w, (2 * px) / h], 16);
  return u;
}

type SceneBuffers = { centres: GPUBuffer; colours: GPUBuffer; lines: GPUBuffer | null };

function uploadScene(device: GPUDevice, s: Scene): SceneBuffers {
  const make = (data: Float32Array<ArrayBuffer>) => {
    const b = device.createBuffer({ size: Math.max(16, data.byteLength), usage: GPUBufferUsage.VERTEX | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(b, 0, data);
    return b;
  };
  return { centres: make(s.centres), colours: make(s.colours), lines: s.lines.length ? make(s.lines) : null };
}

function encodeFrame(
  device: GPUDevice,
  context: GPUCanvasContext,
  depth: GPUTexture,
  gpu: Pipelines,
  scene: Scene,
  buffers: SceneBuffers,
  withLines: boolean,
): void {
  const enc = device.createCommandEncoder({ label: 'connectome3d' });
  const pass = enc.beginRenderPass({
    colorAttachments: [{ view: context.getCurrentTexture().createView(), clearValue: { r: 0.98, g: 0.985, b: 0.99, a: 1 }, loadOp: 'clear', storeOp: 'store' }],
    depthStencilAttachment: { view: depth.createView(), depthClearValue: 1, depthLoadOp: 'clear', depthStoreOp: 'store' },
  });
  pass.setBindGroup(0, gpu.bindGroup);
  pass.setPipeline(gpu.points);
  pass.setVertexBuffer(0, buffers.centres);
  pass.setVertexBuffer(1, buffers.colours);
  pass.draw(4, scene.n);
  if (buffers.lines && withLines) {
    pass.setPipeline(gpu.lines);
    pass.setVertexBuffer(0, buffers.lines);
    pass.draw(scene.lines.length / 7);
  }
  pass.end();
  device.queue.submit([enc.finish()]);
}

/**
 * The canvas's renderer: the shown scene's buffers, a depth target kept at the canvas's device
 * pixel size, and the camera. draw() renders only while the view is on screen (isActive).
 */
function createRenderer(device: GPUDevice, canvas: HTMLCanvasElement, isActive: () => boolean, showLines: HTMLInputElement) {
  const format = navigator.gpu.getPreferredCanvasFormat();
  const context = canvas.getContext('webgpu')!;
  context.configure({ device, format, alphaMode: 'opaque' });
  const gpu = createPipelines(device, format);

  let scene: Scene | null = null;
  let buffers: SceneBuffers | null = null;
  let depth: GPUTexture | null = null;
  const cam: Camera = { yaw: 0.6, pitch: 0.35, zoom: 1 };

  const upload = (s: Scene) => {
    if (buffers) for (const b of [buffers.centres, buffers.colours, buffers.lines]) b?.destroy();
    buffers = uploadScene(device, s);
    scene = s;
  };
  const depthTarget = (w: number, h: number): GPUTexture => {
    if (canvas.width !== w || canvas.height !== h || !depth) {
      canvas.width = w;
      canvas.height = h;
      depth?.destroy();
      depth = device.createTexture({ size: [w, h], format: 'depth24plus', usage: GPUTextureUsage.RENDER_ATTACHMENT });
    }
    return depth;
  };
  const draw = () => {
    if (!scene || !buffers || !isActive()) return;
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(canvas.clientWidth * dpr));
    const h = Math.max(1, Math.round(canvas.clientHeight * dpr));
    const depthTexture = depthTarget(w, h);
    device.queue.writeBuffer(gpu.uniform, 0, viewUniform(scene.radius, cam, w, h, dpr));
    encodeFrame(device, context, depthTexture, gpu, scene, buffers, showLines.checked);
  };
  return { cam, upload, draw };
}

/** Drag to orbit (yaw, clamped pitch), wheel to zoom; each change redraws. */
function attachOrbitControls(canvas: HTMLCanvasElement, cam: Camera, draw: () => void): void {
  let drag: { x: number; y: number } | null = null;
  canvas.addEventListener('pointerdown', (e) => {
    drag = { x: e.clientX, y: e.clientY };
    canvas.setPointerCapture(e.pointerId);
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!drag) return;
    cam.yaw -= (e.clientX - drag.x) * 0.008;
    cam.pitch = Math.max(-1.5, Math.min(1.5, cam.pitch + (e.clientY - drag.y) * 0.008));
    drag = { x: e.clientX, y: e.clientY };
    draw();
  });
  canvas.addEventListener('pointerup', () => (drag = null));
  canvas.addEventListener(
    'wheel',
    (e) => {
      e.preventDefault();
      cam.zoom = Math.max(0.15, Math.min(6, cam.zoom * Math.exp(e.deltaY * 0.001)));
      draw();
    },
    { passive: false },
  );
}

/** Brightness statistics of the canvas's current frame, read through a 2D copy. */
function pixelStats(canvas: HTMLCanvasElement): FrameStats {
  const copy = el('canvas', { width: canvas.width, height: canvas.height });
  const g = copy.getContext('2d')!;
  g.drawImage(canvas, 0, 0);
  const d = g.getImageData(0, 0, copy.width, copy.height).data;
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < d.length; i += 4) {
    const v = (d[i]! + d[i + 1]! + d[i + 2]!) / 3;
    s1 += v;
    s2 += v * v;
  }
  const m = s1 / (d.length / 4);
  return { width: copy.width, height: copy.height, mean: m, variance: s2 / (d.length / 4) - m * m };
}

/** The field's own connectome (K + Kᵀ), as shown until a network is trained or opened. */
function fieldScene(ctx: Awaited<ReturnType<typeof fieldContextOf>>, name: string): Scene {
  const n = ctx.n;
  const Ks = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) Ks[i * n + j] = ctx.K[i * n + j]! + ctx.K[j * n + i]!;
  return sceneOf(ctx.positionsUm, n, greedyModularityCNM(thresholdTop10(Ks, n)), Ks, `field ${name}'s synapses (no trained network yet)`);
}

export async function initConnectome(isActive: () => boolean): Promise<{ draw: () => void; frameStats: () => FrameStats }> {
  const canvas = $<HTMLCanvasElement>('#c3-canvas');
  const status = $('#c3-status');
  const pick = $<HTMLSelectElement>('#c3-field');
  const showLines = $<HTMLInputElement>('#c3-lines');
  let backend;
  try {
    backend = await gpuBackend();
  } catch (e) {
    status.textContent = (e as Error).message;
    status.className = 'bad';
    return { draw: () => {}, frameStats: () => ({ width: 0, height: 0, mean: 0, variance: 0 }) };
  }
  const { cam, upload, draw } = createRenderer(backend.ctx.device, canvas, isActive, showLines);
  const show = (s: Scene) => {
    upload(s);
    status.textContent = `${s.n} neurons, ${s.lines.length / 14} connections · ${s.label}`;
    draw();
  };
  const showError = (e: unknown) => (status.textContent = (e as Error).message);

  const showField = async (name: string) => {
    status.textContent = `loading field ${name}…`;
    show(fieldScene(await fieldContextOf(name), name));
  };
  const showTrained = async (net: ShownNetwork) => {
    const pos = net.positionsUm ?? (await fieldContextOf(net.field)).positionsUm;
    if (!Array.from(pick.options).some((o) => o.value === net.field)) pick.append(el('option', { value: net.field, textContent: net.field }));
    pick.value = net.field;
    show(sceneOf(pos, net.n, net.communities, net.W, `${net.label}, modules of its W_rec`));
  };

  const names = (await listFields()).map((f) => f.field);
  pick.append(...names.map((f) => el('option', { value: f, textContent: f })));
  pick.value = names.includes('5_3_4') ? '5_3_4' : names[0]!;
  pick.onchange = () => {
    const net = networkShown();
    void (net && net.field === pick.value ? showTrained(net) : showField(pick.value)).catch(showError);
  };
  onNetwork((net) => void showTrained(net).catch(showError));
  showLines.onchange = draw;
  attachOrbitControls(canvas, cam, draw);
  new ResizeObserver(draw).observe(canvas);
  await showField(pick.value).catch(showError);
  const frameStats = (): FrameStats => {
    draw();
    return pixelStats(canvas);
  };
  return { draw, frameStats };
}
