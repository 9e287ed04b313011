// Design (c), 'blocked', BPTT in one dispatch: workgroup g owns BS trials and walks
// t = T−1 … 0 keeping δ_{t+1} in workgroup memory (ping-pong). Each thread owns UPT units
// (u = lid.x + k·WG, WG·UPT ≥ N) for all BS trials, so each load of W_rec serves BS trials, and
// keeps their G_{t+1} in registers, since no other thread needs it. Same maths and summation
// order as rnn_backward_persistent.wgsl:
//   G_t = dHr_t + (1 − α) G_{t+1} + δ_{t+1} W_rec,   δ_t = α · [r_t > 0] · G_t
override WG: u32 = 128u;
override BS: u32 = 4u;
override UPT: u32 = 2u;
override NMAX: u32 = 512u;

// workgroup_id.y is the model: parameters paramStride and states stateStride apart.
struct Params { B: u32, N: u32, T: u32, offW: u32, paramStride: u32, stateStride: u32, pad0: u32, pad1: u32, alpha: f32 }

@group(0) @binding(0) var<storage, read> params: array<f32>;
@group(0) @binding(1) var<storage, read> dHr: array<f32>;       // [T, B, N]
@group(0) @binding(2) var<storage, read> R: array<f32>;         // [T, B, N]
@group(0) @binding(3) var<storage, read_write> D: array<f32>;   // [T, B, N] δ
@group(0) @binding(4) var<uniform> p: Params;

var<workgroup> delta: array<f32, 2u * BS * NMAX>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let N = p.N;
  let b0 = wid.x * BS;
  let nb = min(BS, p.B - b0);
  let sBase = wid.y * p.stateStride;
  let pBase = wid.y * p.paramStride;
  for (var i = lid.x; i < 2u * BS * NMAX; i += WG) { delta[i] = 0.0; }
  var g: array<f32, 32>;
  for (var i = 0u; i < 32u; i++) { g[i] = 0.0; }
  workgroupBarrier();
  for (var step = 0u; step < p.T; step++) {
    let t = p.T - 1u - step;
    let cur = (step % 2u) * BS * NMAX;  // δ_{t+1} lives here; δ_t goes to the other half
    let nxt = BS * NMAX - cur;
    var acc: array<f32, 32>;
    for (var i = 0u; i < 32u; i++) { acc[i] = 0.0; }
    for (var j = 0u; j < N; j++) {
      var w: array<f32, 4>;
      for (var k = 0u; k < UPT; k++) { w[k] = params[pBase + p.offW + j * N + min(lid.x + k * WG, N - 1u)]; }
      for (var bb = 0u; bb < BS; bb++) {
        let dv = delta[cur + bb * NMAX + j];
        for (var k = 0u; k < UPT; k++) { acc[k * BS + bb] += w[k] * dv; }
      }
    }
    for (var k = 0u; k < UPT; k++) {
      let u = lid.x + k * WG;
      if (u >= N) { continue; }
      for (var bb = 0u; bb < nb; bb++) {
        let at = sBase + (t * p.B + b0 + bb) * N + u;
        var gv = dHr[at] + acc[k * BS + bb];
        if (step > 0u) { gv += (1.0 - p.alpha) * g[k * BS + bb]; }
        g[k * BS + bb] = gv;
        let d = select(0.0, p.alpha * gv, R[at] > 0.0);
        D[at] = d;
        delta[nxt + bb * NMAX + u] = d;
      }
    }
    workgroupBarrier();
  }
}
