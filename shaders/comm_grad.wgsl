// The fused elementwise kernel of the communicability regularisers: per entry (i, j) of W,
//   a = |W_ij|, g_A = (MODE 0, WD)  λ D_ij
//                     (MODE 1, WDC) Λ_ji d_i d_j + g_s_j + λ C_ij D_ij,   C = offdiag(E)
//                     (MODE 2, EMD) Λ_ji d_i d_j + g_s_j + λ D_ij
//   dR/dW_ij = g_A · sign(W_ij)   (sign(0) = 0)
// and the value's reduction: one partial per workgroup of λ a D (WD) or λ a C D (WDC).
// Workgroup z is the network: its W block starts at offW + z·strideW; E, Λ, grad in blocks of
// N², sd of 3N, gs of N, `perModel` partials each; the networks share D. With lambdaAt > 0 each
// network's λ is D[lambdaAt + z] (a stack of networks that differ in λ), else u.lambda.
override MODE: u32 = 1u;
struct Params { N: u32, offW: u32, rowPitch: u32, groupsX: u32, perModel: u32, strideW: u32, lambdaAt: u32, pad0: u32, lambda: f32 }
@group(0) @binding(0) var<storage, read> W: array<f32>;
@group(0) @binding(1) var<storage, read> D: array<f32>;
@group(0) @binding(2) var<storage, read> E: array<f32>;
@group(0) @binding(3) var<storage, read> Lam: array<f32>;
@group(0) @binding(4) var<storage, read> sd: array<f32>;
@group(0) @binding(5) var<storage, read> gs: array<f32>;
@group(0) @binding(6) var<storage, read_write> grad: array<f32>;
@group(0) @binding(7) var<storage, read_write> partials: array<f32>;
@group(0) @binding(8) var<uniform> u: Params;

var<workgroup> red: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_index) li: u32,
        @builtin(workgroup_id) wid: vec3<u32>) {
  let N = u.N;
  let t = gid.y * u.rowPitch + gid.x;
  let m0 = wid.z * N * N;
  let s0 = wid.z * 3u * N;
  let lambda = select(u.lambda, D[u.lambdaAt + wid.z], u.lambdaAt > 0u);
  var val = 0.0;
  if (t < N * N) {
    let i = t / N;
    let j = t % N;
    let w = W[u.offW + wid.z * u.strideW + t];
    let a = abs(w);
    let dd = D[t];
    var g = lambda * dd;
    if (MODE == 0u) {
      val = lambda * a * dd;
    } else {
      let back = Lam[m0 + j * N + i] * sd[s0 + N + i] * sd[s0 + N + j] + gs[wid.z * N + j];
      if (MODE == 1u) {
        let c = select(E[m0 + t], 0.0, i == j);
        g = back + lambda * c * dd;
        val = lambda * a * c * dd;
      } else {
        g = back + g;
      }
    }
    grad[m0 + t] = select(g * sign(w), 0.0, w == 0.0);  // +0 where W is 0
  }
  if (MODE == 2u) { return; }
  red[li] = val;
  workgroupBarrier();
  for (var stride = 128u; stride > 0u; stride >>= 1u) {
    if (li < stride) { red[li] += red[li + stride]; }
    workgroupBarrier();
  }
  if (li == 0u) { partials[wid.z * u.perModel + wid.y * u.groupsX + wid.x] = red[0]; }
}
