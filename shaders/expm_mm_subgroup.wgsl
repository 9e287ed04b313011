// The matrix-exponential workhorse (lib/expm_mm_terms.wgsl) for CPU adapters: 16 x 4·LANES
// subgroup register tiles (lib/subgroup_tile.wgsl). Dispatched as (ceil(N / (4·LANES)), ceil(N / 16))
// workgroups of LANES.
enable subgroups;
//!include expm_mm_terms

fn tileLoadA(row: u32, k: u32) -> f32 { return productA(row, k); }
fn tileLoadB(k: u32, col: u32) -> f32 { return productB(k, col); }
// Scalar loads only (the operands are f32 arrays shared with the workgroup design).
const VEC_A = false;
const VEC_B = false;
const TRANS_A = false;
const TRANS_B = false;
fn tileLoadA4(row: u32, k: u32) -> vec4<f32> { return vec4(0.0); }
fn tileLoadB4(k: u32, col: u32) -> vec4<f32> { return vec4(0.0); }

var<private> running: bool;

fn tileFinish(row: u32, col: u32, v: vec4<f32>) {
  if (row >= u.N) { return; }
  for (var c = 0u; c < 4u; c++) {
    if (col + c < u.N) { expmFinish(row, col + c, v[c], running); }
  }
}

//!include subgroup_tile

@compute @workgroup_size(LANES, 1, 1)
fn main(@builtin(subgroup_invocation_id) lane: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let rowBase = wid.y * 16u;
  let colBase = wid.x * 4u * LANES;
  // A local copy for control flow: the uniformity analysis treats private variables as
  // non-uniform, and the tile product's broadcasts need uniform control flow.
  stackBase = wid.z * u.N * u.N;
  var on = true;
  if (GATED) { on = squaringActive(lane == 0u, wid.z); }
  running = on;
  var acc: array<vec4<f32>, 16>;
  if (on) {
    if (NPROD >= 1u) {
      pairSel = 0u;
      acc = subgroupTileProduct(lane, rowBase, colBase, u.N, u.N, u.N);
    }
    if (NPROD >= 2u) {
      pairSel = 1u;
      let acc2 = subgroupTileProduct(lane, rowBase, colBase, u.N, u.N, u.N);
      for (var i = 0u; i < 16u; i++) { acc[i] += acc2[i]; }
    }
  }
  subgroupTileFinish(rowBase, colBase + lane * 4u, acc);
}
