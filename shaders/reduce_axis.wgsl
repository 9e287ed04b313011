// Sum along one axis of a tensor viewed as [outer, len, inner] -> [outer, inner]:
// Y[offY + o·strideY + i] = Σ_l X[offX + o·strideX + l·inner + i] (blocks at element offsets
// and strides, so a bias gradient can sum some rows of each model's block straight into the
// parameter arena). One workgroup of 64 threads per (outer, inner-block of 1): threads split
// the axis.
struct Params { outer: u32, len: u32, inner: u32, offX: u32, strideX: u32, offY: u32, strideY: u32, pad0: u32 }
@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read_write> Y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

var<workgroup> part: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let out = wid.y * 65535u + wid.x;  // flat output index (2D grid for large outputs)
  if (out >= p.outer * p.inner) { return; }
  let o = out / p.inner;
  let i = out % p.inner;
  let base = p.offX + o * p.strideX + i;
  var s = 0.0;
  for (var l = lid.x; l < p.len; l += 64u) { s += X[base + l * p.inner]; }
  part[lid.x] = s;
  workgroupBarrier();
  for (var stride = 32u; stride > 0u; stride >>= 1u) {
    if (lid.x < stride) { part[lid.x] += part[lid.x + stride]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) { Y[p.offY + o * p.strideY + i] = part[0]; }
}
