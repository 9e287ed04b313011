// Aligned variant of matmul.wgsl: operands and result are read and written as vec4 along
// their contiguous axis. Used when that axis is a multiple of 4 for A, B and C (the host
// checks); same tiling and results as matmul.wgsl.
//!include matmul_dims

@group(0) @binding(0) var<storage, read> A: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> B: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> C: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> dims: Dims;

const TILE_K = 16u;
//!include tile_fma

@compute @workgroup_size(8, 8, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let tx = lid.x;
  let ty = lid.y;
  let tid = ty * 8u + tx;
  let rowBase = wid.y * 64u;
  let colBase = wid.x * 64u;
  let baseA = dims.offA + wid.z * dims.strideA;
  let baseB = dims.offB + wid.z * dims.strideB;
  var acc: array<vec4<f32>, 16>;

  for (var k0 = 0u; k0 < dims.K; k0 += TILE_K) {
    // 256 vec4 slots per tile, 4 per thread.
    for (var e = 0u; e < 4u; e++) {
      let slot = e * 64u + tid;
      if (TRANS_A) {
        // A is [K, M]: a vec4 holds 4 rows of one k.
        let kk = slot / 16u;
        let mq = slot % 16u;
        var v = vec4<f32>(0.0);
        if (k0 + kk < dims.K && rowBase + mq * 4u < dims.M) {
          v = A[(baseA + (k0 + kk) * dims.M + rowBase + mq * 4u) / 4u];
        }
        tileA[kk * 16u + mq] = v;
      } else {
        // A is [M, K]: a vec4 holds 4 k of one row; scatter it into the k-major tile.
        let mm = slot / 4u;
        let kq = slot % 4u;
        var v = vec4<f32>(0.0);
        if (rowBase + mm < dims.M && k0 + kq * 4u < dims.K) {
          v = A[(baseA + (rowBase + mm) * dims.K + k0 + kq * 4u) / 4u];
        }
        for (var c = 0u; c < 4u; c++) { tileA[(kq * 4u + c) * 16u + mm / 4u][mm % 4u] = v[c]; }
      }
      if (TRANS_B) {
        // B is [N, K]: a vec4 holds 4 k of one column.
        let nn = slot / 4u;
        let kq = slot % 4u;
        var v = vec4<f32>(0.0);
        if (colBase + nn < dims.N && k0 + kq * 4u < dims.K) {
          v = B[(baseB + (colBase + nn) * dims.K + k0 + kq * 4u) / 4u];
        }
        for (var c = 0u; c < 4u; c++) { tileB[(kq * 4u + c) * 16u + nn / 4u][nn % 4u] = v[c]; }
      } else {
        let kk = slot / 16u;
        let nq = slot % 16u;
        var v = vec4<f32>(0.0);
        if (k0 + kk < dims.K && colBase + nq * 4u < dims.N) {
          v = B[(baseB + (k0 + kk) * dims.N + colBase + nq * 4u) / 4u];
        }
        tileB[kk * 16u + nq] = v;
      }
    }
    workgroupBarrier();
    tileAccumulate(tx, ty, &acc);
    workgroupBarrier();
  }

  let col = colBase + tx * 8u;
  let baseC = dims.offC + wid.z * dims.strideC;
  for (var r = 0u; r < 8u; r++) {
    let row = rowBase + ty * 8u + r;
    if (row >= dims.M) { break; }
    for (var h = 0u; h < 2u; h++) {
      if (col + h * 4u < dims.N) {
        let at = (baseC + row * dims.N + col + h * 4u) / 4u;
        if (ACCUMULATE) { C[at] = C[at] + acc[r * 2u + h]; } else { C[at] = acc[r * 2u + h]; }
      }
    }
  }
}
