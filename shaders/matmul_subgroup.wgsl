// C = op(A)·op(B) (+C) for CPU adapters: 16 x 32 register tiles per 8-lane subgroup, operands
// shared by subgroupBroadcast (see lib/subgroup_tile.wgsl for the design and why). The host
// selects it only where the subgroup size is exactly 8 and dispatches
// (ceil(N / 32), ceil(M / 16), batch) workgroups. Element offsets and batch strides are
// arbitrary (scalar bindings).
enable subgroups;

//!include matmul_dims

@group(0) @binding(0) var<storage, read> A: array<f32>;
@group(0) @binding(1) var<storage, read> B: array<f32>;
@group(0) @binding(2) var<storage, read_write> C: array<f32>;
@group(0) @binding(3) var<uniform> dims: Dims;

var<private> baseA: u32;
var<private> baseB: u32;

fn tileLoadA(row: u32, k: u32) -> f32 {
  return A[baseA + select(row * dims.K + k, k * dims.M + row, TRANS_A)];
}

fn tileLoadB(k: u32, col: u32) -> f32 {
  return B[baseB + select(k * dims.N + col, col * dims.K + k, TRANS_B)];
}

//!include subgroup_tile

var<private> baseC: u32;

fn tileFinish(row: u32, col: u32, v: vec4<f32>) {
  if (row >= dims.M) { return; }
  for (var j = 0u; j < 4u; j++) {
    if (col + j < dims.N) {
      let at = baseC + row * dims.N + col + j;
      if (ACCUMULATE) { C[at] += v[j]; } else { C[at] = v[j]; }
    }
  }
}

@compute @workgroup_size(8, 1, 1)
fn main(@builtin(subgroup_invocation_id) lane: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  baseA = dims.offA + wid.z * dims.strideA;
  baseB = dims.offB + wid.z * dims.strideB;
  baseC = dims.offC + wid.z * dims.strideC;
  let acc = subgroupTileProduct(lane, wid.y * 16u, wid.x * 32u, dims.M, dims.N, dims.K);
  subgroupTileFinish(wid.y * 16u, wid.x * 32u + lane * 4u, acc);
}
