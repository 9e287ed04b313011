/** Every WGSL program the engine loads; one file per kernel in this folder. */
export const SHADER_NAMES = [
  'matmul',
  'matmul_vec4',
  'matmul_subgroup',
  'matmul_naive',
  'matmul_skinny',
  'unary',
  'binary',
  'affine',
  'reduce_sum',
  'reduce_axis',
  'transpose',
  'softmax_ce',
  'softmax_ce_backward',
  'rnn_step_forward',
  'rnn_step_backward',
  'rnn_step_forward_subgroup',
  'rnn_step_backward_subgroup',
  'rnn_forward_persistent',
  'rnn_backward_persistent',
  'add_rows',
  'adam',
  'expm_mm',
  'expm_mm_subgroup',
  'expm_plan',
  'expm_scale',
  'comm_strength',
  'comm_normalize',
  'comm_gs',
  'comm_grad',
  'comm_emd',
  'sort_keys',
  'sort_bitonic',
] as const;

export type ShaderName = (typeof SHADER_NAMES)[number];

/** WGSL fragments spliced into kernels by a `//!include name` line (lib/name.wgsl). */
export const SHADER_FRAGMENTS = [
  'tile_fma',
  'tile8x8',
  'subgroup_tile',
  'rnn_step_forward_cell',
  'rnn_step_backward_cell',
  'expm_mm_terms',
  'matmul_dims',
] as const;
