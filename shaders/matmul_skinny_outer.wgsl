// C = Aᵀ·B (+C) for A [K, M] and B [K, N] walked along a long K, when one side is small
// (≤ 8): the weight gradients Σ_t δ_t x_tᵀ (M = N units, N = inputs) and Σ_t dy_t h_tᵀ
// (M = outputs, N = N units). One 8-lane subgroup per workgroup (see lib/skinny_dims.wgsl):
// lane l owns elements e0..e0+3 of the big side, e0 = 4·(8·wid.x + l), and all of the small
// side, as acc[s] = C's entries (e0..e0+3, s). Per 8 k each lane loads one row of the small
// side (≤ 2 vec4), which reaches every lane by a broadcast, and per k its 4 big-side values
// (one vec4): 2 loads per k per 32 multiply-adds, where matmul_skinny made 2 per one.
// BIG_B: B is the big side (dims.M ≤ 8); otherwise A is (dims.N ≤ 8).
// The sums run in the order of the kernels these products ran on before, so the results are
// theirs bit for bit: 4 k at a time as the subgroup tiles with BIG_B (Σ dy hᵀ), one k at a
// time as matmul_skinny without (Σ δ xᵀ).
// Dispatched as (ceil(big / 32), 1, batch).
//!include skinny_dims

override BIG_B: bool = false;

@group(0) @binding(2) var<storage, read_write> C: array<f32>;

var<private> L: u32;  // the big side
var<private> S: u32;  // the small side (≤ 8)
var<private> e0: u32;
var<private> baseBig: u32;  // the lane's first big-side element in row k = 0
var<private> acc0: vec4<f32>;
var<private> acc1: vec4<f32>;
var<private> acc2: vec4<f32>;
var<private> acc3: vec4<f32>;
var<private> acc4: vec4<f32>;
var<private> acc5: vec4<f32>;
var<private> acc6: vec4<f32>;
var<private> acc7: vec4<f32>;

fn bigWindow(i: u32) -> vec4<f32> {
  if (BIG_B) { return windowB(i); }
  return windowA(i);
}

fn smallWindow(i: u32) -> vec4<f32> {
  if (BIG_B) { return windowA(i); }
  return windowB(i);
}

// The lane's big-side values of row k (0 past K).
fn bigRow(k: u32) -> vec4<f32> {
  return select(vec4(0.0), bigWindow(baseBig + min(k, dims.K - 1u) * L), k < dims.K);
}

// acc[s] += small[k][s] · big[k] for one row k (small row k = (lo, hi)).
fn step1(k: u32, lo: vec4<f32>, hi: vec4<f32>) {
  if (k >= dims.K) { return; }
  let b = bigWindow(baseBig + k * L);
  acc0 += lo.x * b;
  acc1 += lo.y * b;
  acc2 += lo.z * b;
  acc3 += lo.w * b;
  acc4 += hi.x * b;
  acc5 += hi.y * b;
  acc6 += hi.z * b;
  acc7 += hi.w * b;
}

// acc[s] += Σ_{j<4} small[k + j][s] · big[k + j], the 4 terms summed first (small row k + j =
// (lo_j, hi_j)).
fn step4(k: u32, lo0: vec4<f32>, hi0: vec4<f32>, lo1: vec4<f32>, hi1: vec4<f32>, lo2: vec4<f32>, hi2: vec4<f32>, lo3: vec4<f32>, hi3: vec4<f32>) {
  if (k >= dims.K) { return; }
  let b0 = bigRow(k);
  let b1 = bigRow(k + 1u);
  let b2 = bigRow(k + 2u);
  let b3 = bigRow(k + 3u);
  acc0 += lo0.x * b0 + lo1.x * b1 + lo2.x * b2 + lo3.x * b3;
  acc1 += lo0.y * b0 + lo1.y * b1 + lo2.y * b2 + lo3.y * b3;
  acc2 += lo0.z * b0 + lo1.z * b1 + lo2.z * b2 + lo3.z * b3;
  acc3 += lo0.w * b0 + lo1.w * b1 + lo2.w * b2 + lo3.w * b3;
  if (S > 4u) {
    acc4 += hi0.x * b0 + hi1.x * b1 + hi2.x * b2 + hi3.x * b3;
    acc5 += hi0.y * b0 + hi1.y * b1 + hi2.y * b2 + hi3.y * b3;
    acc6 += hi0.z * b0 + hi1.z * b1 + hi2.z * b2 + hi3.z * b3;
    acc7 += hi0.w * b0 + hi1.w * b1 + hi2.w * b2 + hi3.w * b3;
  }
}

fn storeC(at: u32, v: f32) {
  if (ACCUMULATE) { C[at] += v; } else { C[at] = v; }
}

// The lane's 4 results of small index s.
fn finish(baseC: u32, s: u32, v: vec4<f32>) {
  if (s >= S) { return; }
  // BIG_B: C[s][e0 + j] (M = S rows); else C[e0 + j][s] (N = S columns).
  let at = baseC + select(e0 * S + s, s * L + e0, BIG_B);
  let stride = select(S, 1u, BIG_B);
  storeC(at, v.x);
  if (e0 + 1u < L) { storeC(at + stride, v.y); }
  if (e0 + 2u < L) { storeC(at + 2u * stride, v.z); }
  if (e0 + 3u < L) { storeC(at + 3u * stride, v.w); }
}

@compute @workgroup_size(8)
fn main(@builtin(subgroup_invocation_id) lane: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let big = select(dims.M, dims.N, BIG_B);
  let small = select(dims.N, dims.M, BIG_B);
  L = big;
  S = small;
  e0 = (wid.x * 8u + lane) * 4u;
  let baseA = dims.offA + wid.z * dims.strideA;
  let baseB = dims.offB + wid.z * dims.strideB;
  baseBig = select(baseA, baseB, BIG_B) + min(e0, big - 1u);
  let baseSmall = select(baseB, baseA, BIG_B);
  for (var k0 = 0u; k0 < dims.K; k0 += 8u) {
    // Lane l's small row k0 + l, zero past K and past S.
    let k = k0 + lane;
    let rs = baseSmall + min(k, dims.K - 1u) * small;
    let end = select(0u, small, k < dims.K);
    let lo = below(smallWindow(rs), 0u, end);
    var hi = vec4(0.0);
    if (small > 4u) { hi = below(smallWindow(rs + 4u), 4u, end); }
    // Row k0 + j reaches every lane from lane j (subgroupBroadcast needs a constant lane).
    let l0 = subgroupBroadcast(lo, 0u);
    let h0 = subgroupBroadcast(hi, 0u);
    let l1 = subgroupBroadcast(lo, 1u);
    let h1 = subgroupBroadcast(hi, 1u);
    let l2 = subgroupBroadcast(lo, 2u);
    let h2 = subgroupBroadcast(hi, 2u);
    let l3 = subgroupBroadcast(lo, 3u);
    let h3 = subgroupBroadcast(hi, 3u);
    let l4 = subgroupBroadcast(lo, 4u);
    let h4 = subgroupBroadcast(hi, 4u);
    let l5 = subgroupBroadcast(lo, 5u);
    let h5 = subgroupBroadcast(hi, 5u);
    let l6 = subgroupBroadcast(lo, 6u);
    let h6 = subgroupBroadcast(hi, 6u);
    let l7 = subgroupBroadcast(lo, 7u);
    let h7 = subgroupBroadcast(hi, 7u);
    if (BIG_B) {
      step4(k0, l0, h0, l1, h1, l2, h2, l3, h3);
      step4(k0 + 4u, l4, h4, l5, h5, l6, h6, l7, h7);
    } else {
      step1(k0, l0, h0);
      step1(k0 + 1u, l1, h1);
      step1(k0 + 2u, l2, h2);
      step1(k0 + 3u, l3, h3);
      step1(k0 + 4u, l4, h4);
      step1(k0 + 5u, l5, h5);
      step1(k0 + 6u, l6, h6);
      step1(k0 + 7u, l7, h7);
    }
  }
  if (e0 >= L) { return; }
  let baseC = dims.offC + wid.z * dims.strideC;
  finish(baseC, 0u, acc0);
  finish(baseC, 1u, acc1);
  finish(baseC, 2u, acc2);
  finish(baseC, 3u, acc3);
  finish(baseC, 4u, acc4);
  finish(baseC, 5u, acc5);
  finish(baseC, 6u, acc6);
  finish(baseC, 7u, acc7);
}
