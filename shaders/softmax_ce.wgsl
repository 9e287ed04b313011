// Softmax cross-entropy over rows of logits [R, C] with float class labels [R] and an
// optional per-row mask [R]. Writes the probabilities and the masked mean loss
// Σ_r m_r·CE_r / Σ_r m_r into loss[0] (and Σ m into loss[1] for the backward pass).
// One workgroup strides over the rows: rows are few (B·T) and classes fewer. Many models:
// workgroup_id.z is the model, with its rows, labels and mask in consecutive blocks, its
// loss at loss[z] and its Σ m at loss[models + z].
override HAS_MASK: bool = false;

struct Params { rows: u32, classes: u32, models: u32, pad: u32 }
@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<f32>;
@group(0) @binding(2) var<storage, read> mask: array<f32>;
@group(0) @binding(3) var<storage, read_write> probs: array<f32>;
@group(0) @binding(4) var<storage, read_write> loss: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;

var<workgroup> total: array<f32, 256>;
var<workgroup> weight: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  var t = 0.0;
  var w = 0.0;
  let z = wid.z;
  for (var rl = lid.x; rl < p.rows; rl += 256u) {
    let r = z * p.rows + rl;
    let base = r * p.classes;
    var mx = logits[base];
    for (var c = 1u; c < p.classes; c++) { mx = max(mx, logits[base + c]); }
    var se = 0.0;
    for (var c = 0u; c < p.classes; c++) { se += exp(logits[base + c] - mx); }
    for (var c = 0u; c < p.classes; c++) { probs[base + c] = exp(logits[base + c] - mx) / se; }
    var m = 1.0;
    if (HAS_MASK) { m = mask[r]; }
    if (m != 0.0) {
      let label = u32(labels[r]);
      t += m * (log(se) + mx - logits[base + label]);
      w += m;
    }
  }
  total[lid.x] = t;
  weight[lid.x] = w;
  workgroupBarrier();
  for (var stride = 128u; stride > 0u; stride >>= 1u) {
    if (lid.x < stride) {
      total[lid.x] += total[lid.x + stride];
      weight[lid.x] += weight[lid.x + stride];
    }
    workgroupBarrier();
  }
  if (lid.x == 0u) {
    loss[z] = select(0.0, total[0] / weight[0], weight[0] > 0.0);
    loss[p.models + z] = weight[0];
  }
}
