/**
 * The skinny products of the recurrent core (engine/gpu/skinny.ts) against their float64
 * definition: C = op(A)·op(B) (+C) per batch block at element offsets and strides, with a
 * bias row for A·Bᵀ, on aligned and unaligned layouts. The whole output buffer is compared,
 * so a write outside the product fails too. The fused RNN's use of them is tested against the
 * CPU twin in tests/rnn.test.ts (and bit for bit against the kernels they replaced by the
 * quick sweep).
 */
import { describe, expect, it } from 'vitest';
import { skinnyInto, skinnyKernelFor, skinnySupported, type SkinnyLayout } from '../engine/gpu/skinny.ts';
import type { GpuTensor } from '../engine/gpu/tensor.ts';
import { hasAdapter, useGpu } from './helpers/gpu.ts';
import { expectClose, randomArray } from './helpers/compare.ts';

interface Case {
  name: string;
  kernel: 'matmul_skinny_rows' | 'matmul_skinny_outer' | 'matmul_skinny_dot';
  batch: number;
  m: number;
  k: number;
  n: number;
  layout: SkinnyLayout;
}

/** The float64 definition: out = C0 with every batch block's product (and extra) applied. */
function reference(c: Case, A: Float64Array, B: Float64Array, C0: Float64Array): Float64Array {
  const { batch, m, k, n, layout: o } = c;
  const out = C0.slice();
  const at = (z: number, i: number, j: number) => o.offsets.c + z * o.strides.c + i * n + j;
  for (let z = 0; z < batch; z++) {
    const a = (i: number, kk: number) => A[o.offsets.a + z * o.strides.a + (o.transA ? kk * m + i : i * k + kk)]!;
    const b = (kk: number, j: number) => B[o.offsets.b + z * o.strides.b + (o.transB ? j * k + kk : kk * n + j)]!;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let kk = 0; kk < k; kk++) s += a(i, kk) * b(kk, j);
        if (o.extra !== undefined) s += B[z * o.strides.b + o.extra + j]!;
        out[at(z, i, j)] = (o.accumulate ? out[at(z, i, j)]! : 0) + s;
      }
    }
  }
  return out;
}

const cases: Case[] = [
  {
    name: 'rows: input drive x W_inᵀ, aligned, 2 blocks, accumulating',
    kernel: 'matmul_skinny_rows',
    batch: 2,
    m: 37,
    k: 8,
    n: 44,
    layout: { transB: true, accumulate: true, offsets: { a: 4, b: 8, c: 12 }, strides: { a: 300, b: 400, c: 1640 } },
  },
  {
    name: 'rows: read-out gradient dY W_out, unaligned operands (K = 3)',
    kernel: 'matmul_skinny_rows',
    batch: 1,
    m: 70,
    k: 3,
    n: 20,
    layout: { offsets: { a: 1, b: 3, c: 0 }, strides: { a: 0, b: 0, c: 0 } },
  },
  {
    name: 'outer: Σ δ xᵀ, big side unaligned (M = 70), 2 blocks',
    kernel: 'matmul_skinny_outer',
    batch: 2,
    m: 70,
    k: 45,
    n: 3,
    layout: { transA: true, offsets: { a: 2, b: 1, c: 5 }, strides: { a: 3200, b: 140, c: 300 } },
  },
  {
    name: 'outer: Σ dy hᵀ, big side B, aligned',
    kernel: 'matmul_skinny_outer',
    batch: 1,
    m: 4,
    k: 19,
    n: 52,
    layout: { transA: true, offsets: { a: 0, b: 0, c: 8 }, strides: { a: 0, b: 0, c: 0 } },
  },
  {
    name: 'outer: small side of 5, K not a multiple of 8, accumulating',
    kernel: 'matmul_skinny_outer',
    batch: 1,
    m: 5,
    k: 9,
    n: 13,
    layout: { transA: true, accumulate: true, offsets: { a: 3, b: 1, c: 2 }, strides: { a: 0, b: 0, c: 0 } },
  },
  {
    name: 'dot: read-out H W_outᵀ + b_out, unaligned (K = 37), 2 blocks',
    kernel: 'matmul_skinny_dot',
    batch: 2,
    m: 21,
    k: 37,
    n: 3,
    layout: { transB: true, offsets: { a: 0, b: 2, c: 1 }, strides: { a: 800, b: 120, c: 70 }, extra: 115 },
  },
  {
    name: 'dot: 8 outputs, aligned, K past one 32-wide step',
    kernel: 'matmul_skinny_dot',
    batch: 1,
    m: 9,
    k: 68,
    n: 8,
    layout: { transB: true, offsets: { a: 4, b: 0, c: 0 }, strides: { a: 0, b: 0, c: 0 } },
  },
];

describe.skipIf(!hasAdapter)('skinny products', () => {
  const gpu = useGpu();

  it('choose a kernel by layout, and none where none fits', () => {
    for (const c of cases) expect(skinnyKernelFor(c, c.layout), c.name).toBe(c.kernel);
    const at0 = { offsets: { a: 0, b: 0, c: 0 }, strides: { a: 0, b: 0, c: 0 } };
    expect(skinnyKernelFor({ m: 40, k: 8, n: 30 }, at0)).toBeNull(); // rows writes vec4 rows: N % 4 = 0
    expect(skinnyKernelFor({ m: 40, k: 8, n: 32 }, { ...at0, transA: true, transB: true })).toBeNull();
    expect(skinnyKernelFor({ m: 40, k: 20, n: 32 }, at0)).toBeNull();
    expect(skinnyKernelFor({ m: 4, k: 20, n: 32 }, { ...at0, transA: true, extra: 0 })).toBeNull(); // a bias row is dot's only
  });

  for (const c of cases) {
    it(c.name, async () => {
      const be = gpu.get();
      if (!skinnySupported(be.ctx)) return; // a CPU-adapter design: elsewhere the backend uses matmulInto
      const { batch, m, k, n, layout: o } = c;
      const sizeA = o.offsets.a + (batch - 1) * o.strides.a + m * k + 4;
      const sizeB = Math.max(o.offsets.b + (batch - 1) * o.strides.b + k * n, (batch - 1) * o.strides.b + (o.extra ?? 0) + n) + 4;
      const sizeC = Math.max(o.offsets.c + (batch - 1) * o.strides.c + m * n, (batch - 1) * o.strides.c + (o.extra ?? 0) + m) + 7;
      const A = randomArray(sizeA, 1);
      const B = randomArray(sizeB, 2);
      const C0 = randomArray(sizeC, 3);
      const want = reference(c, A, B, C0);
      const [ga, gb, gc] = [A, B, C0].map((x) => be.fromArray(x, [x.length]) as GpuTensor);
      skinnyInto(be.ctx, ga!.buffer, gb!.buffer, gc!.buffer, c, o);
      expectClose(await gc!.read(), want, 1e-5, c.name);
      for (const t of [ga, gb, gc]) t!.dispose();
    });
  }
});
