// C = op(A)·op(B) (+C) for CPU adapters (llvmpipe), where a workgroup is one 8-lane SIMD
// subgroup. There every load from a storage buffer or from workgroup memory runs as a loop
// over the lanes, so the workgroup-memory tiles of matmul.wgsl pay for each value twice (store
// and reload) and gain nothing. Here values are read once into registers and shared between
// lanes with subgroupBroadcast, which is a register shuffle.
//
// Register tile: a workgroup computes 16 rows x 32 columns; lane l owns columns l*4..+4 of all
// 16 rows (16 vec4 accumulators). Per step of 4 k, lane l loads rows l and 8+l of op(A) (4 k
// each) and its 4 columns of op(B) (4 k each); row r's A values then reach every lane by a
// broadcast from lane r % 8. Each loaded B value is used 16 times, each A value 32 times.
//
// The host selects this kernel only when the subgroup size is exactly 8, and dispatches
// (ceil(N / 32), ceil(M / 16), batch) workgroups. Element offsets and batch strides are
// arbitrary (scalar bindings); rows and columns past the edge are clamped on load and skipped
// on store, k past K is zero.
enable subgroups;

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override ACCUMULATE: bool = false;

struct Dims {
  M: u32, K: u32, N: u32,
  strideA: u32, strideB: u32, strideC: u32,  // batch strides in elements (0 broadcasts)
  offA: u32, offB: u32, offC: u32,           // element offsets
}

@group(0) @binding(0) var<storage, read> A: array<f32>;
@group(0) @binding(1) var<storage, read> B: array<f32>;
@group(0) @binding(2) var<storage, read_write> C: array<f32>;
@group(0) @binding(3) var<uniform> dims: Dims;

var<private> baseA: u32;
var<private> baseB: u32;

// op(A)[row, k]; row is in range. In the tail step (masked) k may pass K and reads 0.
fn loadA(row: u32, k: u32, masked: bool) -> f32 {
  let kc = select(k, min(k, dims.K - 1u), masked);
  let v = A[baseA + select(row * dims.K + kc, kc * dims.M + row, TRANS_A)];
  return select(v, 0.0, masked && k >= dims.K);
}

// op(B)[k, col]; col is in range.
fn loadB(k: u32, col: u32, masked: bool) -> f32 {
  let kc = select(k, min(k, dims.K - 1u), masked);
  let v = B[baseB + select(kc * dims.N + col, col * dims.K + kc, TRANS_B)];
  return select(v, 0.0, masked && k >= dims.K);
}

fn rowA(row: u32, k: u32, masked: bool) -> vec4<f32> {
  return vec4(loadA(row, k, masked), loadA(row, k + 1u, masked), loadA(row, k + 2u, masked), loadA(row, k + 3u, masked));
}

fn rowB(k: u32, cols: vec4<u32>, masked: bool) -> vec4<f32> {
  return vec4(loadB(k, cols.x, masked), loadB(k, cols.y, masked), loadB(k, cols.z, masked), loadB(k, cols.w, masked));
}

// One row's 4-k slice of A times the 4 x 4 block of B: a row of the lane's output tile.
fn rowTimesB(a: vec4<f32>, b0: vec4<f32>, b1: vec4<f32>, b2: vec4<f32>, b3: vec4<f32>) -> vec4<f32> {
  return a.x * b0 + a.y * b1 + a.z * b2 + a.w * b3;
}

// acc += the product over k..k+3. subgroupBroadcast takes a constant lane, hence one line per row.
fn step4(acc: ptr<function, array<vec4<f32>, 16>>, k: u32, lane: u32, rowBase: u32, cols: vec4<u32>, masked: bool) {
  let lo = rowA(min(rowBase + lane, dims.M - 1u), k, masked);
  let hi = rowA(min(rowBase + 8u + lane, dims.M - 1u), k, masked);
  let b0 = rowB(k, cols, masked);
  let b1 = rowB(k + 1u, cols, masked);
  let b2 = rowB(k + 2u, cols, masked);
  let b3 = rowB(k + 3u, cols, masked);
  (*acc)[0] += rowTimesB(subgroupBroadcast(lo, 0u), b0, b1, b2, b3);
  (*acc)[1] += rowTimesB(subgroupBroadcast(lo, 1u), b0, b1, b2, b3);
  (*acc)[2] += rowTimesB(subgroupBroadcast(lo, 2u), b0, b1, b2, b3);
  (*acc)[3] += rowTimesB(subgroupBroadcast(lo, 3u), b0, b1, b2, b3);
  (*acc)[4] += rowTimesB(subgroupBroadcast(lo, 4u), b0, b1, b2, b3);
  (*acc)[5] += rowTimesB(subgroupBroadcast(lo, 5u), b0, b1, b2, b3);
  (*acc)[6] += rowTimesB(subgroupBroadcast(lo, 6u), b0, b1, b2, b3);
  (*acc)[7] += rowTimesB(subgroupBroadcast(lo, 7u), b0, b1, b2, b3);
  (*acc)[8] += rowTimesB(subgroupBroadcast(hi, 0u), b0, b1, b2, b3);
  (*acc)[9] += rowTimesB(subgroupBroadcast(hi, 1u), b0, b1, b2, b3);
  (*acc)[10] += rowTimesB(subgroupBroadcast(hi, 2u), b0, b1, b2, b3);
  (*acc)[11] += rowTimesB(subgroupBroadcast(hi, 3u), b0, b1, b2, b3);
  (*acc)[12] += rowTimesB(subgroupBroadcast(hi, 4u), b0, b1, b2, b3);
  (*acc)[13] += rowTimesB(subgroupBroadcast(hi, 5u), b0, b1, b2, b3);
  (*acc)[14] += rowTimesB(subgroupBroadcast(hi, 6u), b0, b1, b2, b3);
  (*acc)[15] += rowTimesB(subgroupBroadcast(hi, 7u), b0, b1, b2, b3);
}

fn storeRow(row: u32, col: u32, baseC: u32, v: vec4<f32>) {
  if (row >= dims.M) { return; }
  for (var j = 0u; j < 4u; j++) {
    if (col + j < dims.N) {
      let at = baseC + row * dims.N + col + j;
      if (ACCUMULATE) { C[at] += v[j]; } else { C[at] = v[j]; }
    }
  }
}

@compute @workgroup_size(8, 1, 1)
fn main(@builtin(subgroup_invocation_id) lane: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  baseA = dims.offA + wid.z * dims.strideA;
  baseB = dims.offB + wid.z * dims.strideB;
  let rowBase = wid.y * 16u;
  let col = wid.x * 32u + lane * 4u;
  let cols = min(vec4(col) + vec4(0u, 1u, 2u, 3u), vec4(dims.N - 1u));
  var acc: array<vec4<f32>, 16>;
  var k = 0u;
  for (; k + 4u <= dims.K; k += 4u) { step4(&acc, k, lane, rowBase, cols, false); }
  if (k < dims.K) { step4(&acc, k, lane, rowBase, cols, true); }
  let baseC = dims.offC + wid.z * dims.strideC;
  // Constant indices keep acc in registers (a loop index would move it to memory).
  storeRow(rowBase, col, baseC, acc[0]);
  storeRow(rowBase + 1u, col, baseC, acc[1]);
  storeRow(rowBase + 2u, col, baseC, acc[2]);
  storeRow(rowBase + 3u, col, baseC, acc[3]);
  storeRow(rowBase + 4u, col, baseC, acc[4]);
  storeRow(rowBase + 5u, col, baseC, acc[5]);
  storeRow(rowBase + 6u, col, baseC, acc[6]);
  storeRow(rowBase + 7u, col, baseC, acc[7]);
  storeRow(rowBase + 8u, col, baseC, acc[8]);
  storeRow(rowBase + 9u, col, baseC, acc[9]);
  storeRow(rowBase + 10u, col, baseC, acc[10]);
  storeRow(rowBase + 11u, col, baseC, acc[11]);
  storeRow(rowBase + 12u, col, baseC, acc[12]);
  storeRow(rowBase + 13u, col, baseC, acc[13]);
  storeRow(rowBase + 14u, col, baseC, acc[14]);
  storeRow(rowBase + 15u, col, baseC, acc[15]);
}
