// rnn_step_forward.wgsl's step (same formulas, bindings and uniform) for CPU adapters: the
// [B, N] x [N, N]ᵀ product as 16 x 32 subgroup register tiles (lib/subgroup_tile.wgsl), the
// cell in the epilogue. Dispatched as (ceil(N / 32), ceil(B / 16), models) 8-lane workgroups.
enable subgroups;

struct Params {
  B: u32, N: u32, t: u32, offW: u32,
  offBias: u32, paramStride: u32, stateStride: u32, pad0: u32,
  alpha: f32,
}

@group(0) @binding(0) var<storage, read> params: array<f32>;
@group(0) @binding(1) var<storage, read> U: array<f32>;         // [T, B, N]
@group(0) @binding(2) var<storage, read_write> H: array<f32>;   // [T, B, N]
@group(0) @binding(3) var<storage, read_write> R: array<f32>;   // [T, B, N]
@group(0) @binding(4) var<uniform> p: Params;

var<private> pBase: u32;
var<private> sBase: u32;

fn tileLoadA(b: u32, j: u32) -> f32 {  // h_t[b][j]
  return H[sBase + ((p.t - 1u) * p.B + b) * p.N + j];
}

fn tileLoadB(j: u32, i: u32) -> f32 {  // W_rec[i][j]
  return params[pBase + p.offW + i * p.N + j];
}

fn tileFinish(b: u32, col: u32, v: vec4<f32>) {
  if (b >= p.B) { return; }
  for (var c = 0u; c < 4u; c++) {
    let i = col + c;
    if (i < p.N) {
      let at = sBase + (p.t * p.B + b) * p.N + i;
      let rt = max(v[c] + U[at] + params[pBase + p.offBias + i], 0.0);
      var hPrev = 0.0;
      if (p.t > 0u) { hPrev = H[at - p.B * p.N]; }
      R[at] = rt;
      H[at] = (1.0 - p.alpha) * hPrev + p.alpha * rt;
    }
  }
}

//!include subgroup_tile

@compute @workgroup_size(8, 1, 1)
fn main(@builtin(subgroup_invocation_id) lane: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  pBase = wid.z * p.paramStride;
  sBase = wid.z * p.stateStride;
  let K = select(p.N, 0u, p.t == 0u);  // h_0 = 0: no recurrent drive at the first step
  let acc = subgroupTileProduct(lane, wid.y * 16u, wid.x * 32u, p.B, p.N, K);
  subgroupTileFinish(wid.y * 16u, wid.x * 32u + lane * 4u, acc);
}
