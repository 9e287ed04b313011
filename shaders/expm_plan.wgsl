// Squaring count from the 1-norm, on the GPU: norm = max_j colAbsSum[j];
// s = smallest s ≥ 0 with norm / 2^s ≤ θ, clamped to sMax (the steps the host encoded).
// plan = [s, bits(2^-s), bits(norm), needed s (> sMax: the clamp was hit)].
// With COLSUMS the column abs-sums of an N×N matrix X are computed here first (one
// workgroup; the regularisers pass sums their normalisation kernel already made).
// One workgroup per matrix: workgroup x is the matrix of a stack (colsum blocks of N, X blocks
// of N², plan blocks of 4).
override COLSUMS: bool = false;
struct Params { N: u32, sMax: u32, pad0: u32, pad1: u32, theta: f32 }
@group(0) @binding(0) var<storage, read> colsum: array<f32>;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> plan: array<u32>;
@group(0) @binding(3) var<uniform> u: Params;

var<workgroup> red: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let g = wid.x;
  var m = 0.0;
  var nan = false;
  for (var j = lid.x; j < u.N; j += 256u) {
    var c = 0.0;
    if (COLSUMS) {
      for (var i = 0u; i < u.N; i++) { c += abs(X[g * u.N * u.N + i * u.N + j]); }
    } else {
      c = colsum[g * u.N + j];
    }
    if (!(c <= 3.4e38)) { nan = true; }
    m = max(m, c);
  }
  if (nan) { m = 3.4e38; }
  red[lid.x] = m;
  workgroupBarrier();
  for (var stride = 128u; stride > 0u; stride >>= 1u) {
    if (lid.x < stride) { red[lid.x] = max(red[lid.x], red[lid.x + stride]); }
    workgroupBarrier();
  }
  if (lid.x == 0u) {
    let norm = red[0];
    var s = 0u;
    var x = norm;
    while (x > u.theta && s < 126u) { x *= 0.5; s++; }
    let used = min(s, u.sMax);
    plan[4u * g] = used;
    plan[4u * g + 1u] = bitcast<u32>(exp2(-f32(used)));
    plan[4u * g + 2u] = bitcast<u32>(norm);
    plan[4u * g + 3u] = s;
  }
}
