// Design (a) BPTT, one dispatch per step: the step of lib/rnn_step_backward_cell.wgsl with
// δ_{t+1} W_rec as a workgroup-memory tile product (lib/tile8x8.wgsl).
@group(0) @binding(0) var<storage, read> params: array<f32>;
@group(0) @binding(1) var<storage, read> dHr: array<f32>;       // [T, B, N]
@group(0) @binding(2) var<storage, read> R: array<f32>;         // [T, B, N]
@group(0) @binding(3) var<storage, read_write> G: array<f32>;   // [T, B, N]
@group(0) @binding(4) var<storage, read_write> D: array<f32>;   // [T, B, N] δ

fn loadParam(i: u32) -> f32 { return params[i]; }
fn loadDHr(i: u32) -> f32 { return dHr[i]; }
fn loadR(i: u32) -> f32 { return R[i]; }
fn loadG(i: u32) -> f32 { return G[i]; }
fn loadD(i: u32) -> f32 { return D[i]; }
fn storeG(i: u32, v: f32) { G[i] = v; }
fn storeD(i: u32, v: f32) { D[i] = v; }
//!include rnn_step_backward_cell
//!include tile8x8

fn tileLoadA(b: u32, k: u32) -> f32 {  // δ_{t+1}[b][k]
  if (b >= p.B || k >= p.N) { return 0.0; }
  return nextDelta(b, k);
}

fn tileLoadB(k: u32, i: u32) -> f32 {  // W_rec[k][i]
  if (k >= p.N || i >= p.N) { return 0.0; }
  return recurrentWeight(k, i);
}

@compute @workgroup_size(8, WGY, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  selectModel(wid.z);
  let rowBase = wid.y * 8u * WGY;
  let colBase = wid.x * 64u;
  let acc = tileProduct(lid.x, lid.y, rowBase, colBase, recurrentDepth(), true, false);
  for (var r = 0u; r < 8u; r++) {
    let b = rowBase + lid.y * 8u + r;
    if (b >= p.B) { break; }
    for (var c = 0u; c < 8u; c++) {
      let i = colBase + lid.x * 8u + c;
      if (i < p.N) { cellBackward(b, i, acc[r * 2u + c / 4u][c % 4u]); }
    }
  }
}
