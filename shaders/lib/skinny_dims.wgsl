// Shared by the skinny products (matmul_skinny_rows, _outer, _dot): CPU-adapter designs for
// one 8-lane subgroup per workgroup. On llvmpipe every load from a storage buffer whose
// address is not a constant runs as a loop over the 8 lanes (one scalar load each, bounds
// checked), whether or not the lanes share the address, so the cost of a kernel is its
// number of load and store statements: these kernels load each operand value once into a
// register, as vec4 where the data is contiguous (a vec4 costs one lane loop, four scalars
// four), share what every lane needs by subgroupBroadcast (a register shuffle), and store
// vec4 where the output rows allow.
//
// Uniform: the matmul family's shapes, batch strides and element offsets
// (lib/matmul_dims.wgsl), plus offExtra, the element offset (within the batch block) of the
// bias row that _dot adds with EXTRA. ALIGN_A / ALIGN_B: every 4-element window the kernel reads from that
// operand starts at a multiple of 4 (the host checks offsets, strides and row lengths), so it
// is one vec4 load; otherwise two, shifted into place.
enable subgroups;

override ACCUMULATE: bool = false;
override EXTRA: bool = false;
override ALIGN_A: bool = false;
override ALIGN_B: bool = false;

struct Dims {
  M: u32, K: u32, N: u32,
  strideA: u32, strideB: u32, strideC: u32,
  offA: u32, offB: u32, offC: u32,
  offExtra: u32, pad0: u32, pad1: u32,
}

@group(0) @binding(0) var<storage, read> A: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> B: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> dims: Dims;

// Elements r..r+3 of the 8 elements v0 ++ v1 (r < 4).
fn shift4(v0: vec4<f32>, v1: vec4<f32>, r: u32) -> vec4<f32> {
  let s1 = vec4(v0.y, v0.z, v0.w, v1.x);
  let s2 = vec4(v0.z, v0.w, v1.x, v1.y);
  let s3 = vec4(v0.w, v1.x, v1.y, v1.z);
  return select(select(select(v0, s1, r == 1u), s2, r == 2u), s3, r == 3u);
}

// Elements i..i+3 of A (of B): one vec4 load when aligned, else two.
fn windowA(i: u32) -> vec4<f32> {
  if (ALIGN_A) { return A[i / 4u]; }
  return shift4(A[i / 4u], A[i / 4u + 1u], i % 4u);
}

fn windowB(i: u32) -> vec4<f32> {
  if (ALIGN_B) { return B[i / 4u]; }
  return shift4(B[i / 4u], B[i / 4u + 1u], i % 4u);
}

fn scalarB(i: u32) -> f32 {
  return B[i / 4u][i % 4u];
}

// v with the components whose index first + c is at or past `end` set to 0.
fn below(v: vec4<f32>, first: u32, end: u32) -> vec4<f32> {
  return select(vec4(0.0), v, vec4(first) + vec4(0u, 1u, 2u, 3u) < vec4(end));
}
