// C = op(A)·op(B) (+C) for CPU adapters: 16 x 4·LANES register tiles per subgroup of LANES lanes, operands
// shared by subgroupBroadcast (see lib/subgroup_tile.wgsl for the design and why). The host
// selects it only where the subgroup size is fixed at 4, 8 or 16 and dispatches
// (ceil(N / (4·LANES)), ceil(M / 16), batch) workgroups. Element offsets and batch strides are
// arbitrary; where an operand's contiguous dimension, offset and stride are multiples of 4
// the host sets VEC_A / VEC_B / VEC_C and it is read (written) 4 values per load (store).
// The buffers are typed vec4 for those loads; a single value is v[i / 4][i % 4], which
// llvmpipe compiles to the same scalar load as a f32 array would.
enable subgroups;

//!include matmul_dims

override VEC_A: bool = false;
override VEC_B: bool = false;
override VEC_C: bool = false;

@group(0) @binding(0) var<storage, read> A: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> B: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> C: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> dims: Dims;

var<private> baseA: u32;
var<private> baseB: u32;

fn tileLoadA(row: u32, k: u32) -> f32 {
  let i = baseA + select(row * dims.K + k, k * dims.M + row, TRANS_A);
  return A[i >> 2u][i & 3u];
}

fn tileLoadB(k: u32, col: u32) -> f32 {
  let i = baseB + select(k * dims.N + col, col * dims.K + k, TRANS_B);
  return B[i >> 2u][i & 3u];
}

fn tileLoadA4(row: u32, k: u32) -> vec4<f32> {
  return A[(baseA + select(row * dims.K + k, k * dims.M + row, TRANS_A)) >> 2u];
}

fn tileLoadB4(k: u32, col: u32) -> vec4<f32> {
  return B[(baseB + select(k * dims.N + col, col * dims.K + k, TRANS_B)) >> 2u];
}

//!include subgroup_tile

var<private> baseC: u32;

fn tileFinish(row: u32, col: u32, v: vec4<f32>) {
  if (row >= dims.M || col >= dims.N) { return; }
  let at = baseC + row * dims.N + col;
  if (VEC_C) {  // N % 4 == 0: the lane's 4 columns are all inside
    if (ACCUMULATE) { C[at >> 2u] += v; } else { C[at >> 2u] = v; }
    return;
  }
  for (var j = 0u; j < 4u; j++) {
    if (col + j < dims.N) {
      let i = at + j;
      if (ACCUMULATE) { C[i >> 2u][i & 3u] += v[j]; } else { C[i >> 2u][i & 3u] = v[j]; }
    }
  }
}

@compute @workgroup_size(LANES, 1, 1)
fn main(@builtin(subgroup_invocation_id) lane: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  baseA = dims.offA + wid.z * dims.strideA;
  baseB = dims.offB + wid.z * dims.strideB;
  baseC = dims.offC + wid.z * dims.strideC;
  let acc = subgroupTileProduct(lane, wid.y * 16u, wid.x * 4u * LANES, dims.M, dims.N, dims.K);
  subgroupTileFinish(wid.y * 16u, wid.x * 4u * LANES + lane * 4u, acc);
}
