/**
 * The matrix exponential and its Fréchet derivative on the GPU, for the communicability
 * regularisers (issue 4).
 *
 * ── Approximant ─────────────────────────────────────────────────────────────────────────────
 * Scaling and squaring around the degree-16 Taylor polynomial T₁₆, evaluated by
 * Paterson–Stockmeyer with q = 4 (no linear solve):
 *   X = M / 2^s,  P₂ = X², P₃ = P₂X, P₄ = P₂²                       (3 products)
 *   B_j = c_{4j} I + c_{4j+1} X + c_{4j+2} P₂ + c_{4j+3} P₃,  c_k = 1/k!
 *   H₃ = c₁₆ P₄ + B₃,  H_j = H_{j+1} P₄ + B_j (j = 2, 1, 0),  T = H₀  (3 products)
 *   exp(M) ≈ T^(2^s)                                                (s products)
 * Degree: for ‖X‖₁ ≤ θ the truncation error is ‖exp(X) − T₁₆(X)‖₁ ≤ Σ_{k>16} θ^k/k!. θ₁₆ is the
 * largest θ for which this tail is ≤ u/3 with u = 2⁻²⁴ (float32 unit roundoff): θ₁₆ ≈ 2.51
 * (`taylorTheta(16)`), so truncation stays below the rounding of the float32 result
 * (exp(X) ≥ I entrywise for the nonnegative M of the regularisers, so ‖exp(X)‖₁ ≥ 1). Six
 * products reach θ = 2.5; degree 12 (five products) reaches 1.45, degree 8 (four) 0.58: per
 * unit of log₂‖M‖ the three cost the same, and degree 16 needs the fewest squarings, which are
 * where float32 rounding accumulates.
 *
 * ── Squaring count ──────────────────────────────────────────────────────────────────────────
 * `expm_plan` computes ‖M‖₁ on the GPU (max column abs-sum) and s = min s with ‖M‖₁/2^s ≤ θ.
 * Two ways to use it:
 *  - exact (`expmGpu`, `expmFrechetGpu`): one 16-byte host read of the plan, then exactly s
 *    squarings are encoded (tests, benchmarks, async callers);
 *  - gated (the regularisers, whose `apply` is synchronous): sEnc ≥ s squaring steps are
 *    encoded and each runs only when its index is below the GPU's s (otherwise it passes its
 *    operand through), so nothing waits for the host. The plan clamps s to sEnc and records the
 *    s it needed, which the caller can read later (lagged) to adapt sEnc.
 *
 * ── Fréchet derivative (Al-Mohy–Higham style, on the same polynomial) ───────────────────────
 * L = L_exp(M, E) = d/dt exp(M + tE) by differentiating every step above in forward mode:
 *   Ê = E / 2^s, L₂ = XÊ + ÊX, L₃ = L₂X + P₂Ê, L₄ = L₂P₂ + P₂L₂
 *   LH₃ = c₁₆ L₄ + LB₃,  LH_j = LH_{j+1} P₄ + H_{j+1} L₄ + LB_j,  LB_j = c_{4j+1}Ê + c_{4j+2}L₂ + c_{4j+3}L₃
 *   squarings: L ← Y L + L Y with Y = T^(2^k), the forward's own squares (kept in its state)
 * 12 + 2s products (two per fused dispatch). The adjoint used by the gradient is
 * L_exp(Mᵀ, G) = L_exp(M, Gᵀ)ᵀ: the regularisers write Gᵀ directly and read the result
 * transposed, so every product is a plain row-major one.
 * `expmFrechetBlockGpu` is the alternative block form (expm of [[M, E], [0, M]], top-right
 * block), kept for the benchmark: twice the size, eight times the flops per product.
 */
import { ShapeError } from '../errors.ts';
import { runKernel } from '../gpu/program.ts';
import { grid1d, type GpuOps, type GpuTensor } from '../gpu/tensor.ts';
import type { Tensor } from '../tensor.ts';

const TAYLOR_DEGREE = 16;
/** Taylor coefficients c_k = 1/k!, k = 0 … 16. */
const TAYLOR_COEF: readonly number[] = (() => {
  const c = [1];
  for (let k = 1; k <= TAYLOR_DEGREE; k++) c.push(c[k - 1]! / k);
  return c;
})();

/** Σ_{k>m} θ^k / k!: the truncation bound of the degree-m Taylor polynomial at ‖X‖ ≤ θ. */
export function taylorTail(m: number, theta: number): number {
  let term = 1;
  for (let k = 1; k <= m; k++) term *= theta / k;
  let sum = 0;
  for (let k = m + 1; k < m + 200; k++) {
    term *= theta / k;
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

/** The largest θ with taylorTail(m, θ) ≤ tol (default u/3, u = 2⁻²⁴), by bisection. */
function taylorTheta(m: number, tol = 2 ** -24 / 3): number {
  let lo = 0;
  let hi = 64;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (taylorTail(m, mid) <= tol) lo = mid;
    else hi = mid;
  }
  return lo;
}

export const THETA_16 = taylorTheta(TAYLOR_DEGREE);

/** Squaring count the plan kernel picks for a 1-norm (same loop as expm_plan.wgsl). */
export function squaringsFor(norm: number, theta = THETA_16): number {
  let s = 0;
  let x = Math.fround(norm);
  while (x > Math.fround(theta) && s < 126) {
    x *= 0.5;
    s++;
  }
  return s;
}

/** Products (2n³ flops each) of a forward expm / Fréchet pass with s squarings. */
export function expmProducts(s: number): { forward: number; frechet: number } {
  return { forward: 6 + s, frechet: 12 + 2 * s };
}

type Term = [number, GpuTensor];

interface MmSpec {
  prods?: [GpuTensor, GpuTensor][];
  terms?: Term[];
  cI?: number;
  /** gated squaring step: runs when step < plan[0], otherwise OUT = src */
  gate?: { plan: GpuTensor; step: number; src: GpuTensor };
}

/** Encodes one expm_mm dispatch into `out`: `models` stacked n×n matrices (workgroup z). */
function encodeMm(be: GpuOps, n: number, out: GpuTensor, spec: MmSpec, models = 1): void {
  const prods = spec.prods ?? [];
  const terms = spec.terms ?? [];
  if (prods.length > 2 || terms.length > 4) throw new Error('expm_mm: at most 2 products and 4 terms');
  if (spec.gate && terms.length) throw new Error('expm_mm: a gated step has no epilogue');
  const b = (t: GpuTensor | undefined) => (t ? be.buf(t) : null);
  const s0 = spec.gate ? spec.gate.src : terms[0]?.[1];
  const [cI, c0, c1, c2, c3] = [spec.cI ?? 0, ...[0, 1, 2, 3].map((i) => terms[i]?.[0] ?? 0)] as [number, number, number, number, number];
  // Tiles follow the backend's matmul design: 16 x 4·lanes subgroup registers or 64 x 64 workgroup memory.
  const lanes = be.subgroupLanes;
  const subgroup = lanes !== null;
  runKernel(be.ctx, 'expmMm', {
    shader: subgroup ? 'expm_mm_subgroup' : 'expm_mm',
    bind: {
      A0: b(prods[0]?.[0]),
      B0: b(prods[0]?.[1]),
      A1: b(prods[1]?.[0]),
      B1: b(prods[1]?.[1]),
      S0: b(s0),
      S1: b(terms[1]?.[1]),
      S2: b(terms[2]?.[1]),
      S3: b(terms[3]?.[1]),
      plan: b(spec.gate?.plan),
      OUT: be.buf(out),
    },
    uniform: { N: n, step: spec.gate?.step ?? 0, cI, c0, c1, c2, c3 },
    constants: { NPROD: prods.length, NTERMS: terms.length, GATED: Boolean(spec.gate), STACKED: models > 1, ...(lanes ? { LANES: lanes } : {}) },
    groups: lanes ? [Math.ceil(n / (4 * lanes)), Math.ceil(n / 16), models] : [Math.ceil(n / 64), Math.ceil(n / 64), models],
    // For the roofline (a gated step that only copies does less; this is the work when it runs).
    cost: {
      flops: models * (2 * n ** 3 * prods.length + 2 * n * n * (terms.length + (spec.cI ? 1 : 0))),
      bytes: models * 4 * n * n * (2 * prods.length + terms.length + (spec.gate ? 1 : 0) + 1),
    },
  });
}

/**
 * Encodes the plan: ‖M‖₁ (from precomputed column abs-sums, or computed here from M) and the
 * squaring count s ≤ sMax. Returns a 4-word tensor [s, bits(2^-s), bits(‖M‖₁), s needed] for
 * each of `models` stacked matrices.
 */
export function encodePlan(be: GpuOps, n: number, sMax: number, src: { colsum: GpuTensor } | { M: GpuTensor }, models = 1): GpuTensor {
  const plan = be.alloc([4 * models], 'expm_plan');
  const colsums = 'colsum' in src;
  runKernel(be.ctx, 'expmPlan', {
    bind: { colsum: colsums ? be.buf(src.colsum) : null, X: colsums ? null : be.buf(src.M), plan: plan.buffer },
    uniform: { N: n, sMax, theta: THETA_16 },
    constants: { COLSUMS: !colsums },
    groups: [models],
  });
  return plan;
}

/** Decodes a plan read back from the GPU. */
export function decodePlan(bytes: ArrayBuffer): { s: number; scale: number; norm: number; needed: number } {
  const u = new Uint32Array(bytes, 0, 4);
  const f = new Float32Array(bytes, 0, 4);
  return { s: u[0]!, scale: f[1]!, norm: f[2]!, needed: u[3]! };
}

/** 2^-s·X for each of the plan's matrices (x holds one block of x.size / models per plan). */
function encodeScale(be: GpuOps, x: GpuTensor, plan: GpuTensor, models: number): GpuTensor {
  const out = be.alloc(x.shape, 'expm_scale');
  const g = grid1d(x.size);
  runKernel(be.ctx, 'expmScale', {
    bind: { X: be.buf(x), plan: plan.buffer, Y: out.buffer },
    uniform: { n: x.size, rowPitch: g.rowPitch, per: x.size / models },
    groups: g.groups,
  });
  return out;
}

/** What the forward pass keeps for the Fréchet pass (all [models, n, n], owned by the caller's scope). */
export interface ExpmState {
  n: number;
  /** matrices in the stack, each with its own plan and gates */
  models: number;
  plan: GpuTensor;
  /** squaring steps encoded (the GPU runs min(s, sEnc) of them) */
  sEnc: number;
  X: GpuTensor;
  P2: GpuTensor;
  P3: GpuTensor;
  P4: GpuTensor;
  /** H₁, H₂, H₃ */
  H: [GpuTensor, GpuTensor, GpuTensor];
  /** T₁₆(X) = H₀, the start of the squaring phase */
  T: GpuTensor;
  /**
   * The squaring phase's operands Y_k = T^(2^k) for k < sEnc (Y_0 = T; each gated step passes
   * its operand on past the GPU's s), which the Fréchet pass reuses instead of recomputing.
   */
  Y: GpuTensor[];
  /** exp(M) */
  E: GpuTensor;
}

const c = TAYLOR_COEF;

/**
 * Encodes exp(M) of each of `models` stacked matrices given their encoded plans; sEnc squaring
 * steps (gated by each plan's s).
 */
export function encodeExpmForward(be: GpuOps, M: GpuTensor, n: number, plan: GpuTensor, sEnc: number, models = 1): ExpmState {
  const X = encodeScale(be, M, plan, models);
  const mat = () => be.alloc(models === 1 ? [n, n] : [models, n, n], 'expm');
  const mm = (out: GpuTensor, spec: MmSpec) => encodeMm(be, n, out, spec, models);
  const P2 = mat();
  const P3 = mat();
  const P4 = mat();
  mm(P2, { prods: [[X, X]] });
  mm(P3, { prods: [[P2, X]] });
  mm(P4, { prods: [[P2, P2]] });
  const H3 = mat();
  mm(H3, {
    terms: [
      [c[16]!, P4],
      [c[13]!, X],
      [c[14]!, P2],
      [c[15]!, P3],
    ],
    cI: c[12]!,
  });
  const H2 = mat();
  mm(H2, {
    prods: [[H3, P4]],
    terms: [
      [c[9]!, X],
      [c[10]!, P2],
      [c[11]!, P3],
    ],
    cI: c[8]!,
  });
  const H1 = mat();
  mm(H1, {
    prods: [[H2, P4]],
    terms: [
      [c[5]!, X],
      [c[6]!, P2],
      [c[7]!, P3],
    ],
    cI: c[4]!,
  });
  const T = mat();
  mm(T, {
    prods: [[H1, P4]],
    terms: [
      [c[1]!, X],
      [c[2]!, P2],
      [c[3]!, P3],
    ],
    cI: c[0]!,
  });
  const Y = [T];
  for (let k = 0; k < sEnc; k++) {
    const next = mat();
    mm(next, { prods: [[Y[k]!, Y[k]!]], gate: { plan, step: k, src: Y[k]! } });
    Y.push(next);
  }
  const E = Y.pop()!;
  return { n, models, plan, sEnc, X, P2, P3, P4, H: [H1, H2, H3], T, Y, E };
}

/** Encodes L_exp(M, Edir) on the polynomial and squarings of a forward state. */
export function encodeExpmFrechet(be: GpuOps, st: ExpmState, Edir: GpuTensor): GpuTensor {
  const { n, models, plan, X, P2, P4, H } = st;
  const mat = () => be.alloc(models === 1 ? [n, n] : [models, n, n], 'expm_frechet');
  const mm = (out: GpuTensor, spec: MmSpec) => encodeMm(be, n, out, spec, models);
  const Ex = encodeScale(be, Edir, plan, models);
  const L2 = mat();
  mm(L2, {
    prods: [
      [X, Ex],
      [Ex, X],
    ],
  });
  const L3 = mat();
  mm(L3, {
    prods: [
      [L2, X],
      [P2, Ex],
    ],
  });
  const L4 = mat();
  mm(L4, {
    prods: [
      [L2, P2],
      [P2, L2],
    ],
  });
  let LH = mat();
  mm(LH, {
    terms: [
      [c[16]!, L4],
      [c[13]!, Ex],
      [c[14]!, L2],
      [c[15]!, L3],
    ],
  });
  for (let j = 2; j >= 0; j--) {
    const next = mat();
    mm(next, {
      prods: [
        [LH, P4],
        [H[j]!, L4],
      ],
      terms: [
        [c[4 * j + 1]!, Ex],
        [c[4 * j + 2]!, L2],
        [c[4 * j + 3]!, L3],
      ],
    });
    LH.dispose();
    LH = next;
  }
  for (const t of [Ex, L2, L3, L4]) t.dispose();
  let L = LH;
  for (let k = 0; k < st.sEnc; k++) {
    const Y = st.Y[k]!;
    const Ln = mat();
    mm(Ln, {
      prods: [
        [Y, L],
        [L, Y],
      ],
      gate: { plan, step: k, src: L },
    });
    L.dispose();
    L = Ln;
  }
  return L;
}

/** Disposes the forward intermediates (not E, not the plan). */
export function releaseExpmState(st: ExpmState): void {
  for (const t of [st.X, st.P2, st.P3, st.P4, ...st.H, ...st.Y]) if (t !== st.E) t.dispose();
}

function asGpu(be: GpuOps, t: Tensor, n: number): GpuTensor {
  const g = be.gpuTensor(t);
  if (g.size !== n * n) throw new ShapeError('expm', { message: `expm: expected an ${n}×${n} matrix, got ${g.shape.join('×')}` });
  return g.offset === 0 ? g : be.materialize(g);
}

/** Reads a plan (one 16-byte host read). */
export async function readPlan(be: GpuOps, plan: GpuTensor): Promise<{ s: number; scale: number; norm: number; needed: number }> {
  return decodePlan(await be.ctx.readBuffer(plan.buffer, 0, 16));
}

/**
 * exp(M) of an n×n GPU matrix with the squaring count from its GPU 1-norm (one 16-byte read).
 * Returns E (n×n, owned by the caller) and the plan's numbers.
 */
export async function expmGpu(be: GpuOps, M: Tensor, n: number): Promise<{ E: Tensor; s: number; norm: number }> {
  const Mg = asGpu(be, M, n);
  const plan = encodePlan(be, n, 126, { M: Mg });
  const p = await readPlan(be, plan);
  const E = be.scope(() => {
    const st = encodeExpmForward(be, Mg, n, plan, p.s);
    releaseExpmState(st);
    return st.E;
  });
  plan.dispose();
  if (Mg !== M) Mg.dispose();
  return { E, s: p.s, norm: p.norm };
}

/** exp(M) and L_exp(M, Edir) (forward-mode Fréchet derivative), one 16-byte host read. */
export async function expmFrechetGpu(be: GpuOps, M: Tensor, Edir: Tensor, n: number): Promise<{ E: Tensor; L: Tensor; s: number; norm: number }> {
  const Mg = asGpu(be, M, n);
  const Eg = asGpu(be, Edir, n);
  const plan = encodePlan(be, n, 126, { M: Mg });
  const p = await readPlan(be, plan);
  const out = be.scope(() => {
    const st = encodeExpmForward(be, Mg, n, plan, p.s);
    const L = encodeExpmFrechet(be, st, Eg);
    releaseExpmState(st);
    return { E: st.E, L };
  });
  plan.dispose();
  if (Mg !== M) Mg.dispose();
  if (Eg !== Edir) Eg.dispose();
  return { ...out, s: p.s, norm: p.norm };
}

/** The adjoint L_exp(Mᵀ, G) = L_exp(M, Gᵀ)ᵀ: the gradient of ⟨G, exp(M)⟩ with respect to M. */
export async function expmFrechetAdjointGpu(be: GpuOps, M: Tensor, G: Tensor, n: number): Promise<{ E: Tensor; grad: Tensor; s: number }> {
  const Gt = be.transpose(G);
  const r = await expmFrechetGpu(be, M, Gt, n);
  Gt.dispose();
  const grad = be.transpose(r.L);
  r.L.dispose();
  return { E: r.E, grad, s: r.s };
}

/**
 * Block form: L_exp(M, Edir) as the top-right block of exp([[M, Edir], [0, M]]) (2n×2n; the
 * benchmark's comparison). Assembly and extraction are buffer copies, row by row.
 */
export async function expmFrechetBlockGpu(be: GpuOps, M: Tensor, Edir: Tensor, n: number): Promise<{ L: Tensor; s: number }> {
  const Mg = asGpu(be, M, n);
  const Eg = asGpu(be, Edir, n);
  const big = be.zeros([2 * n, 2 * n]) as GpuTensor;
  const ctx = be.ctx;
  for (let i = 0; i < n; i++) {
    ctx.copy(Mg.buffer, i * n * 4, big.buffer, i * 2 * n * 4, n * 4);
    ctx.copy(Eg.buffer, i * n * 4, big.buffer, (i * 2 * n + n) * 4, n * 4);
    ctx.copy(Mg.buffer, i * n * 4, big.buffer, ((n + i) * 2 * n + n) * 4, n * 4);
  }
  const { E, s } = await expmGpu(be, big, 2 * n);
  big.dispose();
  const L = be.alloc([n, n], 'expm_block');
  const Eb = be.gpuTensor(E);
  for (let i = 0; i < n; i++) ctx.copy(Eb.buffer, (i * 2 * n + n) * 4, L.buffer, i * n * 4, n * 4);
  E.dispose();
  if (Mg !== M) Mg.dispose();
  if (Eg !== Edir) Eg.dispose();
  return { L, s };
}
