// Register-tile product for one subgroup of 4, 8 or 16 lanes, shared by the subgroup kernels (matmul and
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
// Tile: 16 rows x 4·LANES columns per subgroup of LANES = 4, 8 or 16 lanes (llvmpipe: 8 with
// 256-bit vectors, 16 with LP_NATIVE_VECTOR_WIDTH=512; SwiftShader: 4). Lane l owns columns
// colBase + l*4..+4 of all 16 rows, as acc[r] = (rowBase + r, those 4 columns). Per step of
// 4 k, the lane holds 16 / LANES registers of A (16 rows x 4 k among the lanes) and 4
// columns x 4 k of B; every row's 4 k reach every lane by broadcast. So each loaded B value
// is used 16 times, each A value 4·LANES times.

// The including kernel enables subgroups, runs with @workgroup_size(LANES) on an adapter whose
// subgroup size is LANES (the host checks), calls subgroupTileProduct from uniform control flow,
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

override LANES: u32 = 8u;

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

// The lane's 16 / LANES registers of A for k..k+3 (the rest are unused). Rows along k (VEC_A
// with k contiguous, or scalar): register g = A[rowBase + g·LANES + l, k..k+3]. Rows
// contiguous (VEC_A, TRANS_A): register g = A[q..q+3, k + l % 4] with
// q = rowBase + g·LANES + 4 (l / 4), so rows 4j..4j+3 of the tile at k + i sit in register
// 4j / LANES, lane 4 (j % (LANES / 4)) + i.
struct SubgroupA { a0: vec4<f32>, a1: vec4<f32>, a2: vec4<f32>, a3: vec4<f32> }

fn subgroupRegA(lane: u32, rowBase: u32, g: u32, k: u32, M: u32, K: u32, masked: bool) -> vec4<f32> {
  if (g * LANES >= 16u) { return vec4(0.0); }
  if (VEC_A && TRANS_A) {
    let kk = k + (lane & 3u);
    let a = tileLoadA4(min(rowBase + g * LANES + 4u * (lane >> 2u), M - 4u), min(kk, K - 1u));
    return select(a, vec4(0.0), kk >= K);
  }
  let row = min(rowBase + g * LANES + lane, M - 1u);
  if (VEC_A) { return tileLoadA4(row, k); }  // K % 4 == 0
  return subgroupRowA(row, k, K, masked);
}

fn subgroupLoadA(lane: u32, rowBase: u32, k: u32, M: u32, K: u32, masked: bool) -> SubgroupA {
  return SubgroupA(subgroupRegA(lane, rowBase, 0u, k, M, K, masked), subgroupRegA(lane, rowBase, 1u, k, M, K, masked),
                   subgroupRegA(lane, rowBase, 2u, k, M, K, masked), subgroupRegA(lane, rowBase, 3u, k, M, K, masked));
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

// Rows base..base+3 from lanes l0..l0+3 of register r (rows contiguous). subgroupBroadcast
// takes a constant lane, hence the written-out lanes here and below.
fn quadAt(acc: ptr<function, array<vec4<f32>, 16>>, base: u32, r: vec4<f32>, l0: u32, b: SubgroupB) {
  if (l0 == 0u) { quadTimesB(acc, base, subgroupBroadcast(r, 0u), subgroupBroadcast(r, 1u), subgroupBroadcast(r, 2u), subgroupBroadcast(r, 3u), b); }
  if (l0 == 4u) { quadTimesB(acc, base, subgroupBroadcast(r, 4u), subgroupBroadcast(r, 5u), subgroupBroadcast(r, 6u), subgroupBroadcast(r, 7u), b); }
  if (l0 == 8u) { quadTimesB(acc, base, subgroupBroadcast(r, 8u), subgroupBroadcast(r, 9u), subgroupBroadcast(r, 10u), subgroupBroadcast(r, 11u), b); }
  if (l0 == 12u) { quadTimesB(acc, base, subgroupBroadcast(r, 12u), subgroupBroadcast(r, 13u), subgroupBroadcast(r, 14u), subgroupBroadcast(r, 15u), b); }
}

// Rows base..base+3 from lanes l0..l0+3 of register r (rows along k: one lane per row).
fn rowsAt(acc: ptr<function, array<vec4<f32>, 16>>, base: u32, r: vec4<f32>, l0: u32, b: SubgroupB) {
  if (l0 == 0u) {
    (*acc)[base] += rowTimesB(subgroupBroadcast(r, 0u), b);
    (*acc)[base + 1u] += rowTimesB(subgroupBroadcast(r, 1u), b);
    (*acc)[base + 2u] += rowTimesB(subgroupBroadcast(r, 2u), b);
    (*acc)[base + 3u] += rowTimesB(subgroupBroadcast(r, 3u), b);
  }
  if (l0 == 4u) {
    (*acc)[base] += rowTimesB(subgroupBroadcast(r, 4u), b);
    (*acc)[base + 1u] += rowTimesB(subgroupBroadcast(r, 5u), b);
    (*acc)[base + 2u] += rowTimesB(subgroupBroadcast(r, 6u), b);
    (*acc)[base + 3u] += rowTimesB(subgroupBroadcast(r, 7u), b);
  }
  if (l0 == 8u) {
    (*acc)[base] += rowTimesB(subgroupBroadcast(r, 8u), b);
    (*acc)[base + 1u] += rowTimesB(subgroupBroadcast(r, 9u), b);
    (*acc)[base + 2u] += rowTimesB(subgroupBroadcast(r, 10u), b);
    (*acc)[base + 3u] += rowTimesB(subgroupBroadcast(r, 11u), b);
  }
  if (l0 == 12u) {
    (*acc)[base] += rowTimesB(subgroupBroadcast(r, 12u), b);
    (*acc)[base + 1u] += rowTimesB(subgroupBroadcast(r, 13u), b);
    (*acc)[base + 2u] += rowTimesB(subgroupBroadcast(r, 14u), b);
    (*acc)[base + 3u] += rowTimesB(subgroupBroadcast(r, 15u), b);
  }
}

// Register 4j / LANES of the lane's A registers.
fn regOfQuad(a: SubgroupA, j: u32) -> vec4<f32> {
  let g = 4u * j / LANES;
  if (g == 0u) { return a.a0; }
  if (g == 1u) { return a.a1; }
  if (g == 2u) { return a.a2; }
  return a.a3;
}

// acc += the product over k..k+3, four rows at a time (quad j: rows 4j..4j+3, first lane
// 4 (j % (LANES / 4)) of register 4j / LANES). All lane and register choices are constants
// once LANES is, so the branches fold away.
fn subgroupStep4(acc: ptr<function, array<vec4<f32>, 16>>, lane: u32, k: u32, M: u32, N: u32, K: u32, rowBase: u32, col: u32, cols: vec4<u32>, masked: bool) {
  let a = subgroupLoadA(lane, rowBase, k, M, K, masked);
  let b = subgroupLoadB(k, col, cols, N, K, masked);
  quadStep(acc, a, 0u, b);
  quadStep(acc, a, 1u, b);
  quadStep(acc, a, 2u, b);
  quadStep(acc, a, 3u, b);
}

// Quad j of the step (a constant: written out, not a loop, which keeps acc in registers).
fn quadStep(acc: ptr<function, array<vec4<f32>, 16>>, a: SubgroupA, j: u32, b: SubgroupB) {
  let r = regOfQuad(a, j);
  if (VEC_A && TRANS_A) {
    quadAt(acc, 4u * j, r, 4u * (j % (LANES / 4u)), b);
  } else {
    rowsAt(acc, 4u * j, r, (4u * j) % LANES, b);
  }
}

// The 16 x 4·LANES tile at (rowBase, colBase) of the [M, K] x [K, N] product; lane's part as above.
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
