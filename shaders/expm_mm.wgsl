// The matrix-exponential workhorse (lib/expm_mm_terms.wgsl) with 64×64 workgroup-memory tiles
// (lib/tile8x8.wgsl, 8×8 workgroups).
//!include expm_mm_terms
//!include tile8x8

fn tileLoadA(row: u32, k: u32) -> f32 {
  if (row >= u.N || k >= u.N) { return 0.0; }
  return productA(row, k);
}

fn tileLoadB(k: u32, col: u32) -> f32 {
  if (k >= u.N || col >= u.N) { return 0.0; }
  return productB(k, col);
}

@compute @workgroup_size(8, 8, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let N = u.N;
  let rowBase = wid.y * 64u;
  let colBase = wid.x * 64u;
  stackBase = wid.z * N * N;
  var running = true;
  if (GATED) { running = squaringActive(lid.x == 0u && lid.y == 0u, wid.z); }
  var acc: array<vec4<f32>, 16>;
  if (running) {
    if (NPROD >= 1u) {
      pairSel = 0u;
      acc = tileProduct(lid.x, lid.y, rowBase, colBase, N, true, false);
    }
    if (NPROD >= 2u) {
      pairSel = 1u;
      let acc2 = tileProduct(lid.x, lid.y, rowBase, colBase, N, true, false);
      for (var i = 0u; i < 16u; i++) { acc[i] += acc2[i]; }
    }
  }
  for (var r = 0u; r < 8u; r++) {
    let row = rowBase + lid.y * 8u + r;
    if (row >= N) { break; }
    for (var c = 0u; c < 8u; c++) {
      let col = colBase + lid.x * 8u + c;
      if (col < N) { expmFinish(row, col, acc[r * 2u + c / 4u][c % 4u], running); }
    }
  }
}
