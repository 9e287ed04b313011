// Matmul for shapes with a tiny dimension (M, N or K ≤ 8: read-outs, input drives, their
// gradients). One thread per output element walks K directly: 64x64x16 tiles would be mostly
// padding for these shapes. Same semantics, overrides and uniform as matmul.wgsl. On CPU
// adapters the recurrent core's own skinny products use matmul_skinny_{rows,outer,dot}
// (engine/gpu/skinny.ts), which load each operand value once instead of twice per multiply-add.
override TRANS_A: bool = false;
override TRANS_B: bool = false;
override ACCUMULATE: bool = false;

struct Dims {
  M: u32, K: u32, N: u32,
  strideA: u32, strideB: u32, strideC: u32,
  offA: u32, offB: u32, offC: u32,
}

@group(0) @binding(0) var<storage, read> A: array<f32>;
@group(0) @binding(1) var<storage, read> B: array<f32>;
@group(0) @binding(2) var<storage, read_write> C: array<f32>;
@group(0) @binding(3) var<uniform> dims: Dims;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let flat = gid.y * nwg.x * 64u + gid.x;
  if (flat >= dims.M * dims.N) { return; }
  let row = flat / dims.N;
  let col = flat % dims.N;
  let baseA = dims.offA + gid.z * dims.strideA;
  let baseB = dims.offB + gid.z * dims.strideB;
  var s = 0.0;
  for (var k = 0u; k < dims.K; k++) {
    var a: f32;
    var b: f32;
    if (TRANS_A) { a = A[baseA + k * dims.M + row]; } else { a = A[baseA + row * dims.K + k]; }
    if (TRANS_B) { b = B[baseB + col * dims.K + k]; } else { b = B[baseB + k * dims.N + col]; }
    s += a * b;
  }
  let at = dims.offC + gid.z * dims.strideC + row * dims.N + col;
  if (ACCUMULATE) { C[at] = C[at] + s; } else { C[at] = s; }
}
