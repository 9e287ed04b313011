import { maxRelError } from './helpers/compare.ts';
import { describe, expect, it } from 'vitest';
import { expm, expmFrechet, expmFrechetAdjoint } from '../engine/expm/cpu.ts';
import { uniformAt } from '../engine/rng.ts';
import {
  THETA_16,
  encodeExpmForward,
  encodePlan,
  expmFrechetAdjointGpu,
  expmFrechetBlockGpu,
  expmFrechetGpu,
  expmGpu,
  readPlan,
  releaseExpmState,
  squaringsFor,
  taylorTail,
} from '../engine/expm/gpu.ts';
import { hasAdapter, useGpu, withMatmulKernel } from './helpers/gpu.ts';

function rand(n: number, stream: number, lo = 0, hi = 1): Float64Array {
  const a = new Float64Array(n * n);
  for (let k = 0; k < n * n; k++) a[k] = Math.fround(lo + (hi - lo) * uniformAt(stream, k));
  return a;
}
function norm1(a: ArrayLike<number>, n: number): number {
  let m = 0;
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += Math.abs(a[i * n + j]!);
    m = Math.max(m, s);
  }
  return m;
}
function withNorm(a: Float64Array, n: number, target: number): Float64Array {
  const f = target / norm1(a, n);
  return a.map((x) => Math.fround(x * f));
}

describe('Taylor degree 16: θ justification', () => {
  it('truncation tail at θ₁₆ is below u/3 and θ₁₆ ≈ 2.5', () => {
    expect(THETA_16).toBeGreaterThan(2.45);
    expect(THETA_16).toBeLessThan(2.6);
    expect(taylorTail(16, THETA_16)).toBeLessThanOrEqual(2 ** -24 / 3);
    expect(taylorTail(16, THETA_16 * 1.05)).toBeGreaterThan(2 ** -24 / 3);
  });
  it('squaring count from the norm', () => {
    expect(squaringsFor(1e-3)).toBe(0);
    expect(squaringsFor(2.5)).toBe(0);
    expect(squaringsFor(2.6)).toBe(1);
    expect(squaringsFor(50)).toBe(5);
  });
});

describe.runIf(hasAdapter)('GPU expm vs the float64 twin', () => {
  const gpu = useGpu();

  // Both tile designs of expm_mm (the backend's matmul design picks one).
  for (const tiles of ['workgroup', 'subgroup'] as const)
    describe(`${tiles} tiles`, () => {
      const cases: [string, number, () => Float64Array][] = [];
      for (const nrm of [1e-3, 0.1, 1, 2.5, 7, 20, 50]) {
        cases.push([`nonnegative, ‖M‖₁ = ${nrm}`, 48, () => withNorm(rand(48, 11), 48, nrm)]);
      }
      cases.push(['mixed sign, ‖M‖₁ = 3 (n = 37, ragged tiles)', 37, () => withNorm(rand(37, 12, -1, 1), 37, 3)]);
      cases.push(['nonnegative n = 130, ‖M‖₁ = 12 (three tiles)', 130, () => withNorm(rand(130, 13), 130, 12)]);
      cases.push([
        'nilpotent (strictly upper triangular), ‖M‖₁ = 10',
        40,
        () => {
          const a = rand(40, 14, -1, 1);
          for (let i = 0; i < 40; i++) for (let j = 0; j <= i; j++) a[i * 40 + j] = 0;
          return withNorm(a, 40, 10);
        },
      ]);
      cases.push([
        'diagonal, entries in [−50, 5]',
        33,
        () => {
          const a = new Float64Array(33 * 33);
          for (let i = 0; i < 33; i++) a[i * 33 + i] = Math.fround(-50 + 55 * uniformAt(15, i));
          a[0] = -50;
          return a;
        },
      ]);

      for (const [name, n, make] of cases) {
        it(name, () =>
          withMatmulKernel(gpu.get(), tiles, async () => {
            const be = gpu.get();
            const M = make();
            const Mt = be.fromArray(M, [n, n]);
            const { E, s, norm } = await expmGpu(be, Mt, n);
            const got = await E.read();
            E.dispose();
            Mt.dispose();
            const ref = expm(M, n);
            expect(Math.abs(norm - norm1(M, n)) / norm1(M, n)).toBeLessThan(1e-5);
            expect(s).toBe(squaringsFor(norm1(M, n)));
            expect(maxRelError(got, ref)).toBeLessThan(1e-5);
          }),
        );
      }

      it('Fréchet derivative L_exp(M, E) and the adjoint L_exp(Mᵀ, G)', () =>
        withMatmulKernel(gpu.get(), tiles, async () => {
          const be = gpu.get();
          for (const [n, nrm] of [
            [45, 0.8],
            [70, 9],
          ] as const) {
            const M = withNorm(rand(n, 21), n, nrm);
            const Ed = rand(n, 22, -1, 1);
            const r = await expmFrechetGpu(be, be.fromArray(M, [n, n]), be.fromArray(Ed, [n, n]), n);
            const L = await r.L.read();
            expect(maxRelError(L, expmFrechet(M, Ed, n).L)).toBeLessThan(1e-5);
            expect(maxRelError(await r.E.read(), expm(M, n))).toBeLessThan(1e-5);
            const a = await expmFrechetAdjointGpu(be, be.fromArray(M, [n, n]), be.fromArray(Ed, [n, n]), n);
            expect(maxRelError(await a.grad.read(), expmFrechetAdjoint(M, Ed, n).grad)).toBeLessThan(1e-5);
          }
        }));

      it('block form agrees with the recurrence', () =>
        withMatmulKernel(gpu.get(), tiles, async () => {
          const be = gpu.get();
          const n = 40;
          const M = withNorm(rand(n, 31), n, 4);
          const Ed = rand(n, 32, -1, 1);
          const blk = await expmFrechetBlockGpu(be, be.fromArray(M, [n, n]), be.fromArray(Ed, [n, n]), n);
          expect(maxRelError(await blk.L.read(), expmFrechet(M, Ed, n).L)).toBeLessThan(1e-5);
        }));

      it('gated squarings: extra encoded steps pass through; too few are reported', () =>
        withMatmulKernel(gpu.get(), tiles, async () => {
          const be = gpu.get();
          const n = 50;
          const M = withNorm(rand(n, 41), n, 30); // needs 4 squarings
          const Mt = be.fromArray(M, [n, n]) as ReturnType<typeof be.alloc>;
          const ref = expm(M, n);
          for (const sEnc of [4, 9]) {
            const plan = encodePlan(be, n, sEnc, { M: Mt });
            const E = be.scope(() => {
              const st = encodeExpmForward(be, Mt, n, plan, sEnc);
              releaseExpmState(st);
              return st.E;
            });
            expect(maxRelError(await E.read(), ref)).toBeLessThan(1e-5);
            const p = await readPlan(be, plan);
            expect(p.s).toBe(4);
            expect(p.needed).toBe(4);
          }
          const plan = encodePlan(be, n, 2, { M: Mt });
          const p = await readPlan(be, plan);
          expect(p.s).toBe(2);
          expect(p.needed).toBe(4);
          expect(p.scale).toBe(0.25);
        }));
    });
});
