/**
 * Labellings of a field's neurons that a network's modules might follow: the index construction
 * of paper mode, cortical depth, space, function and the EM connectome. Each is a pure function
 * of the field's arrays and returns one integer label per neuron. Positions are row-major
 * [n, 3] in µm with y the cortical depth; matrices are n × n row-major.
 */
import { agnes } from 'ml-hclust';
import { kmeans } from 'ml-kmeans';
import { graphFromAdjacency } from './graph.ts';
import { greedyModularityCNM } from './modularity.ts';

/**
 * (a) label_i = i mod m. Paper mode reshapes the (N, 3) coordinates to (3, N) without
 * transposing, so pseudo-neuron j takes its "coordinates" from flat entries j, N + j and 2N + j,
 * i.e. axes (j mod 3), ((N + j) mod 3), ((2N + j) mod 3) of three different neurons: neurons with
 * the same residue of j mod 3 draw every coordinate from the same axes.
 */
export function indexResidue(n: number, m = 3): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i % m;
  return out;
}

/**
 * (b) Cortical depth in `bins` equal-count bins: neurons sorted by y (ties by index); the neuron
 * of rank r (0-based) gets label floor(r · bins / n), so label 0 is the shallowest.
 */
export function depthBins(positionsUm: ArrayLike<number>, n: number, bins = 3): Int32Array {
  checkPositions(positionsUm, n, 'depthBins');
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => positionsUm[i * 3 + 1]! - positionsUm[j * 3 + 1]! || i - j);
  const out = new Int32Array(n);
  order.forEach((i, r) => (out[i] = Math.floor((r * bins) / n)));
  return out;
}

/**
 * (c) Spatial clusters: k-means (Lloyd's algorithm, k-means++ start, squared Euclidean distance
 * in µm, at most 300 iterations) of the 3D positions into k clusters, seeded (ml-kmeans).
 */
export function spatialClusters(positionsUm: ArrayLike<number>, n: number, k: number, seed: number): Int32Array {
  checkPositions(positionsUm, n, 'spatialClusters');
  checkK(k, n, 'spatialClusters');
  const points = Array.from({ length: n }, (_, i) => [positionsUm[i * 3]!, positionsUm[i * 3 + 1]!, positionsUm[i * 3 + 2]!]);
  return Int32Array.from(kmeans(points, k, { seed, initialization: 'kmeans++', maxIterations: 300 }).clusters);
}

/**
 * (d) Functional clusters: average-linkage (UPGMA) hierarchical clustering of the dissimilarity
 * d_ij = 1 − (c_ij + c_ji)/2 (c the activity correlation, d_ii = 0), cut into k clusters
 * (ml-hclust). Deterministic, so it needs no seed.
 */
export function functionalClusters(corr: ArrayLike<number>, n: number, k: number): Int32Array {
  if (corr.length !== n * n) throw new Error(`functionalClusters: expected an ${n} × ${n} correlation matrix, got ${corr.length} entries`);
  checkK(k, n, 'functionalClusters');
  const d = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 0 : 1 - (corr[i * n + j]! + corr[j * n + i]!) / 2)));
  const out = new Int32Array(n);
  agnes(d, { method: 'average', isDistanceMatrix: true })
    .group(k)
    .children.forEach((c, label) => {
      for (const i of c.indices()) out[i] = label;
    });
  return out;
}

/**
 * (e) The EM connectome's own modules: Clauset–Newman–Moore modules of the binary undirected
 * graph with an edge wherever K_ij + K_ji > 0 (K the synapse counts). A neuron without any
 * synapse in the field has no module of its own: all such neurons share one label, so they add
 * one class, not one singleton each.
 */
export function connectomeModules(K: ArrayLike<number>, n: number): Int32Array {
  if (K.length !== n * n) throw new Error(`connectomeModules: expected an ${n} × ${n} synapse-count matrix, got ${K.length} entries`);
  const adj = new Uint8Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j && K[i * n + j]! + K[j * n + i]! > 0) adj[i * n + j] = 1;
  const g = graphFromAdjacency(adj, n, false);
  const modules = greedyModularityCNM(g);
  const unconnected = n; // larger than any module label
  return modules.map((c, i) => (g.neighbors[i]!.length === 0 ? unconnected : c));
}

/**
 * The module count that (c) and (d) match: modules with at least two neurons. A singleton of the
 * thresholded graph is a neuron without edges there, not a module. At least 2.
 */
export function moduleCount(modules: ArrayLike<number>): number {
  const size = new Map<number, number>();
  for (let i = 0; i < modules.length; i++) size.set(modules[i]!, (size.get(modules[i]!) ?? 0) + 1);
  let k = 0;
  for (const s of size.values()) if (s >= 2) k++;
  return Math.max(2, k);
}

function checkPositions(positionsUm: ArrayLike<number>, n: number, what: string): void {
  if (positionsUm.length !== n * 3) throw new Error(`${what}: expected [${n}, 3] positions in µm, got ${positionsUm.length} entries`);
}

function checkK(k: number, n: number, what: string): void {
  if (!Number.isInteger(k) || k < 1 || k > n) throw new Error(`${what}: k: expected an integer in [1, ${n}], got ${k}`);
}
