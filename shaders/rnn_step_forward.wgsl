// Design (a), one dispatch per time step (all steps in one command buffer): the step of
// lib/rnn_step_forward_cell.wgsl as a [B, N] x [N, N]ᵀ workgroup-memory tile product
// (lib/tile8x8.wgsl) with the cell in the epilogue.
@group(0) @binding(0) var<storage, read> params: array<f32>;
@group(0) @binding(1) var<storage, read> U: array<f32>;         // [T, B, N]
@group(0) @binding(2) var<storage, read_write> H: array<f32>;   // [T, B, N]
@group(0) @binding(3) var<storage, read_write> R: array<f32>;   // [T, B, N]

fn loadParam(i: u32) -> f32 { return params[i]; }
fn loadU(i: u32) -> f32 { return U[i]; }
fn loadH(i: u32) -> f32 { return H[i]; }
fn storeH(i: u32, v: f32) { H[i] = v; }
fn storeR(i: u32, v: f32) { R[i] = v; }
//!include rnn_step_forward_cell
//!include tile8x8

fn tileLoadA(b: u32, j: u32) -> f32 {  // h_t[b][j]
  if (b >= p.B || j >= p.N) { return 0.0; }
  return hiddenState(b, j);
}

fn tileLoadB(j: u32, i: u32) -> f32 {  // W_rec[i][j]
  if (j >= p.N || i >= p.N) { return 0.0; }
  return recurrentWeight(i, j);
}

@compute @workgroup_size(8, WGY, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  selectModel(wid.z);
  let rowBase = wid.y * 8u * WGY;
  let colBase = wid.x * 64u;
  let K = select(p.N, 0u, p.t == 0u);  // h_0 = 0: no recurrent drive at the first step
  let acc = tileProduct(lid.x, lid.y, rowBase, colBase, K, true, true);
  for (var r = 0u; r < 8u; r++) {
    let b = rowBase + lid.y * 8u + r;
    if (b >= p.B) { break; }
    for (var c = 0u; c < 8u; c++) {
      let i = colBase + lid.x * 8u + c;
      if (i < p.N) { cellForward(b, i, acc[r * 2u + c / 4u][c % 4u]); }
    }
  }
}
