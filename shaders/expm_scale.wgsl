// Y = 2^-s · X with the scale the GPU chose (plan[1]); elementwise over n values, `per` of
// them to a matrix of the stack, each with its own plan (blocks of 4).
struct Params { n: u32, rowPitch: u32, per: u32, pad0: u32 }
@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read> plan: array<u32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * p.rowPitch + gid.x;
  if (i >= p.n) { return; }
  Y[i] = bitcast<f32>(plan[4u * (i / p.per) + 1u]) * X[i];
}
