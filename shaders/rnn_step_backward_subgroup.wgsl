// Design (a)'s BPTT step for CPU adapters: the step of lib/rnn_step_backward_cell.wgsl with
// δ_{t+1} W_rec as 16 x 32 subgroup register tiles (lib/subgroup_tile.wgsl). Dispatched as
// (ceil(N / 32), ceil(B / 16), models) 8-lane workgroups.
enable subgroups;
//!include rnn_step_backward_cell

fn tileLoadA(b: u32, k: u32) -> f32 { return nextDelta(b, k); }
fn tileLoadB(k: u32, i: u32) -> f32 { return recurrentWeight(k, i); }

fn tileFinish(b: u32, col: u32, v: vec4<f32>) {
  if (b >= p.B) { return; }
  for (var c = 0u; c < 4u; c++) {
    if (col + c < p.N) { cellBackward(b, col + c, v[c]); }
  }
}

//!include subgroup_tile

@compute @workgroup_size(8, 1, 1)
fn main(@builtin(subgroup_invocation_id) lane: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  selectModel(wid.z);
  let acc = subgroupTileProduct(lane, wid.y * 16u, wid.x * 32u, p.B, p.N, recurrentDepth());
  subgroupTileFinish(wid.y * 16u, wid.x * 32u + lane * 4u, acc);
}
