/**
 * Modularity Q options beyond the binary top-10 % graph: Newman's spectral method on the
 * weighted undirected and directed matrices (as the Brain Connectivity Toolbox's
 * modularity_und / modularity_dir), Q of a given weighted partition, binary top-k % graphs
 * for other k, and Q normalised against degree-preserving rewired nulls.
 *
 * Engine layout: W[i*n + j] is the weight from unit j to unit i (row = post, column = pre).
 * Every function here uses |W|.
 */
import { Rng } from '../engine/rng.ts';
import { type Graph, graphAbovePercentile } from './graph.ts';
import { canonicalLabels, greedyModularityCNM, modularityQ } from './modularity.ts';
import { maslovSneppenRewire } from './smallworld.ts';
import { lanczosLeading } from './lanczos.ts';

export interface SpectralModularityOptions {
  /** Resolution γ (default 1). */
  gamma?: number;
  /** Use the diagonal of the matrix as given (default true, as BCT); false treats it as 0. */
  keepDiagonal?: boolean;
  /**
   * How each community's leading eigenvector is found: 'full' decomposition (as BCT's eig),
   * 'lanczos' (analysis/lanczos.ts; the full one where it does not converge), or 'auto' (the
   * default): full up to LANCZOS_FROM nodes, so results at the imaging fields' sizes are
   * unchanged, and Lanczos above, where the O(n³) decomposition takes minutes (n = 2,115).
   */
  eigensolver?: 'auto' | 'full' | 'lanczos';
}

/** Communities of more nodes than this take their leading eigenvector from Lanczos under 'auto'. */
export const LANCZOS_FROM = 512;

export interface SpectralModularityResult {
  /** Module of each node, canonical (0 = largest module). */
  labels: Int32Array;
  /** Q of `labels` at the given γ. */
  q: number;
}

/** BCT's divisibility threshold on q = sᵀ B_g s. */
const SPLIT_THRESHOLD = 1e-10;

/**
 * The undirected matrix BCT's modularity_und would be given for abs(W):
 *   A_ij = (|W_ij| + |W_ji|) / 2,
 * exactly symmetric; the diagonal is |W_ii| or, with keepDiagonal false, 0.
 */
export function undirectedAbs(W: ArrayLike<number>, n: number, keepDiagonal: boolean): Float64Array {
  checkSize(W, n, 'undirectedAbs');
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    A[i * n + i] = keepDiagonal ? Math.abs(W[i * n + i]!) : 0;
    for (let j = i + 1; j < n; j++) {
      const x = (Math.abs(W[i * n + j]!) + Math.abs(W[j * n + i]!)) / 2;
      A[i * n + j] = x;
      A[j * n + i] = x;
    }
  }
  return A;
}

/**
 * Weighted modularity of a partition of a symmetric non-negative matrix A (Newman 2006):
 *   Q = (1/2m) Σ_ij (A_ij − γ k_i k_j / 2m) δ(c_i, c_j),  k_i = Σ_j A_ij,  2m = Σ_ij A_ij,
 * evaluated per module as Σ_c [ A_c / 2m − γ (K_c / 2m)² ] (A_c: Σ of A inside c, diagonal
 * included once; K_c: Σ of k over c). This is BCT's Q; networkx `modularity` equals it when
 * the diagonal is zero (networkx counts a self-loop twice in the degree). Q = 0 when 2m = 0.
 */
export function weightedModularityQ(A: ArrayLike<number>, n: number, labels: ArrayLike<number>, gamma = 1): number {
  checkSize(A, n, 'weightedModularityQ');
  checkLabels(labels, n, 'weightedModularityQ');
  const k = rowSums(A, n);
  let m2 = 0;
  for (let i = 0; i < n; i++) m2 += k[i]!;
  if (m2 === 0) return 0;
  const inside = new Map<number, number>();
  const strength = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const c = labels[i]!;
    strength.set(c, (strength.get(c) ?? 0) + k[i]!);
    let s = 0;
    for (let j = 0; j < n; j++) if (labels[j] === c) s += A[i * n + j]!;
    inside.set(c, (inside.get(c) ?? 0) + s);
  }
  let q = 0;
  for (const [c, K] of strength) q += inside.get(c)! / m2 - gamma * (K / m2) ** 2;
  return q;
}

/**
 * Directed modularity of a partition (Leicht & Newman 2008), A non-negative with A_ij the
 * weight of the edge i → j (BCT's convention):
 *   Q = (1/m) Σ_ij (A_ij − γ k_i^out k_j^in / m) δ(c_i, c_j),  m = Σ_ij A_ij,
 * evaluated per module as Σ_c [ A_c / m − γ K_c^out K_c^in / m² ]. Q is unchanged when A is
 * transposed (in- and out-strengths swap, δ is symmetric), so the engine's W[post*n + pre]
 * may be passed directly. Self-loops count once in both strengths, as in networkx's directed
 * `modularity`. Q = 0 when m = 0.
 */
export function directedModularityQ(A: ArrayLike<number>, n: number, labels: ArrayLike<number>, gamma = 1): number {
  checkSize(A, n, 'directedModularityQ');
  checkLabels(labels, n, 'directedModularityQ');
  const inside = new Map<number, number>();
  const outSum = new Map<number, number>();
  const inSum = new Map<number, number>();
  let m = 0;
  for (let i = 0; i < n; i++) {
    const ci = labels[i]!;
    for (let j = 0; j < n; j++) {
      const a = A[i * n + j]!;
      if (a === 0) continue;
      const cj = labels[j]!;
      m += a;
      outSum.set(ci, (outSum.get(ci) ?? 0) + a);
      inSum.set(cj, (inSum.get(cj) ?? 0) + a);
      if (ci === cj) inside.set(ci, (inside.get(ci) ?? 0) + a);
    }
  }
  if (m === 0) return 0;
  let q = 0;
  for (const c of new Set([...outSum.keys(), ...inSum.keys()])) {
    q += (inside.get(c) ?? 0) / m - (gamma * (outSum.get(c) ?? 0) * (inSum.get(c) ?? 0)) / (m * m);
  }
  return q;
}

/**
 * Newman's spectral modularity maximisation of a weighted undirected network, as BCT's
 * modularity_und.m (current version, history to Jan 2017; Newman 2006, PNAS 103:8577 and
 * PRE 74:036104):
 *   1. k = column sums of A (= row sums, A symmetric), 2m = Σ k, B = A − γ k kᵀ / 2m;
 *   2. recursive bisection (`spectralBisection`): split each community by the signs of the
 *      leading eigenvector of its modularity matrix, keep the split when q = sᵀB_g s >
 *      1e-10, fine-tune it by single-node moves, and recurse into both halves;
 *   3. Q = (1/2m) Σ_ij B_ij δ(c_i, c_j).
 * A must be exactly symmetric and non-negative: build it with `undirectedAbs(W, n, …)`.
 * Deviation: BCT divides by zero on an empty matrix; here it is one module with Q = 0.
 */
export function spectralModularityUnd(A: ArrayLike<number>, n: number, opts: SpectralModularityOptions = {}): SpectralModularityResult {
  const gamma = opts.gamma ?? 1;
  checkSize(A, n, 'spectralModularityUnd');
  const a = Float64Array.from(A);
  if (opts.keepDiagonal === false) for (let i = 0; i < n; i++) a[i * n + i] = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const x = a[i * n + j]!;
      if (!(x >= 0)) throw new Error(`spectralModularityUnd: A must be non-negative, A[${i}][${j}] = ${x}`);
      if (x !== a[j * n + i]) throw new Error(`spectralModularityUnd: A is not symmetric at (${i}, ${j}); use undirectedAbs`);
    }
  }
  const k = rowSums(a, n);
  let m2 = 0;
  for (let i = 0; i < n; i++) m2 += k[i]!;
  if (m2 === 0) return { labels: new Int32Array(n), q: 0 };
  // B = A − γ (k kᵀ) / 2m, in MATLAB's order of operations
  const B = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) B[i * n + j] = a[i * n + j]! - (gamma * (k[i]! * k[j]!)) / m2;
  const labels = canonicalLabels(spectralBisection(B, n, opts.eigensolver ?? 'auto'));
  return { labels, q: weightedModularityQ(a, n, labels, gamma) };
}

/**
 * Leicht & Newman's (2008, PRL 100:118703) directed spectral method, as BCT's
 * modularity_dir.m. BCT's A(i,j) is the weight of i → j; the engine stores that weight at
 * W[j*n + i], so A = |W|ᵀ:  A_ij = |W[j*n + i]|. Then
 *   k_in = column sums of A, k_out = row sums, m = Σ_ij A_ij,
 *   b_ij = A_ij − γ k_in,i k_out,j / m   (BCT's `A − gamma*(Ko*Ki).'/m`, transposed outer
 *        product; after symmetrising it is the same as the Leicht–Newman A_ij − γ k_out,i k_in,j / m),
 *   B = b + bᵀ, and the bisection of `spectralBisection` on B (its q is 2× the undirected one);
 *   Q = (1/2m) Σ_ij B_ij δ(c_i, c_j) = (1/m) Σ_ij (A_ij − γ k_out,i k_in,j / m) δ(c_i, c_j).
 * B, and so the result, is the same for W and Wᵀ up to rounding. keepDiagonal false zeroes
 * A_ii. Deviation: BCT's modularity_dir first permutes the nodes at random (randperm); this
 * keeps the given order (the identity permutation), which only matters for exact ties.
 */
export function spectralModularityDir(W: ArrayLike<number>, n: number, opts: SpectralModularityOptions = {}): SpectralModularityResult {
  const gamma = opts.gamma ?? 1;
  checkSize(W, n, 'spectralModularityDir');
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) A[i * n + j] = i === j && opts.keepDiagonal === false ? 0 : Math.abs(W[j * n + i]!);
  const kOut = rowSums(A, n);
  const kIn = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) kIn[j]! += A[i * n + j]!;
  let m = 0;
  for (let j = 0; j < n; j++) m += kIn[j]!;
  if (m === 0) return { labels: new Int32Array(n), q: 0 };
  const b = (i: number, j: number) => A[i * n + j]! - (gamma * (kOut[j]! * kIn[i]!)) / m;
  const B = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) B[i * n + j] = b(i, j) + b(j, i);
  const labels = canonicalLabels(spectralBisection(B, n, opts.eigensolver ?? 'auto'));
  return { labels, q: directedModularityQ(A, n, labels, gamma) };
}

/**
 * The recursive bisection shared by BCT's modularity_und.m and modularity_dir.m, step by step:
 *   U = [1]: a stack of communities to examine; every node starts in community 1.
 *   The first pass uses B itself; later passes the generalised matrix of community g,
 *     B_g = B[g, g] − diag(row sums of B[g, g])   (`Bg=bg-diag(sum(bg))`).
 *   s_i = −1 where the leading eigenvector of B_g is negative, else +1; q = sᵀ B_g s.
 *   q ≤ 1e-10: g is indivisible, pop it. Otherwise fine-tune s (`fineTuneSplit`); if all of
 *   s then has one sign, pop g; else nodes with s = +1 keep label g, those with s = −1 get a
 *   new label cn, which is pushed on top of the stack (examined next; g stays below it).
 * Returns BCT's 1-based labels; the partition does not depend on the eigenvector's sign.
 */
function spectralBisection(B: Float64Array, n: number, eigensolver: Eigensolver): Int32Array {
  const ci = new Int32Array(n).fill(1);
  let cn = 1;
  const stack = [1];
  let firstPass = true;
  while (stack.length > 0) {
    const g = stack[0]!;
    const members: number[] = [];
    for (let i = 0; i < n; i++) if (ci[i] === g) members.push(i);
    const bg = firstPass ? Float64Array.from(B) : generalisedModularityMatrix(B, n, members);
    firstPass = false;
    const s = splitCommunity(bg, members.length, eigensolver);
    if (s === null) {
      stack.shift();
      continue;
    }
    cn++;
    members.forEach((node, k) => {
      ci[node] = s[k] === 1 ? g : cn;
    });
    stack.unshift(cn);
  }
  return ci;
}

/** B_g = B[g, g] − diag(Σ_k B[g, g]_ik): the modularity matrix of splitting community g. */
function generalisedModularityMatrix(B: Float64Array, n: number, members: number[]): Float64Array {
  const ng = members.length;
  const bg = new Float64Array(ng * ng);
  for (let a = 0; a < ng; a++) for (let c = 0; c < ng; c++) bg[a * ng + c] = B[members[a]! * n + members[c]!]!;
  // column sums, as MATLAB's sum(bg); bg is symmetric
  const sums = new Float64Array(ng);
  for (let a = 0; a < ng; a++) for (let c = 0; c < ng; c++) sums[c]! += bg[a * ng + c]!;
  for (let a = 0; a < ng; a++) bg[a * ng + a]! -= sums[a]!;
  return bg;
}

/**
 * One bisection attempt on a community's modularity matrix bg (ng × ng, overwritten): the
 * ±1 split vector, or null when BCT leaves the community whole.
 */
function splitCommunity(bg: Float64Array, ng: number, eigensolver: Eigensolver): Float64Array | null {
  const v = leadingVector(bg, ng, eigensolver);
  const s = new Float64Array(ng);
  for (let i = 0; i < ng; i++) s[i] = v[i]! < 0 ? -1 : 1;
  const q = quadraticForm(bg, ng, s);
  if (!(q > SPLIT_THRESHOLD)) return null;
  // the diagonal adds the same Σ_i bg_ii to sᵀ bg s for every s, so the moves ignore it
  for (let i = 0; i < ng; i++) bg[i * ng + i] = 0;
  const best = fineTuneSplit(bg, ng, s, q);
  let sum = 0;
  for (let i = 0; i < ng; i++) sum += best[i]!;
  return Math.abs(sum) === ng ? null : best;
}

/**
 * BCT's fine-tuning (Newman 2006, "Kernighan–Lin" step; single moves as BCT since 2015):
 * every node is moved exactly once. With the current vector s and q_cur (q of the previous
 * state), each unmoved node i would give
 *   Q_i = q_cur − 4 s_i (B₀ s)_i        (B₀: bg with zero diagonal),
 * the node with the largest Q_i (the first one on ties, as MATLAB's max) is flipped even if
 * Q_i < q_cur, and q_cur ← Q_i. The state with the largest q met along the way, strictly
 * larger than the eigenvector split's q, is returned (that split itself if none is larger).
 */
function fineTuneSplit(b0: Float64Array, ng: number, s0: Float64Array, q0: number): Float64Array {
  const s = Float64Array.from(s0);
  let best = Float64Array.from(s0);
  let bestQ = q0;
  let qCur = q0;
  const moved = new Uint8Array(ng);
  for (let step = 0; step < ng; step++) {
    let iMax = -1;
    let qMax = -Infinity;
    for (let i = 0; i < ng; i++) {
      if (moved[i]) continue;
      let dot = 0;
      for (let j = 0; j < ng; j++) dot += b0[i * ng + j]! * s[j]!;
      const qi = qCur - 4 * s[i]! * dot;
      if (iMax === -1 || qi > qMax) {
        iMax = i;
        qMax = qi;
      }
    }
    s[iMax] = -s[iMax]!;
    moved[iMax] = 1;
    qCur = qMax;
    if (qCur > bestQ) {
      bestQ = qCur;
      best = Float64Array.from(s);
    }
  }
  return best;
}

type Eigensolver = NonNullable<SpectralModularityOptions['eigensolver']>;

/** The leading eigenvector by the chosen solver (see SpectralModularityOptions.eigensolver). */
function leadingVector(M: Float64Array, n: number, eigensolver: Eigensolver): Float64Array {
  const lanczos = eigensolver === 'lanczos' || (eigensolver === 'auto' && n > LANCZOS_FROM);
  const v = lanczos ? lanczosLeading(M, n)?.vector : undefined;
  if (!v) return leadingEigenvector(M, n).vector;
  // A node without edges has a zero row, so its entry is exactly 0 in the eigenvector; Lanczos
  // leaves rounding noise there, whose sign would pick its side at random. Zero it, as exact.
  for (let i = 0; i < n; i++) {
    let empty = true;
    for (let j = 0; j < n && empty; j++) empty = M[i * n + j] === 0;
    if (empty) v[i] = 0;
  }
  return v;
}

/** sᵀ M s for an ng × ng matrix. */
function quadraticForm(M: Float64Array, ng: number, s: Float64Array): number {
  let q = 0;
  for (let i = 0; i < ng; i++) {
    let row = 0;
    for (let j = 0; j < ng; j++) row += M[i * ng + j]! * s[j]!;
    q += s[i]! * row;
  }
  return q;
}

/**
 * The largest eigenvalue of a real symmetric n × n matrix M (row-major) and a unit
 * eigenvector, from the full decomposition `symmetricEigen` (deterministic: Householder
 * tridiagonalisation and implicit QL, no random start). On an exact tie of the largest
 * eigenvalue the first in ascending order is taken, as MATLAB's max over eig's output.
 * Sign rule: the entry of largest magnitude (the first such on ties) is positive.
 */
export function leadingEigenvector(M: ArrayLike<number>, n: number): { value: number; vector: Float64Array } {
  const { values, vectors } = symmetricEigen(M, n);
  let top = 0;
  for (let k = 1; k < n; k++) if (values[k]! > values[top]!) top = k;
  const vector = new Float64Array(n);
  let big = 0;
  for (let i = 0; i < n; i++) {
    vector[i] = vectors[i * n + top]!;
    if (Math.abs(vector[i]!) > Math.abs(vector[big]!)) big = i;
  }
  if (vector[big]! < 0) for (let i = 0; i < n; i++) vector[i] = -vector[i]!;
  return { value: values[top]!, vector };
}

/**
 * All eigenpairs of a real symmetric n × n matrix (only the lower triangle is read):
 * values ascending, vectors[i*n + k] = entry i of the unit eigenvector of values[k].
 * Householder reduction to tridiagonal form and the implicit QL algorithm (the EISPACK
 * tred2 / tql2 routines, as in JAMA), O(n³).
 */
export function symmetricEigen(M: ArrayLike<number>, n: number): { values: Float64Array; vectors: Float64Array } {
  checkSize(M, n, 'symmetricEigen');
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) V[i * n + j] = V[j * n + i] = M[i * n + j]!;
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  if (n === 0) return { values: d, vectors: V };
  tridiagonalise(V, n, d, e);
  tridiagonalQL(V, n, d, e);
  return { values: d, vectors: V };
}

/**
 * EISPACK tred2: Householder reduction of the symmetric matrix in V to tridiagonal form,
 * diagonal in d and subdiagonal in e[1..n−1]; V is replaced by the orthogonal transform.
 */
function tridiagonalise(V: Float64Array, n: number, d: Float64Array, e: Float64Array): void {
  for (let j = 0; j < n; j++) d[j] = V[(n - 1) * n + j]!;
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]!);
    if (scale === 0) {
      e[i] = d[i - 1]!;
      for (let j = 0; j < i; j++) {
        d[j] = V[(i - 1) * n + j]!;
        V[i * n + j] = 0;
        V[j * n + i] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k]! /= scale;
        h += d[k]! * d[k]!;
      }
      let f = d[i - 1]!;
      let g = f > 0 ? -Math.sqrt(h) : Math.sqrt(h);
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        V[j * n + i] = f;
        g = e[j]! + V[j * n + j]! * f;
        for (let k = j + 1; k < i; k++) {
          g += V[k * n + j]! * d[k]!;
          e[k]! += V[k * n + j]! * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j]! /= h;
        f += e[j]! * d[j]!;
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j]! -= hh * d[j]!;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        g = e[j]!;
        for (let k = j; k < i; k++) V[k * n + j]! -= f * e[k]! + g * d[k]!;
        d[j] = V[(i - 1) * n + j]!;
        V[i * n + j] = 0;
      }
    }
    d[i] = h;
  }
  accumulateTransforms(V, n, d);
  e[0] = 0;
}

/** The second half of tred2: builds the orthogonal matrix from the stored Householder vectors. */
function accumulateTransforms(V: Float64Array, n: number, d: Float64Array): void {
  for (let i = 0; i < n - 1; i++) {
    V[(n - 1) * n + i] = V[i * n + i]!;
    V[i * n + i] = 1;
    const h = d[i + 1]!;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = V[k * n + i + 1]! / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += V[k * n + i + 1]! * V[k * n + j]!;
        for (let k = 0; k <= i; k++) V[k * n + j]! -= g * d[k]!;
      }
    }
    for (let k = 0; k <= i; k++) V[k * n + i + 1] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = V[(n - 1) * n + j]!;
    V[(n - 1) * n + j] = 0;
  }
  V[(n - 1) * n + n - 1] = 1;
}

/**
 * EISPACK tql2: eigenvalues (into d, sorted ascending) and eigenvectors (columns of V) of
 * the symmetric tridiagonal matrix (d, e) by the implicit QL method with Wilkinson-like
 * shifts; V must hold the transform from `tridiagonalise`.
 */
function tridiagonalQL(V: Float64Array, n: number, d: Float64Array, e: Float64Array): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]!) + Math.abs(e[l]!));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]!) > eps * tst1) m++;
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 60) throw new Error('symmetricEigen: QL iteration did not converge');
        let g = d[l]!;
        let p = (d[l + 1]! - g) / (2 * e[l]!);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l]! / (p + r);
        d[l + 1] = e[l]! * (p + r);
        const dl1 = d[l + 1]!;
        let h = g - d[l]!;
        for (let i = l + 2; i < n; i++) d[i]! -= h;
        f += h;
        p = d[m]!;
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1]!;
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i]!;
          h = c * p;
          r = Math.hypot(p, e[i]!);
          e[i + 1] = s * r;
          s = e[i]! / r;
          c = p / r;
          p = c * d[i]! - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]!);
          for (let k = 0; k < n; k++) {
            h = V[k * n + i + 1]!;
            V[k * n + i + 1] = s * V[k * n + i]! + c * h;
            V[k * n + i] = c * V[k * n + i]! - s * h;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]!) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]!) > eps * tst1);
    }
    d[l] = d[l]! + f;
    e[l] = 0;
  }
  sortEigenpairs(V, n, d);
}

/** Sorts eigenvalues ascending (selection sort, as tql2), moving the eigenvector columns along. */
function sortEigenpairs(V: Float64Array, n: number, d: Float64Array): void {
  for (let i = 0; i < n - 1; i++) {
    let k = i;
    for (let j = i + 1; j < n; j++) if (d[j]! < d[k]!) k = j;
    if (k === i) continue;
    const t = d[k]!;
    d[k] = d[i]!;
    d[i] = t;
    for (let r = 0; r < n; r++) {
      const x = V[r * n + i]!;
      V[r * n + i] = V[r * n + k]!;
      V[r * n + k] = x;
    }
  }
}

/**
 * The binary graph of the top `fraction` of |W| (fraction in (0, 1)): A_ij = 1 when
 * |W_ij| > p or |W_ji| > p (OR-symmetrised), i ≠ j, with p the (1 − fraction) quantile of all
 * n² entries of |W| (numpy's default linear percentile at 100·(1 − fraction), rounded to
 * 1e-9 so that 0.1 gives exactly the 90th percentile). At fraction 0.1 this is
 * `thresholdTop10`.
 */
export function thresholdTopFraction(W: ArrayLike<number>, n: number, fraction: number): Graph & { threshold: number } {
  checkSize(W, n, 'thresholdTopFraction');
  if (!(fraction > 0 && fraction < 1)) throw new Error(`thresholdTopFraction: fraction must be in (0, 1), got ${fraction}`);
  return graphAbovePercentile(W, n, Math.round(100 * (1 - fraction) * 1e9) / 1e9);
}

/**
 * Binary modularity at another density: Newman's Q (`modularityQ`) of the CNM partition
 * (`greedyModularityCNM`) of `thresholdTopFraction(W, n, fraction)`. At fraction 0.1 this is
 * the Q_cnm of `analyzeNetwork`.
 */
export function binaryTopKModularity(
  W: ArrayLike<number>,
  n: number,
  fraction: number,
): { q: number; labels: Int32Array; threshold: number; edges: number; graph: Graph } {
  const graph = thresholdTopFraction(W, n, fraction);
  const labels = greedyModularityCNM(graph);
  return { q: modularityQ(graph, labels), labels, threshold: graph.threshold, edges: graph.edgeCount, graph };
}

/**
 * CNM modularity Q of `count` Maslov–Sneppen rewirings of g (degrees kept). Null k is
 * `maslovSneppenRewire(g, new Rng(seed, 'maslov-sneppen').fork(k), swapsPerEdge)`, the same
 * graphs `rewiredNull` uses for σ_matched with the same seed.
 */
export function rewiredNullQ(g: Graph, count: number, seed: number, swapsPerEdge = 10): Float64Array {
  const rng = new Rng(seed, 'maslov-sneppen');
  const out = new Float64Array(count);
  for (let k = 0; k < count; k++) {
    const h = maslovSneppenRewire(g, rng.fork(k), swapsPerEdge);
    out[k] = modularityQ(h, greedyModularityCNM(h));
  }
  return out;
}

/**
 * Q against null-model Qs (e.g. `rewiredNullQ`):
 *   mean = (1/N) Σ Q_null,  sd = sqrt( Σ (Q_null − mean)² / (N − 1) )  (sample sd, as MATLAB's std),
 *   qNorm = q / mean,  z = (q − mean) / sd.
 * sd and z are NaN for fewer than two nulls; z is ±Infinity (or NaN) when sd = 0.
 */
export function normalisedModularity(q: number, nullQs: ArrayLike<number>): { qNorm: number; z: number; mean: number; sd: number } {
  const N = nullQs.length;
  if (N === 0) throw new Error('normalisedModularity: no null Qs');
  let mean = 0;
  for (let k = 0; k < N; k++) mean += nullQs[k]!;
  mean /= N;
  let ss = 0;
  for (let k = 0; k < N; k++) ss += (nullQs[k]! - mean) ** 2;
  const sd = N > 1 ? Math.sqrt(ss / (N - 1)) : NaN;
  return { qNorm: q / mean, z: (q - mean) / sd, mean, sd };
}

function rowSums(A: ArrayLike<number>, n: number): Float64Array {
  const k = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += A[i * n + j]!;
    k[i] = s;
  }
  return k;
}

function checkSize(M: ArrayLike<number>, n: number, who: string): void {
  if (!Number.isInteger(n) || n < 0) throw new Error(`${who}: n must be a non-negative integer, got ${n}`);
  if (M.length !== n * n) throw new Error(`${who}: expected ${n * n} entries, got ${M.length}`);
}

function checkLabels(labels: ArrayLike<number>, n: number, who: string): void {
  if (labels.length !== n) throw new Error(`${who}: expected ${n} labels, got ${labels.length}`);
}
