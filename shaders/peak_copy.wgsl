// The adapter's streaming bandwidth for the roofline (bench profile): Y[i] = X[i] over n vec4
// (16 bytes each), one vec4 per invocation, consecutive invocations on consecutive vec4s.
// Bytes moved: 32·n (each vec4 read once and written once; write-allocate traffic is not
// counted, as in STREAM's copy). Run over buffers much larger than the caches (64 MiB).
// On llvmpipe, 1, 4 or 16 vec4 per invocation, strided or contiguous, and 64- or 256-wide
// workgroups all measured within noise of each other; scalar f32 was about 4× slower.
struct Params { n: u32, rowPitch: u32 }

@group(0) @binding(0) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> Y: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * p.rowPitch + gid.x;
  if (i < p.n) { Y[i] = X[i]; }
}
