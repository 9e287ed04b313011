// Design (c), 'blocked': the whole forward recurrence in one dispatch, as (b), with register
// blocking. Workgroup g owns BS trials [g·BS, g·BS + BS) for all T steps and keeps their h_t in
// workgroup memory (ping-pong, one barrier per step). Each thread owns UPT units
// (u = lid.x + k·WG, WG·UPT ≥ N) for every one of the BS trials, so each load of W_rec serves
// BS trials and each read of h serves UPT units: (b) does BS·1 multiply-adds per W load, this
// design BS·UPT, with BS·UPT accumulators in registers. Same maths, storage and summation
// order as rnn_forward_persistent.wgsl:
//   r_t = relu(W_rec h_t + u_t + b),  h_{t+1} = (1 − α) h_t + α r_t
// W_rec is read transposed (WT[j·N + i] = W_rec[i][j]) so neighbouring threads read
// neighbouring addresses.
override WG: u32 = 128u;
override BS: u32 = 4u;       // trials per workgroup; BS·UPT <= 32 (the accumulators)
override UPT: u32 = 2u;      // units per thread (<= 4)
override NMAX: u32 = 512u;   // row pitch of h in workgroup memory (>= N)

// workgroup_id.y is the model: parameters paramStride, states stateStride and WT N·N apart.
struct Params { B: u32, N: u32, T: u32, offBias: u32, paramStride: u32, stateStride: u32, pad0: u32, pad1: u32, alpha: f32 }

@group(0) @binding(0) var<storage, read> WT: array<f32>;
@group(0) @binding(1) var<storage, read> params: array<f32>;
@group(0) @binding(2) var<storage, read> U: array<f32>;          // [T, B, N]
@group(0) @binding(3) var<storage, read_write> H: array<f32>;    // [T, B, N]: H[t] = h_{t+1}
@group(0) @binding(4) var<storage, read_write> R: array<f32>;    // [T, B, N]
@group(0) @binding(5) var<uniform> p: Params;

var<workgroup> h: array<f32, 2u * BS * NMAX>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let N = p.N;
  let b0 = wid.x * BS;
  let nb = min(BS, p.B - b0);
  let sBase = wid.y * p.stateStride;
  let pBase = wid.y * p.paramStride;
  let wBase = wid.y * N * N;
  for (var i = lid.x; i < 2u * BS * NMAX; i += WG) { h[i] = 0.0; }
  workgroupBarrier();
  for (var t = 0u; t < p.T; t++) {
    let cur = (t % 2u) * BS * NMAX;
    let nxt = BS * NMAX - cur;
    // Zeroed explicitly: see rnn_backward_persistent.wgsl on loop-local arrays under Dawn/llvmpipe.
    var acc: array<f32, 32>;
    for (var k = 0u; k < UPT; k++) {
      let u = min(lid.x + k * WG, N - 1u);  // threads past N compute a copy of unit N − 1 and store nothing
      let bias = params[pBase + p.offBias + u];
      for (var bb = 0u; bb < BS; bb++) {
        acc[k * BS + bb] = select(0.0, U[sBase + (t * p.B + b0 + min(bb, nb - 1u)) * N + u], bb < nb) + bias;
      }
    }
    for (var j = 0u; j < N; j++) {
      var w: array<f32, 4>;
      for (var k = 0u; k < UPT; k++) { w[k] = WT[wBase + j * N + min(lid.x + k * WG, N - 1u)]; }
      for (var bb = 0u; bb < BS; bb++) {
        let hv = h[cur + bb * NMAX + j];
        for (var k = 0u; k < UPT; k++) { acc[k * BS + bb] += w[k] * hv; }
      }
    }
    for (var k = 0u; k < UPT; k++) {
      let u = lid.x + k * WG;
      if (u >= N) { continue; }
      for (var bb = 0u; bb < nb; bb++) {
        let r = max(acc[k * BS + bb], 0.0);
        let at = sBase + (t * p.B + b0 + bb) * N + u;
        let hn = (1.0 - p.alpha) * h[cur + bb * NMAX + u] + p.alpha * r;
        R[at] = r;
        H[at] = hn;
        h[nxt + bb * NMAX + u] = hn;
      }
    }
    workgroupBarrier();
  }
}
