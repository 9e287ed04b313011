/**
 * Canvas plots of the workbench: line charts (loss, accuracy, learning curves) with labelled axes,
 * 1-2-5 ticks, an optional right axis and a chance line; a W_rec heat map with its colour bar.
 * Each chart writes what it drew (ticks, labels, series, chance) on its canvas's data attributes,
 * so a test or the console can read the figure without reading pixels.
 */
import { PALETTE } from '../experiments/style.ts';
import { el } from './dom.ts';

export interface Series {
  name: string;
  y: ArrayLike<number>;
  /** x of each point (default 1, 2, …). */
  x?: ArrayLike<number>;
  colour: string;
  dashed?: boolean;
  /** Plotted against the right axis (a quantity of another magnitude than the left one's). */
  right?: boolean;
  /** False: drawn but left out of the legend (a second curve told apart by its dash). */
  legend?: boolean;
}

interface Axis {
  label: string;
  /** Fixed ends (else the data's range, widened to whole tick steps). */
  min?: number;
  max?: number;
  /** Integer ticks only (steps, epochs). */
  integer?: boolean;
}

export interface ChartOptions {
  x: Axis;
  y: Axis;
  /** The axis on the right, for the series marked `right`. */
  y2?: Axis & { colour?: string };
  /** A task's chance accuracy, drawn as a dashed grey line labelled "chance". */
  chance?: number | null;
}

/** A nice scale: its ends and ticks at every multiple of a 1-2-5 step between them. */
export interface Scale {
  lo: number;
  hi: number;
  step: number;
  ticks: number[];
}

/** The 1-2-5 step (…, 0.1, 0.2, 0.5, 1, 2, 5, 10, …) that cuts `span` into at most `maxTicks` parts; at least 1 when `integer`. */
function niceStep(span: number, maxTicks: number, integer = false): number {
  const raw = Math.max(span, 1e-300) / Math.max(1, maxTicks);
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  const step = (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  return integer ? Math.max(1, Math.round(step)) : step;
}

/** Ticks of a 1-2-5 step over [lo, hi]; each unfixed end widened to a whole step. */
export function niceScale(lo: number, hi: number, maxTicks: number, o: { integer?: boolean; fixLo?: boolean; fixHi?: boolean } = {}): Scale {
  if (!(hi - lo > 1e-12 * Math.max(1, Math.abs(lo)))) {
    // a flat series: a window around its value
    const pad = o.integer ? 1 : Math.abs(lo) > 0 ? Math.abs(lo) * 0.05 : 0.5;
    if (!o.fixLo) lo -= pad;
    if (!o.fixHi) hi += pad;
    if (!(hi > lo)) hi = lo + 2 * pad;
  }
  const step = niceStep(hi - lo, maxTicks, o.integer);
  if (!o.fixLo) lo = Math.floor(lo / step + 1e-9) * step;
  if (!o.fixHi) hi = Math.ceil(hi / step - 1e-9) * step;
  const digits = Math.max(0, -Math.floor(Math.log10(step) + 1e-9)) + 1;
  const ticks: number[] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) ticks.push(Number((k * step).toFixed(Math.min(20, digits))));
  return { lo, hi, step, ticks };
}

/** A tick's label: as few digits as its step needs; powers of ten for tiny or huge values. */
export function tickLabel(v: number, step: number): string {
  if (v === 0) return '0';
  const big = Math.abs(v) >= 1e5 || step < 1e-3;
  const digits = Math.max(0, Math.floor(Math.log10(Math.abs(v))) - Math.floor(Math.log10(step) + 1e-9));
  const text = big ? v.toExponential(digits).replace('e+', 'e') : v.toFixed(Math.max(0, -Math.floor(Math.log10(step) + 1e-9)));
  // a true minus sign, as the colour bar's ends have
  return text.replaceAll('-', '−');
}

/** A canvas sized to its CSS box at the device's pixel ratio, and its 2D context in CSS pixels. */
function fit(canvas: HTMLCanvasElement): { g: CanvasRenderingContext2D; w: number; h: number } {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(50, canvas.clientWidth);
  const h = Math.max(50, canvas.clientHeight);
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const g = canvas.getContext('2d')!;
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  return { g, w, h };
}

const INK = '#667085';
const GRID = '#e4e7ed';
const FONT = '11px system-ui, sans-serif';
const xOf = (s: Series, i: number) => (s.x ? s.x[i]! : i + 1);
const finite = (xs: Iterable<number>) => Array.from(xs).filter(Number.isFinite);

/** Smallest and largest of many values (a spread argument list overflows the stack past ~100k). */
function extent(v: number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of v) [lo, hi] = [Math.min(lo, x), Math.max(hi, x)];
  return [lo, hi];
}

/** The legend's entries laid out in rows across the top: each entry's position, and the rows' height. */
function legendLayout(g: CanvasRenderingContext2D, entries: Series[], x0: number, width: number): { at: [Series, number, number][]; height: number } {
  const at: [Series, number, number][] = [];
  let x = x0;
  let row = 0;
  for (const s of entries) {
    const wd = 22 + g.measureText(s.name).width + 14;
    if (x > x0 && x + wd > x0 + width) [x, row] = [x0, row + 1];
    at.push([s, x, 12 + row * 15]);
    x += wd;
  }
  return { at, height: entries.length ? (row + 1) * 15 + 6 : 4 };
}

/** Where a chart's scales put things: the plot box and the three scales. */
interface Frame {
  l: number;
  r: number;
  t: number;
  b: number;
  x: Scale;
  y: Scale;
  y2: Scale | null;
}

function scalesOf(series: Series[], o: ChartOptions, plotW: number, plotH: number): Omit<Frame, 'l' | 'r' | 't' | 'b'> {
  const xs = finite(series.flatMap((s) => Array.from({ length: s.y.length }, (_, i) => xOf(s, i))));
  const ys = (right: boolean) => finite(series.filter((s) => !!s.right === right).flatMap((s) => Array.from(s.y)));
  const axisScale = (a: Axis, v: number[], n: number) => {
    const [lo, hi] = extent(v);
    return niceScale(a.min ?? Math.min(lo, a.max ?? Infinity), a.max ?? Math.max(hi, a.min ?? -Infinity), n, {
      integer: a.integer,
      fixLo: a.min !== undefined,
      fixHi: a.max !== undefined,
    });
  };
  const nx = Math.max(2, Math.min(10, Math.floor(plotW / 70)));
  const ny = Math.max(2, Math.min(8, Math.floor(plotH / 38)));
  const left = ys(false);
  const right = ys(true);
  return {
    x: axisScale({ ...o.x, min: o.x.min ?? (xs.length ? undefined : 0), max: o.x.max ?? (xs.length ? undefined : 1) }, xs, nx),
    y: axisScale({ ...o.y, min: o.y.min ?? (left.length ? undefined : 0), max: o.y.max ?? (left.length ? undefined : 1) }, left, ny),
    y2: o.y2 && right.length ? axisScale(o.y2, right, ny) : null,
  };
}

/** Gridlines, ticks and the three axis labels. */
function drawAxes(g: CanvasRenderingContext2D, f: Frame, o: ChartOptions, w: number, h: number): void {
  const sx = (v: number) => f.l + ((v - f.x.lo) / (f.x.hi - f.x.lo)) * (w - f.l - f.r);
  const sy = (v: number, s: Scale) => h - f.b - ((v - s.lo) / (s.hi - s.lo)) * (h - f.t - f.b);
  g.lineWidth = 1;
  g.font = FONT;
  g.textBaseline = 'middle';
  for (const v of f.y.ticks) {
    g.strokeStyle = GRID;
    g.beginPath();
    g.moveTo(f.l, Math.round(sy(v, f.y)) + 0.5);
    g.lineTo(w - f.r, Math.round(sy(v, f.y)) + 0.5);
    g.stroke();
    g.fillStyle = INK;
    g.textAlign = 'right';
    g.fillText(tickLabel(v, f.y.step), f.l - 5, sy(v, f.y));
  }
  if (f.y2) {
    g.fillStyle = o.y2?.colour ?? INK;
    g.textAlign = 'left';
    for (const v of f.y2.ticks) g.fillText(tickLabel(v, f.y2.step), w - f.r + 5, sy(v, f.y2));
  }
  g.textAlign = 'center';
  g.textBaseline = 'top';
  g.fillStyle = INK;
  for (const v of f.x.ticks) g.fillText(tickLabel(v, f.x.step), sx(v), h - f.b + 5);
  g.strokeStyle = '#9aa3b2';
  g.strokeRect(f.l + 0.5, f.t + 0.5, w - f.l - f.r - 1, h - f.t - f.b - 1);
  g.textBaseline = 'alphabetic';
  g.fillText(o.x.label, f.l + (w - f.l - f.r) / 2, h - 5);
  const vertical = (text: string, x: number, colour: string) => {
    g.save();
    g.translate(x, f.t + (h - f.t - f.b) / 2);
    g.rotate(-Math.PI / 2);
    g.fillStyle = colour;
    g.fillText(text, 0, 0);
    g.restore();
  };
  vertical(o.y.label, 13, INK);
  if (f.y2 && o.y2) vertical(o.y2.label, w - 5, o.y2.colour ?? INK);
}

/** One series as a polyline (broken at non-finite values), a dot when it has one point. */
function drawSeries(g: CanvasRenderingContext2D, s: Series, px: (x: number) => number, py: (y: number) => number): void {
  g.strokeStyle = g.fillStyle = s.colour;
  g.lineWidth = 1.7;
  g.setLineDash(s.dashed ? [5, 4] : []);
  g.beginPath();
  let pen = false;
  let points = 0;
  for (let i = 0; i < s.y.length; i++) {
    const y = s.y[i]!;
    if (!Number.isFinite(y)) {
      pen = false;
      continue;
    }
    if (pen) g.lineTo(px(xOf(s, i)), py(y));
    else g.moveTo(px(xOf(s, i)), py(y));
    pen = true;
    points++;
  }
  g.stroke();
  g.setLineDash([]);
  if (points === 1 || s.y.length <= 12)
    for (let i = 0; i < s.y.length; i++) {
      if (!Number.isFinite(s.y[i]!)) continue;
      g.beginPath();
      g.arc(px(xOf(s, i)), py(s.y[i]!), 2.4, 0, 2 * Math.PI);
      g.fill();
    }
}

function drawLegend(g: CanvasRenderingContext2D, at: [Series, number, number][]): void {
  g.font = FONT;
  g.textBaseline = 'middle';
  g.textAlign = 'left';
  for (const [s, x, y] of at) {
    g.strokeStyle = g.fillStyle = s.colour;
    g.lineWidth = 2;
    g.setLineDash(s.dashed ? [4, 3] : []);
    g.beginPath();
    g.moveTo(x, y);
    g.lineTo(x + 18, y);
    g.stroke();
    g.setLineDash([]);
    g.fillStyle = s.right ? s.colour : '#344054';
    g.fillText(s.name, x + 22, y);
  }
}

/** The chance line's label, over the curves, with a halo that keeps it readable where a curve runs along the line. */
function chanceLabel(g: CanvasRenderingContext2D, text: string, x: number, y: number): void {
  g.font = FONT;
  g.textAlign = 'right';
  g.textBaseline = 'bottom';
  g.lineWidth = 3;
  g.strokeStyle = 'rgba(255,255,255,0.95)';
  g.strokeText(text, x, y);
  g.fillStyle = '#667085';
  g.fillText(text, x, y);
}

/** Records what a chart drew on its canvas (read by the browser suite and from the console). */
function record(canvas: HTMLCanvasElement, f: Frame, o: ChartOptions, series: Series[]): void {
  const d = canvas.dataset;
  d.xLabel = o.x.label;
  d.yLabel = o.y.label;
  d.xTicks = f.x.ticks.join(',');
  d.yTicks = f.y.ticks.join(',');
  d.y2Label = f.y2 && o.y2 ? o.y2.label : '';
  d.y2Ticks = f.y2 ? f.y2.ticks.join(',') : '';
  d.chance = o.chance == null ? '' : String(o.chance);
  d.series = JSON.stringify(series.map((s) => s.name));
}

/** A line chart: labelled axes with 1-2-5 ticks, a legend above, an optional right axis and chance line. */
export function lineChart(canvas: HTMLCanvasElement, series: Series[], o: ChartOptions): void {
  const { g, w, h } = fit(canvas);
  g.font = FONT;
  const shown = series.filter((s) => s.legend !== false);
  const pre = scalesOf(series, o, w - 110, h - 60);
  const labelW = (s: Scale | null) => (s ? Math.max(...s.ticks.map((v) => g.measureText(tickLabel(v, s.step)).width)) : 0);
  const l = 24 + labelW(pre.y);
  const r = pre.y2 ? 26 + labelW(pre.y2) : 14;
  const legend = legendLayout(g, shown, l, w - l - r);
  const f: Frame = { l, r, t: legend.height + 4, b: 38, ...scalesOf(series, o, w - l - r, h - legend.height - 42) };
  drawAxes(g, f, o, w, h);
  const px = (v: number) => f.l + ((v - f.x.lo) / (f.x.hi - f.x.lo)) * (w - f.l - f.r);
  const py = (v: number, s: Scale) => h - f.b - ((v - s.lo) / (s.hi - s.lo)) * (h - f.t - f.b);
  g.save();
  g.beginPath();
  g.rect(f.l, f.t, w - f.l - f.r, h - f.t - f.b);
  g.clip();
  if (o.chance != null) {
    g.strokeStyle = '#98a2b3';
    g.lineWidth = 1.2;
    g.setLineDash([6, 4]);
    g.beginPath();
    g.moveTo(f.l, py(o.chance, f.y));
    g.lineTo(w - f.r, py(o.chance, f.y));
    g.stroke();
    g.setLineDash([]);
  }
  for (const s of series) drawSeries(g, s, px, (v) => py(v, s.right && f.y2 ? f.y2 : f.y));
  if (o.chance != null) chanceLabel(g, `chance ${Number(o.chance.toPrecision(3))}`, w - f.r - 4, py(o.chance, f.y) - 2);
  g.restore();
  drawLegend(g, legend.at);
  if (!series.some((s) => finite(Array.from(s.y)).length)) {
    g.fillStyle = INK;
    g.textAlign = 'center';
    g.fillText('no data yet', f.l + (w - f.l - f.r) / 2, f.t + (h - f.t - f.b) / 2);
  }
  record(canvas, f, o, series);
}

/**
 * The colour scale of a matrix: the 99th percentile of its off-diagonal |w|. The diagonal (strong
 * in W*, the self-connections) would otherwise set the scale and wash out the rest.
 */
export function heatScale(W: ArrayLike<number>, n: number): number {
  if (n < 2) return 1;
  const mags = Float64Array.from({ length: n * n - n }, (_, k) => Math.abs(W[k + Math.floor(k / n) + 1]!)).sort();
  return mags[Math.min(mags.length - 1, Math.floor(mags.length * 0.99))]! || 1;
}

/**
 * A diverging heat map of an n×n matrix (blue < 0 < red, white at 0) on ±scale, saturating beyond;
 * returns the fraction of entries beyond the scale.
 */
export function heatmap(canvas: HTMLCanvasElement, W: ArrayLike<number>, n: number, scale = heatScale(W, n)): number {
  canvas.width = n;
  canvas.height = n;
  const g = canvas.getContext('2d')!;
  const img = g.createImageData(n, n);
  let beyond = 0;
  for (let i = 0; i < n * n; i++) {
    const u = W[i]! / scale;
    if (Math.abs(u) > 1) beyond++;
    const v = Math.max(-1, Math.min(1, u));
    const a = Math.abs(v);
    // linear from white to (255, 55, 35) or (35, 85, 255): colourBar's CSS gradient is the same ramp
    const [r, gg, b] = v >= 0 ? [255, 255 - 200 * a, 255 - 220 * a] : [255 - 220 * a, 255 - 170 * a, 255];
    img.data.set([r, gg, b, 255], i * 4);
  }
  g.putImageData(img, 0, 0);
  canvas.dataset.scale = String(scale);
  return beyond / (n * n);
}

/** A vertical colour bar for a heat map on ±scale: the ramp, 1-2-5 ticks and the saturating ends. */
export function colourBar(box: HTMLElement, scale: number): void {
  const s = niceScale(-scale, scale, 6, { fixLo: true, fixHi: true });
  const at = (v: number) => `${(50 - (v / scale) * 50).toFixed(2)}%`;
  const label = (v: number, text: string, cls = '') => el('span', { textContent: text, className: cls, style: `top:${at(v)}` });
  // the ends' labels would collide with ticks within a tenth of the bar of them
  const inner = s.ticks.filter((v) => Math.abs(v) < scale * 0.8);
  const end = String(Number(scale.toPrecision(3)));
  box.replaceChildren(
    el('div', { className: 'ramp' }),
    label(scale, `≥ ${end}`, 'end'),
    ...inner.map((v) => label(v, tickLabel(v, s.step))),
    label(-scale, `≤ −${end}`, 'end'),
  );
  box.dataset.min = String(-scale);
  box.dataset.max = String(scale);
  box.title = `colour scale: −${scale.toPrecision(3)} (blue) to +${scale.toPrecision(3)} (red); values beyond take the end colours`;
}

/** The report's categorical palette (experiments/style.ts) as 0..1 RGB, for WebGPU vertex colours. */
export const PALETTE_RGB: [number, number, number][] = PALETTE.map((h) => [
  parseInt(h.slice(1, 3), 16) / 255,
  parseInt(h.slice(3, 5), 16) / 255,
  parseInt(h.slice(5, 7), 16) / 255,
]);
