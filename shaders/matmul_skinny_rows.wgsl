// C = A·op(B) (+C) for a short K (≤ 8) and N a multiple of 4: the input drive x W_inᵀ
// (K = inputs) and the read-out's gradient dY W_out (K = outputs). One 8-lane subgroup per
// workgroup (see lib/skinny_dims.wgsl); lane l owns columns c0..c0+3, c0 = 4·(8·wid.x + l),
// holds their K values of op(B) in registers, and writes ROWS rows of them as vec4. Per 8
// rows each lane loads one row of A (≤ 2 vec4), and row r reaches every lane by a broadcast
// from lane r % 8. Dispatched as (ceil(N / 32), ceil(M / ROWS), batch); C's offset and batch
// stride are multiples of 4 (the host checks).
//!include skinny_dims

override TRANS_B: bool = false;

@group(0) @binding(2) var<storage, read_write> C: array<vec4<f32>>;

const ROWS = 64u;

var<private> b0: vec4<f32>;
var<private> b1: vec4<f32>;
var<private> b2: vec4<f32>;
var<private> b3: vec4<f32>;
var<private> b4: vec4<f32>;
var<private> b5: vec4<f32>;
var<private> b6: vec4<f32>;
var<private> b7: vec4<f32>;
var<private> c0: u32;
var<private> baseC: u32;

// op(B)[k][c0..c0+3] (zero past K).
fn rowB(baseB: u32, k: u32, col: vec4<u32>) -> vec4<f32> {
  if (k >= dims.K) { return vec4(0.0); }
  if (TRANS_B) {
    return vec4(scalarB(baseB + col.x * dims.K + k), scalarB(baseB + col.y * dims.K + k), scalarB(baseB + col.z * dims.K + k), scalarB(baseB + col.w * dims.K + k));
  }
  return windowB(baseB + k * dims.N + c0);
}

// Row `row` of C from that row of A (a = A[row][0..3], a2 = A[row][4..7]), summed 4 k at a
// time as the subgroup tiles (lib/subgroup_tile.wgsl) sum it, so the results are theirs bit for bit.
fn rowOut(row: u32, a: vec4<f32>, a2: vec4<f32>) {
  var v = vec4(0.0);
  v += a.x * b0 + a.y * b1 + a.z * b2 + a.w * b3;
  v += a2.x * b4 + a2.y * b5 + a2.z * b6 + a2.w * b7;
  if (row >= dims.M || c0 >= dims.N) { return; }
  let at = (baseC + row * dims.N + c0) / 4u;
  if (ACCUMULATE) { C[at] += v; } else { C[at] = v; }
}

@compute @workgroup_size(8)
fn main(@builtin(subgroup_invocation_id) lane: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let baseA = dims.offA + wid.z * dims.strideA;
  let baseB = dims.offB + wid.z * dims.strideB;
  baseC = dims.offC + wid.z * dims.strideC;
  c0 = (wid.x * 8u + lane) * 4u;
  let col = min(vec4(c0) + vec4(0u, 1u, 2u, 3u), vec4(dims.N - 1u));  // clamped: loads stay in bounds
  b0 = rowB(baseB, 0u, col);
  b1 = rowB(baseB, 1u, col);
  b2 = rowB(baseB, 2u, col);
  b3 = rowB(baseB, 3u, col);
  b4 = rowB(baseB, 4u, col);
  b5 = rowB(baseB, 5u, col);
  b6 = rowB(baseB, 6u, col);
  b7 = rowB(baseB, 7u, col);
  let rowEnd = min(wid.y * ROWS + ROWS, dims.M);
  for (var r0 = wid.y * ROWS; r0 < rowEnd; r0 += 8u) {
    let at = baseA + min(r0 + lane, dims.M - 1u) * dims.K;
    let a = below(windowA(at), 0u, dims.K);
    var a2 = vec4(0.0);
    if (dims.K > 4u) { a2 = below(windowA(at + 4u), 4u, dims.K); }
    rowOut(r0, subgroupBroadcast(a, 0u), subgroupBroadcast(a2, 0u));
    rowOut(r0 + 1u, subgroupBroadcast(a, 1u), subgroupBroadcast(a2, 1u));
    rowOut(r0 + 2u, subgroupBroadcast(a, 2u), subgroupBroadcast(a2, 2u));
    rowOut(r0 + 3u, subgroupBroadcast(a, 3u), subgroupBroadcast(a2, 3u));
    rowOut(r0 + 4u, subgroupBroadcast(a, 4u), subgroupBroadcast(a2, 4u));
    rowOut(r0 + 5u, subgroupBroadcast(a, 5u), subgroupBroadcast(a2, 5u));
    rowOut(r0 + 6u, subgroupBroadcast(a, 6u), subgroupBroadcast(a2, 6u));
    rowOut(r0 + 7u, subgroupBroadcast(a, 7u), subgroupBroadcast(a2, 7u));
  }
}
