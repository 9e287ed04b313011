// reduce_axis.wgsl for inner, offX, strideX, offY and strideY all multiples of 4 (the host
// checks): each workgroup sums 4 adjacent columns as a vec4, one load per 4 values, with the
// same threads, terms and tree as reduce_axis per column, so the sums are its bit for bit.
// Dispatched with one workgroup per (outer, 4 columns).
struct Params { outer: u32, len: u32, inner: u32, offX: u32, strideX: u32, offY: u32, strideY: u32, pad0: u32 }
@group(0) @binding(0) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> Y: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> p: Params;

var<workgroup> part: array<vec4<f32>, 64>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let quads = p.inner / 4u;
  let out = wid.y * 65535u + wid.x;  // flat output quad (2D grid for large outputs)
  if (out >= p.outer * quads) { return; }
  let o = out / quads;
  let i = (out % quads) * 4u;
  let base = p.offX + o * p.strideX + i;
  var s = vec4(0.0);
  for (var l = lid.x; l < p.len; l += 64u) { s += X[(base + l * p.inner) / 4u]; }
  part[lid.x] = s;
  workgroupBarrier();
  for (var stride = 32u; stride > 0u; stride >>= 1u) {
    if (lid.x < stride) { part[lid.x] += part[lid.x + stride]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) { Y[(p.offY + o * p.strideY + i) / 4u] = part[0]; }
}
