// M[i][j] = d_i |W[i][j]| d_j, one thread per column j, with the column abs-sums of M (for the
// GPU 1-norm). With GC_T (WDC) it also writes the transposed upstream gradient of C,
// GCt[j][i] = λ |W[i][j]| D[i][j] (0 on the diagonal), the direction of the Fréchet pass.
// Workgroup z is the network: its W block starts at offW + z·strideW, and its M, GCt (N²), sd
// (3N) and colsum (N) blocks follow one another; the networks share D. With lambdaAt > 0 each
// network's λ is D[lambdaAt + z] (a stack of networks that differ in λ), else u.lambda.
override GC_T: bool = false;
struct Params { N: u32, offW: u32, strideW: u32, lambdaAt: u32, lambda: f32 }
@group(0) @binding(0) var<storage, read> W: array<f32>;
@group(0) @binding(1) var<storage, read> sd: array<f32>;
@group(0) @binding(2) var<storage, read> D: array<f32>;
@group(0) @binding(3) var<storage, read_write> M: array<f32>;
@group(0) @binding(4) var<storage, read_write> colsum: array<f32>;
@group(0) @binding(5) var<storage, read_write> GCt: array<f32>;
@group(0) @binding(6) var<uniform> u: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  let N = u.N;
  if (j >= N) { return; }
  let nn = N * N;
  let w0 = u.offW + gid.z * u.strideW;
  let m0 = gid.z * nn;
  let s0 = gid.z * 3u * N;
  let lambda = select(u.lambda, D[u.lambdaAt + gid.z], u.lambdaAt > 0u);
  let dj = sd[s0 + N + j];
  var c = 0.0;
  for (var i = 0u; i < N; i++) {
    let a = abs(W[w0 + i * N + j]);
    let m = sd[s0 + N + i] * a * dj;
    M[m0 + i * N + j] = m;
    c += m;
    if (GC_T) {
      GCt[m0 + j * N + i] = select(lambda * a * D[i * N + j], 0.0, i == j);
    }
  }
  colsum[gid.z * N + j] = c;
}
