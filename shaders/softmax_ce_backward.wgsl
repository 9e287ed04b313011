// dL/dlogits[r][c] = g · m_r (p[r][c] − [c == label_r]) / Σ m, with g = gradScale[0] and
// Σ m read from the forward pass's loss[1]. Many models: gid.z is the model (its rows in
// consecutive blocks, its Σ m at stats[models + z], its scale at gradScale[z]).
override HAS_MASK: bool = false;

struct Params { rows: u32, classes: u32, rowPitch: u32, models: u32 }
@group(0) @binding(0) var<storage, read> probs: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<f32>;
@group(0) @binding(2) var<storage, read> mask: array<f32>;
@group(0) @binding(3) var<storage, read> stats: array<f32>;      // [losses (models), Σ m (models)]
@group(0) @binding(4) var<storage, read> gradScale: array<f32>;  // [g]
@group(0) @binding(5) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(6) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let local = gid.y * p.rowPitch + gid.x;
  if (local >= p.rows * p.classes) { return; }
  let z = gid.z;
  let i = z * p.rows * p.classes + local;
  let r = i / p.classes;
  let c = i % p.classes;
  var m = 1.0;
  if (HAS_MASK) { m = mask[r]; }
  let w = max(stats[p.models + z], 1e-30);
  let onehot = select(0.0, 1.0, u32(labels[r]) == c);
  dlogits[i] = gradScale[z] * m * (probs[i] - onehot) / w;
}
