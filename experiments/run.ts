/**
 * One training run: (field, task, variant, seed, mode, positive) → a run directory.
 *
 *   config.json          the run's full configuration (written first)
 *   metrics.csv          one row per epoch (rewritten atomically after each epoch)
 *   W_rec_init.npy       the initial W_rec, <f4 [N, N] (engine layout W[post][pre])
 *   W_rec_epochNN.npy    W_rec after epoch NN (1-based), <f4 [N, N]
 *   positions_um.npy     the field's neuron positions, <f8 [N, 3]
 *   params_final/*.npy   every final parameter, <f8 (for `analyze` and re-evaluation)
 *   final.json           status, accuracies, network metrics, timings — written atomically LAST:
 *                        a run is done exactly when final.json exists.
 *
 * A run that hits NaN/Inf (NonFiniteError) ends with status 'diverged', the step and the
 * tensor; it has no accuracies or metrics (null, never NaN).
 */
import { rm } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeNpy } from '../connectome/npy.ts';
import { analyzeNetwork, type NetworkMetrics } from '../analysis/metrics.ts';
import { NonFiniteError } from '../engine/errors.ts';
import { Rng } from '../engine/rng.ts';
import { initParams, type HostParams, type RnnConfig } from '../engine/rnn/params.ts';
import { evaluate, trainNetworks, type EpochInfo, type StepInfo } from '../engine/rnn/train.ts';
import type { Backend, RnnDesign } from '../engine/tensor.ts';
import { getTask, makeSplits } from '../tasks/index.ts';
import { makeDir, writeFileAtomic } from './files.ts';
import { modeSettings, type Mode, type Protocol } from './protocol.ts';
import { geometryD, initialRecurrent, makeRegularizer, prepareField } from './setup.ts';
import { getVariant, variantSlug } from './variants.ts';
import { Progress } from './progress.ts';
import { inferenceFunction, type FunctionMetrics } from './function.ts';
import { codeVersion, type CodeVersion } from './provenance.ts';

export const RUN_SCHEMA = 'cortical-rnn/run/1';

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

export interface RunOptions {
  dataDir: string;
  backend: Backend;
  protocol: Protocol;
  /** The run directory (its contents are replaced). */
  dir: string;
  design?: RnnDesign | 'auto';
  progress?: { label?: string; quiet?: boolean; tty?: boolean; stream?: { write(s: string): unknown; isTTY?: boolean } };
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
  /** The functional analyses (inference task only; see experiments/function.ts). */
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
 * The run's identity, e.g. `corrected/6_6_2/gonogo/W*D*C/seed-1` (`-positive` after the mode for
 * positive-only runs); a run with its own λ has `lambda-<λ>` before the seed.
 */
export function runId(s: RunSpec): string {
  return [`${s.mode}${s.positive ? '-positive' : ''}`, s.field, s.task, s.variant, ...lambdaPart(s), `seed-${s.seed}`].join('/');
}

/** The run directory relative to a sweep root: runs/<mode>[-positive]/<field>/<task>/<slug>[/lambda-<λ>]/seed-<k>. */
export function runRelDir(s: RunSpec): string {
  return join('runs', `${s.mode}${s.positive ? '-positive' : ''}`, s.field, s.task, variantSlug(s.variant), ...lambdaPart(s), `seed-${s.seed}`);
}

/** `lambda-<λ>` (shortest round-trip decimal, e.g. lambda-0.003) when the spec sets λ. */
function lambdaPart(s: RunSpec): string[] {
  return s.lambda === undefined ? [] : [`lambda-${String(s.lambda)}`];
}

/** The final record of a run directory, or null when the run is not done (no or bad final.json). */
export function readFinal(dir: string): FinalRecord | null {
  const p = join(dir, 'final.json');
  if (!existsSync(p)) return null;
  try {
    const j = JSON.parse(readFileSync(p, 'utf8')) as FinalRecord;
    return j && j.schema === RUN_SCHEMA && (j.status === 'ok' || j.status === 'diverged') ? j : null;
  } catch {
    return null;
  }
}

/** JSON with NaN/±Inf written as null (JSON has no NaN; a metric that is undefined is null). */
export function toJson(x: unknown): string {
  return JSON.stringify(x, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
}

function npyF4(W: ArrayLike<number>, shape: number[]): Uint8Array {
  return encodeNpy(Float32Array.from(W), shape, '<f4');
}

const CSV_HEADER = 'epoch,step,mean_loss,mean_ce,mean_reg,train_accuracy,eval_accuracy,eval_loss,seconds';

function csvRow(e: EpochInfo): string {
  const f = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '' : String(x));
  return [e.epoch + 1, e.step, f(e.meanLoss), f(e.meanCe), f(e.meanReg), f(e.trainAccuracy), f(e.evalAccuracy), f(e.evalLoss), f(e.seconds)].join(',');
}

export function rnnConfigFor(task: { nIn: number; nOut: number }, n: number): RnnConfig {
  return { nIn: task.nIn, nHidden: n, nOut: task.nOut, alpha: 1, outputBias: true };
}

/** A run set up and its directory started (config and initial weights written). */
interface PreparedRun {
  spec: RunSpec;
  o: RunOptions;
  tStart: number;
  n: number;
  cfg: RnnConfig;
  params: HostParams;
  reg: ReturnType<typeof makeRegularizer>;
  splits: ReturnType<typeof makeSplits>;
  positionsUm: ArrayLike<number>;
  /** The canonical task name. */
  taskName: string;
  base: Pick<FinalRecord, 'schema' | 'id' | 'spec' | 'n' | 'protocol' | 'backend' | 'code'>;
  rows: string[];
  seen: EpochInfo[];
  progress: Progress;
}

async function prepareRun(spec: RunSpec, o: RunOptions): Promise<PreparedRun> {
  const tStart = Date.now();
  const variant = getVariant(spec.variant);
  const task = getTask(spec.task);
  const ctx = prepareField(o.dataDir, spec.field);
  const ms = modeSettings(spec.mode);
  const p = o.protocol;
  const n = ctx.n;

  const init = initialRecurrent(variant, ctx, spec.seed);
  const D = geometryD(variant.geometry, ctx, spec.mode);
  const reg = makeRegularizer(variant.regularizer, { mode: spec.mode, lambda: spec.lambda ?? p.lambda, mu: p.mu, D, K: ctx.K });
  const cfg = rnnConfigFor(task, n);
  const params: HostParams = initParams(
    cfg,
    new Rng(spec.seed, `init:${spec.field}`),
    init.kind === 'matrix' ? { kind: 'matrix', W: init.W! } : { kind: 'orthogonal' },
  );
  const splits = makeSplits(task, spec.seed, p.splits);
  const stepsPerEpoch = Math.ceil(p.splits.train / p.batchSize);
  const totalSteps = Math.min(p.steps ?? Infinity, p.epochs * stepsPerEpoch);

  await rm(o.dir, { recursive: true, force: true });
  await makeDir(join(o.dir, 'params_final'));
  const config = {
    schema: 'cortical-rnn/run-config/1',
    id: runId(spec),
    spec: { ...spec, variant: variant.name, canonicalTask: task.name },
    variant: {
      name: variant.name,
      slug: variant.slug,
      init: variant.init,
      geometry: variant.geometry,
      regularizer: variant.regularizer,
      extra: variant.extra,
      description: variant.description,
    },
    mode: { ...ms },
    regularizer: reg.describe(),
    init: { kind: init.kind, notes: init.notes, ...(init.perm ? { perm: init.perm } : {}) },
    geometry:
      variant.geometry === 'grid'
        ? { kind: 'grid', dims: ctx.grid.dims }
        : variant.geometry === 'real'
          ? { kind: 'real', distanceMode: ms.distanceMode, positionUnits: ms.positionUnits }
          : { kind: 'none' },
    model: { ...cfg, activation: 'relu', output: 'softmax + bias', loss: 'cross-entropy at the last step' },
    protocol: { ...p, totalSteps, stepsPerEpoch, positiveOnly: spec.positive, optimizer: 'Adam' },
    field: { name: ctx.name, n, functional: ctx.functional?.source ?? null },
    data: { dir: ctx.source.dataDir, digest: ctx.source.digest, files: ctx.source.files },
    backend: o.backend.describe(),
    code: codeVersion(),
    rng: {
      splits: `Rng(${spec.seed}, 'task:${task.name}')`,
      init: `Rng(${spec.seed}, 'init:${spec.field}')`,
      wstar: `Rng(${spec.seed}, 'wstar:${spec.field}')`,
      train: `Rng(${spec.seed}, 'train')`,
    },
  };
  await writeFileAtomic(join(o.dir, 'config.json'), toJson(config));
  await writeFileAtomic(join(o.dir, 'W_rec_init.npy'), npyF4(params.W_rec, [n, n]));
  await writeFileAtomic(join(o.dir, 'positions_um.npy'), encodeNpy(Float64Array.from(ctx.positionsUm), [n, 3], '<f8'));
  const progress = new Progress({
    label: o.progress?.label ?? runId(spec),
    totalSteps,
    quiet: o.progress?.quiet,
    tty: o.progress?.tty,
    stream: o.progress?.stream,
  });
  return {
    spec,
    o,
    tStart,
    n,
    cfg,
    params,
    reg,
    splits,
    positionsUm: ctx.positionsUm,
    taskName: task.name,
    base: { schema: RUN_SCHEMA, id: runId(spec), spec: { ...spec, variant: variant.name }, n, protocol: p, backend: o.backend.describe(), code: codeVersion() },
    rows: [CSV_HEADER],
    seen: [],
    progress,
  };
}

/** Per-step progress and per-epoch files (metrics.csv, W_rec snapshot) of a run. */
function runCallbacks(r: PreparedRun) {
  return {
    onStep: (s: StepInfo) => r.progress.onStep(s),
    onEpoch: async (e: EpochInfo, W: Float64Array) => {
      r.progress.onEpoch(e);
      r.seen.push(e);
      r.rows.push(csvRow(e));
      await writeFileAtomic(join(r.o.dir, `W_rec_epoch${String(e.epoch + 1).padStart(2, '0')}.npy`), npyF4(W, [r.n, r.n]));
      await writeFileAtomic(join(r.o.dir, 'metrics.csv'), r.rows.join('\n') + '\n');
    },
  };
}

async function finishDiverged(r: PreparedRun, e: NonFiniteError, trainS: number): Promise<FinalRecord> {
  const rec: FinalRecord = {
    ...r.base,
    status: 'diverged',
    divergence: { step: e.step, tensor: e.tensor, value: String(e.value), message: e.message },
    accuracy: null,
    testLoss: null,
    epochs: r.seen.length,
    steps: e.step,
    history: r.seen,
    metrics: null,
    timings: { train_s: trainS, eval_s: 0, analysis_s: 0, total_s: (Date.now() - r.tStart) / 1000, s_per_step: e.step > 0 ? trainS / e.step : null },
    finishedAt: new Date().toISOString(),
  };
  r.progress.done(`diverged at step ${e.step} (${e.tensor})`);
  await writeFileAtomic(join(r.o.dir, 'final.json'), toJson(rec));
  return rec;
}

async function finishOk(
  r: PreparedRun,
  done: { history: EpochInfo[]; steps: number; test: { accuracy: number; loss: number }; final: HostParams; trainS: number; evalS: number; networks?: number },
): Promise<FinalRecord> {
  const { n, cfg, spec } = r;
  const p = r.o.protocol;
  for (const [k, v] of Object.entries(done.final) as [string, Float64Array][]) {
    const shape = k === 'W_rec' ? [n, n] : k === 'W_in' ? [n, cfg.nIn] : k === 'W_out' ? [cfg.nOut, n] : [v.length];
    await writeFileAtomic(join(r.o.dir, 'params_final', `${k}.npy`), encodeNpy(Float64Array.from(v), shape, '<f8'));
  }
  const tAn = Date.now();
  const metrics = analyzeNetwork(done.final.W_rec, n, { seed: spec.seed, nNull: p.nNull, nMatched: p.nMatched, positions: r.positionsUm });
  const fn = r.taskName === 'inference' ? inferenceFunction(cfg, done.final, r.positionsUm, { seed: spec.seed, inputNoise: p.inputNoise }) : null;
  const anS = (Date.now() - tAn) / 1000;
  const last = done.history[done.history.length - 1]!;
  const rec: FinalRecord = {
    ...r.base,
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
      analysis_s: anS,
      total_s: (Date.now() - r.tStart) / 1000,
      s_per_step: done.steps > 0 ? done.trainS / done.steps : null,
      networks_per_batch: done.networks ?? 1,
    },
    finishedAt: new Date().toISOString(),
  };
  r.progress.done(`test acc ${done.test.accuracy.toFixed(3)} (paper acc ${last.trainAccuracy.toFixed(3)}), Q ${metrics.Q_cnm.toFixed(3)}`);
  await writeFileAtomic(join(r.o.dir, 'final.json'), toJson(rec));
  return rec;
}

/** Trains one network and writes its run directory; returns the final record. */
export async function runOne(spec: RunSpec, o: RunOptions): Promise<FinalRecord> {
  return (await runGroup([spec], () => o))[0]!;
}

/**
 * Trains runs of the same field and task (same N, T, B) side by side in one trainer, then
 * writes each run directory. Each network follows exactly the trajectory it follows alone, so
 * the number of runs per group changes run times, never results.
 */
export async function runGroup(specs: RunSpec[], optionsFor: (spec: RunSpec) => RunOptions): Promise<FinalRecord[]> {
  const runs: PreparedRun[] = [];
  for (const spec of specs) runs.push(await prepareRun(spec, optionsFor(spec)));
  const o = runs[0]!.o;
  const p = o.protocol;
  const tTrain = Date.now();
  const { trainer, results } = await trainNetworks(
    o.backend,
    runs[0]!.cfg,
    runs.map((r) => ({
      params: r.params,
      splits: { train: r.splits.train, val: r.splits.val, test: r.splits.test },
      seed: r.spec.seed,
      regularizers: [r.reg],
      positiveOnly: r.spec.positive,
      ...runCallbacks(r),
    })),
    { epochs: p.epochs, ...(p.steps ? { steps: p.steps } : {}), batchSize: p.batchSize, lr: p.lr, inputNoise: p.inputNoise, design: o.design },
  );
  try {
    const trainS = (Date.now() - tTrain) / 1000;
    const tEval = Date.now();
    const tests = await evaluate(
      trainer,
      runs.map((r) => r.splits.test),
      p.batchSize,
    );
    const evalS = (Date.now() - tEval) / 1000;
    const params = await trainer.getAllParams();
    const out: FinalRecord[] = [];
    for (let k = 0; k < runs.length; k++) {
      const res = results[k]!;
      out.push(
        res.diverged
          ? await finishDiverged(runs[k]!, res.diverged, trainS)
          : await finishOk(runs[k]!, { history: res.history, steps: res.steps, test: tests[k]!, final: params[k]!, trainS, evalS, networks: runs.length }),
      );
    }
    return out;
  } finally {
    trainer.dispose();
  }
}
