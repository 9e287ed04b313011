// Uniform, operands and cell of the forward step, shared by both tile designs
// (rnn_step_forward.wgsl, rnn_step_forward_subgroup.wgsl). Step t computes
//   r_t     = relu(W_rec h_t + u_t + b)        (u_t = W_in x_t, precomputed for all t)
//   h_{t+1} = (1 − α) h_t + α r_t
// H[t] stores h_{t+1} (h_0 = 0 is implicit); R[t] keeps r_t, whose sign is the relu mask for
// BPTT. With α = 1 (the Elman cell, ELMAN) h_t's term is 0·h_t, and h_t is not loaded. ELMAN
// is an override set by the host, not a test of p.alpha: on llvmpipe a runtime test in the
// cell made the step kernels slower, not faster (the paper workload's 50 forward steps 132 ->
// 203 ms). Many networks at once: workgroup_id.z is the model; its parameters sit paramStride
// floats apart in the arena and its states stateStride floats apart (both 0 for one model).
override ELMAN: bool = false;  // α = 1: h_{t+1} = r_t (the host sets it from α)

struct Params {
  B: u32, N: u32, t: u32, offW: u32,   // offW, offBias: element offsets in the parameter arena
  offBias: u32, paramStride: u32, stateStride: u32, pad0: u32,
  alpha: f32,
}

// The including kernel declares the storage bindings params, U [T, B, N], H [T, B, N] and
// R [T, B, N] (binding 0..3, f32 or vec4 words) and reads and writes them through
//   fn loadParam(i: u32) -> f32, fn loadU(i: u32) -> f32, fn loadH(i: u32) -> f32,
//   fn storeH(i: u32, v: f32), fn storeR(i: u32, v: f32)   (i: element index)
@group(0) @binding(4) var<uniform> p: Params;

var<private> pBase: u32;  // this model's parameter offset
var<private> sBase: u32;  // this model's state offset

fn selectModel(model: u32) {
  pBase = model * p.paramStride;
  sBase = model * p.stateStride;
}

fn hiddenState(b: u32, j: u32) -> f32 {  // h_t[b][j], t >= 1
  return loadH(sBase + ((p.t - 1u) * p.B + b) * p.N + j);
}

fn recurrentWeight(i: u32, j: u32) -> f32 {  // W_rec[i][j]
  return loadParam(pBase + p.offW + i * p.N + j);
}

// The cell for batch row b < B and unit i < N, given drive = (W_rec h_t)[b][i].
fn cellForward(b: u32, i: u32, drive: f32) {
  let at = sBase + (p.t * p.B + b) * p.N + i;
  let rt = max(drive + loadU(at) + loadParam(pBase + p.offBias + i), 0.0);
  var hPrev = 0.0;
  if (p.t > 0u && !ELMAN) { hPrev = loadH(at - p.B * p.N); }
  storeR(at, rt);
  storeH(at, (1.0 - p.alpha) * hPrev + p.alpha * rt);
}
