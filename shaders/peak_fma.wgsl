// The adapter's peak f32 throughput for the roofline (bench profile): a register-only FMA
// loop. Each invocation runs 16 independent chains (four vec4 accumulators, each fma a
// separate vector FMA per lane group on a SIMD CPU), four rounds per loop iteration, so the
// loop is throughput- rather than latency-bound and its overhead is small; nothing is loaded
// inside the loop. The result is written once per invocation, so the loop cannot be dropped.
//   a ← fma(a, mul, add)        (mul, add from the uniform: nothing folds at compile time)
// Work: 4 rounds × 4 vec4 × 4 lanes × 2 = 128 FLOPs per invocation and iteration
// (bench/peaks.ts counts with that figure). Accumulator k·4 + c of invocation i starts at
// (i mod 1024)/1024 + 4k + c; OUT[i] is the sum of the sixteen, summed as the code below
// (tests/peaks.test.ts holds it against a float32 CPU reference of the same recurrence).
// Four vec4 accumulators measured best on llvmpipe (8-lane subgroups) among 1–8 vec4 and
// 8–16 scalar accumulators; all were within about 25% of each other.
struct Params { n: u32, iters: u32, rowPitch: u32, pad0: u32, mul: f32, add: f32 }

@group(0) @binding(0) var<storage, read_write> OUT: array<f32>;
@group(0) @binding(1) var<uniform> p: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * p.rowPitch + gid.x;
  if (i >= p.n) { return; }
  let s = f32(i & 1023u) * (1.0 / 1024.0);
  let m = vec4<f32>(p.mul);
  let c = vec4<f32>(p.add);
  var a0 = vec4<f32>(s, s + 1.0, s + 2.0, s + 3.0);
  var a1 = vec4<f32>(s + 4.0, s + 5.0, s + 6.0, s + 7.0);
  var a2 = vec4<f32>(s + 8.0, s + 9.0, s + 10.0, s + 11.0);
  var a3 = vec4<f32>(s + 12.0, s + 13.0, s + 14.0, s + 15.0);
  for (var k = 0u; k < p.iters; k++) {
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
    a2 = fma(a2, m, c);
    a3 = fma(a3, m, c);
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
    a2 = fma(a2, m, c);
    a3 = fma(a3, m, c);
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
    a2 = fma(a2, m, c);
    a3 = fma(a3, m, c);
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
    a2 = fma(a2, m, c);
    a3 = fma(a3, m, c);
  }
  let t = ((a0 + a1) + a2) + a3;
  OUT[i] = ((t.x + t.y) + t.z) + t.w;
}
