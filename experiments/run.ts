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
 *   final.json.corrupt-<time>  a corrupt final.json set aside by `--redo-corrupt` (kept when the
 *                        run is retrained, so that nothing is lost; <time> is ISO 8601, basic format)
 *
 * A run that hits NaN/Inf (NonFiniteError) ends with status 'diverged', the step and the
 * tensor; it has no accuracies or metrics (null, never NaN).
 */
import { readdir, rm } from 'node:fs/promises';
import { readFileSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { encodeNpy } from '../connectome/npy.ts';
import type { NonFiniteError } from '../engine/errors.ts';
import { activeParams, paramShape, type HostParams, type RnnConfig } from '../engine/rnn/params.ts';
import { evaluate, trainNetworks, type EpochInfo, type StepInfo } from '../engine/rnn/train.ts';
import type { Backend, RnnDesign } from '../engine/tensor.ts';
import { fsProblem, makeDir, writeFileAtomic } from './files.ts';
import { modeSettings, type Protocol } from './protocol.ts';
import { Progress } from './progress.ts';
import { codeVersion } from './provenance.ts';
import { analyseTrainedRuns, type AnalysisJob, type AnalysisResult } from './trained_analysis.ts';
import { getTask } from '../tasks/index.ts';
import type { LabellingInputs } from '../analysis/module_alignment.ts';
import { labellingInputs, prepareField } from './prepare.ts';
import {
  CSV_HEADER,
  checkFinalRecord,
  csvRow,
  divergedRecord,
  npyF4,
  okRecord,
  recordBase,
  runId,
  toJson,
  type FinalRecord,
  type RecordBase,
  type RunOutcome,
  type RunSpec,
} from './record.ts';
import { setupRun } from './setup.ts';

export interface RunOptions {
  dataDir: string;
  backend: Backend;
  protocol: Protocol;
  /** The run directory (its contents are replaced). */
  dir: string;
  design?: RnnDesign | 'auto';
  progress?: { label?: string; quiet?: boolean; tty?: boolean; stream?: { write(s: string): unknown; isTTY?: boolean } };
}

/** A final.json that exists but is not a run's final record: unparseable, another schema, or incomplete. */
export class CorruptRunRecordError extends Error {
  constructor(
    readonly file: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'CorruptRunRecordError';
  }
}

/**
 * The reader of a run's final.json: the record, or null when there is no final.json (the run is
 * not done). One that exists but is unparseable, of another schema or fails `checkFinalRecord`
 * throws a CorruptRunRecordError naming the file and what is wrong: it is never "not done",
 * which would have it deleted and retrained.
 */
export function readRunRecord(dir: string): FinalRecord | null {
  const p = join(dir, 'final.json');
  let text: string;
  try {
    text = readFileSync(p, 'utf8');
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return null;
    throw new Error(`${p}: expected to read the run's final record, got ${fsProblem(e) ?? (e as Error).message}`, { cause: e });
  }
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new CorruptRunRecordError(p, `${p}: expected a run's final record as JSON, got unparseable text (${(e as Error).message})`, { cause: e });
  }
  if (!j || typeof j !== 'object' || Array.isArray(j))
    throw new CorruptRunRecordError(p, `${p}: expected a run's final record (a JSON object), got ${JSON.stringify(j).slice(0, 80)}`);
  try {
    return checkFinalRecord(j as FinalRecord, p);
  } catch (e) {
    throw new CorruptRunRecordError(p, (e as Error).message, { cause: e });
  }
}

/** The final record of a run that must be done (the report, analyze): `readRunRecord`, with no final.json an error. */
export function readFinalStrict(dir: string): FinalRecord {
  const rec = readRunRecord(dir);
  if (!rec) throw new Error(`${join(dir, 'final.json')}: expected a run's final record, got no such file`);
  return rec;
}

const SET_ASIDE_PREFIX = 'final.json.corrupt-';

/**
 * Renames the corrupt final.json of run directory `dir` to final.json.corrupt-<time>, so that the
 * run counts as not done while the file is kept; returns the new path. The time is ISO 8601 in
 * its basic format (no ':', which some file systems and tools refuse).
 */
export function setAsideCorruptRecord(dir: string): string {
  const file = join(dir, 'final.json');
  const aside = join(dir, SET_ASIDE_PREFIX + new Date().toISOString().replace(/[-:]/g, ''));
  try {
    renameSync(file, aside);
  } catch (e) {
    throw new Error(`${file}: expected to rename it to ${aside}, got ${fsProblem(e) ?? (e as Error).message}`, { cause: e });
  }
  return aside;
}

/** The names of the corrupt records set aside in a run directory (none when there is no such directory). */
export function setAsideRecords(dir: string): string[] {
  try {
    return readdirSync(dir).filter((e) => e.startsWith(SET_ASIDE_PREFIX));
  } catch {
    return [];
  }
}

/** Empties a run directory for a fresh run, keeping the corrupt records set aside in it. */
async function clearRunDir(dir: string): Promise<void> {
  const kept = setAsideRecords(dir);
  if (!kept.length) return await rm(dir, { recursive: true, force: true });
  for (const e of await readdir(dir)) if (!kept.includes(e)) await rm(join(dir, e), { recursive: true, force: true });
}

/** A run set up and its directory started (config and initial weights written). */
interface PreparedRun {
  spec: RunSpec;
  o: RunOptions;
  tStart: number;
  n: number;
  cfg: RnnConfig;
  params: HostParams;
  reg: ReturnType<typeof setupRun>['reg'];
  splits: ReturnType<typeof setupRun>['splits'];
  positionsUm: ArrayLike<number>;
  labellings: LabellingInputs;
  base: RecordBase;
  rows: string[];
  seen: EpochInfo[];
  progress: Progress;
}

async function prepareRun(spec: RunSpec, o: RunOptions): Promise<PreparedRun> {
  const tStart = Date.now();
  const ctx = prepareField(o.dataDir, spec.field);
  const ms = modeSettings(spec.mode);
  const p = o.protocol;
  const { variant, task, n, init, reg, cfg, params, splits, stepsPerEpoch, totalSteps } = setupRun(spec, ctx, p);

  await clearRunDir(o.dir);
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
    labellings: labellingInputs(ctx),
    base: recordBase(spec, n, p, o.backend.describe(), codeVersion()),
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
  const rec = divergedRecord(r.base, e, r.seen, trainS, (Date.now() - r.tStart) / 1000);
  r.progress.done(`diverged at step ${e.step} (${e.tensor})`);
  await writeFileAtomic(join(r.o.dir, 'final.json'), toJson(rec));
  return rec;
}

async function finishOk(r: PreparedRun, done: RunOutcome & { final: HostParams }, analysis: AnalysisResult): Promise<FinalRecord> {
  const { cfg } = r;
  for (const k of activeParams(cfg))
    await writeFileAtomic(join(r.o.dir, 'params_final', `${k}.npy`), encodeNpy(Float64Array.from(done.final[k]!), paramShape(cfg, k), '<f8'));
  const { metrics, fn } = analysis;
  const last = done.history[done.history.length - 1]!;
  const rec = okRecord(r.base, done, metrics, analysis.seconds, (Date.now() - r.tStart) / 1000, fn);
  r.progress.done(`test acc ${done.test.accuracy.toFixed(3)} (paper acc ${last.trainAccuracy.toFixed(3)}), Q ${metrics.Q_cnm.toFixed(3)}`);
  await writeFileAtomic(join(r.o.dir, 'final.json'), toJson(rec));
  return rec;
}

/** What `analyseTrainedRun` needs from a finished run. */
function analysisJob(r: PreparedRun, final: HostParams): AnalysisJob {
  const p = r.o.protocol;
  const job: AnalysisJob = { W_rec: Float64Array.from(final.W_rec), n: r.n, seed: r.spec.seed, nNull: p.nNull, nMatched: p.nMatched };
  if (r.positionsUm) job.positions = Float64Array.from(r.positionsUm);
  job.labellings = r.labellings;
  if (getTask(r.spec.task).name === 'inference') job.fn = { cfg: r.cfg, params: final, inputNoise: p.inputNoise };
  return job;
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
    const ok = runs.map((_, k) => k).filter((k) => !results[k]!.diverged);
    const analyses = analyseTrainedRuns(ok.map((k) => analysisJob(runs[k]!, params[k]!)));
    const out: FinalRecord[] = [];
    try {
      for (let k = 0; k < runs.length; k++) {
        const res = results[k]!;
        if (res.diverged) {
          out.push(await finishDiverged(runs[k]!, res.diverged, trainS));
          continue;
        }
        const next = await analyses.next();
        if (next.done) throw new Error('runGroup: an analysis is missing'); // cannot happen: one job per run that did not diverge
        const done = { history: res.history, steps: res.steps, test: tests[k]!, final: params[k]!, trainS, evalS, networks: runs.length };
        out.push(await finishOk(runs[k]!, done, next.value));
      }
    } finally {
      await analyses.return(undefined);
    }
    return out;
  } finally {
    trainer.dispose();
  }
}
