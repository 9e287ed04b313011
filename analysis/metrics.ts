/**
 * All network metrics of one recurrent weight matrix in one call, as a plain JSON-serialisable
 * object (NaN, e.g. the assortativity of a regular graph, serialises as null).
 */
import { Rng } from '../engine/rng.ts';
import { degreeAssortativity } from './assortativity.ts';
import { totalWeight, weightDensity } from './unit_coding.ts';
import { kdeEntropyBits, rowwiseEntropyBits } from './entropy.ts';
import { density, thresholdTop10, type Graph } from './graph.ts';
import { greedyModularityCNM, louvain, modularityQ } from './modularity.ts';
import { moduleAlignment, type LabellingInputs, type ModuleAlignment } from './module_alignment.ts';
import {
  binaryTopKModularity,
  normalisedModularity,
  rewiredNullQ,
  spectralModularityDir,
  spectralModularityUnd,
  undirectedAbs,
} from './modularity_weighted.ts';
import {
  averageClustering,
  globalEfficiency,
  meanPathLength,
  type NullMeans,
  paperNull,
  rewiredNull,
  smallWorldPropensity,
  smallWorldSigma,
} from './smallworld.ts';

export interface AnalyzeOptions {
  /** Seeds the Louvain order, the paper null and the rewired null. */
  seed: number;
  /** Paper null graphs, (U + Uᵀ)/2 > 0.7 (default 1000). */
  nNull?: number;
  /** Maslov–Sneppen rewirings for σ_matched and the small-world propensity (default 50). */
  nMatched?: number;
  /** Successful double-edge swaps per edge in each rewiring (default 10). */
  swapsPerEdge?: number;
  /** Unit positions, row-major [n, dims] (any dims); adds wiring-cost metrics. */
  positions?: ArrayLike<number>;
  /** The field's labellings' inputs; adds `module_alignment` (what the modules follow). */
  labellings?: LabellingInputs;
}

export interface NetworkMetrics {
  n: number;
  /** p90 of |W| used for the graph. */
  threshold: number;
  /** Edge density of the thresholded, OR-symmetrised graph. */
  density: number;
  edges: number;
  Q_cnm: number;
  Q_louvain: number;
  /** Newman's spectral Q on the full weighted |W| symmetrised, diagonal kept (BCT modularity_und(abs(W)), the seRNN authors' measure). */
  Q_weighted: number;
  /** The same with the diagonal zeroed (neither seRNN cost term penalises self-connections; L1 does). */
  Q_weighted_offdiag: number;
  /** Leicht–Newman directed spectral Q on |W| (BCT modularity_dir(abs(W))). */
  Q_directed: number;
  /** CNM Q of the binary top-5 % and top-20 % graphs (Q_cnm is top-10 %). */
  Q_top5: number;
  Q_top20: number;
  /** Q_cnm over the mean CNM Q of the degree-preserving rewired nulls of σ_matched, and its z-score against them. */
  Q_cnm_norm: number;
  Q_cnm_z: number;
  /** CNM module label per neuron (0 = largest module). */
  communities: number[];
  communities_louvain: number[];
  n_modules_cnm: number;
  n_modules_louvain: number;
  assortativity: number;
  /** Mean binary clustering coefficient C. */
  clustering: number;
  /** Global efficiency E. */
  efficiency: number;
  /** Characteristic path length over connected pairs. */
  path_length: number;
  /** σ = (C/C_null)/(E_null/E) against the paper null (about 18% dense). */
  sigma_paper: number;
  /** σ against degree-preserving (Maslov–Sneppen) rewirings of the graph itself. */
  sigma_matched: number;
  /** Small-world propensity φ (Muldoon et al. 2016). */
  swp: number;
  null_paper: NullMeans;
  null_matched: NullMeans;
  entropy_kde_bits: number;
  entropy_rowwise_bits: number;
  /** Share of weights with |W_ij| > 0.01 (the seRNN sparsity axis: sparsity = 1 − this). */
  weight_density: number;
  /** Σ_ij |W_ij|. */
  total_weight: number;
  /** Σ_ij |W_ij| ‖p_i − p_j‖, when positions are given. */
  wiring_cost?: number;
  /** Mean Euclidean length of the graph's edges, when positions are given. */
  mean_edge_length?: number;
  /** Agreement of the CNM and Louvain modules with each labelling of the field, when its inputs are given. */
  module_alignment?: { cnm: ModuleAlignment; louvain: ModuleAlignment };
}

/**
 * Q by the other definitions of the field (see each field of NetworkMetrics): weighted and
 * directed spectral Q on |W|, binary Q at 5 % and 20 %, and Q_cnm against rewired nulls.
 */
function modularityByDefinition(W: ArrayLike<number>, n: number, g: Graph, qCnm: number, seed: number, nMatched: number, swapsPerEdge: number) {
  const nulls = nMatched > 0 ? normalisedModularity(qCnm, rewiredNullQ(g, nMatched, seed, swapsPerEdge)) : { qNorm: NaN, z: NaN };
  return {
    Q_weighted: spectralModularityUnd(undirectedAbs(W, n, true), n).q,
    Q_weighted_offdiag: spectralModularityUnd(undirectedAbs(W, n, false), n).q,
    Q_directed: spectralModularityDir(W, n).q,
    Q_top5: binaryTopKModularity(W, n, 0.05).q,
    Q_top20: binaryTopKModularity(W, n, 0.2).q,
    Q_cnm_norm: nulls.qNorm,
    Q_cnm_z: nulls.z,
  };
}

/** Euclidean distance between units i and j of a row-major [n, dims] position array. */
function distance(positions: ArrayLike<number>, dims: number, i: number, j: number): number {
  let s = 0;
  for (let d = 0; d < dims; d++) s += (positions[i * dims + d]! - positions[j * dims + d]!) ** 2;
  return Math.sqrt(s);
}

/**
 * Graph, modularity, small-world and entropy metrics of W (engine layout, W[i*n + j] from
 * unit j to unit i). The graph is `thresholdTop10(W)`; see each metric's function for its
 * formula.
 */
export function analyzeNetwork(W: Float64Array | Float32Array, n: number, opts: AnalyzeOptions): NetworkMetrics {
  const { seed } = opts;
  const nNull = opts.nNull ?? 1000;
  const nMatched = opts.nMatched ?? 50;
  const g = thresholdTop10(W, n);

  const cnm = greedyModularityCNM(g);
  const louv = louvain(g, new Rng(seed, 'louvain'));
  const C = averageClustering(g);
  const E = globalEfficiency(g);

  const nullPaper = paperNull(n, nNull, seed);
  const nullMatched = rewiredNull(g, nMatched, seed, opts.swapsPerEdge ?? 10);
  const swp = smallWorldPropensity(g, { seed, random: nullMatched });

  const out: NetworkMetrics = {
    n,
    threshold: g.threshold,
    density: density(g),
    edges: g.edgeCount,
    Q_cnm: modularityQ(g, cnm),
    Q_louvain: modularityQ(g, louv),
    ...modularityByDefinition(W, n, g, modularityQ(g, cnm), seed, nMatched, opts.swapsPerEdge ?? 10),
    communities: Array.from(cnm),
    communities_louvain: Array.from(louv),
    n_modules_cnm: Math.max(-1, ...cnm) + 1,
    n_modules_louvain: Math.max(-1, ...louv) + 1,
    assortativity: degreeAssortativity(g),
    clustering: C,
    efficiency: E,
    path_length: meanPathLength(g),
    sigma_paper: smallWorldSigma(C, E, nullPaper.clustering, nullPaper.efficiency),
    sigma_matched: smallWorldSigma(C, E, nullMatched.clustering, nullMatched.efficiency),
    swp: swp.phi,
    null_paper: nullPaper,
    null_matched: nullMatched,
    entropy_kde_bits: kdeEntropyBits(W),
    entropy_rowwise_bits: rowwiseEntropyBits(W, n).mean,
    weight_density: weightDensity(W),
    total_weight: totalWeight(W),
  };

  if (opts.labellings) out.module_alignment = { cnm: moduleAlignment(cnm, opts.labellings, seed), louvain: moduleAlignment(louv, opts.labellings, seed) };
  if (opts.positions) {
    const dims = opts.positions.length / n;
    if (!Number.isInteger(dims) || dims < 1) throw new Error(`analyzeNetwork: positions must have n*dims entries, got ${opts.positions.length}`);
    let cost = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) cost += Math.abs(W[i * n + j]!) * distance(opts.positions, dims, i, j);
    let lengthSum = 0;
    for (let u = 0; u < n; u++) for (const v of g.neighbors[u]!) if (u < v) lengthSum += distance(opts.positions, dims, u, v);
    out.wiring_cost = cost;
    out.mean_edge_length = g.edgeCount > 0 ? lengthSum / g.edgeCount : NaN;
  }
  return out;
}
