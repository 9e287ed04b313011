// Tiled batched matmul: C[b] = op(A[b]) · op(B[b]) (+ C[b] when ACCUMULATE), any shape.
// Tiling in lib/tile8x8.wgsl; matmul_vec4.wgsl is the aligned variant. Element offsets in
// the uniform let operands be views into larger buffers (e.g. the parameter arena).
//!include tile8x8
//!include matmul_dims

@group(0) @binding(0) var<storage, read> A: array<f32>;
@group(0) @binding(1) var<storage, read> B: array<f32>;
@group(0) @binding(2) var<storage, read_write> C: array<f32>;
@group(0) @binding(3) var<uniform> dims: Dims;

var<private> baseA: u32;
var<private> baseB: u32;

fn tileLoadA(row: u32, k: u32) -> f32 {
  if (row >= dims.M || k >= dims.K) { return 0.0; }
  if (TRANS_A) { return A[baseA + k * dims.M + row]; }
  return A[baseA + row * dims.K + k];
}

fn tileLoadB(k: u32, col: u32) -> f32 {
  if (k >= dims.K || col >= dims.N) { return 0.0; }
  if (TRANS_B) { return B[baseB + col * dims.K + k]; }
  return B[baseB + k * dims.N + col];
}

@compute @workgroup_size(8, WGY, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  baseA = dims.offA + wid.z * dims.strideA;
  baseB = dims.offB + wid.z * dims.strideB;
  let rowBase = wid.y * 8u * WGY;
  let colBase = wid.x * 64u;
  let acc = tileProduct(lid.x, lid.y, rowBase, colBase, dims.K, !TRANS_A, TRANS_B);
  let baseC = dims.offC + wid.z * dims.strideC;
  for (var r = 0u; r < 8u; r++) {
    let row = rowBase + lid.y * 8u + r;
    if (row >= dims.M) { break; }
    for (var c = 0u; c < 8u; c++) {
      let col = colBase + lid.x * 8u + c;
      if (col < dims.N) {
        let at = baseC + row * dims.N + col;
        let v = acc[r * 2u + c / 4u][c % 4u];
        if (ACCUMULATE) { C[at] = C[at] + v; } else { C[at] = v; }
      }
    }
  }
}
