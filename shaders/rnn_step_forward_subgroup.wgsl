// Design (a)'s forward step for CPU adapters: the step of lib/rnn_step_forward_cell.wgsl with
// the [B, N] x [N, N]ᵀ product as 16 x 4·LANES subgroup register tiles (lib/subgroup_tile.wgsl).
// Dispatched as (ceil(N / (4·LANES)), ceil(B / 16), models) workgroups of LANES. The buffers are typed
// vec4 so that, where N, the offsets and strides are multiples of 4 (VEC_A: the states,
// VEC_B: W_rec in the arena), the tile reads 4 values per load; a single value is
// v[i / 4][i % 4], the same scalar load or store for llvmpipe. Only this CPU design uses it:
// a store to one component of a vec4 may rewrite the whole vector on other compilers.
enable subgroups;

override VEC_A: bool = false;
override VEC_B: bool = false;
const TRANS_A = false;  // A = h_t [B, N], row-major
const TRANS_B = true;   // B[j, i] = W_rec[i][j]: W_rec is Bᵀ stored row-major

@group(0) @binding(0) var<storage, read> params: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> U: array<vec4<f32>>;         // [T, B, N]
@group(0) @binding(2) var<storage, read_write> H: array<vec4<f32>>;   // [T, B, N]
@group(0) @binding(3) var<storage, read_write> R: array<vec4<f32>>;   // [T, B, N]

fn loadParam(i: u32) -> f32 { return params[i >> 2u][i & 3u]; }
fn loadU(i: u32) -> f32 { return U[i >> 2u][i & 3u]; }
fn loadH(i: u32) -> f32 { return H[i >> 2u][i & 3u]; }
fn storeH(i: u32, v: f32) { H[i >> 2u][i & 3u] = v; }
fn storeR(i: u32, v: f32) { R[i >> 2u][i & 3u] = v; }

//!include rnn_step_forward_cell

fn tileLoadA(b: u32, j: u32) -> f32 { return hiddenState(b, j); }
fn tileLoadB(j: u32, i: u32) -> f32 { return recurrentWeight(i, j); }
fn tileLoadA4(b: u32, j: u32) -> vec4<f32> { return H[(sBase + ((p.t - 1u) * p.B + b) * p.N + j) >> 2u]; }
fn tileLoadB4(j: u32, i: u32) -> vec4<f32> { return params[(pBase + p.offW + i * p.N + j) >> 2u]; }

fn tileFinish(b: u32, col: u32, v: vec4<f32>) {
  if (b >= p.B) { return; }
  for (var c = 0u; c < 4u; c++) {
    if (col + c < p.N) { cellForward(b, col + c, v[c]); }
  }
}

//!include subgroup_tile

@compute @workgroup_size(LANES, 1, 1)
fn main(@builtin(subgroup_invocation_id) lane: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  selectModel(wid.z);
  let K = select(p.N, 0u, p.t == 0u);  // h_0 = 0: no recurrent drive at the first step
  let acc = subgroupTileProduct(lane, wid.y * 16u, wid.x * 4u * LANES, p.B, p.N, K);
  subgroupTileFinish(wid.y * 16u, wid.x * 4u * LANES + lane * 4u, acc);
}
