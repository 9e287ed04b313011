/** Canvas plots of the workbench: line charts (loss, accuracy) and a W_rec heat map. */
import { PALETTE } from '../experiments/style.ts';

export interface Series {
  name: string;
  y: ArrayLike<number>;
  /** x of each point (default 1, 2, …). */
  x?: ArrayLike<number>;
  colour: string;
  dashed?: boolean;
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

export function lineChart(canvas: HTMLCanvasElement, series: Series[], o: { yMin?: number; yMax?: number; xLabel?: string } = {}): void {
  const { g, w, h } = fit(canvas);
  const m = { l: 46, r: 10, t: 8, b: 34 };
  const xs = series.flatMap((s) => Array.from({ length: s.y.length }, (_, i) => (s.x ? s.x[i]! : i + 1)));
  const ys = series.flatMap((s) => Array.from(s.y).filter(Number.isFinite));
  if (!xs.length || !ys.length) {
    g.fillStyle = '#667085';
    g.fillText('no data yet', w / 2 - 25, h / 2);
    return;
  }
  const x0 = Math.min(...xs);
  const x1 = Math.max(x0 + 1, ...xs);
  let y0 = o.yMin ?? Math.min(...ys);
  let y1 = o.yMax ?? Math.max(...ys);
  if (y1 - y0 < 1e-9) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0)) * (w - m.l - m.r);
  const sy = (y: number) => h - m.b - ((y - y0) / (y1 - y0)) * (h - m.t - m.b);
  g.strokeStyle = '#d9dde5';
  g.fillStyle = '#667085';
  g.font = '11px system-ui, sans-serif';
  g.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const y = y0 + ((y1 - y0) * i) / 4;
    g.beginPath();
    g.moveTo(m.l, sy(y));
    g.lineTo(w - m.r, sy(y));
    g.stroke();
    g.fillText(y.toPrecision(3), 4, sy(y) + 4);
  }
  g.fillText(String(Math.round(x0)), m.l, h - m.b + 14);
  g.fillText(String(Math.round(x1)), w - m.r - 24, h - m.b + 14);
  if (o.xLabel) g.fillText(o.xLabel, w / 2 - 15, h - 6);
  let legendX = m.l + 8;
  for (const s of series) {
    g.strokeStyle = s.colour;
    g.lineWidth = 1.6;
    g.setLineDash(s.dashed ? [5, 4] : []);
    g.beginPath();
    let pen = false;
    for (let i = 0; i < s.y.length; i++) {
      const y = s.y[i]!;
      if (!Number.isFinite(y)) {
        pen = false;
        continue;
      }
      const px = sx(s.x ? s.x[i]! : i + 1);
      if (pen) g.lineTo(px, sy(y));
      else g.moveTo(px, sy(y));
      pen = true;
    }
    if (s.y.length === 1) g.arc(sx(s.x ? s.x[0]! : 1), sy(s.y[0]!), 2.5, 0, 2 * Math.PI);
    g.stroke();
    g.setLineDash([]);
    g.fillStyle = s.colour;
    g.fillText(s.name, legendX, m.t + 12);
    legendX += g.measureText(s.name).width + 16;
  }
}

/**
 * A diverging heat map of an n×n matrix (blue < 0 < red), saturating at the 99th percentile of
 * the off-diagonal |values| (a strong diagonal, as W* has, would otherwise wash out the rest).
 */
export function heatmap(canvas: HTMLCanvasElement, W: ArrayLike<number>, n: number): void {
  canvas.width = n;
  canvas.height = n;
  const g = canvas.getContext('2d')!;
  const img = g.createImageData(n, n);
  const mags = Float64Array.from({ length: n * n - n }, (_, k) => Math.abs(W[k + Math.floor(k / n) + 1]!)).sort();
  const scale = mags[Math.min(mags.length - 1, Math.floor(mags.length * 0.99))]! || 1;
  for (let i = 0; i < n * n; i++) {
    const v = Math.max(-1, Math.min(1, W[i]! / scale));
    const a = Math.abs(v);
    // white at 0, towards red (positive) or blue (negative)
    const [r, gg, b] = v >= 0 ? [255, 255 - 200 * a, 255 - 220 * a] : [255 - 220 * a, 255 - 170 * a, 255];
    img.data.set([r, gg, b, 255], i * 4);
  }
  g.putImageData(img, 0, 0);
}

/** The report's categorical palette (experiments/style.ts) as 0..1 RGB, for WebGPU vertex colours. */
export const PALETTE_RGB: [number, number, number][] = PALETTE.map((h) => [
  parseInt(h.slice(1, 3), 16) / 255,
  parseInt(h.slice(3, 5), 16) / 255,
  parseInt(h.slice(5, 7), 16) / 255,
]);
