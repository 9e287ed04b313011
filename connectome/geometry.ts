/**
 * Geometry: voxel → µm conversion and the distance matrices D used by the spatial regulariser.
 * Positions are [N, 3] row-major Float64Arrays.
 */
import { vec3 } from 'gl-matrix';

/** MICrONS voxel size in nm (x, y, z). */
export const VOXEL_NM = [4, 4, 40] as const;

/** µm = voxel · (4, 4, 40) nm / 1000, per neuron, with gl-matrix vector ops. */
export function voxelsToUm(positionsVox: Float64Array, voxelNm: readonly [number, number, number] = VOXEL_NM): Float64Array {
  const out = new Float64Array(positionsVox.length);
  // a Float64Array, not vec3.fromValues (which would round to float32)
  const scale = Float64Array.of(voxelNm[0] / 1000, voxelNm[1] / 1000, voxelNm[2] / 1000) as unknown as vec3;
  for (let i = 0; i < positionsVox.length; i += 3) {
    vec3.multiply(out.subarray(i, i + 3) as unknown as vec3, positionsVox.subarray(i, i + 3) as unknown as vec3, scale);
  }
  return out;
}

/**
 * - `isotropic` (default): Euclidean distances in µm divided by the largest pairwise distance.
 * - `axis-minmax`: each axis min-max scaled to [0, 1], then Euclidean distances, as the paper
 *   intended.
 * - `paper-compat`: the released code, bug included. It reshapes the (N, 3) position array to
 *   (3, N) WITHOUT transposing, so "axis a of neuron i" is flat[a·N + i] — entries of
 *   different neurons and coordinates mixed. It then min-max scales those rows and takes
 *   distances. This reproduces a bug; it is not a model of space.
 */
export type DistanceMode = 'isotropic' | 'axis-minmax' | 'paper-compat';

export function distanceMatrix(positions: Float64Array, mode: DistanceMode = 'isotropic'): Float64Array {
  if (positions.length % 3 !== 0) throw new Error(`distanceMatrix: positions must be [N, 3], got ${positions.length} values`);
  const n = positions.length / 3;
  for (let k = 0; k < positions.length; k++) {
    if (!Number.isFinite(positions[k]!))
      throw new Error(`distanceMatrix: position of neuron ${Math.floor(k / 3)} axis ${k % 3} is ${positions[k]}; expected a finite number`);
  }
  let pts: Float64Array;
  if (mode === 'isotropic') pts = positions;
  else if (mode === 'axis-minmax') pts = minMaxPerAxis(positions, n);
  else if (mode === 'paper-compat') pts = minMaxPerAxis(reshapeWithoutTranspose(positions, n), n);
  else throw new Error(`distanceMatrix: unknown mode "${String(mode)}"; expected isotropic, axis-minmax or paper-compat`);
  const d = euclidean(pts, n);
  if (mode === 'isotropic') {
    let max = 0;
    for (const v of d) if (v > max) max = v;
    if (max > 0) for (let k = 0; k < d.length; k++) d[k]! /= max;
  }
  return d;
}

/** (N, 3).reshape(3, N) read back as N points: point i = (flat[i], flat[N + i], flat[2N + i]). */
function reshapeWithoutTranspose(flat: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * 3);
  for (let a = 0; a < 3; a++) for (let i = 0; i < n; i++) out[i * 3 + a] = flat[a * n + i]!;
  return out;
}

function minMaxPerAxis(p: Float64Array, n: number): Float64Array {
  const out = new Float64Array(p.length);
  for (let a = 0; a < 3; a++) {
    let lo = Infinity,
      hi = -Infinity;
    for (let i = 0; i < n; i++) {
      const v = p[i * 3 + a]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const range = hi - lo;
    for (let i = 0; i < n; i++) out[i * 3 + a] = range > 0 ? (p[i * 3 + a]! - lo) / range : 0;
  }
  return out;
}

function euclidean(p: Float64Array, n: number): Float64Array {
  const d = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const a = p.subarray(i * 3, i * 3 + 3) as unknown as vec3;
    for (let j = i + 1; j < n; j++) {
      const v = vec3.distance(a, p.subarray(j * 3, j * 3 + 3) as unknown as vec3);
      d[i * n + j] = v;
      d[j * n + i] = v;
    }
  }
  return d;
}

/**
 * Integer grid positions: unit k = (iy·nx + ix)·nz + iz sits at (ix, iy, iz) — NumPy
 * meshgrid(x, y, z, indexing='xy') raveled in C order.
 */
export function gridPositions(nx: number, ny: number, nz: number): Float64Array {
  const out = new Float64Array(nx * ny * nz * 3);
  for (let iy = 0; iy < ny; iy++) {
    for (let ix = 0; ix < nx; ix++) {
      for (let iz = 0; iz < nz; iz++) {
        const k = (iy * nx + ix) * nz + iz;
        out[k * 3] = ix;
        out[k * 3 + 1] = iy;
        out[k * 3 + 2] = iz;
      }
    }
  }
  return out;
}

/** The paper's grid for N = 312. */
export const PAPER_GRID_312: readonly [number, number, number] = [12, 13, 2];

/**
 * The most cube-like factorisation nx·ny·nz = N: the smallest max/min side, then the smallest
 * surface; sides sorted nx ≤ ny ≤ nz. A prime N gives (1, 1, N).
 */
export function nearCubicGrid(n: number): [number, number, number] {
  if (!Number.isInteger(n) || n <= 0) throw new Error(`nearCubicGrid: N must be a positive integer, got ${n}`);
  let best: [number, number, number] = [1, 1, n];
  let bestKey = [n, 2 * n + 1];
  for (let a = 1; a * a * a <= n; a++) {
    if (n % a) continue;
    for (let b = a; a * b * b <= n; b++) {
      if ((n / a) % b) continue;
      const c = n / a / b;
      const key = [c / a, a * b + b * c + a * c];
      if (key[0]! < bestKey[0]! || (key[0] === bestKey[0] && key[1]! < bestKey[1]!)) {
        best = [a, b, c];
        bestKey = key;
      }
    }
  }
  return best;
}

/**
 * The paper's "D": unscaled Euclidean distances between grid units. Dims default to
 * (12, 13, 2) for N = 312 (the paper) and to nearCubicGrid(N) otherwise.
 */
export function gridDistances(
  n: number,
  dims?: readonly [number, number, number],
): { dims: [number, number, number]; positions: Float64Array; D: Float64Array } {
  const d: [number, number, number] = dims ? [dims[0], dims[1], dims[2]] : n === 312 ? [...PAPER_GRID_312] : nearCubicGrid(n);
  if (d[0] * d[1] * d[2] !== n) throw new Error(`gridDistances: grid ${d.join('×')} has ${d[0] * d[1] * d[2]} units, expected N = ${n}`);
  const positions = gridPositions(d[0], d[1], d[2]);
  return { dims: d, positions, D: euclidean(positions, n) };
}
