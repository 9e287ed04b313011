// Scaled blocks placed in an arena: for row r (workgroup z) of the table [block, scaleAt, offset],
//   OUT[offset + i] = X[block · len + i] · scale[scaleAt],  i < len.
// The backward of a stack of per-network terms: each network's gradient block times its own
// upstream scalar, written where its parameters live.
struct Params { len: u32, rowPitch: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read> scale: array<f32>;
@group(0) @binding(2) var<storage, read> rows: array<u32>;
@group(0) @binding(3) var<storage, read_write> OUT: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * p.rowPitch + gid.x;
  if (i >= p.len) { return; }
  let r = 3u * gid.z;
  OUT[rows[r + 2u] + i] = X[rows[r] * p.len + i] * scale[rows[r + 1u]];
}
