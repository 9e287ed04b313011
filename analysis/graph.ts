/**
 * Binary undirected graphs built from recurrent weight matrices, and the small helpers the
 * graph metrics share. Engine layout: W[i*n + j] is the weight from unit j to unit i.
 *
 * A Graph keeps three views of the same edges, because each metric wants a different one:
 * the dense 0/1 matrix (O(1) edge tests), sorted neighbour lists (BFS, modularity) and packed
 * bit rows (clustering and path lengths on the 1,000 null graphs of the small-world index).
 */

export interface Graph {
  /** Number of nodes. */
  n: number;
  /** adj[i*n + j] = 1 when i and j are linked; symmetric, zero diagonal. */
  adj: Uint8Array;
  /** Sorted neighbour list of each node. */
  neighbors: Int32Array[];
  /** Number of undirected edges. */
  edgeCount: number;
  /** Bit rows: bit j of row i (word i*words + (j >>> 5), bit j & 31) is adj[i][j]. */
  bits: Uint32Array;
  /** 32-bit words per bit row, ceil(n / 32). */
  words: number;
}

/**
 * Builds every view of a graph from a symmetric 0/1 matrix with zero diagonal. `check: false`
 * skips the symmetry and self-loop checks for matrices built symmetric by construction.
 */
export function graphFromAdjacency(adj: Uint8Array, n: number, check = true): Graph {
  if (adj.length !== n * n) throw new Error(`graphFromAdjacency: expected ${n * n} entries, got ${adj.length}`);
  if (check) {
    for (let i = 0; i < n; i++) {
      if (adj[i * n + i]) throw new Error(`graphFromAdjacency: self-loop at ${i}`);
      for (let j = i + 1; j < n; j++) {
        if (adj[i * n + j] !== adj[j * n + i]) throw new Error(`graphFromAdjacency: not symmetric at (${i}, ${j})`);
      }
    }
  }
  const words = (n + 31) >>> 5;
  const bits = new Uint32Array(n * words);
  const neighbors: Int32Array[] = [];
  let degreeSum = 0;
  for (let i = 0; i < n; i++) {
    let deg = 0;
    for (let j = 0; j < n; j++) deg += adj[i * n + j]!;
    const nb = new Int32Array(deg);
    let k = 0;
    for (let j = 0; j < n; j++) {
      if (adj[i * n + j]) {
        nb[k++] = j;
        bits[i * words + (j >>> 5)]! |= 1 << (j & 31);
      }
    }
    neighbors.push(nb);
    degreeSum += deg;
  }
  return { n, adj, neighbors, edgeCount: degreeSum / 2, bits, words };
}

/**
 * Builds every view of a graph from its bit rows (symmetric, zero diagonal; not checked).
 * The fast path for the many null graphs of the small-world index.
 */
export function graphFromBits(bits: Uint32Array, n: number): Graph {
  const words = (n + 31) >>> 5;
  if (bits.length !== n * words) throw new Error(`graphFromBits: expected ${n * words} words, got ${bits.length}`);
  const adj = new Uint8Array(n * n);
  const neighbors: Int32Array[] = [];
  const scratch = new Int32Array(n);
  let degreeSum = 0;
  for (let i = 0; i < n; i++) {
    let deg = 0;
    for (let w = 0; w < words; w++) {
      let x = bits[i * words + w]!;
      while (x !== 0) {
        const low = x & -x;
        const j = (w << 5) + (31 - Math.clz32(low));
        scratch[deg++] = j;
        adj[i * n + j] = 1;
        x ^= low;
      }
    }
    neighbors.push(scratch.slice(0, deg));
    degreeSum += deg;
  }
  return { n, adj, neighbors, edgeCount: degreeSum / 2, bits, words };
}

/** Builds a graph from an undirected edge list; duplicate edges collapse, self-loops are refused. */
export function graphFromEdges(n: number, edges: ReadonlyArray<readonly [number, number]>): Graph {
  const adj = new Uint8Array(n * n);
  for (const [u, v] of edges) {
    if (u === v) throw new Error(`graphFromEdges: self-loop at ${u}`);
    if (u < 0 || v < 0 || u >= n || v >= n) throw new Error(`graphFromEdges: edge (${u}, ${v}) outside 0..${n - 1}`);
    adj[u * n + v] = 1;
    adj[v * n + u] = 1;
  }
  return graphFromAdjacency(adj, n);
}

/** Undirected edges (u < v) in row-major order. */
export function edgeList(g: Graph): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let u = 0; u < g.n; u++) for (const v of g.neighbors[u]!) if (u < v) out.push([u, v]);
  return out;
}

/** Degree k_i = Σ_j A_ij of every node. */
export function degrees(g: Graph): Int32Array {
  const k = new Int32Array(g.n);
  for (let i = 0; i < g.n; i++) k[i] = g.neighbors[i]!.length;
  return k;
}

/** Density = 2m / (n (n − 1)) for m undirected edges, as networkx `density`. */
export function density(g: Graph): number {
  return g.n > 1 ? (2 * g.edgeCount) / (g.n * (g.n - 1)) : 0;
}

/**
 * The q-th percentile (q in [0, 100]) with numpy's default method ('linear'): sort the values,
 * take the virtual index h = (len − 1)·q/100 and interpolate between the two neighbouring
 * order statistics a = x[floor h], b = x[floor h + 1] with t = h − floor h as numpy's _lerp
 * does: a + (b − a)·t, or b − (b − a)·(1 − t) when t ≥ 0.5. Computed in float64.
 */
export function percentileLinear(values: ArrayLike<number>, q: number): number {
  const len = values.length;
  if (len === 0) throw new Error('percentileLinear: empty input');
  if (!(q >= 0 && q <= 100)) throw new Error(`percentileLinear: q must be in [0, 100], got ${q}`);
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  const h = (len - 1) * (q / 100);
  if (h >= len - 1) return sorted[len - 1]!;
  const lo = Math.floor(h);
  const t = h - lo;
  const a = sorted[lo]!;
  const b = sorted[lo + 1]!;
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/**
 * The paper's binary graph of a weight matrix: A_ij = 1 when |W_ij| > p90 or |W_ji| > p90
 * (symmetrised by OR), i ≠ j, where p90 is the 90th percentile (numpy default, linear
 * interpolation, float64) of all n² entries of |W|, diagonal included. Keeping entries
 * strictly above p90 keeps the top 10% of directed weights; after the OR the undirected
 * density is somewhat higher (up to ~19% when strong weights are rarely reciprocal).
 */
export function thresholdTop10(W: ArrayLike<number>, n: number): Graph & { threshold: number } {
  if (W.length !== n * n) throw new Error(`thresholdTop10: expected ${n * n} weights, got ${W.length}`);
  return graphAbovePercentile(W, n, 90);
}

/**
 * The binary graph of |W| strictly above its `percentile` (numpy's linear percentile of all n²
 * entries, diagonal included), OR-symmetrised, without self-loops. `thresholdTop10` at 90;
 * other densities in `thresholdTopFraction`.
 */
export function graphAbovePercentile(W: ArrayLike<number>, n: number, percentile: number): Graph & { threshold: number } {
  const absW = new Float64Array(n * n);
  for (let k = 0; k < n * n; k++) absW[k] = Math.abs(W[k]!);
  const threshold = percentileLinear(absW, percentile);
  const adj = new Uint8Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i !== j && absW[i * n + j]! > threshold) {
        adj[i * n + j] = 1;
        adj[j * n + i] = 1;
      }
    }
  }
  return Object.assign(graphFromAdjacency(adj, n, false), { threshold });
}

/** Number of set bits in a 32-bit word. */
export function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}
