/**
 * The 3D connectome: a field's neurons at their positions (µm) as instanced quads shaded like
 * spheres, coloured by module (greedy modularity, CNM, of the trained W_rec's top-10% graph),
 * and that graph's edges (the strongest 10% of connections) as a line list; rendered by a
 * small WebGPU pipeline on the engine's device, with a gl-matrix orbit camera (orthographic,
 * facing the imaging plane at first). A 2D overlay draws a µm scale bar, the depth axis and the
 * axes' directions; a legend gives each module's colour and size.
 */
import { mat4, vec3 } from 'gl-matrix';
import { edgeList, thresholdTop10 } from '../analysis/graph.ts';
import { greedyModularityCNM } from '../analysis/modularity.ts';
import { fieldContextOf, listFields } from './data.ts';
import { gpuBackend, networkShown, onNetwork, type ShownNetwork } from './state.ts';
import { PALETTE as PALETTE_HEX } from '../experiments/style.ts';
import { niceScale, PALETTE_RGB as PALETTE, tickLabel } from './plots.ts';
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
  /** The neurons' depth (MICrONS y, µm): its range and the value at the scene's centre. */
  depth: { min: number; max: number; centre: number };
  /** Each module's id and neuron count, the largest first. */
  modules: { id: number; count: number }[];
}

/** Modules by size, the largest first (ties by id). */
function moduleSizes(communities: ArrayLike<number>, n: number): { id: number; count: number }[] {
  const counts = new Map<number, number>();
  for (let i = 0; i < n; i++) counts.set(communities[i]!, (counts.get(communities[i]!) ?? 0) + 1);
  return [...counts].map(([id, count]) => ({ id, count })).sort((a, b) => b.count - a.count || a.id - b.id);
}

/**
 * Positions (µm, MICrONS axes: x and z span the imaging plane, y is cortical depth, growing
 * downwards) re-centred, with y negated so that scene +y points to the pia.
 */
function sceneOf(pos: ArrayLike<number>, n: number, communities: ArrayLike<number>, W: ArrayLike<number>, label: string): Scene {
  const c = [0, 0, 0];
  for (let i = 0; i < n; i++) for (let a = 0; a < 3; a++) c[a]! += pos[i * 3 + a]! / n;
  const centres = new Float32Array(n * 3);
  let radius = 1;
  const depth = { min: Infinity, max: -Infinity, centre: c[1]! };
  for (let i = 0; i < n; i++) {
    const p = [pos[i * 3]! - c[0]!, -(pos[i * 3 + 1]! - c[1]!), pos[i * 3 + 2]! - c[2]!];
    centres.set(p, i * 3);
    radius = Math.max(radius, Math.hypot(p[0]!, p[1]!, p[2]!));
    depth.min = Math.min(depth.min, pos[i * 3 + 1]!);
    depth.max = Math.max(depth.max, pos[i * 3 + 1]!);
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
  return { n, centres, colours, lines, radius, label, depth, modules: moduleSizes(communities, n) };
}

/** Pixel statistics of a fresh frame (read in the task that rendered it): a test's 'not blank'. */
export interface FrameStats {
  width: number;
  height: number;
  mean: number;
  variance: number;
}

/**
 * The orbit camera: yaw about the depth axis, pitch above the imaging plane (radians; π/2 looks
 * straight down the depth axis from the pia), and the view's half height in µm (the zoom).
 */
interface Camera {
  yaw: number;
  pitch: number;
  halfH: number;
}

/** The camera's frame: `eye` from the centre towards the eye, `up` and `right` on the screen (unit vectors). */
function cameraFrame(cam: Camera): { eye: vec3; up: vec3; right: vec3 } {
  const [cy, sy, cp, sp] = [Math.cos(cam.yaw), Math.sin(cam.yaw), Math.cos(cam.pitch), Math.sin(cam.pitch)];
  const eye = vec3.fromValues(cp * sy, sp, cp * cy);
  // d(eye)/d(pitch): never parallel to the eye, so looking straight down the depth axis is no singularity
  const up = vec3.fromValues(-sp * sy, cp, -sp * cy);
  return { eye, up, right: vec3.cross(vec3.create(), up, eye) };
}

/**
 * The default view faces the imaging plane: two-photon imaging planes are x–z planes of MICrONS
 * coordinates (y is depth), so the camera looks down the depth axis from the pia, x to the right;
 * the screen is then the plane of the field as imaged.
 */
const PLANE_VIEW = { yaw: 0, pitch: Math.PI / 2 };
/** The side view: x to the right, depth down the screen, pia at the top. */
const SIDE_VIEW = { yaw: 0, pitch: 0 };

/** The half height (µm) that fits the scene in a view of aspect w/h, with room for the overlays. */
function fitHalfHeight(scene: Scene, cam: Camera, aspect: number): number {
  const { up, right } = cameraFrame(cam);
  let h = 1;
  for (let i = 0; i < scene.n; i++) {
    const p = scene.centres.subarray(i * 3, i * 3 + 3);
    h = Math.max(h, Math.abs(vec3.dot(p, up)), Math.abs(vec3.dot(p, right)) / aspect);
  }
  return h * 1.18;
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

/**
 * The view uniform for a w×h (device pixels) target: the camera's viewProj and 5 CSS px points.
 * The projection is orthographic, so one µm is as many pixels anywhere in the view and the scale
 * bar holds for every length parallel to the screen.
 */
function viewUniform(radius: number, cam: Camera, w: number, h: number, dpr: number): Float32Array<ArrayBuffer> {
  const dist = radius * 3;
  const { eye, up } = cameraFrame(cam);
  const view = mat4.lookAt(mat4.create(), vec3.scale(vec3.create(), eye, dist), [0, 0, 0], up);
  const halfW = (cam.halfH * w) / h;
  const proj = mat4.orthoZO(mat4.create(), -halfW, halfW, -cam.halfH, cam.halfH, dist - radius * 1.5, dist + radius * 1.5);
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

/** Which view the camera is in: one of the two set views, or wherever dragging left it. */
type ViewName = 'imaging-plane' | 'side' | 'orbit';

/**
 * The canvas's renderer: the shown scene's buffers, a depth target kept at the canvas's device
 * pixel size, the camera, and the 2D overlay drawn over each frame. draw() renders only while the
 * view is on screen (isActive).
 */
function createRenderer(device: GPUDevice, canvas: HTMLCanvasElement, overlay: HTMLCanvasElement, isActive: () => boolean, showLines: HTMLInputElement) {
  const format = navigator.gpu.getPreferredCanvasFormat();
  const context = canvas.getContext('webgpu')!;
  context.configure({ device, format, alphaMode: 'opaque' });
  const gpu = createPipelines(device, format);

  let scene: Scene | null = null;
  let buffers: SceneBuffers | null = null;
  let depth: GPUTexture | null = null;
  const cam: Camera = { ...PLANE_VIEW, halfH: 1 };
  let view: ViewName = 'imaging-plane';
  // the zoom is fitted at the next draw with a size (a hidden view has none)
  let fitPending = true;

  const upload = (s: Scene) => {
    if (buffers) for (const b of [buffers.centres, buffers.colours, buffers.lines]) b?.destroy();
    buffers = uploadScene(device, s);
    // another field: fit it; the same field's next network keeps the user's zoom
    if (!scene || Math.abs(scene.radius - s.radius) > 1e-3 * s.radius) fitPending = true;
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
    if (!scene || !buffers || !isActive() || !canvas.clientWidth || !canvas.clientHeight) return;
    if (fitPending) cam.halfH = fitHalfHeight(scene, cam, canvas.clientWidth / canvas.clientHeight);
    fitPending = false;
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(canvas.clientWidth * dpr));
    const h = Math.max(1, Math.round(canvas.clientHeight * dpr));
    const depthTexture = depthTarget(w, h);
    device.queue.writeBuffer(gpu.uniform, 0, viewUniform(scene.radius, cam, w, h, dpr));
    encodeFrame(device, context, depthTexture, gpu, scene, buffers, showLines.checked);
    drawOverlay(overlay, scene, cam, view);
  };
  /** One of the set views, fitted to the scene. */
  const setView = (name: Exclude<ViewName, 'orbit'>) => {
    Object.assign(cam, name === 'side' ? SIDE_VIEW : PLANE_VIEW);
    view = name;
    fitPending = true;
    draw();
  };
  const orbited = () => void (view = 'orbit');
  /** Zoom by a factor, kept between a twentieth and four times the scene's size. */
  const zoom = (f: number) => {
    if (scene) cam.halfH = Math.max(scene.radius / 20, Math.min(scene.radius * 4, cam.halfH * f));
    draw();
  };
  return { cam, upload, draw, setView, orbited, zoom };
}
type Renderer = ReturnType<typeof createRenderer>;

/** Drag to orbit (yaw about the depth axis, pitch clamped to straight down or up), wheel to zoom; each change redraws. */
function attachOrbitControls(canvas: HTMLCanvasElement, r: Renderer): void {
  const cam = r.cam;
  let drag: { x: number; y: number } | null = null;
  canvas.addEventListener('pointerdown', (e) => {
    drag = { x: e.clientX, y: e.clientY };
    canvas.setPointerCapture(e.pointerId);
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!drag) return;
    cam.yaw -= (e.clientX - drag.x) * 0.008;
    cam.pitch = Math.max(-Math.PI / 2, Math.min(Math.PI / 2, cam.pitch + (e.clientY - drag.y) * 0.008));
    drag = { x: e.clientX, y: e.clientY };
    r.orbited();
    r.draw();
  });
  canvas.addEventListener('pointerup', () => (drag = null));
  canvas.addEventListener(
    'wheel',
    (e) => {
      e.preventDefault();
      r.zoom(Math.exp(e.deltaY * 0.001));
    },
    { passive: false },
  );
}

/** The largest 1-2-5 length (…, 10, 20, 50, 100, … µm) not longer than `max`. */
function roundLength(max: number): number {
  const p = 10 ** Math.floor(Math.log10(max));
  const m = max / p;
  return (m >= 5 ? 5 : m >= 2 ? 2 : 1) * p;
}

/** Text with a white halo, readable over neurons and lines. */
function haloText(g: CanvasRenderingContext2D, text: string, x: number, y: number): void {
  g.lineWidth = 3;
  g.strokeStyle = 'rgba(250,251,253,0.9)';
  g.strokeText(text, x, y);
  g.fillText(text, x, y);
}

/** The scale bar at the bottom left: a round length in µm, about 60–150 px long at this zoom. */
function scaleBar(g: CanvasRenderingContext2D, umPerPx: number, h: number): { um: number; px: number } {
  const um = roundLength(150 * umPerPx);
  const px = um / umPerPx;
  const [x, y] = [18, h - 18];
  g.fillStyle = g.strokeStyle = '#1d2330';
  g.fillRect(x, y - 2, px, 4);
  g.fillRect(x, y - 7, 1.5, 10);
  g.fillRect(x + px - 1.5, y - 7, 1.5, 10);
  g.font = '12px system-ui, sans-serif';
  g.textAlign = 'center';
  g.textBaseline = 'bottom';
  g.fillStyle = '#1d2330';
  haloText(g, `${um} µm`, x + px / 2, y - 6);
  return { um, px };
}
/**
 * The depth axis at the left: MICrONS y in µm through the view's centre, pia at the top (depth
 * always points down the screen, or into it: the camera never rolls). Looking along it (the
 * imaging-plane view) it has no length on screen, and a note says where it points instead.
 */
function depthAxis(g: CanvasRenderingContext2D, scene: Scene, cam: Camera, umPerPx: number, h: number): { ticks: number[]; label: string } {
  const { min, max, centre } = scene.depth;
  const along = Math.cos(cam.pitch);
  g.font = '11px system-ui, sans-serif';
  g.fillStyle = '#344054';
  g.textBaseline = 'middle';
  if ((along * (max - min)) / umPerPx < 28) {
    const label = `depth (y) ${min.toFixed(0)}–${max.toFixed(0)} µm: into the screen, seen from the ${cam.pitch > 0 ? 'pia' : 'white matter'}`;
    g.textAlign = 'left';
    haloText(g, `⊗ ${label}`, 12, 16);
    return { ticks: [], label };
  }
  const yOf = (d: number) => h / 2 - (along * (centre - d)) / umPerPx;
  const x = 62;
  const room = Math.max(2, Math.floor((along * (max - min)) / umPerPx / 24));
  // two ticks at least: a thin slab can fall between two ticks of the coarser step
  let s = niceScale(min, max, room, { fixLo: true, fixHi: true });
  if (s.ticks.length < 2) s = niceScale(min, max, room * 3, { fixLo: true, fixHi: true });
  g.strokeStyle = '#344054';
  g.lineWidth = 1.5;
  g.beginPath();
  g.moveTo(x, yOf(min));
  g.lineTo(x, yOf(max));
  for (const t of s.ticks) {
    g.moveTo(x - 5, yOf(t));
    g.lineTo(x, yOf(t));
  }
  g.stroke();
  g.textAlign = 'right';
  for (const t of s.ticks) haloText(g, tickLabel(t, s.step), x - 7, yOf(t));
  g.textAlign = 'center';
  haloText(g, 'pia ↑', x, yOf(min) - 12);
  haloText(g, 'deeper ↓', x, yOf(max) + 12);
  const label = 'depth y (µm)';
  g.save();
  g.translate(12, (yOf(min) + yOf(max)) / 2);
  g.rotate(-Math.PI / 2);
  haloText(g, label, 0, 0);
  g.restore();
  return { ticks: s.ticks, label };
}

/** Where x, z and depth point on the screen, at the bottom right (⊗ into the screen, ⊙ out of it). */
function axisTriad(g: CanvasRenderingContext2D, cam: Camera, w: number, h: number): void {
  const { eye, up, right } = cameraFrame(cam);
  const [ox, oy, len] = [w - 70, h - 48, 26];
  g.font = '11px system-ui, sans-serif';
  g.textAlign = 'center';
  g.textBaseline = 'middle';
  g.lineWidth = 1.5;
  const axes: [string, [number, number, number]][] = [
    ['x', [1, 0, 0]],
    ['z', [0, 0, 1]],
    ['depth', [0, -1, 0]],
  ];
  for (const [name, a] of axes) {
    const [dx, dy] = [vec3.dot(right, a) * len, -vec3.dot(up, a) * len];
    g.strokeStyle = g.fillStyle = '#475467';
    if (Math.hypot(dx, dy) < len * 0.25) {
      haloText(g, `${vec3.dot(eye, a) < 0 ? '⊗' : '⊙'} ${name}`, ox + 34, oy + (name === 'depth' ? 14 : -14));
      continue;
    }
    g.beginPath();
    g.moveTo(ox, oy);
    g.lineTo(ox + dx, oy + dy);
    g.stroke();
    haloText(g, name, ox + dx * 1.45, oy + dy * 1.45);
  }
}

/** The 2D overlay over the frame (scale bar, depth axis, axes), and what it drew as data attributes. */
function drawOverlay(overlay: HTMLCanvasElement, scene: Scene, cam: Camera, view: ViewName): void {
  const dpr = window.devicePixelRatio || 1;
  const [w, h] = [overlay.clientWidth, overlay.clientHeight];
  if (overlay.width !== Math.round(w * dpr) || overlay.height !== Math.round(h * dpr))
    [overlay.width, overlay.height] = [Math.round(w * dpr), Math.round(h * dpr)];
  const g = overlay.getContext('2d')!;
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  const umPerPx = (2 * cam.halfH) / h;
  const bar = scaleBar(g, umPerPx, h);
  const axis = depthAxis(g, scene, cam, umPerPx, h);
  axisTriad(g, cam, w, h);
  Object.assign(overlay.dataset, {
    view,
    umPerPx: String(umPerPx),
    scaleUm: String(bar.um),
    scalePx: String(bar.px),
    depthTicks: axis.ticks.join(','),
    depthLabel: axis.label,
  });
}

/** The module legend: a swatch and the neuron count of each of the largest modules, then how many more. */
function showLegend(box: HTMLElement, scene: Scene): void {
  const TOP = 8;
  const item = (text: string, count: number, colour?: string) => {
    const li = el('li', {}, [
      el('span', { className: 'swatch', style: colour ? `background:${colour}` : 'visibility:hidden' }),
      el('span', { textContent: text }),
    ]);
    li.dataset.count = String(count);
    return li;
  };
  const rest = scene.modules.slice(TOP);
  const restCount = rest.reduce((a, m) => a + m.count, 0);
  box.replaceChildren(
    el('div', { className: 'legend-title', textContent: `${scene.modules.length} modules · N = ${scene.n}` }),
    el('ul', {}, [
      ...scene.modules.slice(0, TOP).map((m) => item(`module ${m.id}: ${m.count} neurons`, m.count, PALETTE_HEX[m.id % PALETTE_HEX.length])),
      ...(rest.length ? [item(`+${rest.length} more: ${restCount} neurons`, restCount)] : []),
    ]),
  );
  box.dataset.n = String(scene.n);
  box.dataset.modules = String(scene.modules.length);
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
  const renderer = createRenderer(backend.ctx.device, canvas, $<HTMLCanvasElement>('#c3-overlay'), isActive, showLines);
  const { upload, draw } = renderer;
  const show = (s: Scene) => {
    upload(s);
    showLegend($('#c3-legend'), s);
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
  attachOrbitControls(canvas, renderer);
  $<HTMLButtonElement>('#c3-view-plane').onclick = () => renderer.setView('imaging-plane');
  $<HTMLButtonElement>('#c3-view-side').onclick = () => renderer.setView('side');
  new ResizeObserver(draw).observe(canvas);
  await showField(pick.value).catch(showError);
  const frameStats = (): FrameStats => {
    draw();
    return pixelStats(canvas);
  };
  return { draw, frameStats };
}
