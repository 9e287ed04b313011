/**
 * Float64 CPU twin of the communicability regularisers: values and hand-written gradients dR/dW.
 * It is the CPU backend's implementation and the oracle for the GPU kernels.
 *
 * Layout: row-major n×n, W[i][j] = data[i * n + j] = weight from unit j (pre) to unit i (post).
 * Strengths are COLUMN sums (out-strength), as in the reproduced paper and ../shared/fixtures.
 *
 * ── Forward ────────────────────────────────────────────────────────────────────────────────
 *   A      = |W|
 *   r_j    = Σ_i A[i][j]                       raw out-strength of unit j
 *   s_j    = max(r_j + eps, sMin)              (sMin null/0: no floor; eps 0 except EMD: 1e-10)
 *   d_j    = s_j^(-1/2)
 *   M[i][j]= d_i A[i][j] d_j
 *   E      = expm(M);  C = E with its diagonal set to 0
 *
 *   l1 : R = λ Σ A                             (paper-compat `ignoreLambda`: λ taken as 1)
 *   wd : R = λ Σ A∘D
 *   wdc: R = λ Σ A∘C∘D
 *   emd: R = λ Σ A∘D + μ · (1/P) Σ_k |sort(c)_k − sort(c_emp)_k|
 *        c, c_emp = the entries of C and C_emp over the compared set (all N² entries, diagonals
 *        included as zeros; or, for target 'active-only', the |I|² entries of the rows and
 *        columns of active neurons I), P their number.
 *
 * ── Backward (what the GPU kernels mirror) ───────────────────────────────────────────────────
 *   Let G_C = ∂R/∂C (upstream gradient on C, n×n). Then:
 *   1. mask the diagonal:  G_C[i][i] = 0              (C's diagonal is the constant 0)
 *   2. through expm:       G_M = L_exp(Mᵀ, G_C)       (adjoint Fréchet derivative; see expm.ts)
 *   3. through the normalisation (M[a][b] = A[a][b]/sqrt(s_a s_b), so
 *      ∂M[a][b]/∂s_k = −½ M[a][b] (δ_ak + δ_bk) / s_k):
 *        P_ab  = G_M[a][b] · M[a][b]
 *        g_s_k = −( Σ_b P_kb + Σ_a P_ak ) / (2 s_k)     (row sum + column sum of P)
 *        g_s_k = 0 where the floor is active (r_k + eps < sMin)
 *   4. to A:               G_A[i][j] += G_M[i][j] · d_i d_j + g_s_j     (s_j = Σ_i A[i][j] + …)
 *   5. direct terms on A:  wdc: G_A += λ C∘D,  with G_C = λ A∘D
 *                          wd:  G_A  = λ D;    l1: G_A = λ
 *                          emd: G_A += λ D,    with G_C[π(k)] = (μ/P) · sign(sort(c)_k − sort(c_emp)_k)
 *                               where π is the sorting permutation of c (ascending, ties broken by
 *                               row-major index: a stable sort), sign(0) = 0.
 *   6. through |·|:        dR/dW = G_A ∘ sign(W),  sign(0) = 0 (d|w|/dw at 0 taken as 0)
 *
 * ── Strength floor ──────────────────────────────────────────────────────────────────────────
 * The paper's WDC has no floor: a zero column gives s = 0 and inf/NaN. `sMin` (default 1e-4,
 * the engine's corrected mode and the canonical workload's `s_floor`) floors s; `sMin: null` or 0
 * reproduces the paper.
 *
 * The EMD target C_emp (and what 'paper', 'floor-one-synapse' and 'active-only' do with neurons
 * without outgoing synapses) is built in target.ts, for every backend.
 */
import { checkSquare } from '../checks.ts';
import { OptionError } from '../errors.ts';
import { fromNested } from '../dense.ts';
import { expmFrechetAdjoint } from '../expm/cpu.ts';
import { DEFAULT_S_MIN, EMD_EPS } from './constants.ts';
import { normalizedCommunicability, type Communicability } from './float64.ts';

export interface StrengthOptions {
  /** Floor of s (default 1e-4). null or 0: no floor (paper-compat; zero columns give inf/NaN). */
  sMin?: number | null;
  /** Added to the raw column sums before the floor (default 0; the EMD variant uses 1e-10). */
  eps?: number;
}

export interface RegResult {
  value: number;
  /** dR/dW, n×n row-major */
  grad: Float64Array;
}

function floorOf(opts: StrengthOptions | undefined): number {
  const v = opts?.sMin === undefined ? DEFAULT_S_MIN : opts.sMin;
  return v === null ? 0 : v;
}

/** sign(w) with sign(0) = 0: the subgradient of |w| used throughout. */
function signOf(w: number): number {
  return w > 0 ? 1 : w < 0 ? -1 : 0;
}

/** Normalised communicability of |W| (or of any nonnegative matrix): A, s, M, expm(M), C. */
export function communicability(W: ArrayLike<number>, n: number, opts?: StrengthOptions): Communicability {
  checkSquare(W, n, 'communicability');
  const { A, sRaw, s, floored, d } = strengths(W, n, opts);
  return normalizedCommunicability(A, sRaw, s, floored, d, n);
}

/** A = |W|, its column sums, the strengths used (eps added, floored at s_min) and d = s^-½. */
export function strengths(W: ArrayLike<number>, n: number, opts?: StrengthOptions): Pick<Communicability, 'A' | 'sRaw' | 's' | 'floored' | 'd'> {
  const sMin = floorOf(opts);
  const eps = opts?.eps ?? 0;
  const A = new Float64Array(n * n);
  for (let k = 0; k < n * n; k++) A[k] = Math.abs(W[k]!);
  const sRaw = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) sRaw[j]! += A[i * n + j]!;
  const s = new Float64Array(n);
  const floored = new Uint8Array(n);
  const d = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const v = sRaw[j]! + eps;
    if (v < sMin) {
      s[j] = sMin;
      floored[j] = 1;
    } else s[j] = v;
    d[j] = 1 / Math.sqrt(s[j]!);
  }
  return { A, sRaw, s, floored, d };
}

/**
 * Back-propagates an upstream gradient G_C = ∂R/∂C through C = offdiag(expm(M)), the
 * normalisation M = diag(s)^-½ A diag(s)^-½ and the column sums s, to ∂R/∂A (steps 1–4 of the
 * module comment). G_C is not modified.
 */
export function backpropCommunicability(comm: Communicability, GC: ArrayLike<number>): Float64Array {
  const { n, M } = comm;
  checkSquare(GC, n, 'backpropCommunicability');
  const G = Float64Array.from(GC);
  for (let i = 0; i < n; i++) G[i * n + i] = 0;
  return backpropNormalisation(comm, expmFrechetAdjoint(M, G, n).grad);
}

/**
 * Back-propagates ∂R/∂M through the normalisation M = diag(s)^-½ A diag(s)^-½ and the column
 * sums s (floored strengths pass no gradient) to ∂R/∂A.
 */
export function backpropNormalisation(comm: Pick<Communicability, 'n' | 'M' | 's' | 'd' | 'floored'>, GM: Float64Array): Float64Array {
  const { n, M, s, d, floored } = comm;
  const rowP = new Float64Array(n);
  const colP = new Float64Array(n);
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      const p = GM[a * n + b]! * M[a * n + b]!;
      rowP[a]! += p;
      colP[b]! += p;
    }
  }
  const gs = new Float64Array(n);
  for (let k = 0; k < n; k++) gs[k] = floored[k] ? 0 : -(rowP[k]! + colP[k]!) / (2 * s[k]!);
  const GA = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) GA[i * n + j] = GM[i * n + j]! * d[i]! * d[j]! + gs[j]!;
  }
  return GA;
}

/** dR/dW = G_A ∘ sign(W), in place on G_A. */
export function throughAbs(GA: Float64Array, W: ArrayLike<number>): Float64Array {
  for (let k = 0; k < GA.length; k++) GA[k] = GA[k]! * signOf(W[k]!);
  return GA;
}

export interface L1Options {
  lambda: number;
  /** Paper-compat: the paper's L1 baseline ignores λ (effectively 1). */
  ignoreLambda?: boolean;
}

/** R = λ Σ |W|. */
export function l1(W: ArrayLike<number>, n: number, opts: L1Options): RegResult {
  checkSquare(W, n, 'l1');
  const lam = opts.ignoreLambda ? 1 : opts.lambda;
  let sum = 0;
  const grad = new Float64Array(n * n);
  for (let k = 0; k < n * n; k++) {
    sum += Math.abs(W[k]!);
    grad[k] = lam * signOf(W[k]!);
  }
  return { value: lam * sum, grad };
}

/** R = λ Σ |W|∘D. */
export function wd(W: ArrayLike<number>, D: ArrayLike<number>, n: number, opts: { lambda: number }): RegResult {
  checkSquare(W, n, 'wd');
  checkSquare(D, n, 'wd (D)');
  const lam = opts.lambda;
  let sum = 0;
  const grad = new Float64Array(n * n);
  for (let k = 0; k < n * n; k++) {
    sum += Math.abs(W[k]!) * D[k]!;
    grad[k] = lam * D[k]! * signOf(W[k]!);
  }
  return { value: lam * sum, grad };
}

export interface WdcOptions extends StrengthOptions {
  lambda: number;
}

/** R = λ Σ |W|∘C∘D with C = offdiag(expm(diag(s)^-½ |W| diag(s)^-½)). */
export function wdc(W: ArrayLike<number>, D: ArrayLike<number>, n: number, opts: WdcOptions): RegResult & { comm: Communicability } {
  checkSquare(D, n, 'wdc (D)');
  const lam = opts.lambda;
  const comm = communicability(W, n, opts);
  const { A, C } = comm;
  let sum = 0;
  const GC = new Float64Array(n * n);
  for (let k = 0; k < n * n; k++) {
    sum += A[k]! * C[k]! * D[k]!;
    GC[k] = lam * A[k]! * D[k]!;
  }
  const GA = backpropCommunicability(comm, GC);
  for (let k = 0; k < n * n; k++) GA[k]! += lam * C[k]! * D[k]!;
  return { value: lam * sum, grad: throughAbs(GA, W), comm };
}

export interface EmdOptions extends StrengthOptions {
  lambda: number;
  mu: number;
  /** Restrict the comparison to these neurons' rows and columns ('active-only'); null: all. */
  active?: Uint8Array | null;
}

/** Row-major indices of the compared entries (all, or the I×I block of the active set). */
function comparedEntries(n: number, active: Uint8Array | null | undefined): Uint32Array {
  if (!active) {
    const all = new Uint32Array(n * n);
    for (let k = 0; k < n * n; k++) all[k] = k;
    return all;
  }
  const I: number[] = [];
  for (let j = 0; j < n; j++) if (active[j]) I.push(j);
  const out = new Uint32Array(I.length * I.length);
  let p = 0;
  for (const i of I) for (const j of I) out[p++] = i * n + j;
  return out;
}

/**
 * R = λ Σ |W|∘D + μ · mean_k |sort(c)_k − sort(c_emp)_k| (the paper's C* variant), with C computed
 * from s + eps (eps default 1e-10) and the floor sMin (default 1e-4; null: none, as the paper).
 * `Cemp` comes from `empiricalCommunicability` / `makeEmdTarget`. The gradient of the sorted
 * term is routed through the (stable, ascending) sorting permutation of c.
 */
export function emd(
  W: ArrayLike<number>,
  D: ArrayLike<number>,
  Cemp: ArrayLike<number>,
  n: number,
  opts: EmdOptions,
): RegResult & { comm: Communicability; wdPart: number; emdPart: number } {
  checkSquare(D, n, 'emd (D)');
  checkSquare(Cemp, n, 'emd (Cemp)');
  const { lambda: lam, mu } = opts;
  const comm = communicability(W, n, { sMin: opts.sMin, eps: opts.eps ?? EMD_EPS });
  const { A, C } = comm;
  const idx = comparedEntries(n, opts.active);
  const P = idx.length;
  const c = new Float64Array(P);
  const ce = new Float64Array(P);
  for (let k = 0; k < P; k++) {
    c[k] = C[idx[k]!]!;
    ce[k] = Cemp[idx[k]!]!;
    if (Number.isNaN(ce[k]!)) {
      throw new OptionError('emd: opts.active', 'the active neurons of an active-only target', 'a NaN C_emp entry among the compared ones', {
        message: 'emd: C_emp is NaN on a compared entry (an active-only target needs opts.active)',
      });
    }
  }
  // stable ascending sort of c by value, ties by position (row-major order)
  const order = new Uint32Array(P);
  for (let k = 0; k < P; k++) order[k] = k;
  order.sort((a, b) => c[a]! - c[b]! || a - b);
  ce.sort();
  let dist = 0;
  const GC = new Float64Array(n * n);
  const w = P > 0 ? mu / P : 0;
  for (let k = 0; k < P; k++) {
    const diff = c[order[k]!]! - ce[k]!;
    dist += Math.abs(diff);
    GC[idx[order[k]!]!] = w * signOf(diff);
  }
  const emdPart = P > 0 ? (mu * dist) / P : 0;
  let wdSum = 0;
  for (let k = 0; k < n * n; k++) wdSum += A[k]! * D[k]!;
  const GA = backpropCommunicability(comm, GC);
  for (let k = 0; k < n * n; k++) GA[k]! += lam * D[k]!;
  const wdPart = lam * wdSum;
  return { value: wdPart + emdPart, grad: throughAbs(GA, W), comm, wdPart, emdPart };
}

/**
 * The regulariser of the RNN fixture format `rnn_bptt_ref/1` (and of the canonical workload):
 * R = λ Σ |W_rec|∘D∘C0, strengths floored at s_floor, no epsilon. Same as `wdc` with
 * sMin = sFloor, eps = 0.
 */
export function rnnRegularizer(
  Wrec: ArrayLike<number>,
  D: ArrayLike<number>,
  n: number,
  opts: { lambda: number; sFloor: number },
): RegResult & { comm: Communicability } {
  return wdc(Wrec, D, n, { lambda: opts.lambda, sMin: opts.sFloor, eps: 0 });
}

/** Minimal shape of an `rnn_bptt_ref/1` fixture read by `rnnRegularizerFromFixture`. */
export interface RnnFixtureLike {
  config: { N: number; lambda: number; s_floor: number };
  inputs: { D: number[][] };
  params: { W_rec: number[][] };
}

/** `rnnRegularizer` on a parsed `rnn_bptt_ref/1` fixture (reads config.lambda, config.s_floor). */
export function rnnRegularizerFromFixture(fx: RnnFixtureLike): RegResult & { comm: Communicability } {
  const n = fx.config.N;
  return rnnRegularizer(fromNested(fx.params.W_rec), fromNested(fx.inputs.D), n, {
    lambda: fx.config.lambda,
    sFloor: fx.config.s_floor,
  });
}
