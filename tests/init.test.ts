import { describe, expect, it } from 'vitest';
import { Rng } from '../engine/rng.ts';
import { matmul, qr, transpose } from '../engine/dense.ts';
import { fromMatrix, glorotUniform, orthogonal, zeros } from '../engine/init.ts';

function maxAbsDiffFromIdentity(a: Float64Array, n: number): number {
  let m = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m = Math.max(m, Math.abs(a[i * n + j]! - (i === j ? 1 : 0)));
  return m;
}

describe('orthogonal', () => {
  it('is orthogonal (QᵀQ = QQᵀ = I) and scaled by gain', () => {
    const n = 40;
    const q = orthogonal(n, new Rng(1, 'orth'));
    expect(maxAbsDiffFromIdentity(matmul(transpose(q, n, n), q, n, n, n), n)).toBeLessThan(1e-12);
    expect(maxAbsDiffFromIdentity(matmul(q, transpose(q, n, n), n, n, n), n)).toBeLessThan(1e-12);
    const g = orthogonal(n, new Rng(1, 'orth'), 2);
    for (let k = 0; k < n * n; k++) expect(g[k]).toBeCloseTo(2 * q[k]!, 14);
  });
  it('equals the sign-corrected Q of the QR of the same normal draw (Keras)', () => {
    const n = 6;
    const a = new Rng(3).normals(n * n);
    const { q, r } = qr(a, n, n);
    const o = orthogonal(n, new Rng(3));
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(o[i * n + j]).toBeCloseTo(q[i * n + j]! * Math.sign(r[j * n + j]!), 14);
  });
  it('has orthonormal rows when wide and columns when tall', () => {
    const w = orthogonal(3, new Rng(4), 1, 7);
    expect(maxAbsDiffFromIdentity(matmul(w, transpose(w, 3, 7), 3, 7, 3), 3)).toBeLessThan(1e-12);
    const t = orthogonal(7, new Rng(4), 1, 3);
    expect(maxAbsDiffFromIdentity(matmul(transpose(t, 7, 3), t, 3, 7, 3), 3)).toBeLessThan(1e-12);
  });
  it('differs between seeds and is deterministic for one seed', () => {
    expect(orthogonal(5, new Rng(1))).toEqual(orthogonal(5, new Rng(1)));
    expect(orthogonal(5, new Rng(1))).not.toEqual(orthogonal(5, new Rng(2)));
  });
});

describe('glorotUniform', () => {
  it('draws within ±sqrt(6/(fanIn+fanOut)) with the uniform variance', () => {
    const w = glorotUniform(100, 60, new Rng(5));
    expect(w.length).toBe(6000);
    const limit = Math.sqrt(6 / 160);
    let s2 = 0;
    for (const v of w) {
      expect(Math.abs(v)).toBeLessThanOrEqual(limit);
      s2 += v * v;
    }
    expect(s2 / w.length).toBeCloseTo((limit * limit) / 3, 3);
    expect(Math.max(...w)).toBeGreaterThan(0.95 * limit);
  });
});

describe('zeros and fromMatrix', () => {
  it('makes zero matrices and validates user matrices', () => {
    expect(zeros(2, 3)).toEqual(new Float64Array(6));
    expect(
      fromMatrix(
        [
          [1, 2],
          [3, 4],
        ],
        2,
      ),
    ).toEqual(Float64Array.from([1, 2, 3, 4]));
    expect(fromMatrix([1, 2, 3, 4], 2)).toEqual(Float64Array.from([1, 2, 3, 4]));
    expect(() => fromMatrix([1, 2, 3], 2)).toThrow(/expected 2×2 = 4 entries, got 3/);
    expect(() => fromMatrix([[1, 2], [3]], 2)).toThrow(/row 1 has 1 entries/);
    expect(() => fromMatrix([1, NaN, 3, 4], 2)).toThrow(/entry \[0\]\[1\] must be a finite number/);
    expect(() => zeros(0)).toThrow(/positive integer/);
  });
});
