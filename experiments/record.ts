/**
 * A run's record without a file system: its spec and identity, the final.json schema, its check
 * and its JSON, metrics.csv rows, the .npy encoding of weights, and its final record. run.ts
 * writes these to a run directory; the browser workbench builds the same record and offers it as
 * a download. What a run is set up from lives in setup.ts.
 */
import { encodeNpy } from '../connectome/npy.ts';
import type { NetworkMetrics } from '../analysis/metrics.ts';
import type { NonFiniteError } from '../engine/errors.ts';
import type { EpochInfo } from '../engine/rnn/train.ts';
import type { Mode, Protocol } from './protocol.ts';
import { getVariant, variantSlug } from './variants.ts';
import type { CodeVersion } from './provenance.ts';
import type { FunctionMetrics } from './inference_coding.ts';

/**
 * The final.json schema. run/2 numbers `history[].epoch` from 1, as metrics.csv and the weight
 * file names do; run/1 numbered it from 0 and is otherwise the same, so `checkFinalRecord`
 * reads it as run/2 with its epochs renumbered.
 */
export const RUN_SCHEMA = 'cortical-rnn/run/2';
const RUN_SCHEMA_V1 = 'cortical-rnn/run/1';

export interface RunSpec {
  field: string;
  task: string;
  /** The paper's variant name (W*D*C, …). */
  variant: string;
  seed: number;
  mode: Mode;
  positive: boolean;
  /** The regularisation strength λ of this run, when a sweep varies it (else the protocol's). */
  lambda?: number;
}

export interface FinalRecord {
  schema: typeof RUN_SCHEMA;
  id: string;
  spec: RunSpec;
  status: 'ok' | 'diverged';
  divergence: { step: number; tensor: string; value: string; message: string } | null;
  /** test: held-out test accuracy at the last step (the headline); paper: running training
   *  accuracy of the last epoch with input noise on (the paper's number); val: last epoch's
   *  validation accuracy. */
  accuracy: { test: number; paper: number; val: number | null } | null;
  testLoss: number | null;
  epochs: number;
  steps: number;
  history: EpochInfo[];
  metrics: Omit<NetworkMetrics, never> | null;
  /** The functional analyses (inference task only; see experiments/inference_coding.ts). */
  function?: FunctionMetrics | null;
  n: number;
  /** The protocol the run was trained with (a sweep refuses to mix protocols in one directory). */
  protocol: Protocol;
  /** train_s and s_per_step are of the whole batch when `networks_per_batch` > 1. */
  timings: { train_s: number; eval_s: number; analysis_s: number; total_s: number; s_per_step: number | null; networks_per_batch?: number };
  backend: string;
  /** The commit that trained it (absent in runs from before it was recorded). */
  code?: CodeVersion;
  finishedAt: string;
}

/**
 * The parts that name a run, in order: mode (with `-positive` for positive-only runs), field,
 * task, variant, `lambda-<λ>` when the spec sets its own λ, and `seed-<k>`. Every spelling of a
 * run's identity (its id, its directory, its queue job) is these parts, joined.
 */
function identityParts(s: RunSpec, variant: string): string[] {
  return [`${s.mode}${s.positive ? '-positive' : ''}`, s.field, s.task, variant, ...lambdaPart(s), `seed-${s.seed}`];
}

/** The run's id, e.g. `corrected/6_6_2/gonogo/W*D*C/seed-1`. */
export function runId(s: RunSpec): string {
  return identityParts(s, s.variant).join('/');
}

/** The run's directory relative to a sweep root: runs/<mode>[-positive]/<field>/<task>/<slug>[/lambda-<λ>]/seed-<k>. */
export function runRelDir(s: RunSpec): string {
  return ['runs', ...identityParts(s, variantSlug(s.variant))].join('/');
}

/** The run's key without path separators (the slug for the variant), e.g. `paper.6_6_2.pdm.WsDsC.seed-1`, for queue job ids. */
export function runKey(s: RunSpec): string {
  return identityParts(s, variantSlug(s.variant)).join('.');
}

/** `lambda-<λ>` (shortest round-trip decimal, e.g. lambda-0.003) when the spec sets λ. */
function lambdaPart(s: RunSpec): string[] {
  return s.lambda === undefined ? [] : [`lambda-${String(s.lambda)}`];
}

/** JSON with NaN/±Inf written as null (JSON has no NaN; a metric that is undefined is null). */
export function toJson(x: unknown): string {
  return JSON.stringify(x, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
}

/** The W_rec_epochNN.npy names among `names`, in epoch order (by number: "epoch100" sorts after "epoch99"). */
export function epochWeightFiles(names: string[]): string[] {
  const epochOf = (f: string) => Number(/^W_rec_epoch(\d+)\.npy$/.exec(f)![1]);
  return names.filter((f) => /^W_rec_epoch\d+\.npy$/.test(f)).sort((a, b) => epochOf(a) - epochOf(b));
}

export function npyF4(W: ArrayLike<number>, shape: number[]): Uint8Array {
  return encodeNpy(Float32Array.from(W), shape, '<f4');
}

export const CSV_HEADER = 'epoch,step,mean_loss,mean_ce,mean_reg,train_accuracy,eval_accuracy,eval_loss,seconds';

export function csvRow(e: EpochInfo): string {
  const f = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '' : String(x));
  return [e.epoch, e.step, f(e.meanLoss), f(e.meanCe), f(e.meanReg), f(e.trainAccuracy), f(e.evalAccuracy), f(e.evalLoss), f(e.seconds)].join(',');
}

/** The fields of a final record known before training. */
export type RecordBase = Pick<FinalRecord, 'schema' | 'id' | 'spec' | 'n' | 'protocol' | 'backend' | 'code'>;

export function recordBase(spec: RunSpec, n: number, p: Protocol, backend: string, code?: CodeVersion): RecordBase {
  return { schema: RUN_SCHEMA, id: runId(spec), spec: { ...spec, variant: getVariant(spec.variant).name }, n, protocol: p, backend, ...(code ? { code } : {}) };
}

/** The final record of a diverged run. */
export function divergedRecord(base: RecordBase, e: NonFiniteError, seen: EpochInfo[], trainS: number, totalS: number): FinalRecord {
  return {
    ...base,
    status: 'diverged',
    divergence: { step: e.step, tensor: e.tensor, value: String(e.value), message: e.message },
    accuracy: null,
    testLoss: null,
    epochs: seen.length,
    steps: e.step,
    history: seen,
    metrics: null,
    timings: { train_s: trainS, eval_s: 0, analysis_s: 0, total_s: totalS, s_per_step: e.step > 0 ? trainS / e.step : null },
    finishedAt: new Date().toISOString(),
  };
}

export interface RunOutcome {
  history: EpochInfo[];
  steps: number;
  test: { accuracy: number; loss: number };
  trainS: number;
  evalS: number;
  networks?: number;
}

/** The final record of a finished run. */
export function okRecord(
  base: RecordBase,
  done: RunOutcome,
  metrics: NetworkMetrics,
  analysisS: number,
  totalS: number,
  fn: FunctionMetrics | null = null,
): FinalRecord {
  const last = done.history[done.history.length - 1]!;
  return {
    ...base,
    status: 'ok',
    divergence: null,
    accuracy: { test: done.test.accuracy, paper: last.trainAccuracy, val: last.evalAccuracy ?? null },
    testLoss: done.test.loss,
    epochs: done.history.length,
    steps: done.steps,
    history: done.history,
    metrics,
    ...(fn ? { function: fn } : {}),
    timings: {
      train_s: done.trainS,
      eval_s: done.evalS,
      analysis_s: analysisS,
      total_s: totalS,
      s_per_step: done.steps > 0 ? done.trainS / done.steps : null,
      networks_per_batch: done.networks ?? 1,
    },
    finishedAt: new Date().toISOString(),
  };
}

/** Checks a parsed final.json read from `p` (named in errors): the fields a reader relies on. */
export function checkFinalRecord(j: FinalRecord, p: string): FinalRecord {
  const bad = (field: string, expected: string, got: unknown) => new Error(`${p}: field "${field}": expected ${expected}, got ${JSON.stringify(got)}`);
  if ((j.schema as string) === RUN_SCHEMA_V1) j = upgradeFromV1(j);
  if (j.schema !== RUN_SCHEMA) throw bad('schema', `"${RUN_SCHEMA}" (or "${RUN_SCHEMA_V1}")`, j.schema);
  if (!Array.isArray(j.history) || j.history.some((h) => !Number.isInteger(h?.epoch) || h.epoch < 1))
    throw bad('history', 'a list of epochs numbered from 1', Array.isArray(j.history) ? j.history.map((h) => h?.epoch) : j.history);
  if (j.status !== 'ok' && j.status !== 'diverged') throw bad('status', "'ok' or 'diverged'", j.status);
  const s = j.spec;
  if (!s || typeof s.field !== 'string' || typeof s.task !== 'string' || typeof s.variant !== 'string' || !Number.isInteger(s.seed))
    throw bad('spec', '{field, task, variant, seed, mode, positive}', s);
  if (s.mode !== 'paper' && s.mode !== 'corrected') throw bad('spec.mode', "'paper' or 'corrected'", s.mode);
  if (j.status === 'ok') {
    if (!j.accuracy || typeof j.accuracy.test !== 'number' || typeof j.accuracy.paper !== 'number')
      throw bad('accuracy', 'numbers test and paper for an ok run', j.accuracy);
    if (!j.metrics) throw bad('metrics', 'the network metrics of an ok run', j.metrics);
  } else if (!j.divergence || !Number.isInteger(j.divergence.step)) throw bad('divergence', 'the step and tensor of a diverged run', j.divergence);
  return j;
}

/** A run/1 record as run/2: the same fields, with its history's epochs numbered from 1. */
function upgradeFromV1(j: FinalRecord): FinalRecord {
  const history = Array.isArray(j.history) ? j.history.map((h) => (h && Number.isInteger(h.epoch) ? { ...h, epoch: h.epoch + 1 } : h)) : j.history;
  return { ...j, schema: RUN_SCHEMA, history };
}
