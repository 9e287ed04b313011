// C = A·Bᵀ (+C) for A [M, K], B [N, K] row-major and a small N (≤ 8): the read-out
// H W_outᵀ. One 8-lane subgroup per workgroup (see lib/skinny_dims.wgsl); lane l owns row
// 8·wid.x + l. Per 32 k each lane loads 4 k of every row of B (≤ 8 vec4), which reach the
// other lanes by broadcasts, and 8 vec4 of its own row of A: 16 loads per 256 multiply-adds
// (N = 8). EXTRA adds a bias: C[m][n] += B[offExtra + n] (+ the batch stride of B), the
// output bias that sits beside W_out in the parameter arena. Each sum runs one k at a time,
// then adds the bias, as matmul_skinny and add_rows did: the results are theirs bit for bit.
// Dispatched as (ceil(M / 8), 1, batch).
//!include skinny_dims

@group(0) @binding(2) var<storage, read_write> C: array<f32>;

var<private> rowA: u32;  // the lane's row of A
var<private> acc0: f32;
var<private> acc1: f32;
var<private> acc2: f32;
var<private> acc3: f32;
var<private> acc4: f32;
var<private> acc5: f32;
var<private> acc6: f32;
var<private> acc7: f32;

// Σ_{j<4} a[j]·b[j] added to s one term at a time.
fn dot4(s: f32, a: vec4<f32>, b: vec4<f32>) -> f32 {
  var t = s;
  t += a.x * b.x;
  t += a.y * b.y;
  t += a.z * b.z;
  t += a.w * b.w;
  return t;
}

// Row n of B at k..k+3 (zero past K and for n ≥ N).
fn rowB(baseB: u32, n: u32, k: u32) -> vec4<f32> {
  if (n >= dims.N) { return vec4(0.0); }
  return below(windowB(baseB + n * dims.K + min(k, dims.K - 1u)), k, dims.K);
}

// acc[n] += A[row][k..k+3] · B[n][k..k+3] for the 8 rows of B at k (b0..b7).
fn step(k: u32, b0: vec4<f32>, b1: vec4<f32>, b2: vec4<f32>, b3: vec4<f32>, b4: vec4<f32>, b5: vec4<f32>, b6: vec4<f32>, b7: vec4<f32>) {
  if (k >= dims.K) { return; }
  let a = below(windowA(rowA + k), k, dims.K);
  acc0 = dot4(acc0, a, b0);
  acc1 = dot4(acc1, a, b1);
  acc2 = dot4(acc2, a, b2);
  acc3 = dot4(acc3, a, b3);
  if (dims.N > 4u) {
    acc4 = dot4(acc4, a, b4);
    acc5 = dot4(acc5, a, b5);
    acc6 = dot4(acc6, a, b6);
    acc7 = dot4(acc7, a, b7);
  }
}

fn storeC(at: u32, v: f32) {
  if (ACCUMULATE) { C[at] += v; } else { C[at] = v; }
}

fn finish(at: u32, n: u32, v: f32, biasAt: u32) {
  if (n >= dims.N) { return; }
  var s = v;
  if (EXTRA) { s += scalarB(biasAt + n); }
  storeC(at + n, s);
}

@compute @workgroup_size(8)
fn main(@builtin(subgroup_invocation_id) lane: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let row = wid.x * 8u + lane;
  rowA = dims.offA + wid.z * dims.strideA + min(row, dims.M - 1u) * dims.K;  // clamped: loads stay in bounds
  let baseB = dims.offB + wid.z * dims.strideB;
  for (var k0 = 0u; k0 < dims.K; k0 += 32u) {
    let k = k0 + 4u * lane;  // this lane's 4 k of B's rows
    let b0 = rowB(baseB, 0u, k);
    let b1 = rowB(baseB, 1u, k);
    let b2 = rowB(baseB, 2u, k);
    let b3 = rowB(baseB, 3u, k);
    let b4 = rowB(baseB, 4u, k);
    let b5 = rowB(baseB, 5u, k);
    let b6 = rowB(baseB, 6u, k);
    let b7 = rowB(baseB, 7u, k);
    step(k0, subgroupBroadcast(b0, 0u), subgroupBroadcast(b1, 0u), subgroupBroadcast(b2, 0u), subgroupBroadcast(b3, 0u), subgroupBroadcast(b4, 0u), subgroupBroadcast(b5, 0u), subgroupBroadcast(b6, 0u), subgroupBroadcast(b7, 0u));
    step(k0 + 4u, subgroupBroadcast(b0, 1u), subgroupBroadcast(b1, 1u), subgroupBroadcast(b2, 1u), subgroupBroadcast(b3, 1u), subgroupBroadcast(b4, 1u), subgroupBroadcast(b5, 1u), subgroupBroadcast(b6, 1u), subgroupBroadcast(b7, 1u));
    step(k0 + 8u, subgroupBroadcast(b0, 2u), subgroupBroadcast(b1, 2u), subgroupBroadcast(b2, 2u), subgroupBroadcast(b3, 2u), subgroupBroadcast(b4, 2u), subgroupBroadcast(b5, 2u), subgroupBroadcast(b6, 2u), subgroupBroadcast(b7, 2u));
    step(k0 + 12u, subgroupBroadcast(b0, 3u), subgroupBroadcast(b1, 3u), subgroupBroadcast(b2, 3u), subgroupBroadcast(b3, 3u), subgroupBroadcast(b4, 3u), subgroupBroadcast(b5, 3u), subgroupBroadcast(b6, 3u), subgroupBroadcast(b7, 3u));
    step(k0 + 16u, subgroupBroadcast(b0, 4u), subgroupBroadcast(b1, 4u), subgroupBroadcast(b2, 4u), subgroupBroadcast(b3, 4u), subgroupBroadcast(b4, 4u), subgroupBroadcast(b5, 4u), subgroupBroadcast(b6, 4u), subgroupBroadcast(b7, 4u));
    step(k0 + 20u, subgroupBroadcast(b0, 5u), subgroupBroadcast(b1, 5u), subgroupBroadcast(b2, 5u), subgroupBroadcast(b3, 5u), subgroupBroadcast(b4, 5u), subgroupBroadcast(b5, 5u), subgroupBroadcast(b6, 5u), subgroupBroadcast(b7, 5u));
    step(k0 + 24u, subgroupBroadcast(b0, 6u), subgroupBroadcast(b1, 6u), subgroupBroadcast(b2, 6u), subgroupBroadcast(b3, 6u), subgroupBroadcast(b4, 6u), subgroupBroadcast(b5, 6u), subgroupBroadcast(b6, 6u), subgroupBroadcast(b7, 6u));
    step(k0 + 28u, subgroupBroadcast(b0, 7u), subgroupBroadcast(b1, 7u), subgroupBroadcast(b2, 7u), subgroupBroadcast(b3, 7u), subgroupBroadcast(b4, 7u), subgroupBroadcast(b5, 7u), subgroupBroadcast(b6, 7u), subgroupBroadcast(b7, 7u));
  }
  if (row >= dims.M) { return; }
  let at = dims.offC + wid.z * dims.strideC + row * dims.N;
  let biasAt = wid.z * dims.strideB + dims.offExtra;
  finish(at, 0u, acc0, biasAt);
  finish(at, 1u, acc1, biasAt);
  finish(at, 2u, acc2, biasAt);
  finish(at, 3u, acc3, biasAt);
  finish(at, 4u, acc4, biasAt);
  finish(at, 5u, acc5, biasAt);
  finish(at, 6u, acc6, biasAt);
  finish(at, 7u, acc7, biasAt);
}
