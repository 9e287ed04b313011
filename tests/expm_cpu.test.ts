import { maxAbs, maxAbsDiff, maxRelError } from './helpers/compare.ts';
import { describe, expect, it } from 'vitest';
import { identity, matmul, norm1, qr, transpose } from '../engine/dense.ts';
import { uniformAt } from '../engine/rng.ts';
import {
  choosePade,
  ELL,
  expm,
  expmFrechet,
  expmFrechetAdjoint,
  expmFrechetBlock,
  expmWithSinks,
  luFactor,
  luSolve,
  matmulSquare,
  padeCoefficients,
  THETA,
} from '../engine/expm/cpu.ts';

// ── helpers ──────────────────────────────────────────────────────────────────────────────────
function randMat(n: number, stream: number, lo = -1, hi = 1): Float64Array {
  const a = new Float64Array(n * n);
  for (let k = 0; k < n * n; k++) a[k] = lo + (hi - lo) * uniformAt(stream, k);
  return a;
}
function scaleTo1Norm(a: Float64Array, n: number, target: number): Float64Array {
  const f = target / norm1(a, n);
  return a.map((v) => v * f);
}
/** largest elementwise relative error (for positive references) */
function elemRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!) / Math.abs(b[i]!));
  return m;
}
function mm(a: ArrayLike<number>, b: ArrayLike<number>, n: number): Float64Array {
  return matmul(a, b, n, n, n);
}
function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Plain Taylor series Σ_{k<terms} A^k/k!, no scaling (for small norms only). */
function taylor(a: Float64Array, n: number, terms: number): Float64Array {
  const out = identity(n);
  let term = identity(n);
  for (let k = 1; k < terms; k++) {
    term = mm(term, a, n).map((v) => v / k);
    for (let i = 0; i < n * n; i++) out[i]! += term[i]!;
  }
  return out;
}

/**
 * A different algorithm for reference: scale so that ‖A/2^s‖₁ ≤ 1/16, 30-term Taylor series,
 * then s squarings. For nonnegative A every term and product is nonnegative, so there is no
 * cancellation and the result is elementwise accurate.
 */
function taylorSquaring(a: Float64Array, n: number): Float64Array {
  const nrm = norm1(a, n);
  const s = nrm > 1 / 16 ? Math.ceil(Math.log2(nrm * 16)) : 0;
  let x = taylor(
    a.map((v) => v / 2 ** s),
    n,
    30,
  );
  for (let k = 0; k < s; k++) x = mm(x, x, n);
  return x;
}

/** Symmetric A = Q diag(lam) Qᵀ with a random orthogonal Q, and exp(A) = Q diag(e^lam) Qᵀ. */
function symmetricCase(n: number, lam: number[], stream: number): { A: Float64Array; expA: Float64Array } {
  const { q } = qr(randMat(n, stream), n, n);
  const qt = transpose(q, n, n);
  const withDiag = (f: (x: number) => number): Float64Array => {
    const qd = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) qd[i * n + j] = q[i * n + j]! * f(lam[j]!);
    return mm(qd, qt, n);
  };
  const A = withDiag((x) => x);
  // symmetrise exactly
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) A[j * n + i] = A[i * n + j]!;
  return { A, expA: withDiag(Math.exp) };
}

// ── tests ─────────────────────────────────────────────────────────────────────────────────────
describe('Padé coefficients and thresholds', () => {
  it('match the table of Higham 2005', () => {
    expect(padeCoefficients(3)).toEqual([120, 60, 12, 1]);
    expect(padeCoefficients(5)).toEqual([30240, 15120, 3360, 420, 30, 1]);
    expect(padeCoefficients(7)).toEqual([17297280, 8648640, 1995840, 277200, 25200, 1512, 56, 1]);
    expect(padeCoefficients(9)).toEqual([17643225600, 8821612800, 2075673600, 302702400, 30270240, 2162160, 110880, 3960, 90, 1]);
    expect(padeCoefficients(13)).toEqual([
      64764752532480000, 32382376266240000, 7771770303897600, 1187353796428800, 129060195264000, 10559470521600, 670442572800, 33522128640, 1323241920,
      40840800, 960960, 16380, 182, 1,
    ]);
  });

  it('chooses the degree and the number of squarings from ‖A‖₁', () => {
    expect(choosePade(0)).toEqual({ m: 3, s: 0 });
    expect(choosePade(THETA[3])).toEqual({ m: 3, s: 0 });
    expect(choosePade(THETA[3] * 1.001)).toEqual({ m: 5, s: 0 });
    expect(choosePade(1)).toEqual({ m: 9, s: 0 });
    expect(choosePade(THETA[13])).toEqual({ m: 13, s: 0 });
    expect(choosePade(THETA[13] * 1.01)).toEqual({ m: 13, s: 1 });
    expect(choosePade(50)).toEqual({ m: 13, s: 4 });
    expect(choosePade(0.5, ELL)).toEqual({ m: 7, s: 0 });
    expect(choosePade(1, ELL)).toEqual({ m: 9, s: 0 });
    expect(choosePade(5, ELL)).toEqual({ m: 13, s: 1 });
  });
});

describe('kernels', () => {
  it('matmulSquare equals dense.matmul', () => {
    for (const n of [1, 5, 8, 13]) {
      const a = randMat(n, 11 + n);
      const b = randMat(n, 29 + n);
      expect(maxAbsDiff(matmulSquare(a, b, n), matmul(a, b, n, n, n))).toBeLessThan(1e-15);
    }
  });

  it('luSolve solves A X = B (pivoting needed)', () => {
    const n = 9;
    const a = randMat(n, 3);
    a[0] = 0; // forces a row swap at step 0
    const x = randMat(n, 4);
    const b = matmul(a, x, n, n, n);
    expect(maxRelError(luSolve(luFactor(a, n), b, n), x)).toBeLessThan(1e-12);
    expect(() => luFactor(new Float64Array(4), 2)).toThrow(/singular/);
  });
});

describe('expm', () => {
  it('matches a long Taylor series for small norms (every Padé degree)', () => {
    const n = 7;
    for (const [i, nrm] of [1e-3, 0.01, 0.1, 0.25, 0.5, 0.9, 1.5, 2].entries()) {
      const a = scaleTo1Norm(randMat(n, 100 + i), n, nrm);
      const ref = taylor(a, n, 40);
      expect(maxRelError(expm(a, n), ref), `‖A‖₁ = ${nrm}`).toBeLessThan(2e-15);
    }
  });

  it('matches exp of the diagonal on diagonal matrices (off-diagonal exactly 0)', () => {
    const d = [-30, -2.5, -1e-3, 0, 1e-8, 0.7, 3, 20];
    const n = d.length;
    const a = new Float64Array(n * n);
    d.forEach((v, i) => (a[i * n + i] = v));
    const e = expm(a, n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        if (i === j) expect(Math.abs(e[i * n + i]! - Math.exp(d[i]!)) / Math.exp(d[i]!)).toBeLessThan(3e-14);
        else expect(e[i * n + j]).toBe(0);
      }
    }
  });

  it('sums the finite series of a nilpotent matrix', () => {
    const n = 6;
    for (const scale of [0.1, 1, 5]) {
      const a = randMat(n, 7).map((v) => v * scale);
      for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = 0; // strictly upper
      const ref = taylor(a, n, n); // N^n = 0: the series ends at N^(n-1)/(n-1)!
      expect(maxRelError(expm(a, n), ref), `scale ${scale}`).toBeLessThan(5e-15);
    }
  });

  it('gives the rotation of a 2×2 skew-symmetric matrix', () => {
    for (const t of [1e-4, 0.3, 1, 3, 10, 50]) {
      const e = expm([0, t, -t, 0], 2);
      const ref = [Math.cos(t), Math.sin(t), -Math.sin(t), Math.cos(t)];
      expect(maxAbsDiff(e, ref), `θ = ${t}`).toBeLessThan(t < 5 ? 2e-15 : 2e-13);
    }
  });

  it('satisfies expm(A) expm(-A) = I', () => {
    const n = 10;
    for (const nrm of [0.01, 1, 4, 10]) {
      const a = scaleTo1Norm(randMat(n, 200), n, nrm);
      const e1 = expm(a, n);
      const e2 = expm(
        a.map((v) => -v),
        n,
      );
      const cond = norm1(e1, n) * norm1(e2, n);
      expect(maxAbsDiff(mm(e1, e2, n), identity(n)), `‖A‖₁ = ${nrm}`).toBeLessThan(5e-15 * cond);
    }
  });

  it('matches exp of symmetric eigen-decomposable matrices, ‖A‖₁ from 1e-3 to 50', () => {
    const n = 12;
    for (const [i, nrm] of [1e-3, 0.05, 0.5, 1, 3, 5.3, 8, 20, 50].entries()) {
      const lam = Array.from({ length: n }, (_, k) => nrm * (2 * uniformAt(300 + i, k) - 1) * 0.6);
      const { A, expA } = symmetricCase(n, lam, 400 + i);
      expect(maxRelError(expm(A, n), expA), `‖A‖₁ = ${norm1(A, n)}`).toBeLessThan(1e-13);
    }
  });

  it('matches Taylor-with-squaring elementwise on nonnegative matrices, ‖A‖₁ from 1e-3 to 50', () => {
    const n = 16;
    for (const [i, nrm] of [1e-3, 0.01, 0.2, 0.9, 2, 5, 11, 25, 50].entries()) {
      const a = scaleTo1Norm(randMat(n, 500 + i, 0, 1), n, nrm);
      expect(elemRelErr(expm(a, n), taylorSquaring(a, n)), `‖A‖₁ = ${nrm}`).toBeLessThan(1e-13);
    }
  });

  it('handles n = 0 and n = 1 and rejects bad sizes', () => {
    expect(expm([], 0).length).toBe(0);
    expect(Math.abs(expm([2.5], 1)[0]! - Math.exp(2.5)) / Math.exp(2.5)).toBeLessThan(4e-15);
    expect(() => expm([1, 2, 3], 2)).toThrow();
  });
});

describe('expmWithSinks', () => {
  it('equals expm when the sink columns are zero, and stays exact when the sink rows are huge', () => {
    const n = 9;
    const sinks = [0, 1, 0, 0, 1, 0, 0, 0, 1];
    const a1 = randMat(n, 1600, 0, 1);
    for (let j = 0; j < n; j++) if (sinks[j]) for (let i = 0; i < n; i++) a1[i * n + j] = 0;
    const ref1 = taylorSquaring(a1, n);
    expect(maxRelError(expmWithSinks(a1, n, sinks), expm(a1, n))).toBeLessThan(1e-14);
    for (const spike of [1, 1e5]) {
      // rows of the sinks scaled, as the paper's 1e-10 strength does: exp(A)[J, I] = A_JI φ₁(A_II)
      // is linear in A_JI, so the reference is ref1 with those rows scaled by the same factor
      const a = Float64Array.from(a1);
      const ref = Float64Array.from(ref1);
      for (let j = 0; j < n; j++) {
        if (!sinks[j]) continue;
        for (let b = 0; b < n; b++) {
          a[j * n + b]! *= spike;
          if (!sinks[b]) ref[j * n + b]! *= spike;
        }
      }
      const e = expmWithSinks(a, n, sinks);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          const k = i * n + j;
          if (sinks[j])
            expect(e[k]).toBe(i === j ? 1 : 0); // exactly, by structure
          else expect(Math.abs(e[k]! - ref[k]!) / ref[k]!, `(${i},${j}) spike ${spike}`).toBeLessThan(1e-13);
        }
      }
      if (spike > 1) {
        const plain = expm(a, n);
        let worst = 0;
        for (let k = 0; k < n * n; k++) if (ref[k] !== 0) worst = Math.max(worst, Math.abs(plain[k]! - ref[k]!) / ref[k]!);
        console.log(
          `plain expm with sink rows ×1e5: elementwise rel err ${worst.toExponential(2)}, max |exact zero| ${maxAbs(plain.filter((_, k) => ref[k] === 0 && k % (n + 1) !== 0)).toExponential(2)}`,
        );
      }
    }
    expect(() => expmWithSinks([1, 1, 1, 1], 2, [0, 1])).toThrow(/not zero/);
    const a = randMat(4, 1700);
    expect(expmWithSinks(a, 4, [0, 0, 0, 0])).toEqual(expm(a, 4));
  });
});

describe('Fréchet derivative', () => {
  it('agrees with the block-triangular identity, ‖A‖₁ from 1e-3 to 50', () => {
    const n = 8;
    for (const [i, nrm] of [1e-3, 0.05, 0.5, 1.2, 3, 4.8, 9, 20, 50].entries()) {
      const a = scaleTo1Norm(randMat(n, 600 + i), n, nrm);
      const e = randMat(n, 700 + i);
      const { expA, L } = expmFrechet(a, e, n);
      expect(maxRelError(expA, expm(a, n)), `expA, ‖A‖₁ = ${nrm}`).toBeLessThan(1e-13);
      expect(maxRelError(L, expmFrechetBlock(a, e, n)), `L, ‖A‖₁ = ${nrm}`).toBeLessThan(2e-13);
    }
  });

  it('has the closed form E∘(divided differences of exp) at a diagonal A', () => {
    const d = [-3, -0.5, 0.2, 0.2 + 1e-3, 1, 4.5];
    const n = d.length;
    const a = new Float64Array(n * n);
    d.forEach((v, i) => (a[i * n + i] = v));
    const e = randMat(n, 800);
    const { L } = expmFrechet(a, e, n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const di = d[i]!;
        const dj = d[j]!;
        // (e^di − e^dj)/(di − dj) = e^dj · expm1(di − dj)/(di − dj), accurate for close di, dj
        const dd = i === j ? Math.exp(di) : (Math.exp(dj) * Math.expm1(di - dj)) / (di - dj);
        const ref = e[i * n + j]! * dd;
        expect(Math.abs(L[i * n + j]! - ref), `(${i},${j})`).toBeLessThan(2e-14 * Math.max(1, Math.abs(ref)));
      }
    }
  });

  it('gives L(A, A) = A e^A (commuting direction)', () => {
    const n = 9;
    for (const nrm of [0.1, 2, 12]) {
      const a = scaleTo1Norm(randMat(n, 900), n, nrm);
      const { expA, L } = expmFrechet(a, a, n);
      expect(maxRelError(L, mm(a, expA, n)), `‖A‖₁ = ${nrm}`).toBeLessThan(2e-14);
    }
  });

  it('matches central finite differences', () => {
    const n = 6;
    for (const [i, nrm] of [0.01, 0.7, 3, 15].entries()) {
      const a = scaleTo1Norm(randMat(n, 1000 + i), n, nrm);
      const e = randMat(n, 1100 + i);
      const { L } = expmFrechet(a, e, n);
      const h = 1e-5;
      const plus = expm(
        a.map((v, k) => v + h * e[k]!),
        n,
      );
      const minus = expm(
        a.map((v, k) => v - h * e[k]!),
        n,
      );
      const fd = plus.map((v, k) => (v - minus[k]!) / (2 * h));
      expect(maxRelError(L, fd), `‖A‖₁ = ${nrm}`).toBeLessThan(1e-8);
    }
  });

  it('adjoint: ⟨G, L(A, E)⟩ = ⟨L(Aᵀ, G), E⟩ and it is the gradient of ⟨G, expm(A)⟩', () => {
    const n = 7;
    for (const [i, nrm] of [0.05, 1, 6, 30].entries()) {
      const a = scaleTo1Norm(randMat(n, 1200 + i), n, nrm);
      const g = randMat(n, 1300 + i);
      const e = randMat(n, 1400 + i);
      const { expA, grad } = expmFrechetAdjoint(a, g, n);
      expect(maxRelError(expA, expm(a, n))).toBeLessThan(1e-13);
      const lhs = dot(g, expmFrechet(a, e, n).L);
      const rhs = dot(grad, e);
      expect(Math.abs(lhs - rhs) / Math.abs(lhs), `‖A‖₁ = ${nrm}`).toBeLessThan(1e-13);
      // directional derivative of f(A) = ⟨G, expm(A)⟩ along e, by central differences
      const h = 1e-6;
      const f = (t: number): number =>
        dot(
          g,
          expm(
            a.map((v, k) => v + t * e[k]!),
            n,
          ),
        );
      const fd = (f(h) - f(-h)) / (2 * h);
      expect(Math.abs(fd - rhs) / Math.abs(rhs), `FD, ‖A‖₁ = ${nrm}`).toBeLessThan(1e-7);
    }
  });
});

describe('performance', () => {
  it('expm of a normalised 312×312 matrix runs in well under a second (generous bound under load)', () => {
    const n = 312;
    const a = scaleTo1Norm(randMat(n, 1500, 0, 1), n, 1.05);
    expm(a, n); // warm-up (JIT)
    const t0 = performance.now();
    const e = expm(a, n);
    const ms = performance.now() - t0;
    console.log(`expm N=312: ${ms.toFixed(0)} ms`);
    expect(Number.isFinite(e[0]!)).toBe(true);
    // ~0.2 s alone on a 2-core machine; generous bound, since test files run in parallel
    expect(ms).toBeLessThan(3000);
  });
});
