/**
 * Graph, modularity, small-world, entropy and accuracy metrics against networkx 2.8.8 /
 * scipy 1.10 values (tests/fixtures/analysis/graphs.json, written by make_refs.py) and
 * against hand-computed and closed-form values.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Rng } from '../engine/rng.ts';
import {
  accuracyAtMask,
  analyzeNetwork,
  averageClustering,
  communitiesFromLabels,
  degreeAssortativity,
  degrees,
  density,
  edgeList,
  finalAccuracy,
  gaussianKde,
  globalEfficiency,
  type Graph,
  graphFromAdjacency,
  graphFromEdges,
  greedyModularityCNM,
  kdeEntropyBits,
  lastStepAccuracy,
  louvain,
  maslovSneppenRewire,
  meanPathLength,
  modularityQ,
  paperNull,
  paperNullGraph,
  percentileLinear,
  popcount32,
  ringLattice,
  rowwiseEntropyBits,
  RunningAccuracy,
  scottBandwidth,
  smallWorldPropensity,
  smallWorldSigma,
  thresholdTop10,
} from '../analysis/index.ts';

interface GraphRef {
  name: string;
  n: number;
  edges: Array<[number, number]>;
  degrees: number[];
  fixed_labels: number[];
  Q_fixed: number;
  cnm_communities: number[][];
  Q_cnm: number;
  Q_louvain_nx_seed0: number;
  assortativity: number;
  average_clustering: number;
  global_efficiency: number;
  mean_path_length_connected: number;
  density: number;
}
interface WeightRef extends GraphRef {
  W_f32_b64: string;
  p90: number;
  entropy_kde_bits: number;
  kde_bandwidth: number;
  entropy_rowwise_bits: number;
  entropy_rowwise_first5: number[];
}

const ref = JSON.parse(readFileSync(new URL('./fixtures/analysis/graphs.json', import.meta.url), 'utf8')) as {
  weights: WeightRef[];
  graphs: GraphRef[];
};

function weightsOf(c: WeightRef): Float32Array {
  const buf = Buffer.from(c.W_f32_b64, 'base64');
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

/** Every reference graph: thresholded weight matrices and the explicit graphs. */
const cases: Array<{ ref: GraphRef; graph: Graph }> = [
  ...ref.weights.map((c) => ({ ref: c as GraphRef, graph: thresholdTop10(weightsOf(c), c.n) as Graph })),
  ...ref.graphs.map((c) => ({ ref: c, graph: graphFromEdges(c.n, c.edges) })),
];

function partitionKey(communities: number[][]): string {
  return communities
    .map((c) => [...c].sort((a, b) => a - b).join(','))
    .sort()
    .join('|');
}

describe('thresholding', () => {
  it('percentile matches numpy linear interpolation (hand values)', () => {
    // h = 3·0.9 = 2.7 → 3 + 0.7·(4 − 3)
    expect(percentileLinear([4, 1, 3, 2], 90)).toBeCloseTo(3.7, 15);
    expect(percentileLinear([5, 1], 50)).toBe(3);
    expect(percentileLinear([7, 3, 9], 100)).toBe(9);
    expect(percentileLinear([7, 3, 9], 0)).toBe(3);
  });

  it('keeps |W| strictly above p90, symmetrised by OR, without self-loops (hand example)', () => {
    // |W| = 1..9, p90 = 8 + 0.2·(9 − 8) = 8.2: only |−9| at W[2][0] (from 0 to 2) survives
    const W = Float64Array.from([1, 2, 3, 4, 5, 6, -9, 8, 7]);
    const g = thresholdTop10(W, 3);
    expect(g.threshold).toBeCloseTo(8.2, 14);
    expect(edgeList(g)).toEqual([[0, 2]]);
    // the largest entry on the diagonal gives no edge
    const D = Float64Array.from([9, 2, 3, 4, 5, 6, 1, 8, 7]);
    expect(edgeList(thresholdTop10(D, 3))).toEqual([]);
  });

  it('matches numpy/networkx on the reference weight matrices', () => {
    for (const c of ref.weights) {
      const g = thresholdTop10(weightsOf(c), c.n);
      expect(g.threshold).toBe(c.p90);
      expect(edgeList(g)).toEqual(c.edges);
      expect(Array.from(degrees(g))).toEqual(c.degrees);
      expect(density(g)).toBeCloseTo(c.density, 14);
    }
  });
});

describe('clustering, efficiency, path length, assortativity', () => {
  it('hand values on small graphs', () => {
    // path 0–1–2–3: ordered-pair distances 1,1,1,2,2,3 (twice) → E = 2(3 + 1 + 1/3)/12
    const path = graphFromEdges(4, [
      [0, 1],
      [1, 2],
      [2, 3],
    ]);
    expect(globalEfficiency(path)).toBeCloseTo((2 * (3 + 1 + 1 / 3)) / 12, 15);
    expect(meanPathLength(path)).toBeCloseTo((2 * (3 + 2 * 2 + 3)) / 12, 15);
    expect(averageClustering(path)).toBe(0);
    // triangle 0-1-2 with a pendant 3 on node 2: C = (1 + 1 + 1/3 + 0)/4
    const tri = graphFromEdges(4, [
      [0, 1],
      [1, 2],
      [0, 2],
      [2, 3],
    ]);
    expect(averageClustering(tri)).toBeCloseTo((1 + 1 + 1 / 3) / 4, 15);
    // complete graph K6
    const k6: Array<[number, number]> = [];
    for (let i = 0; i < 6; i++) for (let j = i + 1; j < 6; j++) k6.push([i, j]);
    expect(averageClustering(graphFromEdges(6, k6))).toBe(1);
    expect(globalEfficiency(graphFromEdges(6, k6))).toBe(1);
    // a star is perfectly disassortative
    expect(
      degreeAssortativity(
        graphFromEdges(5, [
          [0, 1],
          [0, 2],
          [0, 3],
          [0, 4],
        ]),
      ),
    ).toBeCloseTo(-1, 14);
  });

  it('popcount', () => {
    expect(popcount32(0)).toBe(0);
    expect(popcount32(0xffffffff)).toBe(32);
    expect(popcount32(0x80000001)).toBe(2);
    expect(popcount32(0x0f0f00f0)).toBe(12);
  });

  it('matches networkx on every reference graph', () => {
    let worst = 0;
    for (const { ref: r, graph } of cases) {
      const errs = [
        Math.abs(averageClustering(graph) - r.average_clustering),
        Math.abs(globalEfficiency(graph) - r.global_efficiency),
        Math.abs(meanPathLength(graph) - r.mean_path_length_connected),
        Math.abs(degreeAssortativity(graph) - r.assortativity),
      ];
      worst = Math.max(worst, ...errs);
    }
    expect(worst).toBeLessThan(1e-12);
  });
});

describe('modularity', () => {
  it('Q of a fixed partition matches networkx exactly (to rounding)', () => {
    for (const { ref: r, graph } of cases) expect(Math.abs(modularityQ(graph, r.fixed_labels) - r.Q_fixed)).toBeLessThan(1e-12);
  });

  it('Q by hand: two triangles joined by one edge', () => {
    // m = 7; each module has 3 inner edges and degree sum 7: Q = 2(3/7 − (7/14)²)
    const g = graphFromEdges(6, [
      [0, 1],
      [1, 2],
      [0, 2],
      [3, 4],
      [4, 5],
      [3, 5],
      [2, 3],
    ]);
    expect(modularityQ(g, [0, 0, 0, 1, 1, 1])).toBeCloseTo(2 * (3 / 7 - 0.25), 15);
    expect(Array.from(greedyModularityCNM(g))).toEqual([0, 0, 0, 1, 1, 1]);
  });

  it('CNM gives networkx greedy_modularity_communities partitions and Q', () => {
    for (const { ref: r, graph } of cases) {
      const labels = greedyModularityCNM(graph);
      expect(partitionKey(communitiesFromLabels(labels)), r.name).toBe(partitionKey(r.cnm_communities));
      expect(Math.abs(modularityQ(graph, labels) - r.Q_cnm)).toBeLessThan(1e-12);
    }
    // Zachary's karate club: CNM finds 3 modules with Q = 0.3807
    const karate = cases.find((c) => c.ref.name === 'karate')!;
    expect(modularityQ(karate.graph, greedyModularityCNM(karate.graph))).toBeCloseTo(0.3807, 4);
  });

  it('Louvain is seeded, gives a valid partition and reaches networkx-level Q', () => {
    for (const { ref: r, graph } of cases) {
      const qs = [0, 1, 2, 3, 4].map((s) => modularityQ(graph, louvain(graph, new Rng(s, 'louvain'))));
      expect(Math.max(...qs), r.name).toBeGreaterThan(r.Q_louvain_nx_seed0 - 0.005);
      for (const q of qs) expect(q, r.name).toBeGreaterThan(r.Q_louvain_nx_seed0 - 0.05);
    }
    const g = cases[1]!.graph;
    expect(Array.from(louvain(g, new Rng(9, 'l')))).toEqual(Array.from(louvain(g, new Rng(9, 'l'))));
  });
});

describe('entropy', () => {
  it('Scott bandwidth and KDE entropy match scipy gaussian_kde', () => {
    for (const c of ref.weights) {
      const W = weightsOf(c);
      expect(Math.abs(scottBandwidth(W) - c.kde_bandwidth)).toBeLessThan(1e-15);
      expect(Math.abs(kdeEntropyBits(W) - c.entropy_kde_bits)).toBeLessThan(1e-12);
    }
  });

  it('the KDE is a density (integrates to 1) and entropy is bounded by log2(100)', () => {
    const x = [-1, -0.5, 0, 0.2, 0.3, 2];
    const h = scottBandwidth(x);
    const grid = Array.from({ length: 4001 }, (_, k) => -6 + (k * 14) / 4000);
    const f = gaussianKde(x, grid, h);
    let integral = 0;
    for (let k = 1; k < grid.length; k++) integral += ((f[k]! + f[k - 1]!) / 2) * (grid[k]! - grid[k - 1]!);
    expect(integral).toBeCloseTo(1, 8);
    expect(kdeEntropyBits(x)).toBeLessThan(Math.log2(100));
    expect(kdeEntropyBits([0.5, 0.5, 0.5, 0.5])).toBe(0);
  });

  it('row-wise entropy matches numpy and log2(n) for uniform rows', () => {
    for (const c of ref.weights) {
      const r = rowwiseEntropyBits(weightsOf(c), c.n);
      expect(Math.abs(r.mean - c.entropy_rowwise_bits)).toBeLessThan(1e-12);
      c.entropy_rowwise_first5.forEach((h, i) => expect(r.perRow[i]).toBeCloseTo(h, 12));
    }
    const n = 8;
    const W = new Float64Array(n * n).fill(-0.25);
    expect(rowwiseEntropyBits(W, n).mean).toBeCloseTo(3, 14);
  });
});

describe('null graphs and small-world indices', () => {
  it('the paper null is (U + Uᵀ)/2 > 0.7 on the rng stream, row-major', () => {
    const n = 30;
    const rng = new Rng(3, 'u');
    const U = Array.from({ length: n * n }, () => rng.uniform());
    const g = paperNullGraph(n, new Rng(3, 'u'));
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const want = i !== j && (U[i * n + j]! + U[j * n + i]!) / 2 > 0.7 ? 1 : 0;
        expect(g.adj[i * n + j]).toBe(want);
      }
    }
  });

  it('paper null: density 0.18, C ≈ p and E ≈ p + (1 − p)/2 as for a dense Erdős–Rényi graph', () => {
    const nm = paperNull(200, 40, 7);
    expect(nm.density).toBeGreaterThan(0.177);
    expect(nm.density).toBeLessThan(0.183);
    expect(Math.abs(nm.clustering - nm.density)).toBeLessThan(0.003);
    // almost every non-adjacent pair is at distance 2 at this density
    expect(Math.abs(nm.efficiency - (nm.density + (1 - nm.density) / 2))).toBeLessThan(0.002);
    // the means are over consecutive graphs of one seeded stream
    const rng = new Rng(7, 'paper-null');
    let cSum = 0;
    let eSum = 0;
    for (let k = 0; k < 5; k++) {
      const g = paperNullGraph(50, rng);
      cSum += averageClustering(g);
      eSum += globalEfficiency(g);
    }
    const small = paperNull(50, 5, 7);
    expect(small.clustering).toBeCloseTo(cSum / 5, 15);
    expect(small.efficiency).toBeCloseTo(eSum / 5, 15);
    expect(paperNull(50, 5, 7)).toEqual(small); // memoised copy
    expect(paperNull(50, 5, 7).clustering).not.toBe(paperNull(50, 5, 8).clustering);
  });

  it('Maslov–Sneppen rewiring keeps every degree and changes most edges', () => {
    const g = cases[1]!.graph;
    const r = maslovSneppenRewire(g, new Rng(1, 'ms'), 10);
    expect(Array.from(degrees(r))).toEqual(Array.from(degrees(g)));
    expect(r.edgeCount).toBe(g.edgeCount);
    graphFromAdjacency(r.adj, r.n); // checks symmetry and no self-loops
    let kept = 0;
    for (const [u, v] of edgeList(g)) kept += r.adj[u * g.n + v]!;
    expect(kept / g.edgeCount).toBeLessThan(0.4);
  });

  it('ring lattice: exact edge count and the closed forms for C and L', () => {
    // k-regular ring lattice (k even): C = 3(k − 2) / (4(k − 1)); d(i, i+s) = ceil(min(s, n−s) / (k/2))
    for (const [n, k] of [
      [20, 4],
      [30, 6],
      [41, 8],
    ] as const) {
      const g = ringLattice(n, (n * k) / 2);
      expect(g.edgeCount).toBe((n * k) / 2);
      expect(averageClustering(g)).toBeCloseTo((3 * (k - 2)) / (4 * (k - 1)), 14);
      let sum = 0;
      for (let s = 1; s < n; s++) sum += Math.ceil(Math.min(s, n - s) / (k / 2));
      expect(meanPathLength(g)).toBeCloseTo(sum / (n - 1), 14);
    }
    // partial last layer: 45 edges on 20 nodes = 20 at distance 1, 20 at 2, 5 at 3
    const p = ringLattice(20, 45);
    expect(p.edgeCount).toBe(45);
    const byDistance = [0, 0, 0, 0];
    for (const [u, v] of edgeList(p)) byDistance[Math.min(v - u, 20 - (v - u))]!++;
    expect(byDistance).toEqual([0, 20, 20, 5]);
  });

  it('σ formula and small-world propensity of a lattice, a Watts–Strogatz and a random graph', () => {
    expect(smallWorldSigma(0.3, 0.6, 0.15, 0.5)).toBeCloseTo((0.3 / 0.15) * (0.6 / 0.5), 15);
    const n = 200;
    const k = 10;
    const lattice = ringLattice(n, (n * k) / 2);
    // a lattice is its own lattice reference: ΔC = 0, ΔL = 1 → φ = 1 − √½
    const sl = smallWorldPropensity(lattice, { seed: 1, nRandom: 5 });
    expect(sl.deltaC).toBe(0);
    expect(sl.deltaL).toBe(1);
    expect(sl.phi).toBeCloseTo(1 - Math.SQRT1_2, 15);
    // Watts–Strogatz: rewire each lattice edge's far end with probability 0.05
    const rng = new Rng(2, 'ws');
    const adj = Uint8Array.from(lattice.adj);
    for (const [u, v] of edgeList(lattice)) {
      if (rng.uniform() >= 0.05) continue;
      const w = rng.int(n);
      if (w === u || adj[u * n + w]) continue;
      adj[u * n + v] = adj[v * n + u] = 0;
      adj[u * n + w] = adj[w * n + u] = 1;
    }
    const ws = smallWorldPropensity(graphFromAdjacency(adj, n), { seed: 1, nRandom: 5 });
    expect(ws.phi).toBeGreaterThan(0.7);
    // an Erdős–Rényi graph looks like its random reference: ΔC ≈ 1, ΔL ≈ 0
    const er = smallWorldPropensity(paperNullGraph(n, new Rng(4, 'er')), { seed: 1, nRandom: 5 });
    expect(er.deltaC).toBeGreaterThan(0.9);
    expect(er.deltaL).toBeLessThan(0.1);
    expect(er.phi).toBeLessThan(0.4);
  });
});

describe('accuracy', () => {
  // T = 2, B = 3, C = 3; predictions by construction (the 5 marks the predicted class)
  const pred = [
    [0, 2, 1],
    [1, 2, 0],
  ];
  const logits = new Float64Array(2 * 3 * 3);
  pred.forEach((row, t) => row.forEach((c, b) => (logits[(t * 3 + b) * 3 + c] = 5)));

  it('scores masked steps against per-trial or per-step labels', () => {
    const labels = [0, 2, 2];
    // scored: t=1 only → predictions 1,2,0 vs 0,2,2 → 1 of 3
    const r = accuracyAtMask(logits, labels, [0, 0, 0, 1, 1, 1], { T: 2, B: 3, C: 3 });
    expect(r).toEqual({ correct: 1, total: 3, accuracy: 1 / 3 });
    // all steps, per-step labels equal to the predictions except one
    const perStep = [0, 2, 1, 1, 2, 2];
    expect(accuracyAtMask(logits, perStep, [1, 1, 1, 1, 1, 1], { T: 2, B: 3, C: 3 }).correct).toBe(5);
    expect(finalAccuracy(logits.subarray(9), [1, 0, 0], 3)).toEqual({ correct: 2, total: 3, accuracy: 2 / 3 });
    expect(lastStepAccuracy(logits, [1, 0, 0], { T: 2, B: 3, C: 3 }).correct).toBe(2);
  });

  it('running accuracy pools counts over the epoch', () => {
    const run = new RunningAccuracy();
    run.add({ correct: 9, total: 10 });
    run.add({ correct: 1, total: 30 });
    expect(run.accuracy).toBe(10 / 40); // not the mean of 0.9 and 1/30
    run.reset();
    expect(run.accuracy).toBeNaN();
  });
});

describe('analyzeNetwork', () => {
  it('N = 312 with 1,000 paper nulls: all metrics, reference values, timing', () => {
    const c = ref.weights.find((w) => w.n === 312)!;
    const W = weightsOf(c);
    const positions = new Float64Array(312 * 3).map((_, k) => (k * 0.37) % 1);
    const t0 = performance.now();
    const m = analyzeNetwork(W, 312, { seed: 1, nNull: 1000, positions });
    const ms = performance.now() - t0;
    console.log(`analyzeNetwork N=312, nNull=1000, nMatched=50: ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(20000);
    expect(m.density).toBeCloseTo(c.density, 14);
    expect(Math.abs(m.Q_cnm - c.Q_cnm)).toBeLessThan(1e-12);
    expect(partitionKey(communitiesFromLabels(m.communities))).toBe(partitionKey(c.cnm_communities));
    expect(m.Q_louvain).toBeGreaterThan(c.Q_louvain_nx_seed0 - 0.05);
    expect(Math.abs(m.assortativity - c.assortativity)).toBeLessThan(1e-12);
    expect(Math.abs(m.clustering - c.average_clustering)).toBeLessThan(1e-12);
    expect(Math.abs(m.efficiency - c.global_efficiency)).toBeLessThan(1e-12);
    expect(Math.abs(m.entropy_kde_bits - c.entropy_kde_bits)).toBeLessThan(1e-12);
    expect(Math.abs(m.entropy_rowwise_bits - c.entropy_rowwise_bits)).toBeLessThan(1e-12);
    expect(m.null_paper.count).toBe(1000);
    expect(Math.abs(m.null_paper.density - 0.18)).toBeLessThan(0.002);
    expect(m.sigma_paper).toBeCloseTo((m.clustering / m.null_paper.clustering) * (m.efficiency / m.null_paper.efficiency), 14);
    expect(m.sigma_matched).toBeCloseTo((m.clustering / m.null_matched.clustering) * (m.efficiency / m.null_matched.efficiency), 14);
    // the rewired null keeps the density exactly
    expect(m.null_matched.density).toBeCloseTo(m.density, 14);
    expect(m.swp).toBeGreaterThan(0);
    expect(m.swp).toBeLessThanOrEqual(1);
    expect(m.wiring_cost).toBeGreaterThan(0);
    expect(m.communities).toHaveLength(312);
    expect(JSON.parse(JSON.stringify(m))).toEqual(m);
  }, 30000);

  it('an all-zero matrix gives an empty graph without crashing', () => {
    const m = analyzeNetwork(new Float64Array(16 * 16), 16, { seed: 1, nNull: 3, nMatched: 2 });
    expect(m.edges).toBe(0);
    expect(m.Q_cnm).toBe(0);
    expect(m.n_modules_cnm).toBe(16);
    expect(m.swp).toBeNaN();
  });

  it('is reproducible for a seed', () => {
    const c = ref.weights.find((w) => w.n === 80)!;
    const W = weightsOf(c);
    const a = analyzeNetwork(W, 80, { seed: 3, nNull: 20, nMatched: 5 });
    const b = analyzeNetwork(W, 80, { seed: 3, nNull: 20, nMatched: 5 });
    expect(a).toEqual(b);
    expect(analyzeNetwork(W, 80, { seed: 4, nNull: 20, nMatched: 5 }).sigma_paper).not.toBe(a.sigma_paper);
  });
});
