// Strengths of A = |W| (column sums = out-strength): one thread per column j.
//   r_j = Σ_i |W[i][j]|,  s_j = max(r_j + eps, sMin),  d_j = s_j^-½,  floored_j = (r_j + eps < sMin)
// sd = [s (N), d (N), floored (N, 0/1)]. Workgroup z is the network: its W block of N² starts at
// offW + z·strideW, and its sd block of 3N at z·3N.
struct Params { N: u32, offW: u32, strideW: u32, pad0: u32, eps: f32, sMin: f32 }
@group(0) @binding(0) var<storage, read> W: array<f32>;
@group(0) @binding(1) var<storage, read_write> sd: array<f32>;
@group(0) @binding(2) var<uniform> u: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  if (j >= u.N) { return; }
  let w0 = u.offW + gid.z * u.strideW;
  let s0 = gid.z * 3u * u.N;
  var r = 0.0;
  for (var i = 0u; i < u.N; i++) { r += abs(W[w0 + i * u.N + j]); }
  let v = r + u.eps;
  var s = v;
  var fl = 0.0;
  if (v < u.sMin) { s = u.sMin; fl = 1.0; }
  sd[s0 + j] = s;
  sd[s0 + u.N + j] = inverseSqrt(s);
  sd[s0 + 2u * u.N + j] = fl;
}
