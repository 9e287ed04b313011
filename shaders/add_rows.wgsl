// Y[r][c] += v[c] for Y [rows, cols]: a bias broadcast over rows (v read at an arena offset).
// Many models: gid.z is the model, Y blocks yStride apart from element offY, v vStride apart.
struct Params { n: u32, cols: u32, offV: u32, rowPitch: u32, vStride: u32, offY: u32, yStride: u32, pad0: u32 }
@group(0) @binding(0) var<storage, read> V: array<f32>;
@group(0) @binding(1) var<storage, read_write> Y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * p.rowPitch + gid.x;
  if (i < p.n) { Y[gid.z * p.yStride + p.offY + i] += V[gid.z * p.vStride + p.offV + i % p.cols]; }
}
