/**
 * Community structure of binary undirected graphs: Newman's modularity Q of a partition,
 * Clauset–Newman–Moore greedy agglomeration (as networkx `greedy_modularity_communities`)
 * and Louvain (Blondel et al. 2008), seeded. A partition is an Int32Array of module labels,
 * one per node.
 */
import { Rng } from '../engine/rng.ts';
import type { Graph } from './graph.ts';

/**
 * Newman's modularity of a partition (resolution γ = 1):
 *   Q = Σ_c [ L_c / m − (d_c / 2m)² ],
 * with m the number of edges, L_c the number of edges inside module c and d_c the sum of the
 * degrees of its nodes (networkx `modularity`). Q = 0 for a graph without edges.
 */
export function modularityQ(g: Graph, labels: ArrayLike<number>): number {
  const m = g.edgeCount;
  if (m === 0) return 0;
  const inside = new Map<number, number>();
  const degreeSum = new Map<number, number>();
  for (let u = 0; u < g.n; u++) {
    const cu = labels[u]!;
    const nb = g.neighbors[u]!;
    degreeSum.set(cu, (degreeSum.get(cu) ?? 0) + nb.length);
    for (const v of nb) if (u < v && labels[v] === cu) inside.set(cu, (inside.get(cu) ?? 0) + 1);
  }
  let q = 0;
  for (const [c, d] of degreeSum) q += (inside.get(c) ?? 0) / m - (d / (2 * m)) ** 2;
  return q;
}

/**
 * Relabels a partition to 0..K−1 with modules ordered by size (largest first), ties by their
 * smallest node. Makes labels comparable across methods and runs.
 */
export function canonicalLabels(labels: ArrayLike<number>): Int32Array {
  const members = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i]!;
    let list = members.get(c);
    if (!list) members.set(c, (list = []));
    list.push(i);
  }
  const groups = [...members.values()].sort((a, b) => b.length - a.length || a[0]! - b[0]!);
  const out = new Int32Array(labels.length);
  groups.forEach((nodes, k) => {
    for (const i of nodes) out[i] = k;
  });
  return out;
}

/** Lists of nodes per module, in label order. */
export function communitiesFromLabels(labels: ArrayLike<number>): number[][] {
  const canon = canonicalLabels(labels);
  const out: number[][] = [];
  for (let i = 0; i < canon.length; i++) (out[canon[i]!] ??= []).push(i);
  return out;
}

/**
 * Clauset–Newman–Moore greedy modularity maximisation, following networkx
 * `greedy_modularity_communities` (resolution 1, no cutoff). Every node starts alone; with
 * e_uv = 1/m for an edge and a_u = k_u / 2m, the gain of joining communities u and v is
 *   ΔQ_uv = e_uv·[u,v linked] − 2 a_u a_v      (initially e_uv = 1/m, i.e. ΔQ = 1/m − 2 a_u a_v)
 * and after merging u into v the gains are updated as in CNM (eq. 10a–c):
 *   ΔQ_vw ← ΔQ_uw + ΔQ_vw (w linked to both), ΔQ_vw − 2 a_u a_w (only to v), ΔQ_uw − 2 a_v a_w
 *   (only to u); a_v ← a_v + a_u.
 * Each step merges the linked pair with the largest ΔQ; merging stops at the first pair with
 * ΔQ < 0 (ΔQ = 0 still merges), or when no linked pair is left. Ties are broken like
 * networkx's heaps: the pair (u, v) with the smallest u, then the smallest v, and u is merged
 * into v. The arithmetic is done in the same order as networkx, so partitions match it
 * exactly on our reference graphs. Returns canonical labels.
 */
export function greedyModularityCNM(g: Graph): Int32Array {
  const n = g.n;
  const m = g.edgeCount;
  const labelOf = new Int32Array(n);
  for (let i = 0; i < n; i++) labelOf[i] = i;
  if (m === 0) return canonicalLabels(labelOf);
  const q0 = 1 / m;
  const a = new Float64Array(n);
  for (let u = 0; u < n; u++) a[u] = g.neighbors[u]!.length * q0 * 0.5;
  // dq[u] maps each neighbouring community v to ΔQ_uv; rows are kept exactly symmetric.
  const dq: Array<Map<number, number>> = [];
  for (let u = 0; u < n; u++) {
    const row = new Map<number, number>();
    for (const v of g.neighbors[u]!) row.set(v, q0 * 1 - (a[u]! * a[v]! + a[u]! * a[v]!));
    dq.push(row);
  }
  // Best entry of each row: largest ΔQ, ties to the smallest column. -1 when the row is empty.
  const bestCol = new Int32Array(n).fill(-1);
  const bestVal = new Float64Array(n).fill(-Infinity);
  const rescan = (u: number) => {
    let bc = -1;
    let bv = -Infinity;
    for (const [v, x] of dq[u]!)
      if (x > bv || (x === bv && v < bc)) {
        bv = x;
        bc = v;
      }
    bestCol[u] = bc;
    bestVal[u] = bv;
  };
  // Writes dq[row][col] = x and keeps the row's best entry current.
  const setEntry = (row: number, col: number, x: number) => {
    dq[row]!.set(col, x);
    if (x > bestVal[row]! || (x === bestVal[row]! && col < bestCol[row]!) || bestCol[row] === -1) {
      bestVal[row] = x;
      bestCol[row] = col;
    } else if (bestCol[row] === col) {
      rescan(row); // the best entry got worse
    }
  };
  const deleteEntry = (row: number, col: number) => {
    dq[row]!.delete(col);
    if (bestCol[row] === col) rescan(row);
  };
  for (let u = 0; u < n; u++) rescan(u);
  const members: number[][] = [];
  for (let i = 0; i < n; i++) members.push([i]);

  for (;;) {
    // the best pair over all rows: largest ΔQ, then smallest row, then smallest column
    let u = -1;
    for (let r = 0; r < n; r++) if (bestCol[r]! >= 0 && (u === -1 || bestVal[r]! > bestVal[u]!)) u = r;
    if (u === -1) break;
    const v = bestCol[u]!;
    if (bestVal[u]! < 0) break;
    // merge community u into v
    const rowU = dq[u]!;
    const rowV = dq[v]!;
    const neighboursOfMerged = new Set<number>([...rowU.keys(), ...rowV.keys()]);
    neighboursOfMerged.delete(u);
    neighboursOfMerged.delete(v);
    for (const w of [...neighboursOfMerged].sort((x, y) => x - y)) {
      const inU = rowU.has(w);
      const inV = rowV.has(w);
      let x: number;
      if (inU && inV) x = rowV.get(w)! + rowU.get(w)!;
      else if (inV) x = rowV.get(w)! - (a[u]! * a[w]! + a[w]! * a[u]!);
      else x = rowU.get(w)! - (a[v]! * a[w]! + a[w]! * a[v]!);
      setEntry(v, w, x);
      setEntry(w, v, x);
    }
    for (const w of rowU.keys()) if (w !== v) deleteEntry(w, u);
    deleteEntry(v, u);
    dq[u] = new Map();
    bestCol[u] = -1;
    bestVal[u] = -Infinity;
    a[v]! += a[u]!;
    a[u] = 0;
    for (const i of members[u]!) members[v]!.push(i);
    members[u] = [];
  }
  for (let c = 0; c < n; c++) for (const i of members[c]!) labelOf[i] = c;
  return canonicalLabels(labelOf);
}

/**
 * Louvain modularity maximisation (Blondel et al. 2008), resolution 1. Phase 1 moves single
 * nodes, in a random order drawn from `rng`, to the neighbouring module with the largest gain
 *   ΔQ(i → c) ∝ k_{i,c} − k_i Σ_c / (2m)
 * (k_{i,c}: weight from i into c, Σ_c: total degree of c), until a full sweep moves nothing;
 * phase 2 collapses modules into weighted super-nodes (self-loops keep inner weight); both
 * repeat while Q grows by more than `threshold` (1e-7, as networkx). Returns canonical labels.
 */
export function louvain(g: Graph, rng: Rng, threshold = 1e-7): Int32Array {
  const n0 = g.n;
  const m2 = 2 * g.edgeCount; // 2m: total weight of all adjacency entries
  const nodeOf = new Int32Array(n0); // super-node of each original node
  for (let i = 0; i < n0; i++) nodeOf[i] = i;
  if (g.edgeCount === 0) return canonicalLabels(nodeOf);

  // current level as a weighted graph: adjacency lists with weights, self-loop weights
  let n = n0;
  let nbr: Int32Array[] = g.neighbors.map((x) => Int32Array.from(x));
  let wt: Float64Array[] = g.neighbors.map((x) => new Float64Array(x.length).fill(1));
  let self = new Float64Array(n); // A_ii of a super-node (each inner edge counted twice)
  let q = qOfLevel(n, nbr, wt, self, identityLabels(n), m2);

  for (;;) {
    const k = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = self[i]!;
      for (const x of wt[i]!) s += x;
      k[i] = s;
    }
    const comm = identityLabels(n);
    const tot = Float64Array.from(k);
    const toComm = new Float64Array(n);
    const touched: number[] = [];
    let movedAny = false;
    for (let improved = true; improved;) {
      improved = false;
      for (const i of rng.permutation(n)) {
        const ci = comm[i]!;
        // weights from i into each neighbouring module
        for (let e = 0; e < nbr[i]!.length; e++) {
          const c = comm[nbr[i]![e]!]!;
          if (toComm[c] === 0) touched.push(c);
          toComm[c]! += wt[i]![e]!;
        }
        tot[ci]! -= k[i]!;
        let best = ci;
        let bestGain = toComm[ci]! - (tot[ci]! * k[i]!) / m2;
        for (const c of touched) {
          const gain = toComm[c]! - (tot[c]! * k[i]!) / m2;
          if (gain > bestGain) {
            bestGain = gain;
            best = c;
          }
        }
        tot[best]! += k[i]!;
        if (best !== ci) {
          comm[i] = best;
          improved = true;
          movedAny = true;
        }
        for (const c of touched) toComm[c] = 0;
        toComm[ci] = 0;
        touched.length = 0;
      }
    }
    if (!movedAny) break;
    // phase 2: collapse modules into super-nodes
    const relabel = new Int32Array(n).fill(-1);
    let nNew = 0;
    for (let i = 0; i < n; i++) if (relabel[comm[i]!] === -1) relabel[comm[i]!] = nNew++;
    const newSelf = new Float64Array(nNew);
    const maps: Array<Map<number, number>> = Array.from({ length: nNew }, () => new Map());
    for (let i = 0; i < n; i++) {
      const ci = relabel[comm[i]!]!;
      newSelf[ci]! += self[i]!;
      for (let e = 0; e < nbr[i]!.length; e++) {
        const cj = relabel[comm[nbr[i]![e]!]!]!;
        if (cj === ci) newSelf[ci]! += wt[i]![e]!;
        else maps[ci]!.set(cj, (maps[ci]!.get(cj) ?? 0) + wt[i]![e]!);
      }
    }
    for (let i = 0; i < n0; i++) nodeOf[i] = relabel[comm[nodeOf[i]!]!]!;
    n = nNew;
    nbr = maps.map((mp) => Int32Array.from(mp.keys()));
    wt = maps.map((mp) => Float64Array.from(mp.values()));
    self = newSelf;
    const qNew = qOfLevel(n, nbr, wt, self, identityLabels(n), m2);
    if (qNew - q <= threshold) break;
    q = qNew;
  }
  return canonicalLabels(nodeOf);
}

function identityLabels(n: number): Int32Array {
  const l = new Int32Array(n);
  for (let i = 0; i < n; i++) l[i] = i;
  return l;
}

/** Q = Σ_c [ in_c / 2m − (tot_c / 2m)² ] on a weighted level (in_c counts both directions). */
function qOfLevel(n: number, nbr: Int32Array[], wt: Float64Array[], self: Float64Array, comm: Int32Array, m2: number): number {
  const inside = new Float64Array(n);
  const tot = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const c = comm[i]!;
    inside[c]! += self[i]!;
    tot[c]! += self[i]!;
    for (let e = 0; e < nbr[i]!.length; e++) {
      tot[c]! += wt[i]![e]!;
      if (comm[nbr[i]![e]!] === c) inside[c]! += wt[i]![e]!;
    }
  }
  let q = 0;
  for (let c = 0; c < n; c++) q += inside[c]! / m2 - (tot[c]! / m2) ** 2;
  return q;
}
