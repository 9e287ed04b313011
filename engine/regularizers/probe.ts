/**
 * The WDC cost estimated in O(N²·p·m) instead of computed in O(N³): the float64 CPU reference.
 *
 *   R = λ Σ_ij A_ij D_ij C_ij,  C = offdiag(E),  E = expm(M),  M = diag(s)^-½ A diag(s)^-½.
 *
 * With P = offdiag(A∘D), R = λ·tr(Pᵀ E). The first two Taylor terms are summed exactly in
 * O(N²): tr(Pᵀ I) = 0 and tr(Pᵀ M) = Σ P∘M. Only the rest, F = E − I − M, is estimated: for
 * probes z with E[z zᵀ] = I (Rademacher ±1), E[zᵀ Pᵀ F z] = tr(Pᵀ F) (Hutchinson), so with p
 * probes Z (N × p)
 *
 *   R̂ = λ·(Σ P∘M + (1/p)·⟨P Z, F Z⟩_F),
 *
 * unbiased for any p. Estimating tr(Pᵀ E) whole would put the large off-diagonal entries of P
 * itself into the variance (spread 3.3× the value at p = 1 on 6_6_2's W*). E Z is the Taylor series Σ_{j≤m} M^j Z / j!, summed until the term bound
 * θ^m / m! (θ = ‖M‖₁) falls below 1e-15, so that the truncation bias is of the order of rounding.
 * The gradient goes through the same products:
 *
 *   ∂R̂/∂P = λ·(M + (1/p)·(F Z) Zᵀ),
 *   ∂R̂/∂M = λ·(P + (1/p)·Σ_{1≤i+l<m} a_i b_lᵀ / (i+l+1)!),  a_i = (Mᵀ)^i P Z,  b_l = M^l Z,
 *
 * (the derivative of each term U ᵀ M^j Z), then through the normalisation as for the exact cost.
 * With the columns of √N·I as probes ((1/N)·Z Zᵀ = I exactly), R̂ and its gradient are the exact ones.
 */
import { checkSquare } from '../checks.ts';
import { OptionError } from '../errors.ts';
import type { Rng } from '../rng.ts';
import { backpropNormalisation, strengths, throughAbs, type RegResult, type WdcOptions } from './cpu.ts';

/**
 * ‖M‖₁ beyond which the series needs too many terms. M ≥ 0, so its powers never cancel and the
 * plain series stays accurate at any norm; only its length grows (about θ + 35 terms). A strength
 * floored at s_min (a neuron without outputs) scales its row by s_min^-½ = 100, hence the margin.
 */
const MAX_NORM = 1000;

export interface ProbeOptions extends WdcOptions {
  /** The probes, N × p row-major (column k is probe k); see `rademacherProbes`. */
  probes: Float64Array;
  p: number;
}

/** p Rademacher probes (±1, equally likely), N × p row-major, drawn from `rng`. */
export function rademacherProbes(n: number, p: number, rng: Rng): Float64Array {
  const Z = new Float64Array(n * p);
  for (let k = 0; k < n * p; k++) Z[k] = rng.uniform() < 0.5 ? -1 : 1;
  return Z;
}

/** The Taylor terms needed for expm(M)·Z at θ = ‖M‖₁: the first m with θ^m / m! < 1e-15. */
export function taylorTerms(theta: number): number {
  if (!(theta <= MAX_NORM)) throw new OptionError('‖M‖₁', `at most ${MAX_NORM} for the probe estimator`, String(theta));
  let term = 1;
  let m = 1;
  for (; m < 4 * MAX_NORM; m++) {
    term *= theta / m;
    if (term < 1e-15 && m > theta) return m;
  }
  return m;
}

/** X ↦ M·X for X of N × p (row-major), or Mᵀ·X. */
function times(M: Float64Array, X: Float64Array, n: number, p: number, transpose = false): Float64Array {
  const Y = new Float64Array(n * p);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const m = transpose ? M[j * n + i]! : M[i * n + j]!;
      if (m === 0) continue;
      for (let k = 0; k < p; k++) Y[i * p + k]! += m * X[j * p + k]!;
    }
  }
  return Y;
}

/** R̂ and its gradient with respect to W (see the module comment). */
export function wdcProbe(W: ArrayLike<number>, D: ArrayLike<number>, n: number, o: ProbeOptions): RegResult & { terms: number } {
  checkSquare(W, n, 'wdcProbe');
  checkSquare(D, n, 'wdcProbe (D)');
  const { p, probes: Z } = o;
  if (Z.length !== n * p) throw new OptionError('probes', `${n} × ${p} values`, String(Z.length));
  const st = strengths(W, n, o);
  const M = new Float64Array(n * n);
  let theta = 0;
  for (let j = 0; j < n; j++) {
    let col = 0;
    for (let i = 0; i < n; i++) col += Math.abs((M[i * n + j] = st.d[i]! * st.A[i * n + j]! * st.d[j]!));
    theta = Math.max(theta, col);
  }
  const P = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) P[i * n + j] = st.A[i * n + j]! * D[i * n + j]!;
  const m = taylorTerms(theta);
  // b_l = M^l Z, and E Z = Σ b_l / l!
  const b: Float64Array[] = [Z];
  for (let l = 1; l <= m; l++) b.push(times(M, b[l - 1]!, n, p));
  // F Z = Σ_{l≥2} b_l / l!: the terms after I and M, which are summed exactly
  const FZ = new Float64Array(n * p);
  let fact = 1;
  for (let l = 2; l <= m; l++) {
    fact *= l;
    for (let k = 0; k < n * p; k++) FZ[k]! += b[l]![k]! / fact;
  }
  const U = times(P, Z, n, p);
  const scale = o.lambda / p;
  let exact = 0;
  for (let k = 0; k < n * n; k++) exact += P[k]! * M[k]!;
  let probed = 0;
  for (let k = 0; k < n * p; k++) probed += U[k]! * FZ[k]!;
  const GM = gradM(M, U, b, n, p, m, scale);
  for (let k = 0; k < n * n; k++) GM[k]! += o.lambda * P[k]!;
  const GA = backpropNormalisation({ n, M, s: st.s, d: st.d, floored: st.floored }, GM);
  // ∂R̂/∂P = λ·M + scale·(F Z) Zᵀ, through P = offdiag(A∘D)
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i === j) continue;
      let g = 0;
      for (let k = 0; k < p; k++) g += FZ[i * p + k]! * Z[j * p + k]!;
      GA[i * n + j]! += (o.lambda * M[i * n + j]! + scale * g) * D[i * n + j]!;
    }
  }
  return { value: o.lambda * exact + scale * probed, grad: throughAbs(GA, W), terms: m };
}

/** The probed part of ∂R̂/∂M: scale·Σ_{1≤i+l<m} a_i b_lᵀ / (i+l+1)!, with a_i = (Mᵀ)^i U (i + l = 0 is the exact M term). */
function gradM(M: Float64Array, U: Float64Array, b: Float64Array[], n: number, p: number, m: number, scale: number): Float64Array {
  const invFact = [1];
  for (let j = 1; j <= m + 1; j++) invFact.push(invFact[j - 1]! / j);
  const GM = new Float64Array(n * n);
  let a = U;
  for (let i = 0; i < m; i++) {
    // c = Σ_l b_l / (i+l+1)!, over l < m - i
    const c = new Float64Array(n * p);
    for (let l = i === 0 ? 1 : 0; l < m - i; l++) for (let k = 0; k < n * p; k++) c[k]! += b[l]![k]! * invFact[i + l + 1]!;
    for (let r = 0; r < n; r++) {
      for (let q = 0; q < n; q++) {
        let g = 0;
        for (let k = 0; k < p; k++) g += a[r * p + k]! * c[q * p + k]!;
        GM[r * n + q]! += scale * g;
      }
    }
    if (i + 1 < m) a = times(M, a, n, p, true);
  }
  return GM;
}
