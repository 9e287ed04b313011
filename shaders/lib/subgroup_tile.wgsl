// Register-tile product for one 8-lane subgroup, shared by the subgroup kernels (matmul and
// the RNN steps) on CPU adapters (llvmpipe).
//
// What llvmpipe (Mesa 25.0, LLVM 15) makes of loads, read from its generated code
// (MESA_SHADER_CACHE_DISABLE=true GALLIVM_DEBUG=asm) and timed in isolation: every load from
// a storage buffer with a non-constant offset becomes a loop over the 8 lanes (per lane: test
// the exec mask, reload the buffer's descriptor and size, bounds-check, load, insert), even
// when the offset is the same for all lanes. One such load costs about as much as 25–45 8-wide
// multiply-adds, and a vec4 load costs about 2.5 scalar ones for 4 values. Workgroup memory
// is no better (a per-lane loop too, plus the stores). So the speed of this tile is set by
// loads per FLOP: each value is loaded once, in a vec4 where the operand is contiguous, and
// reaches other lanes by subgroupBroadcast, a register shuffle. WGSL's fma() is slower here
// than a * b + c (it is not fused to one instruction), so the products use * and +.
//
// Tile: 16 rows x 32 columns per subgroup; lane l owns columns colBase + l*4..+4 of all 16
// rows, as acc[r] = (rowBase + r, those 4 columns). Per step of 4 k, the lane holds two
// registers of A (16 rows x 4 k among the lanes) and 4 columns x 4 k of B; every row's 4 k
// reach every lane by broadcast. So each loaded B value is used 16 times, each A value 32.
//
// The including kernel enables subgroups, runs with @workgroup_size(8) on an adapter whose
// subgroup size is 8 (the host checks), calls subgroupTileProduct from uniform control flow,
// and defines
//   fn tileLoadA(row: u32, k: u32) -> f32    A[row, k]
//   fn tileLoadB(k: u32, col: u32) -> f32    B[k, col]
//   fn tileLoadA4(row: u32, k: u32) -> vec4<f32>
//       4 values along A's contiguous axis: A[row..row+3, k] if TRANS_A (A stored
//       transposed), else A[row, k..k+3]; only called when VEC_A
//   fn tileLoadB4(k: u32, col: u32) -> vec4<f32>
//       B[k..k+3, col] if TRANS_B (B stored transposed), else B[k, col..col+3]; only
//       called when VEC_B
//   fn tileFinish(row: u32, col: u32, v: vec4<f32>)   the epilogue for row, columns col..+4
// and the constants VEC_A, VEC_B, TRANS_A, TRANS_B. VEC_A promises that 4 values along A's
// contiguous axis start at a multiple of 4 in an array<vec4<f32>>: the contiguous dimension
// is a multiple of 4 (M if TRANS_A, else K), and so are offsets and strides; likewise VEC_B
// (K if TRANS_B, else N). Without them the
// scalar loads are used. The loads are only called with row < M, col < N and k < K: rows and
// columns past the edge are clamped, k past K reads 0. tileFinish gets every row of the
// tile and must skip rows and columns past the edge.

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

// B[k..k+3, the lane's 4 columns] as 4 rows of 4 columns.
struct SubgroupB { b0: vec4<f32>, b1: vec4<f32>, b2: vec4<f32>, b3: vec4<f32> }

fn subgroupLoadB(k: u32, col: u32, cols: vec4<u32>, N: u32, K: u32, masked: bool) -> SubgroupB {
  if (VEC_B && TRANS_B) {  // one vec4 along k per column (K % 4 == 0: never masked)
    let c0 = tileLoadB4(k, cols.x);
    let c1 = tileLoadB4(k, cols.y);
    let c2 = tileLoadB4(k, cols.z);
    let c3 = tileLoadB4(k, cols.w);
    return SubgroupB(vec4(c0.x, c1.x, c2.x, c3.x), vec4(c0.y, c1.y, c2.y, c3.y),
                     vec4(c0.z, c1.z, c2.z, c3.z), vec4(c0.w, c1.w, c2.w, c3.w));
  }
  if (VEC_B) {  // one vec4 along the columns per k (N % 4 == 0, so a quad is all in or all out)
    let q = min(col, N - 4u);
    if (!masked) {
      return SubgroupB(tileLoadB4(k, q), tileLoadB4(k + 1u, q), tileLoadB4(k + 2u, q), tileLoadB4(k + 3u, q));
    }
    let z = vec4(0.0);
    return SubgroupB(select(tileLoadB4(min(k, K - 1u), q), z, k >= K), select(tileLoadB4(min(k + 1u, K - 1u), q), z, k + 1u >= K),
                     select(tileLoadB4(min(k + 2u, K - 1u), q), z, k + 2u >= K), select(tileLoadB4(min(k + 3u, K - 1u), q), z, k + 3u >= K));
  }
  return SubgroupB(subgroupRowB(k, cols, K, masked), subgroupRowB(k + 1u, cols, K, masked),
                   subgroupRowB(k + 2u, cols, K, masked), subgroupRowB(k + 3u, cols, K, masked));
}

// The lane's two A registers for k..k+3. Rows along k (VEC_A with k contiguous, or scalar):
// lo = A[rowBase + l, k..k+3], hi = A[rowBase + 8 + l, k..k+3]. Rows contiguous (VEC_A,
// TRANS_A): lane l holds A[q..q+3, k + l % 4] with q = rowBase + 4 (l / 4) in lo and
// q + 8 in hi, so rows 4h..4h+3 at k + i sit in lane 4h + i (h = 0, 1).
struct SubgroupA { lo: vec4<f32>, hi: vec4<f32> }

fn subgroupLoadA(lane: u32, rowBase: u32, k: u32, M: u32, K: u32, masked: bool) -> SubgroupA {
  if (VEC_A && TRANS_A) {
    let kk = k + (lane & 3u);
    let kc = min(kk, K - 1u);
    let q = rowBase + 4u * (lane >> 2u);
    let lo = tileLoadA4(min(q, M - 4u), kc);
    let hi = tileLoadA4(min(q + 8u, M - 4u), kc);
    return SubgroupA(select(lo, vec4(0.0), kk >= K), select(hi, vec4(0.0), kk >= K));
  }
  let rowLo = min(rowBase + lane, M - 1u);
  let rowHi = min(rowBase + 8u + lane, M - 1u);
  if (VEC_A) { return SubgroupA(tileLoadA4(rowLo, k), tileLoadA4(rowHi, k)); }  // K % 4 == 0
  return SubgroupA(subgroupRowA(rowLo, k, K, masked), subgroupRowA(rowHi, k, K, masked));
}

// One row's 4-k slice of A times the 4 x 4 block of B: a row of the lane's output tile.
fn rowTimesB(a: vec4<f32>, b: SubgroupB) -> vec4<f32> {
  return a.x * b.b0 + a.y * b.b1 + a.z * b.b2 + a.w * b.b3;
}

// Rows base..base+3 from the 4 registers q_i = A[those rows, k + i] (rows contiguous).
fn quadTimesB(acc: ptr<function, array<vec4<f32>, 16>>, base: u32, q0: vec4<f32>, q1: vec4<f32>, q2: vec4<f32>, q3: vec4<f32>, b: SubgroupB) {
  (*acc)[base] += rowTimesB(vec4(q0.x, q1.x, q2.x, q3.x), b);
  (*acc)[base + 1u] += rowTimesB(vec4(q0.y, q1.y, q2.y, q3.y), b);
  (*acc)[base + 2u] += rowTimesB(vec4(q0.z, q1.z, q2.z, q3.z), b);
  (*acc)[base + 3u] += rowTimesB(vec4(q0.w, q1.w, q2.w, q3.w), b);
}

// acc += the product over k..k+3. subgroupBroadcast takes a constant lane, hence one line per
// row (or per lane of a quad).
fn subgroupStep4(acc: ptr<function, array<vec4<f32>, 16>>, lane: u32, k: u32, M: u32, N: u32, K: u32, rowBase: u32, col: u32, cols: vec4<u32>, masked: bool) {
  let a = subgroupLoadA(lane, rowBase, k, M, K, masked);
  let b = subgroupLoadB(k, col, cols, N, K, masked);
  if (VEC_A && TRANS_A) {
    quadTimesB(acc, 0u, subgroupBroadcast(a.lo, 0u), subgroupBroadcast(a.lo, 1u), subgroupBroadcast(a.lo, 2u), subgroupBroadcast(a.lo, 3u), b);
    quadTimesB(acc, 4u, subgroupBroadcast(a.lo, 4u), subgroupBroadcast(a.lo, 5u), subgroupBroadcast(a.lo, 6u), subgroupBroadcast(a.lo, 7u), b);
    quadTimesB(acc, 8u, subgroupBroadcast(a.hi, 0u), subgroupBroadcast(a.hi, 1u), subgroupBroadcast(a.hi, 2u), subgroupBroadcast(a.hi, 3u), b);
    quadTimesB(acc, 12u, subgroupBroadcast(a.hi, 4u), subgroupBroadcast(a.hi, 5u), subgroupBroadcast(a.hi, 6u), subgroupBroadcast(a.hi, 7u), b);
    return;
  }
  (*acc)[0] += rowTimesB(subgroupBroadcast(a.lo, 0u), b);
  (*acc)[1] += rowTimesB(subgroupBroadcast(a.lo, 1u), b);
  (*acc)[2] += rowTimesB(subgroupBroadcast(a.lo, 2u), b);
  (*acc)[3] += rowTimesB(subgroupBroadcast(a.lo, 3u), b);
  (*acc)[4] += rowTimesB(subgroupBroadcast(a.lo, 4u), b);
  (*acc)[5] += rowTimesB(subgroupBroadcast(a.lo, 5u), b);
  (*acc)[6] += rowTimesB(subgroupBroadcast(a.lo, 6u), b);
  (*acc)[7] += rowTimesB(subgroupBroadcast(a.lo, 7u), b);
  (*acc)[8] += rowTimesB(subgroupBroadcast(a.hi, 0u), b);
  (*acc)[9] += rowTimesB(subgroupBroadcast(a.hi, 1u), b);
  (*acc)[10] += rowTimesB(subgroupBroadcast(a.hi, 2u), b);
  (*acc)[11] += rowTimesB(subgroupBroadcast(a.hi, 3u), b);
  (*acc)[12] += rowTimesB(subgroupBroadcast(a.hi, 4u), b);
  (*acc)[13] += rowTimesB(subgroupBroadcast(a.hi, 5u), b);
  (*acc)[14] += rowTimesB(subgroupBroadcast(a.hi, 6u), b);
  (*acc)[15] += rowTimesB(subgroupBroadcast(a.hi, 7u), b);
}

// The 16 x 32 tile at (rowBase, colBase) of the [M, K] x [K, N] product; lane's part as above.
// The result is indexed by constants only, which keeps it in registers (a loop index would
// move it to memory).
fn subgroupTileProduct(lane: u32, rowBase: u32, colBase: u32, M: u32, N: u32, K: u32) -> array<vec4<f32>, 16> {
  let col = colBase + lane * 4u;
  let cols = min(vec4(col) + vec4(0u, 1u, 2u, 3u), vec4(N - 1u));
  var acc: array<vec4<f32>, 16>;
  var k = 0u;
  for (; k + 4u <= K; k += 4u) { subgroupStep4(&acc, lane, k, M, N, K, rowBase, col, cols, false); }
  if (k < K) { subgroupStep4(&acc, lane, k, M, N, K, rowBase, col, cols, true); }
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
