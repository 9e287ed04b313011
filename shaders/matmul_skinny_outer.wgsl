// C = Aᵀ·B (+C) for A [K, M] and B [K, N] walked along a long K, when one side is small
// (≤ 8): the weight gradients Σ_t δ_t x_tᵀ (M = N units, N = inputs) and Σ_t dy_t h_tᵀ
// (M = outputs, N = N units). One 8-lane subgroup per workgroup (see lib/skinny_dims.wgsl):
// lane l owns elements e0..e0+3 of the big side, e0 = 4·(8·wid.x + l), and all of the small
// side, as acc[s] = C's entries (e0..e0+3, s). Per 8 k each lane loads one row of the small
// side (≤ 2 vec4), which reaches every lane by a broadcast, and per k its 4 big-side values
// (one vec4): 2 loads per k per 32 multiply-adds, where matmul_skinny made 2 per one.
// BIG_B: B is the big side (dims.M ≤ 8); otherwise A is (dims.N ≤ 8).
// EXTRA: also writes Σ_k A[k][m] for every m (the column sums of A: the bias gradient Σ_t δ_t
// or Σ_t dy_t) to C's buffer at offExtra (+ the batch stride of C).
// Dispatched as (ceil(big / 32), 1, batch).
//!include skinny_dims

override BIG_B: bool = false;

@group(0) @binding(2) var<storage, read_write> C: array<f32>;

var<private> L: u32;  // the big side
var<private> S: u32;  // the small side (≤ 8)
var<private> e0: u32;
var<private> baseC: u32;
var<private> baseBig: u32;  // the lane's first big-side element in row k = 0
var<private> acc0: vec4<f32>;
var<private> acc1: vec4<f32>;
var<private> acc2: vec4<f32>;
var<private> acc3: vec4<f32>;
var<private> acc4: vec4<f32>;
var<private> acc5: vec4<f32>;
var<private> acc6: vec4<f32>;
var<private> acc7: vec4<f32>;
var<private> sumBig: vec4<f32>;  // Σ_k of the lane's big-side values (A's column sums when A is big)

fn storeC(at: u32, v: f32) {
  if (ACCUMULATE) { C[at] += v; } else { C[at] = v; }
}

fn bigWindow(i: u32) -> vec4<f32> {
  if (BIG_B) { return windowB(i); }
  return windowA(i);
}

fn smallWindow(i: u32) -> vec4<f32> {
  if (BIG_B) { return windowA(i); }
  return windowB(i);
}

// acc[s] += small[k][s] · big[k][e0..e0+3] for row k (small row k = (lo, hi)).
fn step(k: u32, lo: vec4<f32>, hi: vec4<f32>) {
  if (k >= dims.K) { return; }
  let b = bigWindow(baseBig + k * L);
  if (EXTRA && !BIG_B) { sumBig += b; }
  acc0 += lo.x * b;
  acc1 += lo.y * b;
  acc2 += lo.z * b;
  acc3 += lo.w * b;
  acc4 += hi.x * b;
  acc5 += hi.y * b;
  acc6 += hi.z * b;
  acc7 += hi.w * b;
}

// The lane's 4 results of small index s.
fn finish(s: u32, v: vec4<f32>) {
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
  var sumLo = vec4(0.0);  // Σ of the small-side rows this lane loaded (when A is small)
  var sumHi = vec4(0.0);
  for (var k0 = 0u; k0 < dims.K; k0 += 8u) {
    // Lane l's small row k0 + l, zero past K and past S.
    let k = k0 + lane;
    let rs = baseSmall + min(k, dims.K - 1u) * small;
    let end = select(0u, small, k < dims.K);
    let lo = below(smallWindow(rs), 0u, end);
    var hi = vec4(0.0);
    if (small > 4u) { hi = below(smallWindow(rs + 4u), 4u, end); }
    if (EXTRA && BIG_B) {
      sumLo += lo;
      sumHi += hi;
    }
    // Row k0 + j reaches every lane from lane j (subgroupBroadcast needs a constant lane).
    step(k0, subgroupBroadcast(lo, 0u), subgroupBroadcast(hi, 0u));
    step(k0 + 1u, subgroupBroadcast(lo, 1u), subgroupBroadcast(hi, 1u));
    step(k0 + 2u, subgroupBroadcast(lo, 2u), subgroupBroadcast(hi, 2u));
    step(k0 + 3u, subgroupBroadcast(lo, 3u), subgroupBroadcast(hi, 3u));
    step(k0 + 4u, subgroupBroadcast(lo, 4u), subgroupBroadcast(hi, 4u));
    step(k0 + 5u, subgroupBroadcast(lo, 5u), subgroupBroadcast(hi, 5u));
    step(k0 + 6u, subgroupBroadcast(lo, 6u), subgroupBroadcast(hi, 6u));
    step(k0 + 7u, subgroupBroadcast(lo, 7u), subgroupBroadcast(hi, 7u));
  }
  // Column sums of a small A: every lane holds the sums of its own rows; add them up.
  let totalLo = subgroupAdd(sumLo);
  let totalHi = subgroupAdd(sumHi);
  if (e0 >= L) { return; }
  baseC = dims.offC + wid.z * dims.strideC;
  finish(0u, acc0);
  finish(1u, acc1);
  finish(2u, acc2);
  finish(3u, acc3);
  finish(4u, acc4);
  finish(5u, acc5);
  finish(6u, acc6);
  finish(7u, acc7);
  if (EXTRA) {
    let baseX = wid.z * dims.strideC + dims.offExtra;
    if (BIG_B) {
      if (e0 == 0u) {
        storeC(baseX, totalLo.x);
        if (S > 1u) { storeC(baseX + 1u, totalLo.y); }
        if (S > 2u) { storeC(baseX + 2u, totalLo.z); }
        if (S > 3u) { storeC(baseX + 3u, totalLo.w); }
        if (S > 4u) { storeC(baseX + 4u, totalHi.x); }
        if (S > 5u) { storeC(baseX + 5u, totalHi.y); }
        if (S > 6u) { storeC(baseX + 6u, totalHi.z); }
        if (S > 7u) { storeC(baseX + 7u, totalHi.w); }
      }
    } else {
      storeC(baseX + e0, sumBig.x);
      if (e0 + 1u < L) { storeC(baseX + e0 + 1u, sumBig.y); }
      if (e0 + 2u < L) { storeC(baseX + e0 + 2u, sumBig.z); }
      if (e0 + 3u < L) { storeC(baseX + e0 + 3u, sumBig.w); }
    }
  }
}
