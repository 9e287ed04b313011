/**
 * One typed contract per kernel, next to its WGSL: the storage bindings in binding order (the
 * uniform is the last binding), the uniform struct's fields in order (u32 words first, then
 * f32), and the override constants with their named values. engine/gpu/program.ts dispatches
 * through these and nothing else; tests/kernels.test.ts holds each contract against the WGSL
 * it describes, so a binding or field added on one side fails there.
 */
import type { ShaderName } from './names.ts';

/** An override constant: a flag, a number, or named values (no magic integers at call sites). */
export type ConstantKind = 'bool' | 'u32' | Readonly<Record<string, number>>;

export interface KernelContract {
  /** The WGSL programs that share this layout (e.g. a workgroup-tile and a subgroup-tile design). */
  readonly shaders: readonly ShaderName[];
  readonly bindings: readonly string[];
  readonly uniform?: { readonly u32: readonly string[]; readonly f32?: readonly string[] };
  readonly constants?: Readonly<Record<string, ConstantKind>>;
}

const contract = <const C extends KernelContract>(c: C): C => c;

/** The matmul family's Dims (shaders/lib/matmul_dims.wgsl) and override flags. */
const MATMUL = {
  bindings: ['A', 'B', 'C'],
  uniform: { u32: ['M', 'K', 'N', 'strideA', 'strideB', 'strideC', 'offA', 'offB', 'offC'] },
  // WGY: thread rows of the workgroup tile designs (default 8: 64-row tiles). VEC_A/B/C: the
  // subgroup design's vec4 loads and stores (the operand's contiguous dimension, offset and
  // stride are multiples of 4).
  constants: { TRANS_A: 'bool', TRANS_B: 'bool', ACCUMULATE: 'bool', WGY: 'u32', LANES: 'u32', VEC_A: 'bool', VEC_B: 'bool', VEC_C: 'bool' },
} as const;

export const KERNELS = {
  matmul: contract({ shaders: ['matmul', 'matmul_vec4', 'matmul_subgroup', 'matmul_skinny'], ...MATMUL }),
  // The skinny products (one side or K ≤ 8) of the recurrent core on CPU adapters: matmul's
  // Dims plus offExtra (shaders/lib/skinny_dims.wgsl).
  skinny: contract({
    shaders: ['matmul_skinny_rows', 'matmul_skinny_outer', 'matmul_skinny_dot'],
    bindings: ['A', 'B', 'C'],
    uniform: { u32: ['M', 'K', 'N', 'strideA', 'strideB', 'strideC', 'offA', 'offB', 'offC', 'offExtra', 'pad0', 'pad1'] },
    constants: { TRANS_B: 'bool', ACCUMULATE: 'bool', EXTRA: 'bool', ALIGN_A: 'bool', ALIGN_B: 'bool', BIG_B: 'bool' },
  }),
  matmulNaive: contract({ shaders: ['matmul_naive'], bindings: ['A', 'B', 'C'], uniform: { u32: ['M', 'K', 'N', 'pad'] } }),
  unary: contract({
    shaders: ['unary'],
    bindings: ['X', 'Y'],
    uniform: { u32: ['n', 'rowPitch'] },
    constants: { OP: { abs: 0, sign: 1, relu: 2, reluMask: 3, neg: 4, exp: 5, log: 6, square: 7, sqrt: 8, copy: 9 } },
  }),
  binary: contract({
    shaders: ['binary'],
    bindings: ['A', 'B', 'Z'],
    uniform: { u32: ['n', 'rowPitch'] },
    constants: { OP: { add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5 }, B_SCALAR: 'bool' },
  }),
  affine: contract({ shaders: ['affine'], bindings: ['X', 'Y'], uniform: { u32: ['n', 'rowPitch'], f32: ['alpha', 'beta'] }, constants: { FILL: 'bool' } }),
  reduceSum: contract({ shaders: ['reduce_sum'], bindings: ['X', 'partials'], uniform: { u32: ['n', 'chunk'] } }),
  reduceAxis: contract({
    shaders: ['reduce_axis', 'reduce_axis_vec4'],
    bindings: ['X', 'Y'],
    uniform: { u32: ['outer', 'len', 'inner', 'offX', 'strideX', 'offY', 'strideY', 'pad0'] },
  }),
  transpose: contract({ shaders: ['transpose'], bindings: ['X', 'Y'], uniform: { u32: ['rows', 'cols', 'pad0', 'pad1'] } }),
  softmaxCe: contract({
    shaders: ['softmax_ce'],
    bindings: ['logits', 'labels', 'mask', 'probs', 'loss'],
    uniform: { u32: ['rows', 'classes', 'models', 'pad'] },
    constants: { HAS_MASK: 'bool' },
  }),
  softmaxCeBackward: contract({
    shaders: ['softmax_ce_backward'],
    bindings: ['probs', 'labels', 'mask', 'stats', 'gradScale', 'dlogits'],
    uniform: { u32: ['rows', 'classes', 'rowPitch', 'models'] },
    constants: { HAS_MASK: 'bool' },
  }),
  rnnStepForward: contract({
    shaders: ['rnn_step_forward', 'rnn_step_forward_subgroup'],
    bindings: ['params', 'U', 'H', 'R'],
    uniform: { u32: ['B', 'N', 't', 'offW', 'offBias', 'paramStride', 'stateStride', 'pad0'], f32: ['alpha'] },
    // VEC_A, VEC_B: the subgroup design's vec4 loads of the states and of W_rec (see rnn_design.ts).
    constants: { WGY: 'u32', LANES: 'u32', VEC_A: 'bool', VEC_B: 'bool', ELMAN: 'bool' },
  }),
  rnnStepBackward: contract({
    shaders: ['rnn_step_backward', 'rnn_step_backward_subgroup'],
    bindings: ['params', 'dHr', 'R', 'G', 'D'],
    uniform: { u32: ['B', 'N', 't', 'T', 'offW', 'paramStride', 'stateStride', 'pad0'], f32: ['alpha'] },
    constants: { WGY: 'u32', LANES: 'u32', VEC_A: 'bool', VEC_B: 'bool', ELMAN: 'bool' },
  }),
  rnnForwardPersistent: contract({
    shaders: ['rnn_forward_persistent'],
    bindings: ['WT', 'params', 'U', 'H', 'R'],
    uniform: { u32: ['B', 'N', 'T', 'offBias', 'paramStride', 'stateStride', 'pad0', 'pad1'], f32: ['alpha'] },
    constants: { WG: 'u32', BS: 'u32', NMAX: 'u32' },
  }),
  rnnBackwardPersistent: contract({
    shaders: ['rnn_backward_persistent'],
    bindings: ['params', 'dHr', 'R', 'D'],
    uniform: { u32: ['B', 'N', 'T', 'offW', 'paramStride', 'stateStride', 'pad0', 'pad1'], f32: ['alpha'] },
    constants: { WG: 'u32', BS: 'u32', NMAX: 'u32' },
  }),
  // Design (c): (b) with register blocking, UPT units per thread (see rnn_design.ts).
  rnnForwardBlocked: contract({
    shaders: ['rnn_forward_blocked'],
    bindings: ['WT', 'params', 'U', 'H', 'R'],
    uniform: { u32: ['B', 'N', 'T', 'offBias', 'paramStride', 'stateStride', 'pad0', 'pad1'], f32: ['alpha'] },
    constants: { WG: 'u32', BS: 'u32', UPT: 'u32', NMAX: 'u32' },
  }),
  rnnBackwardBlocked: contract({
    shaders: ['rnn_backward_blocked'],
    bindings: ['params', 'dHr', 'R', 'D'],
    uniform: { u32: ['B', 'N', 'T', 'offW', 'paramStride', 'stateStride', 'pad0', 'pad1'], f32: ['alpha'] },
    constants: { WG: 'u32', BS: 'u32', UPT: 'u32', NMAX: 'u32' },
  }),
  addRows: contract({ shaders: ['add_rows'], bindings: ['V', 'Y'], uniform: { u32: ['n', 'cols', 'offV', 'rowPitch', 'vStride', 'offY', 'yStride', 'pad0'] } }),
  adam: contract({
    shaders: ['adam'],
    bindings: ['theta', 'grad', 'm', 'v', 'mask', 'status', 'modelFlags'],
    uniform: { u32: ['n', 'recStart', 'recEnd', 'rowPitch', 'modelSize', 'pad0', 'pad1', 'pad2'], f32: ['lr', 'beta1', 'beta2', 'eps', 'bc1', 'bc2'] },
    constants: { NONNEG: 'bool', MASKED: 'bool', KERAS: 'bool' },
  }),
  expmMm: contract({
    shaders: ['expm_mm', 'expm_mm_subgroup'],
    bindings: ['A0', 'B0', 'A1', 'B1', 'S0', 'S1', 'S2', 'S3', 'plan', 'OUT'],
    uniform: { u32: ['N', 'step', 'pad0', 'pad1'], f32: ['cI', 'c0', 'c1', 'c2', 'c3'] },
    constants: { NPROD: 'u32', NTERMS: 'u32', GATED: 'bool', STACKED: 'bool', WGY: 'u32', LANES: 'u32' },
  }),
  expmPlan: contract({
    shaders: ['expm_plan'],
    bindings: ['colsum', 'X', 'plan'],
    uniform: { u32: ['N', 'sMax', 'pad0', 'pad1'], f32: ['theta'] },
    constants: { COLSUMS: 'bool' },
  }),
  expmScale: contract({ shaders: ['expm_scale'], bindings: ['X', 'plan', 'Y'], uniform: { u32: ['n', 'rowPitch', 'per', 'pad0'] } }),
  commStrength: contract({ shaders: ['comm_strength'], bindings: ['W', 'sd'], uniform: { u32: ['N', 'offW', 'strideW', 'pad0'], f32: ['eps', 'sMin'] } }),
  commNormalize: contract({
    shaders: ['comm_normalize'],
    bindings: ['W', 'sd', 'D', 'M', 'colsum', 'GCt'],
    uniform: { u32: ['N', 'offW', 'strideW', 'lambdaAt'], f32: ['lambda'] },
    constants: { GC_T: 'bool' },
  }),
  scaleBlocks: contract({ shaders: ['scale_blocks'], bindings: ['X', 'scale', 'rows', 'OUT'], uniform: { u32: ['len', 'rowPitch', 'pad0', 'pad1'] } }),
  commGs: contract({ shaders: ['comm_gs'], bindings: ['Lam', 'M', 'sd', 'gs'], uniform: { u32: ['N'] } }),
  commGrad: contract({
    shaders: ['comm_grad'],
    bindings: ['W', 'D', 'E', 'Lam', 'sd', 'gs', 'grad', 'partials'],
    uniform: { u32: ['N', 'offW', 'rowPitch', 'groupsX', 'perModel', 'strideW', 'lambdaAt', 'pad0'], f32: ['lambda'] },
    constants: { MODE: { wd: 0, wdc: 1, emd: 2 } },
  }),
  commEmd: contract({
    shaders: ['comm_emd'],
    bindings: ['W', 'D', 'keys', 'idx', 'cemp', 'GCt', 'partials'],
    uniform: { u32: ['N', 'P', 'offW', 'rowPitch', 'groupsX', 'pad0', 'pad1', 'pad2'], f32: ['lambda', 'w'] },
  }),
  sortKeys: contract({
    shaders: ['sort_keys'],
    bindings: ['E', 'activeMask', 'keys', 'idx'],
    uniform: { u32: ['N', 'len', 'rowPitch', 'pad0'] },
    constants: { ACTIVE_ONLY: 'bool' },
  }),
  sortBitonic: contract({
    shaders: ['sort_bitonic'],
    bindings: ['keys', 'idx'],
    uniform: { u32: ['k', 'j', 'rowPitch', 'len'] },
    constants: { MODE: { globalMerge: 0, blockSort: 1, blockMerge: 2 } },
  }),
  // The roofline's ceilings (bench/peaks.ts): a register-only FMA loop and a streaming copy.
  peakFma: contract({ shaders: ['peak_fma'], bindings: ['OUT'], uniform: { u32: ['n', 'iters', 'rowPitch', 'pad0'], f32: ['mul', 'add'] } }),
  peakCopy: contract({ shaders: ['peak_copy'], bindings: ['X', 'Y'], uniform: { u32: ['n', 'rowPitch'] } }),
} as const;

export type KernelName = keyof typeof KERNELS;
