/**
 * The paper's experiment as a library (Node): the variants table, the protocol and its presets,
 * a run set up from its spec (initialisation, geometry, regulariser, data), the run lifecycle
 * that trains, analyses and records it, and the run directory's reader. The CLI's `train` and
 * `sweep` are built on these.
 */
import type { setupRun } from './setup.ts';

export {
  PAPER_VARIANTS,
  EXTRA_VARIANTS,
  ALL_VARIANTS,
  getVariant,
  parseVariantList,
  variantSlug,
  needsWStar,
  type Variant,
  type GeometryKind,
  type RegularizerKind,
} from './variants.ts';
export {
  PAPER_PROTOCOL,
  QUICK_PRESET,
  PAPER_TASKS,
  resolveProtocol,
  modeSettings,
  parseModes,
  type Mode,
  type ModeSettings,
  type Protocol,
  type ProtocolOverrides,
} from './protocol.ts';
export {
  setupRun,
  fieldContext,
  syntheticGrid,
  syntheticField,
  wStarDraw,
  initialRecurrent,
  geometryD,
  makeRegularizer,
  rnnConfigFor,
  protocolSteps,
  labellingInputs,
  type FieldContext,
  type FieldSource,
  type InitialRecurrent,
  type RegularizerOptions,
} from './setup.ts';
export { prepareField } from './prepare.ts';
export { trainRunGroup, analyseInline, type RunSink, type RunObserver, type LifecycleRun, type LifecycleOptions } from './lifecycle.ts';
export { runOne, runGroup, readRunRecord, readFinalStrict, CorruptRunRecordError, type RunOptions } from './run.ts';
export { RUN_SCHEMA, runId, runRelDir, checkFinalRecord, type RunSpec, type FinalRecord } from './record.ts';
export { analyseTrainedRun, type AnalysisJob, type AnalysisResult } from './trained_analysis.ts';
export { analyseTrainedRuns } from './analysis_pool.ts';
export type { FunctionMetrics } from './inference_coding.ts';
export { writeReport } from './report.ts';

/** Everything a run trains from (`setupRun`'s result): variant, task, initial parameters, D, regulariser, splits, steps. */
export type RunSetup = ReturnType<typeof setupRun>;
