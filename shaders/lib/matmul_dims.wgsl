// Specialisation constants and uniform shared by the matmul kernels (matmul, matmul_vec4,
// matmul_subgroup): C[b] = op(A[b]) · op(B[b]) (+ C[b] when ACCUMULATE).
override TRANS_A: bool = false;
override TRANS_B: bool = false;
override ACCUMULATE: bool = false;

struct Dims {
  M: u32, K: u32, N: u32,
  strideA: u32, strideB: u32, strideC: u32,  // batch strides in elements (0 broadcasts)
  offA: u32, offB: u32, offC: u32,           // element offsets (multiples of 4 for matmul_vec4)
}
