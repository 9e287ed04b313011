/** cortical-rnn engine: the platform-independent public API (runs in Node and browsers). */
// The declarations name WebGPU's types (GPUBuffer, GPUDevice…): kept in the emitted .d.ts, so
// that a user's type check finds them without a setting of its own.
/// <reference types="@webgpu/types" preserve="true" />
export * from './errors.ts';
export * from './tensor.ts';
export * from './platform.ts';
export * from './engine.ts';
export { Rng, hash32, uniformAt, workloadUniform } from './rng.ts';
export { CpuBackend, CpuTensor } from './cpu/backend.ts';
export { GpuBackend, defaultMatmulKernel, subgroupMatmulUnsupported } from './gpu/backend.ts';
export { GpuTensor, type MatmulKernel } from './gpu/tensor.ts';
export { GpuContext, type AdapterSummary } from './gpu/context.ts';
export { adapterReport } from './gpu/report.ts';
export * from './autograd.ts';
export * from './regularizers/regularizer.ts';
export { WdRegularizer, WdcRegularizer, EmdRegularizer, type WdOptions, type WdcOptions, type EmdOptions } from './regularizers/communicability.ts';
export { makeEmdTarget, type EmpiricalOptions } from './regularizers/target.ts';
export type { EmdTarget, EmdTargetData } from './regularizers/cost.ts';
export * from './rnn/params.ts';
export { batchOrder, gatherBatch, stepMask, type Batch, type Dataset, type Splits } from './data.ts';
export {
  RnnTrainer,
  DEFAULT_ADAM,
  maxModelsFor,
  modelsPerBatch,
  type AdamOptions,
  type ModelSpec,
  type TrainerOptions,
  type StepResult,
  type GradientResult,
} from './rnn/trainer.ts';
export {
  train,
  trainNetworks,
  evaluate,
  countCorrect,
  type TrainNetwork,
  type TrainOptions,
  type NetworkResult,
  type EpochInfo,
  type StepInfo,
} from './rnn/train.ts';
export { chooseDesign } from './gpu/rnn_design.ts';
export { verifyRnnFixture, type VerifyReport, type QuantityReport } from './verify.ts';
export { kernelSelfCheck, type CheckResult } from './selfcheck.ts';
