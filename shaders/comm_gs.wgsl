// Gradient through the strengths (s appears in both d_i and d_j): with G_M = Λᵀ (Λ is the
// Fréchet pass's output, L_exp(M, G_Cᵀ)) and P = G_M∘M, one thread per unit k:
//   g_s_k = −(Σ_b P[k][b] + Σ_a P[a][k]) / (2 s_k),  0 where the strength floor is active.
// Workgroup z is the network (Λ, M blocks of N², sd of 3N, gs of N).
struct Params { N: u32 }
@group(0) @binding(0) var<storage, read> Lam: array<f32>;
@group(0) @binding(1) var<storage, read> M: array<f32>;
@group(0) @binding(2) var<storage, read> sd: array<f32>;
@group(0) @binding(3) var<storage, read_write> gs: array<f32>;
@group(0) @binding(4) var<uniform> u: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let k = gid.x;
  let N = u.N;
  if (k >= N) { return; }
  let m0 = gid.z * N * N;
  let s0 = gid.z * 3u * N;
  var acc = 0.0;
  for (var x = 0u; x < N; x++) {
    acc += Lam[m0 + x * N + k] * M[m0 + k * N + x];   // row k of P: G_M[k][x] = Λ[x][k]
    acc += Lam[m0 + k * N + x] * M[m0 + x * N + k];   // column k of P: G_M[x][k] = Λ[k][x]
  }
  gs[gid.z * N + k] = select(-acc / (2.0 * sd[s0 + k]), 0.0, sd[s0 + 2u * N + k] != 0.0);
}
