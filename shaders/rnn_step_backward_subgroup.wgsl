// rnn_step_backward.wgsl's BPTT step (same formulas, bindings and uniform) for CPU adapters:
// δ_{t+1} W_rec as 16 x 32 subgroup register tiles (lib/subgroup_tile.wgsl), the rest in the
// epilogue. Dispatched as (ceil(N / 32), ceil(B / 16), models) 8-lane workgroups.
enable subgroups;

struct Params {
  B: u32, N: u32, t: u32, T: u32,
  offW: u32, paramStride: u32, stateStride: u32, pad0: u32,
  alpha: f32,
}

@group(0) @binding(0) var<storage, read> params: array<f32>;
@group(0) @binding(1) var<storage, read> dHr: array<f32>;       // [T, B, N]
@group(0) @binding(2) var<storage, read> R: array<f32>;         // [T, B, N]
@group(0) @binding(3) var<storage, read_write> G: array<f32>;   // [T, B, N]
@group(0) @binding(4) var<storage, read_write> D: array<f32>;   // [T, B, N] δ
@group(0) @binding(5) var<uniform> p: Params;

var<private> pBase: u32;
var<private> sBase: u32;

fn tileLoadA(b: u32, k: u32) -> f32 {  // δ_{t+1}[b][k]
  return D[sBase + ((p.t + 1u) * p.B + b) * p.N + k];
}

fn tileLoadB(k: u32, i: u32) -> f32 {  // W_rec[k][i]
  return params[pBase + p.offW + k * p.N + i];
}

fn tileFinish(b: u32, col: u32, v: vec4<f32>) {
  if (b >= p.B) { return; }
  for (var c = 0u; c < 4u; c++) {
    let i = col + c;
    if (i < p.N) {
      let at = sBase + (p.t * p.B + b) * p.N + i;
      var g = dHr[at] + v[c];
      if (p.t + 1u < p.T) { g += (1.0 - p.alpha) * G[at + p.B * p.N]; }
      G[at] = g;
      D[at] = select(0.0, p.alpha * g, R[at] > 0.0);
    }
  }
}

//!include subgroup_tile

@compute @workgroup_size(8, 1, 1)
fn main(@builtin(subgroup_invocation_id) lane: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  pBase = wid.z * p.paramStride;
  sBase = wid.z * p.stateStride;
  let last = p.t + 1u >= p.T;  // from the uniform: subgroupBroadcast needs uniform control flow
  let acc = subgroupTileProduct(lane, wid.y * 16u, wid.x * 32u, p.B, p.N, select(p.N, 0u, last));
  subgroupTileFinish(wid.y * 16u, wid.x * 32u + lane * 4u, acc);
}
