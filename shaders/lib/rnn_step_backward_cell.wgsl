// Uniform, operands and cell of the BPTT step, shared by both tile designs
// (rnn_step_backward.wgsl, rnn_step_backward_subgroup.wgsl). Step t = T−1 … 0, with
// G_t = dL/dh_{t+1}:
//   G_t = dHr_t + (1 − α) G_{t+1} + δ_{t+1} W_rec      (the last two vanish at t = T−1)
//   δ_t = α · [r_t > 0] · G_t                           (gradient at the pre-activation)
// dHr_t is the read-out's gradient at h_{t+1}. With α = 1 (the Elman cell, ELMAN) G_{t+1}'s
// term is 0·G_{t+1}, so G is neither loaded nor stored. δ is kept for all t: the weight
// gradients are then single matmuls over the stacked states. workgroup_id.z is the model (see
// rnn_step_forward_cell.wgsl for the strides).
override ELMAN: bool = false;  // α = 1 (set by the host; see rnn_step_forward_cell.wgsl)

struct Params {
  B: u32, N: u32, t: u32, T: u32,
  offW: u32, paramStride: u32, stateStride: u32, pad0: u32,
  alpha: f32,
}

// The including kernel declares the storage bindings params, dHr, R, G and D (δ), each
// [T, B, N] but params (binding 0..4, f32 or vec4 words), and accesses them through
//   fn loadParam(i: u32) -> f32, fn loadDHr(i: u32) -> f32, fn loadR(i: u32) -> f32,
//   fn loadG(i: u32) -> f32, fn loadD(i: u32) -> f32, fn storeG(i: u32, v: f32),
//   fn storeD(i: u32, v: f32)   (i: element index)
@group(0) @binding(5) var<uniform> p: Params;

var<private> pBase: u32;
var<private> sBase: u32;

fn selectModel(model: u32) {
  pBase = model * p.paramStride;
  sBase = model * p.stateStride;
}

// The recurrent product's depth: 0 at the last step (no δ_{T}). Read from the uniform, so
// control flow that depends on it stays uniform.
fn recurrentDepth() -> u32 {
  return select(p.N, 0u, p.t + 1u >= p.T);
}

fn nextDelta(b: u32, k: u32) -> f32 {  // δ_{t+1}[b][k]
  return loadD(sBase + ((p.t + 1u) * p.B + b) * p.N + k);
}

fn recurrentWeight(k: u32, i: u32) -> f32 {  // W_rec[k][i]
  return loadParam(pBase + p.offW + k * p.N + i);
}

// The cell for batch row b < B and unit i < N, given back = (δ_{t+1} W_rec)[b][i].
fn cellBackward(b: u32, i: u32, back: f32) {
  let at = sBase + (p.t * p.B + b) * p.N + i;
  var g = loadDHr(at) + back;
  if (!ELMAN) {
    if (p.t + 1u < p.T) { g += (1.0 - p.alpha) * loadG(at + p.B * p.N); }
    storeG(at, g);
  }
  storeD(at, select(0.0, p.alpha * g, loadR(at) > 0.0));
}
