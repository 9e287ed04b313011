// Operands, gate and epilogue of the matrix-exponential workhorse, shared by both tile designs
// (expm_mm.wgsl, expm_mm_subgroup.wgsl): OUT = Σ_{p < NPROD} A_p·B_p + cI·I + Σ_{t < NTERMS} c_t·S_t
// for square N×N row-major operands at offset 0 (the Taylor/Paterson–Stockmeyer steps of
// engine/expm/gpu.ts and their Fréchet derivatives). With GATED, the dispatch is
// squaring step `step`: it runs only when step < plan[0] (the squaring count the GPU chose
// from the 1-norm), and otherwise copies S0 to OUT, so the host never has to read the count.
// With STACKED, workgroup z is the matrix of a stack: every operand holds blocks of N², the plan
// blocks of 4 (without it the block offset folds away from the product's inner loop).
override NPROD: u32 = 1u;
override STACKED: bool = false;
override NTERMS: u32 = 0u;
override GATED: bool = false;

struct Params { N: u32, step: u32, pad0: u32, pad1: u32, cI: f32, c0: f32, c1: f32, c2: f32, c3: f32 }

@group(0) @binding(0) var<storage, read> A0: array<f32>;
@group(0) @binding(1) var<storage, read> B0: array<f32>;
@group(0) @binding(2) var<storage, read> A1: array<f32>;
@group(0) @binding(3) var<storage, read> B1: array<f32>;
@group(0) @binding(4) var<storage, read> S0: array<f32>;
@group(0) @binding(5) var<storage, read> S1: array<f32>;
@group(0) @binding(6) var<storage, read> S2: array<f32>;
@group(0) @binding(7) var<storage, read> S3: array<f32>;
@group(0) @binding(8) var<storage, read> plan: array<u32>;
@group(0) @binding(9) var<storage, read_write> OUT: array<f32>;
@group(0) @binding(10) var<uniform> u: Params;

var<private> pairSel: u32;  // which product A_p·B_p the tile loads read
var<private> stackBase: u32; // this workgroup's matrix: z·N²

fn base() -> u32 {
  if (STACKED) { return stackBase; }
  return 0u;
}
var<workgroup> gate: u32;

fn productA(row: u32, k: u32) -> f32 {
  if (pairSel == 0u) { return A0[base() + row * u.N + k]; }
  return A1[base() + row * u.N + k];
}

fn productB(k: u32, col: u32) -> f32 {
  if (pairSel == 0u) { return B0[base() + k * u.N + col]; }
  return B1[base() + k * u.N + col];
}

// Whether this squaring step runs; uniform across the workgroup (invocation 0 reads the plan).
fn squaringActive(first: bool, z: u32) -> bool {
  if (first) { gate = select(0u, 1u, u.step < plan[4u * z]); }
  return workgroupUniformLoad(&gate) != 0u;
}

// OUT[row, col] from the products' sum v (row, col < N); an inactive squaring step passes S0.
fn expmFinish(row: u32, col: u32, v: f32, running: bool) {
  let at = base() + row * u.N + col;
  if (GATED) {
    // squaring steps carry no epilogue
    OUT[at] = select(S0[at], v, running);
    return;
  }
  var w = v;
  if (row == col) { w += u.cI; }
  if (NTERMS >= 1u) { w += u.c0 * S0[at]; }
  if (NTERMS >= 2u) { w += u.c1 * S1[at]; }
  if (NTERMS >= 3u) { w += u.c2 * S2[at]; }
  if (NTERMS >= 4u) { w += u.c3 * S3[at]; }
  OUT[at] = w;
}
