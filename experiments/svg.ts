/**
 * Self-contained SVG plots for the report: line charts (learning curves), a heat map of W_rec
 * (an embedded PNG inside the SVG, so a 312×312 matrix stays small), and a 3D scatter of the
 * neurons projected with gl-matrix (mat4.perspective + mat4.lookAt, vec3.transformMat4).
 */
import { deflateSync } from 'node:zlib';
import { mat4, vec3 } from 'gl-matrix';
import { esc, PALETTE } from './style.ts';

/** A bold title that shrinks to fit `maxWidth` (about 0.6 em per character at 13 px). */
function title(x: number, y: number, text: string, maxWidth: number): string {
  const size = Math.max(8, Math.min(13, maxWidth / (0.6 * Math.max(1, text.length))));
  return `<text x="${x}" y="${y}" font-size="${size.toFixed(1)}" font-weight="bold">${esc(text)}</text>`;
}

const colour = (i: number) => PALETTE[((i % PALETTE.length) + PALETTE.length) % PALETTE.length]!;

const f = (x: number) => (Math.round(x * 100) / 100).toString();

export interface Series {
  name: string;
  x: number[];
  y: number[];
  dashed?: boolean;
  colour?: string;
  /** Points only, no line (a scatter). */
  markers?: boolean;
  /** Radius of the points (default 3 for markers, 2 on a line). */
  radius?: number;
}

/** Tick label of 10^e on a log axis: 0.01, 0.1, 1, 10, 100, 1e+4. */
const decade = (e: number) => (Math.abs(e) <= 3 ? String(Number((10 ** e).toPrecision(1))) : `1e${e > 0 ? '+' : ''}${e}`);

/**
 * A line chart with axes, ticks and a legend. Non-finite points are skipped. With `xLog` /
 * `yLog` that axis is log10 (values are given as they are; points ≤ 0 are skipped, the axis
 * spans whole decades, ticked at each).
 */
export function lineChart(o: {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  yMin?: number;
  yMax?: number;
  width?: number;
  height?: number;
  xLog?: boolean;
  yLog?: boolean;
  /** Room for the legend at the right (default 150 px). */
  legendWidth?: number;
}): string {
  const W = o.width ?? 560,
    H = o.height ?? 320;
  const m = { l: 52, r: o.legendWidth ?? 150, t: 28, b: 40 };
  const pw = W - m.l - m.r,
    ph = H - m.t - m.b;
  // On a log axis every coordinate is its log10 from here on (≤ 0 becomes non-finite: skipped).
  const lx = (x: number) => (o.xLog ? Math.log10(x) : x);
  const ly = (y: number) => (o.yLog ? Math.log10(y) : y);
  const series = o.xLog || o.yLog ? o.series.map((s) => ({ ...s, x: s.x.map(lx), y: s.y.map(ly) })) : o.series;
  const xs = series.flatMap((s) => s.x).filter(Number.isFinite);
  const ys = series.flatMap((s) => s.y).filter(Number.isFinite);
  let x0 = xs.length ? Math.min(...xs) : 0,
    x1 = xs.length ? Math.max(...xs) : 1;
  let y0 = o.yMin !== undefined ? ly(o.yMin) : ys.length ? Math.min(...ys) : 0,
    y1 = o.yMax !== undefined ? ly(o.yMax) : ys.length ? Math.max(...ys) : 1;
  if (o.xLog) [x0, x1] = [Math.floor(x0), Math.max(Math.ceil(x1), Math.floor(x0) + 1)];
  if (o.yLog) [y0, y1] = [Math.floor(y0), Math.max(Math.ceil(y1), Math.floor(y0) + 1)];
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0 || 1)) * pw;
  const sy = (y: number) => m.t + ph - ((y - y0) / (y1 - y0 || 1)) * ph;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`);
  parts.push(`<title>${esc(o.title)}</title>`);
  parts.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="white"/>`);
  parts.push(title(m.l, 16, o.title, W - m.l - 4));
  // ticks
  const yt = o.yLog ? Array.from({ length: y1 - y0 + 1 }, (_, i) => y0 + i) : Array.from({ length: 5 }, (_, k) => y0 + ((y1 - y0) * k) / 4);
  for (const y of yt) {
    parts.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${f(sy(y))}" y2="${f(sy(y))}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${m.l - 6}" y="${f(sy(y) + 4)}" text-anchor="end">${esc(o.yLog ? decade(y) : y.toFixed(2))}</text>`);
  }
  // Whole-number ticks for short integer-like ranges (epochs), six even ticks otherwise.
  const lo = Math.ceil(x0 - 1e-9);
  const xt = o.xLog
    ? Array.from({ length: x1 - x0 + 1 }, (_, i) => x0 + i)
    : x1 - x0 >= 2 && x1 - x0 <= 12
      ? Array.from({ length: Math.floor(x1 + 1e-9) - lo + 1 }, (_, i) => lo + i)
      : Array.from({ length: 6 }, (_, i) => x0 + ((x1 - x0) * i) / 5);
  for (const x of xt) {
    if (o.xLog) parts.push(`<line x1="${f(sx(x))}" x2="${f(sx(x))}" y1="${m.t}" y2="${m.t + ph}" stroke="#e5e5e5"/>`);
    const label = o.xLog ? decade(x) : Number.isInteger(x) ? String(x) : x.toFixed(x1 - x0 < 2 ? 2 : 1);
    parts.push(`<text x="${f(sx(x))}" y="${m.t + ph + 16}" text-anchor="middle">${esc(label)}</text>`);
  }
  parts.push(`<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${m.t + ph}" stroke="#333"/>`);
  parts.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${m.t + ph}" y2="${m.t + ph}" stroke="#333"/>`);
  parts.push(`<text x="${m.l + pw / 2}" y="${H - 6}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`);
  series.forEach((s, i) => {
    const c = s.colour ?? colour(i);
    const pts = s.x.map((x, k) => [x, s.y[k]!] as const).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (pts.length) {
      const d = pts.map(([x, y], k) => `${k ? 'L' : 'M'}${f(sx(x))} ${f(sy(y))}`).join(' ');
      if (!s.markers) parts.push(`<path d="${d}" fill="none" stroke="${c}" stroke-width="1.8"${s.dashed ? ' stroke-dasharray="4 3"' : ''}/>`);
      for (const [x, y] of pts)
        parts.push(`<circle cx="${f(sx(x))}" cy="${f(sy(y))}" r="${s.radius ?? (s.markers ? 3 : 2)}" fill="${c}"${s.markers ? ' fill-opacity="0.6"' : ''}/>`);
    }
    const ly = m.t + 4 + i * 15;
    parts.push(
      `<line x1="${W - m.r + 10}" x2="${W - m.r + 30}" y1="${ly}" y2="${ly}" stroke="${c}" stroke-width="2"${s.dashed ? ' stroke-dasharray="4 3"' : ''}/>`,
    );
    parts.push(`<text x="${W - m.r + 34}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

// ---------------------------------------------------------------- PNG (for the heat map)

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** An 8-bit RGB PNG of width × height pixels (rgb row-major, 3 bytes per pixel). */
export function encodePng(width: number, height: number, rgb: Uint8Array): Uint8Array {
  const raw = new Uint8Array(height * (1 + width * 3));
  for (let y = 0; y < height; y++) {
    raw[y * (1 + width * 3)] = 0; // filter: none
    raw.set(rgb.subarray(y * width * 3, (y + 1) * width * 3), y * (1 + width * 3) + 1);
  }
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const sig = Uint8Array.of(137, 80, 78, 71, 13, 10, 26, 10);
  const parts = [sig, chunk('IHDR', ihdr), chunk('IDAT', new Uint8Array(deflateSync(raw))), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Diverging blue–white–red for t in [−1, 1]. */
function diverging(t: number): [number, number, number] {
  const u = Math.max(-1, Math.min(1, t));
  if (u >= 0) return [255, Math.round(255 * (1 - u * 0.85)), Math.round(255 * (1 - u))];
  return [Math.round(255 * (1 + u)), Math.round(255 * (1 + u * 0.6)), 255];
}

/**
 * Heat map of an n×n matrix (row i = postsynaptic unit), units reordered by `order` (e.g. by
 * module), colours clipped at the 99th percentile of the off-diagonal |W|. Module boundaries are drawn when
 * `groups` (the module of each unit in `order`) is given.
 */
export function heatmap(o: { title: string; W: ArrayLike<number>; n: number; order?: number[]; groups?: number[]; size?: number }): string {
  const n = o.n;
  const order = o.order ?? Array.from({ length: n }, (_, i) => i);
  // clip at the 99th percentile of the off-diagonal |W| (self-weights would wash out the rest)
  const abs: number[] = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) abs.push(Math.abs(o.W[i * n + j]!));
  abs.sort((a, b) => a - b);
  const clip = abs[Math.min(abs.length - 1, Math.floor(abs.length * 0.99))] || 1;
  const rgb = new Uint8Array(n * n * 3);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      const v = o.W[order[r]! * n + order[c]!]!;
      rgb.set(diverging(v / clip), (r * n + c) * 3);
    }
  }
  const png = Buffer.from(encodePng(n, n, rgb)).toString('base64');
  const S = o.size ?? 420;
  const m = { l: 40, t: 30, r: 90, b: 30 };
  const W = S + m.l + m.r,
    H = S + m.t + m.b;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
  );
  parts.push(`<title>${esc(o.title)}</title>`);
  parts.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="white"/>`);
  parts.push(title(m.l, 18, o.title, W - m.l - 4));
  parts.push(
    `<image x="${m.l}" y="${m.t}" width="${S}" height="${S}" preserveAspectRatio="none" style="image-rendering:pixelated" href="data:image/png;base64,${png}"/>`,
  );
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${S}" height="${S}" fill="none" stroke="#333"/>`);
  if (o.groups) {
    const px = S / n;
    for (let k = 1; k < n; k++) {
      if (o.groups[k] !== o.groups[k - 1]) {
        parts.push(`<line x1="${f(m.l + k * px)}" x2="${f(m.l + k * px)}" y1="${m.t}" y2="${m.t + S}" stroke="#222" stroke-width="0.6"/>`);
        parts.push(`<line y1="${f(m.t + k * px)}" y2="${f(m.t + k * px)}" x1="${m.l}" x2="${m.l + S}" stroke="#222" stroke-width="0.6"/>`);
      }
    }
  }
  parts.push(`<text x="${m.l + S / 2}" y="${H - 8}" text-anchor="middle">presynaptic unit</text>`);
  parts.push(`<text transform="translate(14 ${m.t + S / 2}) rotate(-90)" text-anchor="middle">postsynaptic unit</text>`);
  // colour bar
  const cbx = m.l + S + 20;
  for (let k = 0; k < 50; k++) {
    const t = 1 - (2 * k) / 49;
    const [r, g, b] = diverging(t);
    parts.push(`<rect x="${cbx}" y="${f(m.t + (k * S) / 50)}" width="14" height="${f(S / 50 + 0.5)}" fill="rgb(${r},${g},${b})"/>`);
  }
  parts.push(`<text x="${cbx + 18}" y="${m.t + 8}">${esc(clip.toPrecision(2))}</text>`);
  parts.push(`<text x="${cbx + 18}" y="${m.t + S / 2 + 4}">0</text>`);
  parts.push(`<text x="${cbx + 18}" y="${m.t + S}">${esc((-clip).toPrecision(2))}</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}

/**
 * A 3D scatter of points (row-major [n, 3]) coloured by group: the cloud is centred, viewed by
 * a perspective camera (mat4.perspective, mat4.lookAt) from an oblique direction, each point
 * projected with vec3.transformMat4 to clip space, drawn back to front with depth-scaled radius.
 */
export function scatter3d(o: {
  title: string;
  positions: ArrayLike<number>;
  groups: number[];
  axisLabels?: [string, string, string];
  /** The legend's name of each group (default "module 1", "module 2", …). */
  groupNames?: string[];
  width?: number;
  height?: number;
  azimuthDeg?: number;
  elevationDeg?: number;
}): string {
  const n = o.groups.length;
  const Wd = o.width ?? 520,
    H = o.height ?? 420;
  const centre = vec3.create();
  for (let i = 0; i < n; i++) for (let a = 0; a < 3; a++) centre[a]! += o.positions[i * 3 + a]! / n;
  let radius = 0;
  for (let i = 0; i < n; i++) {
    const d = Math.hypot(o.positions[i * 3]! - centre[0]!, o.positions[i * 3 + 1]! - centre[1]!, o.positions[i * 3 + 2]! - centre[2]!);
    if (d > radius) radius = d;
  }
  radius = radius || 1;
  const az = ((o.azimuthDeg ?? 35) * Math.PI) / 180,
    el = ((o.elevationDeg ?? 25) * Math.PI) / 180;
  const dist = radius * 3;
  const eye = vec3.fromValues(
    centre[0]! + dist * Math.cos(el) * Math.sin(az),
    centre[1]! - dist * Math.sin(el),
    centre[2]! + dist * Math.cos(el) * Math.cos(az),
  );
  const view = mat4.lookAt(mat4.create(), eye, centre, vec3.fromValues(0, -1, 0)); // y grows with depth: "up" is −y
  const proj = mat4.perspective(mat4.create(), Math.PI / 6, Wd / H, dist * 0.1, dist * 10);
  const vp = mat4.multiply(mat4.create(), proj, view);
  const toScreen = (p: vec3) => {
    const c = vec3.transformMat4(vec3.create(), p, vp); // includes the perspective divide
    return { x: (c[0]! * 0.5 + 0.5) * Wd, y: (1 - (c[1]! * 0.5 + 0.5)) * H, z: c[2]! };
  };
  const pts = Array.from({ length: n }, (_, i) => ({ i, ...toScreen(vec3.fromValues(o.positions[i * 3]!, o.positions[i * 3 + 1]!, o.positions[i * 3 + 2]!)) }));
  pts.sort((a, b) => b.z - a.z); // far first
  const zs = pts.map((p) => p.z);
  const zMin = Math.min(...zs),
    zMax = Math.max(...zs);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${Wd}" height="${H}" viewBox="0 0 ${Wd} ${H}" font-family="sans-serif" font-size="11">`);
  parts.push(`<title>${esc(o.title)}</title>`);
  parts.push(`<rect x="0" y="0" width="${Wd}" height="${H}" fill="white"/>`);
  parts.push(title(10, 18, o.title, Wd - 14));
  // axes from the lower corner of the bounding cube, labelled
  const labels = o.axisLabels ?? ['x', 'y', 'z'];
  const origin = vec3.fromValues(centre[0]! - radius * 0.8, centre[1]! + radius * 0.8, centre[2]! - radius * 0.8);
  const o2 = toScreen(origin);
  for (let a = 0; a < 3; a++) {
    const tip = vec3.clone(origin);
    tip[a]! += a === 1 ? -radius * 0.5 : radius * 0.5;
    const t = toScreen(tip);
    parts.push(`<line x1="${f(o2.x)}" y1="${f(o2.y)}" x2="${f(t.x)}" y2="${f(t.y)}" stroke="#666" stroke-width="1.2"/>`);
    parts.push(`<text x="${f(t.x + 3)}" y="${f(t.y - 3)}" fill="#444">${esc(labels[a]!)}</text>`);
  }
  for (const p of pts) {
    const depth = zMax > zMin ? (p.z - zMin) / (zMax - zMin) : 0.5; // 0 near, 1 far
    const r = 2.2 + 2.8 * (1 - depth);
    parts.push(`<circle cx="${f(p.x)}" cy="${f(p.y)}" r="${f(r)}" fill="${colour(o.groups[p.i]!)}" fill-opacity="0.85" stroke="#222" stroke-width="0.3"/>`);
  }
  const k = Math.max(...o.groups) + 1;
  for (let g = 0; g < Math.min(k, 12); g++) {
    parts.push(`<circle cx="${Wd - 80}" cy="${30 + g * 14}" r="4" fill="${colour(g)}"/>`);
    parts.push(`<text x="${Wd - 72}" y="${34 + g * 14}">${esc(o.groupNames?.[g] ?? `module ${g + 1}`)}</text>`);
  }
  if (k > 12) parts.push(`<text x="${Wd - 80}" y="${34 + 12 * 14}">+${k - 12} more</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}
