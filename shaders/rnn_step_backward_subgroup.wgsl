// Design (a)'s BPTT step for CPU adapters: the step of lib/rnn_step_backward_cell.wgsl with
// δ_{t+1} W_rec as 16 x 4·LANES subgroup register tiles (lib/subgroup_tile.wgsl). Dispatched as
// (ceil(N / (4·LANES)), ceil(B / 16), models) workgroups of LANES. vec4-typed buffers as in
// rnn_step_forward_subgroup.wgsl (VEC_A: δ, VEC_B: W_rec).
enable subgroups;

override VEC_A: bool = false;
override VEC_B: bool = false;
const TRANS_A = false;  // A = δ_{t+1} [B, N], row-major
const TRANS_B = false;  // B = W_rec [N, N], row-major

@group(0) @binding(0) var<storage, read> params: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> dHr: array<vec4<f32>>;       // [T, B, N]
@group(0) @binding(2) var<storage, read> R: array<vec4<f32>>;         // [T, B, N]
@group(0) @binding(3) var<storage, read_write> G: array<vec4<f32>>;   // [T, B, N]
@group(0) @binding(4) var<storage, read_write> D: array<vec4<f32>>;   // [T, B, N] δ

fn loadParam(i: u32) -> f32 { return params[i >> 2u][i & 3u]; }
fn loadDHr(i: u32) -> f32 { return dHr[i >> 2u][i & 3u]; }
fn loadR(i: u32) -> f32 { return R[i >> 2u][i & 3u]; }
fn loadG(i: u32) -> f32 { return G[i >> 2u][i & 3u]; }
fn loadD(i: u32) -> f32 { return D[i >> 2u][i & 3u]; }
fn storeG(i: u32, v: f32) { G[i >> 2u][i & 3u] = v; }
fn storeD(i: u32, v: f32) { D[i >> 2u][i & 3u] = v; }

//!include rnn_step_backward_cell

fn tileLoadA(b: u32, k: u32) -> f32 { return nextDelta(b, k); }
fn tileLoadB(k: u32, i: u32) -> f32 { return recurrentWeight(k, i); }
fn tileLoadA4(b: u32, k: u32) -> vec4<f32> { return D[(sBase + ((p.t + 1u) * p.B + b) * p.N + k) >> 2u]; }
fn tileLoadB4(k: u32, i: u32) -> vec4<f32> { return params[(pBase + p.offW + k * p.N + i) >> 2u]; }

fn tileFinish(b: u32, col: u32, v: vec4<f32>) {
  if (b >= p.B) { return; }
  for (var c = 0u; c < 4u; c++) {
    if (col + c < p.N) { cellBackward(b, col + c, v[c]); }
  }
}

//!include subgroup_tile

@compute @workgroup_size(LANES, 1, 1)
fn main(@builtin(subgroup_invocation_id) lane: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  selectModel(wid.z);
  let acc = subgroupTileProduct(lane, wid.y * 16u, wid.x * 4u * LANES, p.B, p.N, recurrentDepth());
  subgroupTileFinish(wid.y * 16u, wid.x * 4u * LANES + lane * 4u, acc);
}
