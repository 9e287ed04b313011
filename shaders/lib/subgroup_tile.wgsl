// Register-tile product for one 8-lane subgroup, shared by the subgroup kernels (matmul and
// the RNN steps) on CPU adapters (llvmpipe). There every load from a storage buffer or from
// workgroup memory runs as a loop over the lanes, so workgroup-memory tiles pay for each value
// twice (store and reload) and gain nothing. Here each value is loaded once into a register
// and reaches the other lanes by subgroupBroadcast, a register shuffle.
//
// Tile: 16 rows x 32 columns per subgroup; lane l owns columns colBase + l*4..+4 of all 16
// rows, as acc[r] = (rowBase + r, those 4 columns). Per step of 4 k, lane l loads rows l and
// 8 + l of A (4 k each) and its 4 columns of B (4 k each); row r's A values reach every lane
// by a broadcast from lane r % 8. So each loaded B value is used 16 times, each A value 32.
//
// The including kernel enables subgroups, runs with @workgroup_size(8) on an adapter whose
// subgroup size is 8 (the host checks), calls subgroupTileProduct from uniform control flow,
// and defines
//   fn tileLoadA(row: u32, k: u32) -> f32    A[row, k]
//   fn tileLoadB(k: u32, col: u32) -> f32    B[k, col]
//   fn tileFinish(row: u32, col: u32, v: vec4<f32>)   the epilogue for row, columns col..+4
// The loads are only called with row < M, col < N and k < K: rows and columns past the edge
// are clamped, k past K reads 0. tileFinish gets every row of the tile and must skip rows
// and columns past the edge.

fn subgroupTileA(row: u32, k: u32, K: u32, masked: bool) -> f32 {
  if (!masked) { return tileLoadA(row, k); }
  return select(tileLoadA(row, min(k, K - 1u)), 0.0, k >= K);
}

fn subgroupTileB(k: u32, col: u32, K: u32, masked: bool) -> f32 {
  if (!masked) { return tileLoadB(k, col); }
  return select(tileLoadB(min(k, K - 1u), col), 0.0, k >= K);
}

fn subgroupRowA(row: u32, k: u32, K: u32, masked: bool) -> vec4<f32> {
  return vec4(subgroupTileA(row, k, K, masked), subgroupTileA(row, k + 1u, K, masked),
              subgroupTileA(row, k + 2u, K, masked), subgroupTileA(row, k + 3u, K, masked));
}

fn subgroupRowB(k: u32, cols: vec4<u32>, K: u32, masked: bool) -> vec4<f32> {
  return vec4(subgroupTileB(k, cols.x, K, masked), subgroupTileB(k, cols.y, K, masked),
              subgroupTileB(k, cols.z, K, masked), subgroupTileB(k, cols.w, K, masked));
}

// One row's 4-k slice of A times the 4 x 4 block of B: a row of the lane's output tile.
fn rowTimesB(a: vec4<f32>, b0: vec4<f32>, b1: vec4<f32>, b2: vec4<f32>, b3: vec4<f32>) -> vec4<f32> {
  return a.x * b0 + a.y * b1 + a.z * b2 + a.w * b3;
}

// acc += the product over k..k+3. subgroupBroadcast takes a constant lane, hence one line per row.
fn subgroupStep4(acc: ptr<function, array<vec4<f32>, 16>>, k: u32, K: u32, rowLo: u32, rowHi: u32, cols: vec4<u32>, masked: bool) {
  let lo = subgroupRowA(rowLo, k, K, masked);
  let hi = subgroupRowA(rowHi, k, K, masked);
  let b0 = subgroupRowB(k, cols, K, masked);
  let b1 = subgroupRowB(k + 1u, cols, K, masked);
  let b2 = subgroupRowB(k + 2u, cols, K, masked);
  let b3 = subgroupRowB(k + 3u, cols, K, masked);
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

// The 16 x 32 tile at (rowBase, colBase) of the [M, K] x [K, N] product; lane's part as above.
// The result is indexed by constants only, which keeps it in registers (a loop index would
// move it to memory).
fn subgroupTileProduct(lane: u32, rowBase: u32, colBase: u32, M: u32, N: u32, K: u32) -> array<vec4<f32>, 16> {
  let rowLo = min(rowBase + lane, M - 1u);
  let rowHi = min(rowBase + 8u + lane, M - 1u);
  let cols = min(vec4(colBase + lane * 4u) + vec4(0u, 1u, 2u, 3u), vec4(N - 1u));
  var acc: array<vec4<f32>, 16>;
  var k = 0u;
  for (; k + 4u <= K; k += 4u) { subgroupStep4(&acc, k, K, rowLo, rowHi, cols, false); }
  if (k < K) { subgroupStep4(&acc, k, K, rowLo, rowHi, cols, true); }
  return acc;
}

// Hands each row of the lane's tile to the kernel's epilogue (constant indices, as above).
fn subgroupTileFinish(rowBase: u32, col: u32, acc: array<vec4<f32>, 16>) {
  tileFinish(rowBase, col, acc[0]);
  tileFinish(rowBase + 1u, col, acc[1]);
  tileFinish(rowBase + 2u, col, acc[2]);
  tileFinish(rowBase + 3u, col, acc[3]);
  tileFinish(rowBase + 4u, col, acc[4]);
  tileFinish(rowBase + 5u, col, acc[5]);
  tileFinish(rowBase + 6u, col, acc[6]);
  tileFinish(rowBase + 7u, col, acc[7]);
  tileFinish(rowBase + 8u, col, acc[8]);
  tileFinish(rowBase + 9u, col, acc[9]);
  tileFinish(rowBase + 10u, col, acc[10]);
  tileFinish(rowBase + 11u, col, acc[11]);
  tileFinish(rowBase + 12u, col, acc[12]);
  tileFinish(rowBase + 13u, col, acc[13]);
  tileFinish(rowBase + 14u, col, acc[14]);
  tileFinish(rowBase + 15u, col, acc[15]);
}
