// Design (a) BPTT, one dispatch per step: the step of lib/rnn_step_backward_cell.wgsl with
// δ_{t+1} W_rec as a workgroup-memory tile product (lib/tile8x8.wgsl).
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
