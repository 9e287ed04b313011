/** cortical-rnn engine: the platform-independent public API (runs in Node and browsers). */
export * from './errors.ts';
export * from './tensor.ts';
export * from './platform.ts';
export * from './engine.ts';
export { Rng, hash32, uniformAt, workloadUniform } from './rng.ts';
export { CpuBackend, CpuTensor } from './cpu/backend.ts';
export { GpuBackend, GpuTensor, defaultMatmulKernel, subgroupMatmulUnsupported, type MatmulKernel } from './gpu/backend.ts';
export { GpuContext, type AdapterSummary } from './gpu/context.ts';
export * from './autograd.ts';
export * from './regularizer.ts';
export * from './rnn/params.ts';
export { RnnTrainer, stepMask, DEFAULT_ADAM, type AdamOptions, type TrainerOptions, type Batch, type StepResult, type GradientResult } from './rnn/trainer.ts';
export { train, evaluate, toBatch, countCorrect, type TrainOptions, type TrainResult, type EpochInfo, type StepInfo, type RnnModel, type Splits } from './rnn/train.ts';
export { chooseDesign, type RnnDesign } from './rnn/gpu.ts';
export { verifyRnnFixture, type VerifyReport, type QuantityReport } from './verify.ts';
