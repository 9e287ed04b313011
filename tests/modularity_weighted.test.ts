/**
 * Weighted / directed modularity, spectral (BCT-style) community detection, binary top-k %
 * graphs and Q against rewired nulls. Reference values (tests/fixtures/analysis/
 * modularity.json, written by make_modularity_refs.py) come from an independent NumPy port
 * of BCT's modularity_und.m / modularity_dir.m and from networkx 2.8.8 (numpy 1.24.2).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Rng } from '../engine/rng.ts';
import { degrees, edgeList, type Graph, graphFromEdges, thresholdTop10 } from '../analysis/graph.ts';
import { canonicalLabels, communitiesFromLabels, greedyModularityCNM, modularityQ } from '../analysis/modularity.ts';
import { maslovSneppenRewire } from '../analysis/smallworld.ts';
import { analyzeNetwork } from '../analysis/metrics.ts';
import { lanczosLeading } from '../analysis/lanczos.ts';
import {
  binaryTopKModularity,
  directedModularityQ,
  LANCZOS_FROM,
  leadingEigenvector,
  normalisedModularity,
  rewiredNullQ,
  spectralModularityDir,
  spectralModularityUnd,
  symmetricEigen,
  thresholdTopFraction,
  undirectedAbs,
  weightedModularityQ,
} from '../analysis/modularity_weighted.ts';

interface SpectralRef {
  name: string;
  kind: 'und' | 'dir';
  n: number;
  keep_diagonal: boolean;
  gamma: number;
  matrix: string;
  labels: number[];
  Q: number;
  n_modules: number;
  top_eigenvalues: number[];
  diagnostics: { near_tie: boolean };
}
interface QCheckRef {
  name: string;
  kind: 'und' | 'dir';
  n: number;
  keep_diagonal: boolean;
  gamma: number;
  loops: 'as_is' | 'halved';
  matrix: string;
  labels: number[];
  Q_networkx: number;
  Q_bct_formula_numpy: number;
  agree: boolean;
}
interface TopKRef {
  name: string;
  n: number;
  fraction: number;
  matrix: string;
  threshold: number;
  edges: number;
  Q_cnm: number;
  cnm_communities: number[][];
}

const ref = JSON.parse(readFileSync(new URL('./fixtures/analysis/modularity.json', import.meta.url), 'utf8')) as {
  spectral: SpectralRef[];
  q_checks: QCheckRef[];
  topk: TopKRef[];
  matrices: Record<string, { n: number; W_f64_b64: string }>;
};

/** A stored weight matrix (engine layout, float64) by name. */
function weightsOf(name: string): Float64Array {
  const buf = Buffer.from(ref.matrices[name]!.W_f64_b64, 'base64');
  return new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

function transpose(W: ArrayLike<number>, n: number): Float64Array {
  const T = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) T[j * n + i] = W[i * n + j]!;
  return T;
}

/** BCT's directed input A(i,j) = weight i → j = |W[j*n + i]|, diagonal optionally zeroed. */
function bctDirected(W: Float64Array, n: number, keepDiagonal: boolean): Float64Array {
  const A = transpose(W, n).map(Math.abs);
  if (!keepDiagonal) for (let i = 0; i < n; i++) A[i * n + i] = 0;
  return A;
}

/** Modularity matrix B = A − γ k kᵀ / 2m of a symmetric A, written out independently. */
function modularityMatrix(A: Float64Array, n: number, gamma: number): Float64Array {
  const k = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) k[i]! += A[i * n + j]!;
  const m2 = k.reduce((s, x) => s + x, 0);
  return A.map((a, idx) => a - (gamma * k[Math.floor(idx / n)]! * k[idx % n]!) / m2);
}

/** Directed B = b + bᵀ with b = A − γ k_out k_inᵀ / m (A(i,j): i → j). */
function directedModularityMatrix(A: Float64Array, n: number, gamma: number): Float64Array {
  const kOut = new Float64Array(n);
  const kIn = new Float64Array(n);
  let m = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      kOut[i]! += A[i * n + j]!;
      kIn[j]! += A[i * n + j]!;
      m += A[i * n + j]!;
    }
  const B = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) B[i * n + j] = A[i * n + j]! + A[j * n + i]! - (gamma * (kOut[i]! * kIn[j]! + kOut[j]! * kIn[i]!)) / m;
  return B;
}

function partitionKey(communities: number[][]): string {
  return communities
    .map((c) => [...c].sort((a, b) => a - b).join(','))
    .sort()
    .join('|');
}

/** Planted partition: `blocks` equal blocks, |normal| weights, within-block entries × `boost`. */
function plantedWeights(n: number, blocks: number, boost: number, seed: number): { W: Float64Array; blockOf: Int32Array } {
  const rng = new Rng(seed, 'planted');
  const blockOf = new Int32Array(n);
  for (let i = 0; i < n; i++) blockOf[i] = Math.floor((i * blocks) / n);
  const W = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) W[i * n + j] = rng.normal() * (blockOf[i] === blockOf[j] ? boost : 1);
  return { W, blockOf };
}

describe('Q of a given partition', () => {
  it('two disconnected cliques give Q = 0.5; one module gives Q = 0', () => {
    // two K4s, unit weights: each clique has Σ A = 12 and Σ k = 12 of 2m = 24 → 2(½ − ¼)
    const n = 8;
    const A = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j && i >> 2 === j >> 2) A[i * n + j] = 1;
    const twoCliques = [0, 0, 0, 0, 1, 1, 1, 1];
    expect(weightedModularityQ(A, n, twoCliques)).toBe(0.5);
    expect(weightedModularityQ(A, n, new Int32Array(n))).toBe(0);
    // directed: two disjoint 4-cycles, each module has m_c = 4, out = in = 4, m = 8
    const D = new Float64Array(n * n);
    for (let i = 0; i < n; i++) D[i * n + ((i + 1) % 4) + (i & 4)] = 1;
    expect(directedModularityQ(D, n, twoCliques)).toBe(0.5);
    expect(directedModularityQ(D, n, new Int32Array(n))).toBe(0);
    // any weights: all nodes in one module → Q = 1 − γ
    const R = undirectedAbs(new Rng(3).normals(n * n), n, true);
    expect(weightedModularityQ(R, n, new Int32Array(n))).toBeCloseTo(0, 14);
    expect(weightedModularityQ(R, n, new Int32Array(n), 1.5)).toBeCloseTo(-0.5, 14);
    expect(weightedModularityQ(new Float64Array(n * n), n, twoCliques)).toBe(0);
  });

  it('undirectedAbs symmetrises |W| and keeps or zeroes the diagonal', () => {
    const W = Float64Array.from([-1, 2, -4, 3]);
    expect(Array.from(undirectedAbs(W, 2, true))).toEqual([1, 3, 3, 3]);
    expect(Array.from(undirectedAbs(W, 2, false))).toEqual([0, 3, 3, 0]);
  });

  it('matches networkx modularity where the definitions agree', () => {
    // networkx puts a self-loop's weight twice into the degree but once into its module's
    // inner weight, i.e. it reads the diagonal as 2·A_ii. Its Q equals BCT's for a zero
    // diagonal, for any diagonal once the loops weigh A_ii / 2 ("halved"), and for directed
    // graphs (a loop counts once in in- and out-strength in both). The "as_is" case shows the
    // difference and is compared with the BCT formula evaluated in NumPy instead.
    expect(ref.q_checks.length).toBeGreaterThanOrEqual(6);
    for (const c of ref.q_checks) {
      const W = weightsOf(c.matrix);
      const q =
        c.kind === 'und'
          ? weightedModularityQ(undirectedAbs(W, c.n, c.keep_diagonal), c.n, c.labels, c.gamma)
          : directedModularityQ(bctDirected(W, c.n, c.keep_diagonal), c.n, c.labels, c.gamma);
      expect(Math.abs(q - c.Q_bct_formula_numpy), c.name).toBeLessThan(1e-12);
      if (c.agree) expect(Math.abs(q - c.Q_networkx), c.name).toBeLessThan(1e-12);
      else expect(Math.abs(q - c.Q_networkx), c.name).toBeGreaterThan(1e-3);
    }
    expect(ref.q_checks.filter((c) => !c.agree).map((c) => c.loops)).toEqual(['as_is']);
  });

  it('directed Q is the same for the engine layout and its transpose', () => {
    const n = 30;
    const W = new Rng(4).normals(n * n).map(Math.abs);
    const labels = Array.from({ length: n }, (_, i) => i % 3);
    expect(directedModularityQ(W, n, labels)).toBeCloseTo(directedModularityQ(transpose(W, n), n, labels), 14);
  });
});

describe('symmetric eigen-solver', () => {
  it('hand cases', () => {
    const { values, vectors } = symmetricEigen([2, 1, 1, 2], 2);
    expect(values[0]).toBeCloseTo(1, 14);
    expect(values[1]).toBeCloseTo(3, 14);
    expect(Math.abs(vectors[0 * 2 + 1]!)).toBeCloseTo(Math.SQRT1_2, 14);
    // the sign rule: the largest-magnitude entry of the leading vector is positive
    const top = leadingEigenvector([-2, 0, 0, 0, 5, 1, 0, 1, 5], 3);
    expect(top.value).toBeCloseTo(6, 14);
    expect(top.vector[0]).toBeCloseTo(0, 14);
    expect(top.vector[1]).toBeCloseTo(Math.SQRT1_2, 14);
    expect(top.vector[2]).toBeCloseTo(Math.SQRT1_2, 14);
    const flipped = leadingEigenvector([1, -3, -3, 1], 2);
    expect(flipped.value).toBeCloseTo(4, 14);
    expect(flipped.vector[0]! > 0).toBe(true);
    expect(flipped.vector[1]).toBeCloseTo(-Math.SQRT1_2, 14);
    expect(Array.from(symmetricEigen([7], 1).values)).toEqual([7]);
  });

  it('decomposes a random symmetric matrix: M v = λ v, V orthonormal, λ ascending', () => {
    const n = 60;
    const R = new Rng(9).normals(n * n);
    const M = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) M[i * n + j] = (R[i * n + j]! + R[j * n + i]!) / 2;
    const { values, vectors } = symmetricEigen(M, n);
    let worst = 0;
    for (let k = 0; k < n; k++) {
      if (k > 0) expect(values[k]! >= values[k - 1]!).toBe(true);
      for (let i = 0; i < n; i++) {
        let mv = 0;
        for (let j = 0; j < n; j++) mv += M[i * n + j]! * vectors[j * n + k]!;
        worst = Math.max(worst, Math.abs(mv - values[k]! * vectors[i * n + k]!));
      }
      for (let l = 0; l <= k; l++) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += vectors[i * n + k]! * vectors[i * n + l]!;
        worst = Math.max(worst, Math.abs(dot - (k === l ? 1 : 0)));
      }
    }
    expect(worst).toBeLessThan(1e-12);
  });

  it("matches numpy's eigenvalues of the reference modularity matrices", () => {
    for (const c of ref.spectral) {
      const W = weightsOf(c.matrix);
      const B =
        c.kind === 'und'
          ? modularityMatrix(undirectedAbs(W, c.n, c.keep_diagonal), c.n, c.gamma)
          : directedModularityMatrix(bctDirected(W, c.n, c.keep_diagonal), c.n, c.gamma);
      const values = symmetricEigen(B, c.n).values;
      const scale = Math.abs(c.top_eigenvalues[0]!);
      c.top_eigenvalues.forEach((lambda, r) => expect(Math.abs(values[c.n - 1 - r]! - lambda) / scale, c.name).toBeLessThan(1e-12));
    }
  });
});

describe('spectral modularity (BCT modularity_und / modularity_dir)', () => {
  it('matches the NumPy port of BCT: Q to 1e-10, partitions up to relabelling', () => {
    // the script flags runs whose eigenproblem or fine-tuning had a near-tie that rounding
    // could flip; only their Q would be compared. The stored matrices have none.
    expect(ref.spectral.filter((c) => c.diagnostics.near_tie)).toEqual([]);
    expect(ref.spectral.map((c) => c.kind)).toContain('dir');
    for (const c of ref.spectral) {
      const W = weightsOf(c.matrix);
      const opts = { gamma: c.gamma, keepDiagonal: c.keep_diagonal };
      const r = c.kind === 'und' ? spectralModularityUnd(undirectedAbs(W, c.n, c.keep_diagonal), c.n, opts) : spectralModularityDir(W, c.n, opts);
      expect(Math.abs(r.q - c.Q), c.name).toBeLessThan(1e-10);
      if (!c.diagnostics.near_tie) expect(Array.from(r.labels), c.name).toEqual(c.labels);
    }
  });

  it("Newman's karate club value: 4 modules, Q = 0.419", () => {
    const c = ref.spectral.find((x) => x.name === 'karate_binary')!;
    const r = spectralModularityUnd(weightsOf(c.matrix), 34);
    expect(Math.max(...r.labels) + 1).toBe(4);
    expect(r.q).toBeCloseTo(0.419, 3); // Newman (2006) PNAS: four communities, Q = 0.419
  });

  it('keepDiagonal false equals zeroing the diagonal first; Wᵀ gives the same directed result', () => {
    const c = ref.spectral.find((x) => x.name === 'planted60')!;
    const W = weightsOf(c.matrix);
    const a = spectralModularityUnd(undirectedAbs(W, c.n, true), c.n, { keepDiagonal: false });
    const b = spectralModularityUnd(undirectedAbs(W, c.n, false), c.n);
    expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
    expect(a.q).toBe(b.q);
    const d = ref.spectral.find((x) => x.name === 'dir_planted50')!;
    const Wd = weightsOf(d.matrix);
    const fwd = spectralModularityDir(Wd, d.n);
    const back = spectralModularityDir(transpose(Wd, d.n), d.n);
    expect(Array.from(back.labels)).toEqual(Array.from(fwd.labels));
    expect(back.q).toBeCloseTo(fwd.q, 13);
  });

  it('recovers strong planted blocks at n = 150 and reports the Q of its labels', () => {
    const n = 150;
    const { W, blockOf } = plantedWeights(n, 5, 6, 12);
    const A = undirectedAbs(W, n, false);
    const r = spectralModularityUnd(A, n);
    expect(Array.from(r.labels)).toEqual(Array.from(canonicalLabels(blockOf)));
    expect(r.q).toBeCloseTo(weightedModularityQ(A, n, blockOf), 12);
    const rd = spectralModularityDir(W, n);
    expect(Array.from(rd.labels)).toEqual(Array.from(canonicalLabels(blockOf)));
  });

  it('edge cases and input checks', () => {
    expect(spectralModularityUnd(new Float64Array(9), 3)).toEqual({ labels: new Int32Array(3), q: 0 });
    expect(spectralModularityDir(new Float64Array(9), 3)).toEqual({ labels: new Int32Array(3), q: 0 });
    expect(() => spectralModularityUnd([0, 1, 2, 0], 2)).toThrow(/symmetric/);
    expect(() => spectralModularityUnd([0, -1, -1, 0], 2)).toThrow(/non-negative/);
    expect(() => spectralModularityUnd([0, 1, 1], 2)).toThrow(/entries/);
  });
});

describe('binary top-k % graphs', () => {
  it('fraction 0.10 is exactly the Q_cnm pipeline (thresholdTop10 + CNM)', () => {
    const n = 70;
    const { W } = plantedWeights(n, 4, 2, 5);
    const W32 = Float32Array.from(W);
    for (const w of [W, W32]) {
      const g = thresholdTop10(w, n);
      const cnm = greedyModularityCNM(g);
      const top = binaryTopKModularity(w, n, 0.1);
      expect(top.threshold).toBe(g.threshold);
      expect(edgeList(top.graph)).toEqual(edgeList(g));
      expect(Array.from(top.labels)).toEqual(Array.from(cnm));
      expect(top.q).toBe(modularityQ(g, cnm));
    }
  });

  it('matches numpy percentiles and networkx CNM at 5, 10 and 20 %', () => {
    expect(ref.topk.map((c) => c.fraction)).toEqual([0.05, 0.1, 0.2]);
    for (const c of ref.topk) {
      const top = binaryTopKModularity(weightsOf(c.matrix), c.n, c.fraction);
      expect(top.threshold).toBe(c.threshold);
      expect(top.edges).toBe(c.edges);
      expect(Math.abs(top.q - c.Q_cnm)).toBeLessThan(1e-12);
      expect(partitionKey(communitiesFromLabels(top.labels))).toBe(partitionKey(c.cnm_communities));
    }
  });

  it('refuses fractions outside (0, 1)', () => {
    expect(() => thresholdTopFraction([1, 2, 3, 4], 2, 0)).toThrow(/fraction/);
    expect(() => thresholdTopFraction([1, 2, 3, 4], 2, 1)).toThrow(/fraction/);
  });
});

describe('Q against degree-preserving rewired nulls', () => {
  it('normalisedModularity by hand', () => {
    // mean 0.3, sample sd sqrt((0.01 + 0 + 0.01) / 2) = 0.1
    const r = normalisedModularity(0.5, [0.2, 0.3, 0.4]);
    expect(r.mean).toBeCloseTo(0.3, 15);
    expect(r.sd).toBeCloseTo(0.1, 15);
    expect(r.qNorm).toBeCloseTo(5 / 3, 14);
    expect(r.z).toBeCloseTo(2, 13);
    expect(Number.isNaN(normalisedModularity(0.5, [0.25]).z)).toBe(true);
    expect(normalisedModularity(0.5, [0.25]).qNorm).toBe(2);
    expect(() => normalisedModularity(0.5, [])).toThrow();
  });

  it('rewiredNullQ is seeded, keeps degrees, and a planted graph beats its nulls', () => {
    const n = 80;
    const { W } = plantedWeights(n, 4, 3, 8);
    const g: Graph = thresholdTop10(W, n);
    const a = rewiredNullQ(g, 6, 42);
    expect(Array.from(rewiredNullQ(g, 6, 42))).toEqual(Array.from(a));
    expect(Array.from(rewiredNullQ(g, 6, 43))).not.toEqual(Array.from(a));
    // null k is the k-th fork of the 'maslov-sneppen' stream, as rewiredNull's graphs
    const rng = new Rng(42, 'maslov-sneppen');
    for (const k of [0, 5]) {
      const h = maslovSneppenRewire(g, rng.fork(k));
      expect(Array.from(degrees(h))).toEqual(Array.from(degrees(g)));
      expect(h.edgeCount).toBe(g.edgeCount);
      expect(edgeList(h)).not.toEqual(edgeList(g));
      expect(a[k]).toBe(modularityQ(h, greedyModularityCNM(h)));
    }
    const q = modularityQ(g, greedyModularityCNM(g));
    const norm = normalisedModularity(q, a);
    expect(norm.qNorm).toBeGreaterThan(1);
    expect(norm.z).toBeGreaterThan(2);
  });

  it('graphs without edges give Q = 0 nulls', () => {
    expect(Array.from(rewiredNullQ(graphFromEdges(5, []), 3, 1))).toEqual([0, 0, 0]);
  });
});

describe("every Q definition in a run's metrics", () => {
  it('analyzeNetwork records each definition as its own function computes it', () => {
    const n = 40;
    const rng = new Rng(21, 'metrics-q');
    const W = Float64Array.from({ length: n * n }, (_, k) => (Math.floor(k / n) % 4 === (k % n) % 4 ? 1.5 : 0.3) * rng.normal());
    const m = analyzeNetwork(W, n, { seed: 3, nNull: 10, nMatched: 8 });
    expect(m.Q_weighted).toBe(spectralModularityUnd(undirectedAbs(W, n, true), n).q);
    expect(m.Q_weighted_offdiag).toBe(spectralModularityUnd(undirectedAbs(W, n, false), n).q);
    expect(m.Q_directed).toBe(spectralModularityDir(W, n).q);
    expect(m.Q_top5).toBe(binaryTopKModularity(W, n, 0.05).q);
    expect(m.Q_top20).toBe(binaryTopKModularity(W, n, 0.2).q);
    const nulls = normalisedModularity(m.Q_cnm, rewiredNullQ(thresholdTop10(W, n), 8, 3));
    expect(m.Q_cnm_norm).toBe(nulls.qNorm);
    expect(m.Q_cnm_z).toBe(nulls.z);
    expect(m.Q_cnm_z).toBeGreaterThan(0); // planted blocks beat their rewired nulls
  });
});

describe('Lanczos leading eigenpair (large communities)', () => {
  const symmetric = (n: number, seed: number) => {
    const R = new Rng(seed).normals(n * n);
    const M = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) M[i * n + j] = (R[i * n + j]! + R[j * n + i]!) / 2;
    return M;
  };

  it('agrees with the full decomposition: value, vector and sign rule', () => {
    for (const [n, seed] of [
      [3, 1],
      [40, 2],
      [150, 3],
    ] as const) {
      const M = symmetric(n, seed);
      const full = leadingEigenvector(M, n);
      const lz = lanczosLeading(M, n)!;
      expect(lz, `n = ${n}`).not.toBeNull();
      expect(Math.abs(lz.value - full.value)).toBeLessThan(1e-11 * Math.abs(full.value));
      for (let i = 0; i < n; i++) expect(Math.abs(lz.vector[i]! - full.vector[i]!), `n = ${n}, entry ${i}`).toBeLessThan(1e-9);
      expect(lz.residual).toBeLessThan(1e-10);
    }
    // the hand case above: a diagonal-dominant 3 x 3 with the leading vector (0, 1, 1)/√2
    const top = lanczosLeading([-2, 0, 0, 0, 5, 1, 0, 1, 5], 3)!;
    expect(top.value).toBeCloseTo(6, 12);
    expect(top.vector[1]).toBeCloseTo(Math.SQRT1_2, 12);
  });

  it('says when it does not converge, so the caller falls back', () => {
    expect(lanczosLeading(symmetric(200, 4), 200, { maxSteps: 3 })).toBeNull();
  });

  it('gives the same spectral partition as the full decomposition on a modular network of 600', () => {
    const n = 600;
    const rng = new Rng(5, 'lanczos-partition');
    const W = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) if (i !== j && rng.uniformIn(0, 1) < 0.2) W[i * n + j] = Math.abs(rng.normal()) * (i % 5 === j % 5 ? 1.6 : 1);
    const A = undirectedAbs(W, n, true);
    const full = spectralModularityUnd(A, n, { eigensolver: 'full' });
    const lz = spectralModularityUnd(A, n, { eigensolver: 'lanczos' });
    const auto = spectralModularityUnd(A, n);
    expect(Math.max(...full.labels)).toBeGreaterThan(1);
    expect(Array.from(lz.labels)).toEqual(Array.from(full.labels));
    expect(Array.from(auto.labels)).toEqual(Array.from(full.labels));
    expect(Math.abs(lz.q - full.q)).toBeLessThan(1e-12);
    expect(n).toBeGreaterThan(LANCZOS_FROM); // 'auto' took the Lanczos path here
    const dir = spectralModularityDir(W, n, { eigensolver: 'lanczos' });
    expect(Array.from(dir.labels)).toEqual(Array.from(spectralModularityDir(W, n, { eigensolver: 'full' }).labels));
    // nodes without edges: their eigenvector entries are exactly 0, so they stay on one side
    // (one module), while the rest is split as the full decomposition splits it
    const isolated = (i: number) => i % 50 === 7;
    const Wi = W.map((w, k) => (isolated(Math.floor(k / n)) || isolated(k % n) ? 0 : w));
    const Ai = undirectedAbs(Wi, n, true);
    const li = spectralModularityUnd(Ai, n, { eigensolver: 'lanczos' });
    const fi = spectralModularityUnd(Ai, n, { eigensolver: 'full' });
    expect(Math.abs(li.q - fi.q)).toBeLessThan(1e-12);
    expect(new Set(Array.from(li.labels).filter((_, i) => isolated(i))).size).toBe(1);
    // the same partition of the connected nodes: each Lanczos module is one full-solver module, and back
    const forward = new Map<number, number>();
    const backward = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      if (isolated(i)) continue;
      const [a, b] = [li.labels[i]!, fi.labels[i]!];
      expect(forward.get(a) ?? b, `node ${i}`).toBe(b);
      expect(backward.get(b) ?? a, `node ${i}`).toBe(a);
      forward.set(a, b);
      backward.set(b, a);
    }
  }, 120_000);
});
