/**
 * A run's life, owned once: set up from its spec and protocol, trained through `trainNetworks`
 * (several runs side by side), evaluated on its test split, analysed, and recorded. It writes a
 * run's files through a sink — the disk in Node (experiments/run.ts), memory and downloads in the
 * browser (web/train.ts) — so that both write the same files with the same contents:
 *
 *   config.json, W_rec_init.npy, positions_um.npy    when the run starts
 *   W_rec_epochNN.npy, metrics.csv                   after each epoch (NN from 1)
 *   params_final/<name>.npy                          when a run finishes without diverging
 *   final.json                                       last: a run is done when it exists
 *
 * No file system here: the callers choose the runs, the sink and how analyses run.
 */
import { encodeNpy } from '../connectome/npy.ts';
import type { NonFiniteError } from '../engine/errors.ts';
import { activeParams, paramShape, type HostParams } from '../engine/rnn/params.ts';
import { evaluate, trainNetworks, type EpochInfo, type StepInfo } from '../engine/rnn/train.ts';
import type { Backend, RnnDesign, RnnDesignChoice } from '../engine/tensor.ts';
import { getTask } from '../tasks/index.ts';
import { modeSettings, type Protocol } from './protocol.ts';
import type { CodeVersion } from './provenance.ts';
import { CSV_HEADER, csvRow, divergedRecord, npyF4, okRecord, recordBase, runId, toJson, type FinalRecord, type RecordBase, type RunSpec } from './record.ts';
import { labellingInputs, setupRun, type FieldContext } from './setup.ts';
import type { AnalysisJob, AnalysisResult } from './trained_analysis.ts';

/** Where a run's files go; `name` is relative to the run's directory (e.g. `params_final/W_rec.npy`). */
export interface RunSink {
  write(name: string, data: string | Uint8Array): Promise<void>;
}

/** What a caller may watch of a run: each step (it may pause by returning a promise, or stop by throwing), each epoch, the end. */
export interface RunObserver {
  /** The run is set up: its initial W_rec. */
  onStart?(W: Float64Array): void;
  onStep?(s: StepInfo): void | Promise<void>;
  onEpoch?(e: EpochInfo, W: Float64Array): void;
  /** Training is over; evaluation and analysis follow. */
  onTrained?(): void;
  /** The run's record, written; W_rec is the trained matrix (null when the run diverged). */
  onFinish?(rec: FinalRecord, W: Float64Array | null): void;
}

/** One run to train: its spec, its field, where its files go and who watches it. */
export interface LifecycleRun {
  spec: RunSpec;
  ctx: FieldContext;
  sink: RunSink;
  observer?: RunObserver;
}

export interface LifecycleOptions {
  backend: Backend;
  protocol: Protocol;
  /** The recurrent design: named, recorded by an earlier run of the same shape, or 'auto' (engine/rnn/tune.ts). */
  design?: RnnDesign | 'auto' | RnnDesignChoice;
  /** The commit that trains the runs, recorded in config.json and final.json (Node knows it; a browser does not). */
  code?: CodeVersion;
  /** The analyses of the finished runs, yielded in job order (inline, or in worker threads). */
  analyse(jobs: AnalysisJob[]): AsyncGenerator<AnalysisResult>;
}

/** A run set up and its first files written. */
interface StartedRun extends LifecycleRun {
  tStart: number;
  setup: ReturnType<typeof setupRun>;
  base: RecordBase;
  rows: string[];
  seen: EpochInfo[];
}

/** The run's configuration as config.json records it. */
function runConfig(spec: RunSpec, ctx: FieldContext, s: ReturnType<typeof setupRun>, o: LifecycleOptions, design: RnnDesignChoice) {
  const { variant, task, n, init, reg, cfg, totalSteps, stepsPerEpoch } = s;
  const ms = modeSettings(spec.mode);
  const geometry =
    variant.geometry === 'grid'
      ? { kind: 'grid', dims: ctx.grid.dims }
      : variant.geometry === 'real'
        ? { kind: 'real', distanceMode: ms.distanceMode, positionUnits: ms.positionUnits }
        : { kind: 'none' };
  const { name, slug, init: initKind, geometry: geometryKind, regularizer, extra, description } = variant;
  return {
    schema: 'cortical-rnn/run-config/1',
    id: runId(spec),
    spec: { ...spec, variant: variant.name, canonicalTask: task.name },
    variant: { name, slug, init: initKind, geometry: geometryKind, regularizer, extra, description },
    mode: { ...ms },
    regularizer: reg.describe(),
    init: { kind: init.kind, notes: init.notes, ...(init.perm ? { perm: init.perm } : {}) },
    geometry,
    model: { ...cfg, activation: 'relu', output: 'softmax + bias', loss: 'cross-entropy at the last step' },
    protocol: { ...o.protocol, totalSteps, stepsPerEpoch, positiveOnly: spec.positive, optimizer: 'Adam' },
    field: { name: ctx.name, n, functional: ctx.functional?.source ?? null },
    data: { dir: ctx.source.dataDir, digest: ctx.source.digest, files: ctx.source.files },
    backend: o.backend.describe(),
    rnnDesign: design,
    code: o.code,
    rng: {
      splits: `Rng(${spec.seed}, 'task:${task.name}')`,
      init: `Rng(${spec.seed}, 'init:${spec.field}')`,
      wstar: `Rng(${spec.seed}, 'wstar:${spec.field}')`,
      train: `Rng(${spec.seed}, 'train')`,
    },
  };
}

async function startRun(r: LifecycleRun, setup: ReturnType<typeof setupRun>, o: LifecycleOptions, design: RnnDesignChoice): Promise<StartedRun> {
  const tStart = Date.now();
  const n = setup.n;
  await r.sink.write('config.json', toJson(runConfig(r.spec, r.ctx, setup, o, design)));
  await r.sink.write('W_rec_init.npy', npyF4(setup.params.W_rec, [n, n]));
  await r.sink.write('positions_um.npy', encodeNpy(Float64Array.from(r.ctx.positionsUm), [n, 3], '<f8'));
  const base = recordBase(r.spec, n, o.protocol, o.backend.describe(), o.code);
  r.observer?.onStart?.(setup.params.W_rec);
  return { ...r, tStart, setup, base, rows: [CSV_HEADER], seen: [] };
}

/** The trainer's per-network callbacks: the observer's, and each epoch's files. */
function callbacks(r: StartedRun) {
  const n = r.setup.n;
  return {
    onStep: (s: StepInfo) => r.observer?.onStep?.(s),
    onEpoch: async (e: EpochInfo, W: Float64Array) => {
      r.seen.push(e);
      r.rows.push(csvRow(e));
      await r.sink.write(`W_rec_epoch${String(e.epoch).padStart(2, '0')}.npy`, npyF4(W, [n, n]));
      await r.sink.write('metrics.csv', r.rows.join('\n') + '\n');
      // after the files: a watcher told of the epoch (the API's event stream) may fetch them at once
      r.observer?.onEpoch?.(e, W);
    },
  };
}

/** What `analyseTrainedRun` needs from a finished run. */
function analysisJob(r: StartedRun, final: HostParams, p: Protocol): AnalysisJob {
  const job: AnalysisJob = { W_rec: Float64Array.from(final.W_rec), n: r.setup.n, seed: r.spec.seed, nNull: p.nNull, nMatched: p.nMatched };
  job.positions = Float64Array.from(r.ctx.positionsUm);
  job.labellings = labellingInputs(r.ctx);
  if (getTask(r.spec.task).name === 'inference') job.fn = { cfg: r.setup.cfg, params: final, inputNoise: p.inputNoise };
  return job;
}

async function finishDiverged(r: StartedRun, e: NonFiniteError, trainS: number): Promise<FinalRecord> {
  const rec = divergedRecord(r.base, e, r.seen, trainS, (Date.now() - r.tStart) / 1000);
  await r.sink.write('final.json', toJson(rec));
  r.observer?.onFinish?.(rec, null);
  return rec;
}

type Finished = Parameters<typeof okRecord>[1] & { final: HostParams };

async function finishOk(r: StartedRun, done: Finished, analysis: AnalysisResult): Promise<FinalRecord> {
  const { cfg } = r.setup;
  for (const k of activeParams(cfg)) await r.sink.write(`params_final/${k}.npy`, encodeNpy(Float64Array.from(done.final[k]!), paramShape(cfg, k), '<f8'));
  const rec = okRecord(r.base, done, analysis.metrics, analysis.seconds, (Date.now() - r.tStart) / 1000, analysis.fn);
  await r.sink.write('final.json', toJson(rec));
  r.observer?.onFinish?.(rec, done.final.W_rec);
  return rec;
}

/**
 * Trains runs of the same field and task (same N, T, B) side by side in one trainer, then
 * records each. Each network follows exactly the trajectory it follows alone, so the number of
 * runs per group changes run times, never results.
 */
export async function trainRunGroup(group: LifecycleRun[], o: LifecycleOptions): Promise<FinalRecord[]> {
  const p = o.protocol;
  const setups = group.map((r) => setupRun(r.spec, r.ctx, p));
  const { cfg, task } = setups[0]!;
  // One design for the whole group, decided before its first file is written and recorded in each.
  const chosen = await o.backend.resolveRnnDesign({ cfg, B: p.batchSize, T: task.T, K: group.length }, o.design);
  // The matmul design trains the group too, and is recorded beside the recurrent one so that a
  // rerun uses both (one recorded before it was: the backend's own, as then).
  o.backend.useMatmulDesign(chosen.matmul ?? null);
  const matmul = o.backend.matmulDesign;
  const design: RnnDesignChoice = matmul ? { ...chosen, matmul } : chosen;
  const runs: StartedRun[] = [];
  for (const [i, r] of group.entries()) runs.push(await startRun(r, setups[i]!, o, design));
  const tTrain = Date.now();
  const { trainer, results } = await trainNetworks(
    o.backend,
    runs[0]!.setup.cfg,
    runs.map((r) => ({
      params: r.setup.params,
      splits: { train: r.setup.splits.train, val: r.setup.splits.val, test: r.setup.splits.test },
      seed: r.spec.seed,
      regularizers: [r.setup.reg],
      positiveOnly: r.spec.positive,
      ...callbacks(r),
    })),
    { epochs: p.epochs, ...(p.steps ? { steps: p.steps } : {}), batchSize: p.batchSize, lr: p.lr, inputNoise: p.inputNoise, design: design.design },
  );
  try {
    const trainS = (Date.now() - tTrain) / 1000;
    for (const r of runs) r.observer?.onTrained?.();
    const tEval = Date.now();
    const tests = await evaluate(
      trainer,
      runs.map((r) => r.setup.splits.test),
      p.batchSize,
    );
    const evalS = (Date.now() - tEval) / 1000;
    const params = await trainer.getAllParams();
    const ok = runs.map((_, k) => k).filter((k) => !results[k]!.diverged);
    const analyses = o.analyse(ok.map((k) => analysisJob(runs[k]!, params[k]!, p)));
    try {
      const out: FinalRecord[] = [];
      for (let k = 0; k < runs.length; k++) {
        const res = results[k]!;
        if (res.diverged) {
          out.push(await finishDiverged(runs[k]!, res.diverged, trainS));
          continue;
        }
        const next = await analyses.next();
        if (next.done) throw new Error('trainRunGroup: an analysis is missing'); // cannot happen: one job per run that did not diverge
        out.push(
          await finishOk(
            runs[k]!,
            { history: res.history, steps: res.steps, test: tests[k]!, final: params[k]!, trainS, evalS, networks: runs.length },
            next.value,
          ),
        );
      }
      return out;
    } finally {
      await analyses.return(undefined);
    }
  } finally {
    trainer.dispose();
  }
}

/** The analyses one after another in this thread (a browser's way; Node spreads them over threads). */
export async function* analyseInline(jobs: AnalysisJob[], analyse: (job: AnalysisJob) => AnalysisResult): AsyncGenerator<AnalysisResult> {
  for (const job of jobs) yield analyse(job);
}
