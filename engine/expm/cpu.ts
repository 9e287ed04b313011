/**
 * Float64 matrix exponential and its Fréchet derivative, the CPU oracle for the communicability
 * regularisers. Matrices are row-major n×n (data[i * n + j] = A[i][j]), as in `engine/dense.ts`.
 *
 * expm: scaling and squaring with diagonal Padé approximants r_m, m ∈ {3, 5, 7, 9, 13}
 *   (Higham 2005, "The scaling and squaring method for the matrix exponential revisited",
 *   Algorithm 2.3). With θ_m the backward-error thresholds for float64:
 *     ‖A‖₁ ≤ θ_m for the smallest m ∈ {3,5,7,9}  →  exp(A) ≈ r_m(A), no scaling;
 *     otherwise s = max(0, ⌈log₂(‖A‖₁/θ₁₃)⌉), exp(A) ≈ r₁₃(A/2^s)^(2^s).
 *   r_m(A) = (V − U)⁻¹ (V + U) with U = Σ_{k odd} b_k A^k (odd part), V = Σ_{k even} b_k A^k,
 *   b_k = (2m − k)! / (k! (m − k)!) (normalised so that b_m = 1).
 *
 * expmFrechet: L_exp(A, E) = d/dt exp(A + tE)|₀ by differentiating the same Padé evaluation
 *   (Al-Mohy & Higham 2009, "Computing the Fréchet derivative of the matrix exponential",
 *   Algorithm 6.4, with their thresholds ℓ_m from Table 6.1). With L_U, L_V the derivatives of
 *   U, V (product rule on the powers, M_{2k} = L_{x^{2k}}(A, E)):
 *     L_r = (V − U)⁻¹ [ (L_U + L_V) + (L_U − L_V) r ],
 *   then the squaring phase X ← X², L ← X L + L X (old X), s times.
 *
 * expmFrechetAdjoint: the adjoint of E ↦ L_exp(A, E) in the Frobenius inner product,
 *   ⟨G, L_exp(A, E)⟩ = ⟨L_exp(Aᵀ, G), E⟩, so the gradient of f(A) = ⟨G, exp(A)⟩ is L_exp(Aᵀ, G).
 */
import { norm1, transpose } from '../dense.ts';
import { OptionError, ShapeError } from '../errors.ts';

/** b_k = (2m − k)! / (k! (m − k)!), k = 0..m, computed exactly in BigInt and rounded once. */
export function padeCoefficients(m: number): number[] {
  const fact = (k: number): bigint => {
    let f = 1n;
    for (let i = 2n; i <= BigInt(k); i++) f *= i;
    return f;
  };
  const out: number[] = [];
  for (let k = 0; k <= m; k++) out.push(Number(fact(2 * m - k) / (fact(k) * fact(m - k))));
  return out;
}

const B: Record<number, number[]> = {
  3: padeCoefficients(3),
  5: padeCoefficients(5),
  7: padeCoefficients(7),
  9: padeCoefficients(9),
  13: padeCoefficients(13),
};

/** Higham 2005, Table 2.3: float64 backward-error thresholds θ_m for r_m. */
export const THETA: Readonly<Record<3 | 5 | 7 | 9 | 13, number>> = {
  3: 1.495585217958292e-2,
  5: 2.53939833006323e-1,
  7: 9.504178996162932e-1,
  9: 2.097847961257068,
  13: 5.371920351148152,
};

/** Al-Mohy & Higham 2009, Table 6.1: thresholds ℓ_m for the Fréchet derivative of r_m. */
export const ELL: Readonly<Record<3 | 5 | 7 | 9 | 13, number>> = {
  3: 1.08e-2,
  5: 2.0e-1,
  7: 7.83e-1,
  9: 1.78,
  13: 4.74,
};

/** out = Σ c_k X_k (+ c0 · I when c0 is given), all n×n. */
function lincomb(n: number, terms: Array<[number, Float64Array]>, c0 = 0): Float64Array {
  const out = new Float64Array(n * n);
  for (const [c, x] of terms) {
    if (c === 0) continue;
    for (let i = 0; i < out.length; i++) out[i]! += c * x[i]!;
  }
  if (c0 !== 0) for (let i = 0; i < n; i++) out[i * n + i]! += c0;
  return out;
}

function addInto(dst: Float64Array, src: Float64Array): Float64Array {
  for (let i = 0; i < dst.length; i++) dst[i]! += src[i]!;
  return dst;
}

function scaled(a: ArrayLike<number>, c: number): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < out.length; i++) out[i] = a[i]! * c;
  return out;
}

/**
 * C = A·B for square n×n float64 matrices: i-k-j order with the k loop unrolled by 4, so each
 * pass over a row of C consumes four rows of B (about 2.5× faster than dense.matmul in V8 for
 * n ≥ 300; the same left-to-right summation order, so results are bitwise equal to it).
 */
export function matmulSquare(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const c = new Float64Array(n * n);
  const n4 = n - (n % 4);
  for (let i = 0; i < n; i++) {
    const ci = i * n;
    let p = 0;
    for (; p < n4; p += 4) {
      const a0 = a[ci + p]!;
      const a1 = a[ci + p + 1]!;
      const a2 = a[ci + p + 2]!;
      const a3 = a[ci + p + 3]!;
      const b0 = p * n;
      const b1 = b0 + n;
      const b2 = b1 + n;
      const b3 = b2 + n;
      for (let j = 0; j < n; j++) {
        c[ci + j] = c[ci + j]! + a0 * b[b0 + j]! + a1 * b[b1 + j]! + a2 * b[b2 + j]! + a3 * b[b3 + j]!;
      }
    }
    for (; p < n; p++) {
      const a0 = a[ci + p]!;
      const b0 = p * n;
      for (let j = 0; j < n; j++) c[ci + j] = c[ci + j]! + a0 * b[b0 + j]!;
    }
  }
  return c;
}

const mm = matmulSquare;

function allFinite(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return false;
  return true;
}

/** LU factorisation with partial pivoting, P A = L U, stored in place (L unit lower). */
export interface LU {
  n: number;
  lu: Float64Array;
  /** piv[k] = the row swapped with row k at step k */
  piv: Int32Array;
}

export function luFactor(a: ArrayLike<number>, n: number): LU {
  const lu = Float64Array.from(a as ArrayLike<number>);
  const piv = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    let p = k;
    let best = Math.abs(lu[k * n + k]!);
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(lu[i * n + k]!);
      if (v > best) {
        best = v;
        p = i;
      }
    }
    if (!(best > 0)) throw new Error('luFactor: matrix is singular (or has NaN)');
    piv[k] = p;
    if (p !== k) {
      for (let j = 0; j < n; j++) {
        const t = lu[k * n + j]!;
        lu[k * n + j] = lu[p * n + j]!;
        lu[p * n + j] = t;
      }
    }
    const dkk = lu[k * n + k]!;
    for (let i = k + 1; i < n; i++) {
      const f = lu[i * n + k]! / dkk;
      lu[i * n + k] = f;
      if (f === 0) continue;
      for (let j = k + 1; j < n; j++) lu[i * n + j] = lu[i * n + j]! - f * lu[k * n + j]!;
    }
  }
  return { n, lu, piv };
}

/** Solves A X = B (B n×m row-major) from luFactor(A); all updates are contiguous row operations. */
export function luSolve(f: LU, b: ArrayLike<number>, m: number): Float64Array {
  const { n, lu, piv } = f;
  const x = Float64Array.from(b as ArrayLike<number>);
  for (let k = 0; k < n; k++) {
    const p = piv[k]!;
    if (p !== k) {
      for (let j = 0; j < m; j++) {
        const t = x[k * m + j]!;
        x[k * m + j] = x[p * m + j]!;
        x[p * m + j] = t;
      }
    }
  }
  for (let k = 0; k < n; k++) {
    const xk = k * m;
    for (let i = k + 1; i < n; i++) {
      const l = lu[i * n + k]!;
      if (l === 0) continue;
      const xi = i * m;
      for (let j = 0; j < m; j++) x[xi + j] = x[xi + j]! - l * x[xk + j]!;
    }
  }
  for (let k = n - 1; k >= 0; k--) {
    const xk = k * m;
    for (let p = k + 1; p < n; p++) {
      const u = lu[k * n + p]!;
      if (u === 0) continue;
      const xp = p * m;
      for (let j = 0; j < m; j++) x[xk + j] = x[xk + j]! - u * x[xp + j]!;
    }
    const inv = 1 / lu[k * n + k]!;
    for (let j = 0; j < m; j++) x[xk + j] = x[xk + j]! * inv;
  }
  return x;
}

/** Degree and number of squarings chosen for ‖A‖₁ under a threshold table. */
export function choosePade(normA: number, table: Readonly<Record<3 | 5 | 7 | 9 | 13, number>> = THETA): { m: 3 | 5 | 7 | 9 | 13; s: number } {
  if (!Number.isFinite(normA)) return { m: 13, s: 0 };
  for (const m of [3, 5, 7, 9] as const) if (normA <= table[m]) return { m, s: 0 };
  const s = Math.max(0, Math.ceil(Math.log2(normA / table[13])));
  return { m: 13, s };
}

interface UV {
  U: Float64Array;
  V: Float64Array;
  LU?: Float64Array;
  LV?: Float64Array;
}

/**
 * Odd/even parts U, V of the degree-m Padé numerator at A (and, when E is given, their
 * Fréchet derivatives L_U, L_V in direction E).
 */
function padeUV(A: Float64Array, n: number, m: 3 | 5 | 7 | 9 | 13, E?: Float64Array): UV {
  const b = B[m]!;
  const A2 = mm(A, A, n);
  const M2 = E ? addInto(mm(A, E, n), mm(E, A, n)) : undefined;
  if (m === 13) {
    const A4 = mm(A2, A2, n);
    const A6 = mm(A4, A2, n);
    const W1 = lincomb(n, [
      [b[13]!, A6],
      [b[11]!, A4],
      [b[9]!, A2],
    ]);
    const W2 = lincomb(
      n,
      [
        [b[7]!, A6],
        [b[5]!, A4],
        [b[3]!, A2],
      ],
      b[1]!,
    );
    const Z1 = lincomb(n, [
      [b[12]!, A6],
      [b[10]!, A4],
      [b[8]!, A2],
    ]);
    const Z2 = lincomb(
      n,
      [
        [b[6]!, A6],
        [b[4]!, A4],
        [b[2]!, A2],
      ],
      b[0]!,
    );
    const Wm = addInto(mm(A6, W1, n), W2);
    const U = mm(A, Wm, n);
    const V = addInto(mm(A6, Z1, n), Z2);
    if (!E || !M2) return { U, V };
    const M4 = addInto(mm(A2, M2, n), mm(M2, A2, n));
    const M6 = addInto(mm(A4, M2, n), mm(M4, A2, n));
    const LW1 = lincomb(n, [
      [b[13]!, M6],
      [b[11]!, M4],
      [b[9]!, M2],
    ]);
    const LW2 = lincomb(n, [
      [b[7]!, M6],
      [b[5]!, M4],
      [b[3]!, M2],
    ]);
    const LZ1 = lincomb(n, [
      [b[12]!, M6],
      [b[10]!, M4],
      [b[8]!, M2],
    ]);
    const LZ2 = lincomb(n, [
      [b[6]!, M6],
      [b[4]!, M4],
      [b[2]!, M2],
    ]);
    const LW = addInto(addInto(mm(A6, LW1, n), mm(M6, W1, n)), LW2);
    const LU = addInto(mm(A, LW, n), mm(E, Wm, n));
    const LV = addInto(addInto(mm(A6, LZ1, n), mm(M6, Z1, n)), LZ2);
    return { U, V, LU, LV };
  }
  // m ∈ {3,5,7,9}: powers A^2, A^4, ..., A^(m-1) and their derivatives.
  const pows: Float64Array[] = [A2];
  const dpows: Float64Array[] = M2 ? [M2] : [];
  for (let k = 2; 2 * k <= m - 1; k++) {
    const prev = pows[k - 2]!;
    pows.push(mm(prev, A2, n));
    if (M2) {
      // d(A^{2k}) = d(A^{2k-2}) A² + A^{2k-2} M2
      dpows.push(addInto(mm(dpows[k - 2]!, A2, n), mm(prev, M2, n)));
    }
  }
  const oddTerms: Array<[number, Float64Array]> = pows.map((p, i) => [b[2 * i + 3]!, p]);
  const evenTerms: Array<[number, Float64Array]> = pows.map((p, i) => [b[2 * i + 2]!, p]);
  const Wm = lincomb(n, oddTerms, b[1]!);
  const U = mm(A, Wm, n);
  const V = lincomb(n, evenTerms, b[0]!);
  if (!E) return { U, V };
  const LW = lincomb(
    n,
    dpows.map((p, i) => [b[2 * i + 3]!, p] as [number, Float64Array]),
  );
  const LU = addInto(mm(A, LW, n), mm(E, Wm, n));
  const LV = lincomb(
    n,
    dpows.map((p, i) => [b[2 * i + 2]!, p] as [number, Float64Array]),
  );
  return { U, V, LU, LV };
}

/**
 * exp(A) for a float64 n×n row-major matrix (Higham 2005 scaling and squaring, Padé 3..13).
 * A matrix with an inf or NaN entry gives an all-NaN result (as the paper's unfloored
 * normalisation does for a zero column), rather than an exception.
 */
export function expm(A: ArrayLike<number>, n: number): Float64Array {
  if (A.length !== n * n) throw new ShapeError('expm', { message: `expm: expected ${n * n} entries, got ${A.length}` });
  if (n === 0) return new Float64Array(0);
  const nrm = norm1(A, n);
  if (!allFinite(A)) return new Float64Array(n * n).fill(NaN); // inf/NaN in: NaN out
  const { m, s } = choosePade(nrm);
  const As = scaled(A, 2 ** -s);
  const { U, V } = padeUV(As, n, m);
  const P = lincomb(n, [
    [1, V],
    [-1, U],
  ]);
  const Q = lincomb(n, [
    [1, V],
    [1, U],
  ]);
  let X = luSolve(luFactor(P, n), Q, n);
  for (let k = 0; k < s; k++) X = mm(X, X, n);
  return X;
}

/**
 * exp(A) and the Fréchet derivative L = L_exp(A, E) (Al-Mohy & Higham 2009, Algorithm 6.4:
 * the exact derivative of the scaled-and-squared Padé approximant).
 */
export function expmFrechet(A: ArrayLike<number>, E: ArrayLike<number>, n: number): { expA: Float64Array; L: Float64Array } {
  if (A.length !== n * n || E.length !== n * n) throw new ShapeError('expmFrechet', { message: `expmFrechet: expected ${n * n} entries` });
  if (n === 0) return { expA: new Float64Array(0), L: new Float64Array(0) };
  const nrm = norm1(A, n);
  if (!allFinite(A) || !allFinite(E)) return { expA: new Float64Array(n * n).fill(NaN), L: new Float64Array(n * n).fill(NaN) };
  const { m, s } = choosePade(nrm, ELL);
  const f = 2 ** -s;
  const As = scaled(A, f);
  const Es = scaled(E, f);
  const { U, V, LU, LV } = padeUV(As, n, m, Es);
  const P = lincomb(n, [
    [1, V],
    [-1, U],
  ]);
  const Q = lincomb(n, [
    [1, V],
    [1, U],
  ]);
  const lu = luFactor(P, n);
  let X = luSolve(lu, Q, n);
  // L_r = P⁻¹ [ (L_U + L_V) + (L_U − L_V) X ]
  const rhs = addInto(
    lincomb(n, [
      [1, LU!],
      [1, LV!],
    ]),
    mm(
      lincomb(n, [
        [1, LU!],
        [-1, LV!],
      ]),
      X,
      n,
    ),
  );
  let L = luSolve(lu, rhs, n);
  for (let k = 0; k < s; k++) {
    L = addInto(mm(X, L, n), mm(L, X, n));
    X = mm(X, X, n);
  }
  return { expA: X, L };
}

/**
 * The adjoint Fréchet derivative: L_exp(Aᵀ, G), i.e. the gradient with respect to A of
 * f(A) = ⟨G, exp(A)⟩ = Σ_ij G[i][j] exp(A)[i][j]. Also returns exp(A) (from the same pass,
 * as the transpose of exp(Aᵀ)).
 */
export function expmFrechetAdjoint(A: ArrayLike<number>, G: ArrayLike<number>, n: number): { expA: Float64Array; grad: Float64Array } {
  const { expA, L } = expmFrechet(transpose(A, n, n), G, n);
  return { expA: transpose(expA, n, n), grad: L };
}

function nonzeroSink(j: number): OptionError {
  return new OptionError('sinks', 'columns of A that are zero', `column ${j} with a nonzero entry`, {
    message: `expmWithSinks: column ${j} is not zero (expected every sink column of A to be zero)`,
  });
}

/**
 * exp(A) when the columns `sinks` of A are entirely zero (units with no outgoing edges, in the
 * engine's layout). Ordering the units as [I (the others), J (the sinks)],
 *   A = [[A_II, 0], [A_JI, 0]]  ⇒  exp(A) = [[exp(A_II), 0], [A_JI φ₁(A_II), I]],
 * φ₁(X) = Σ_k X^k/(k+1)!, and [[exp(X), φ₁(X)], [0, I]] = exp([[X, I], [0, 0]]). So only the
 * |I|-block's norm enters the scaling and squaring: with the paper's 1e-10 rule the rows A_JI
 * are ~1e5 times the others, and a plain expm then carries ~1e-7 of rounding into entries that are
 * exactly 0. Throws if a column in `sinks` is not zero.
 */
export function expmWithSinks(A: ArrayLike<number>, n: number, sinks: ArrayLike<number>): Float64Array {
  if (A.length !== n * n) throw new ShapeError('expmWithSinks', { message: `expmWithSinks: expected ${n * n} entries, got ${A.length}` });
  const I: number[] = [];
  const J: number[] = [];
  for (let j = 0; j < n; j++) (sinks[j] ? J : I).push(j);
  if (J.length === 0) return expm(A, n);
  for (const j of J) for (let i = 0; i < n; i++) if (A[i * n + j] !== 0) throw nonzeroSink(j);
  const m = I.length;
  const m2 = 2 * m;
  const big = new Float64Array(m2 * m2);
  for (let a = 0; a < m; a++) {
    for (let b = 0; b < m; b++) big[a * m2 + b] = A[I[a]! * n + I[b]!]!;
    big[a * m2 + m + a] = 1;
  }
  const X = expm(big, m2);
  const out = new Float64Array(n * n);
  for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) out[I[a]! * n + I[b]!] = X[a * m2 + b]!;
  for (const j of J) out[j * n + j] = 1;
  // rows J, columns I: A_JI · φ₁(A_II)
  for (const j of J) {
    for (let a = 0; a < m; a++) {
      const ajia = A[j * n + I[a]!]!;
      if (ajia === 0) continue;
      for (let b = 0; b < m; b++) out[j * n + I[b]!]! += ajia * X[a * m2 + m + b]!;
    }
  }
  return out;
}

/**
 * L_exp(A, E) by the block-triangular identity exp([[A, E], [0, A]]) = [[e^A, L], [0, e^A]].
 * An independent (slower, 8× the work) route, used to cross-check expmFrechet.
 */
export function expmFrechetBlock(A: ArrayLike<number>, E: ArrayLike<number>, n: number): Float64Array {
  const n2 = 2 * n;
  const big = new Float64Array(n2 * n2);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      big[i * n2 + j] = A[i * n + j]!;
      big[i * n2 + n + j] = E[i * n + j]!;
      big[(n + i) * n2 + n + j] = A[i * n + j]!;
    }
  }
  const X = expm(big, n2);
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) L[i * n + j] = X[i * n2 + n + j]!;
  return L;
}
