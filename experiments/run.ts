/**
 * A run on disk: its directory, written through the run lifecycle (experiments/lifecycle.ts owns
 * what is written and when; here, where), and read back by one strict reader.
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
import { MATMUL_DESIGNS, type Backend, type RnnDesign, type RnnDesignChoice } from '../engine/tensor.ts';
import { parseRnnDesign } from '../engine/gpu/rnn_design.ts';
import { fsProblem, makeDir, writeFileAtomic } from './files.ts';
import type { Protocol } from './protocol.ts';
import { Progress } from './progress.ts';
import { codeVersion } from './provenance.ts';
import { analyseTrainedRuns } from './analysis_pool.ts';
import { trainRunGroup, type LifecycleRun, type RunObserver, type RunSink } from './lifecycle.ts';
import { prepareField } from './prepare.ts';
import { checkFinalRecord, runId, type FinalRecord, type RunSpec } from './record.ts';
import { protocolSteps } from './setup.ts';

export interface RunOptions {
  dataDir: string;
  backend: Backend;
  protocol: Protocol;
  /** The run directory (its contents are replaced). */
  dir: string;
  /** The recurrent design; with 'auto' a design recorded in the run's own config.json wins (a rerun keeps it). */
  design?: RnnDesign | 'auto' | RnnDesignChoice;
  progress?: { label?: string; quiet?: boolean; tty?: boolean; stream?: { write(s: string): unknown; isTTY?: boolean } };
  /** Another watcher of the run beside its progress lines (the API's event stream); its onStep may stop the run by throwing. */
  observer?: RunObserver;
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

/** The refusal to resume over a corrupt final.json: what is wrong, and the explicit way to retrain it. */
export function corruptRefusal(e: CorruptRunRecordError): Error {
  return new Error(`${e.message}; rerun with --redo-corrupt to retrain it`, { cause: e });
}

/**
 * The resume decision's reading of a run directory: its finished record, or null when it is to
 * be (re)trained. A corrupt final.json is refused with `corruptRefusal` unless `onCorrupt` takes
 * it (--redo-corrupt): then the run is to be retrained, and the caller sets the file aside.
 */
export function readResumable(dir: string, onCorrupt?: (e: CorruptRunRecordError) => void): FinalRecord | null {
  try {
    return readRunRecord(dir);
  } catch (e) {
    if (!(e instanceof CorruptRunRecordError)) throw e;
    if (!onCorrupt) throw corruptRefusal(e);
    onCorrupt(e);
    return null;
  }
}

/** Sets a corrupt record aside for retraining (--redo-corrupt) and says so in one line, from `who`. */
export function redoCorrupt(dir: string, e: CorruptRunRecordError, who: string, log: (line: string) => void): void {
  const aside = setAsideCorruptRecord(dir);
  log(`${who}: ${e.message}; retraining it (--redo-corrupt), the corrupt file kept as ${aside}`);
}

const SET_ASIDE_PREFIX = 'final.json.corrupt-';

/**
 * Renames the corrupt final.json of run directory `dir` to final.json.corrupt-<time>, so that the
 * run counts as not done while the file is kept; returns the new path. The time is ISO 8601 in
 * its basic format (no ':', which some file systems and tools refuse).
 */
function setAsideCorruptRecord(dir: string): string {
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

const DESIGN_SOURCES: readonly RnnDesignChoice['source'][] = ['requested', 'recorded', 'cache', 'tuned', 'measured', 'default'];

/**
 * The recurrent design a run directory's config.json records (`rnnDesign`), as it was decided
 * then (so a rerun, or the next runs of its shape in a sweep, record the same choice), or null
 * when there is none (no file yet, or a run from before designs were recorded). One that names
 * no known design is an error naming the file, not a silent retune.
 */
export function recordedDesign(dir: string): RnnDesignChoice | null {
  const file = join(dir, 'config.json');
  let config: { rnnDesign?: { design?: unknown; matmul?: unknown; source?: unknown; ms?: unknown } };
  try {
    config = JSON.parse(readFileSync(file, 'utf8')) as typeof config;
  } catch {
    return null; // unreadable: the run restarts from scratch and writes a new one
  }
  const d = config.rnnDesign;
  if (!d) return null;
  const design = parseRnnDesign(String(d.design), `${file}: field "rnnDesign.design"`);
  if (design === 'auto') throw new Error(`${file}: field "rnnDesign.design": expected the design the run trained with, got "auto"`);
  const source = DESIGN_SOURCES.find((x) => x === d.source) ?? 'recorded';
  const choice: RnnDesignChoice = { design, source, ms: typeof d.ms === 'number' ? d.ms : null };
  if (d.matmul === undefined) return choice;
  const matmul = MATMUL_DESIGNS.find((m) => m === d.matmul);
  if (!matmul) throw new Error(`${file}: field "rnnDesign.matmul": expected one of ${MATMUL_DESIGNS.join(', ')}, got ${JSON.stringify(d.matmul)}`);
  return { ...choice, matmul };
}

/** Empties a run directory for a fresh run, keeping the corrupt records set aside in it. */
async function clearRunDir(dir: string): Promise<void> {
  const kept = setAsideRecords(dir);
  if (!kept.length) return await rm(dir, { recursive: true, force: true });
  for (const e of await readdir(dir)) if (!kept.includes(e)) await rm(join(dir, e), { recursive: true, force: true });
}

/** A run's files on disk: written atomically into its directory. */
function diskSink(dir: string): RunSink {
  return { write: (name, data) => writeFileAtomic(join(dir, name), data) };
}

/** The progress lines of a run in a terminal or log. */
function progressObserver(spec: RunSpec, o: RunOptions): RunObserver {
  const progress = new Progress({
    label: o.progress?.label ?? runId(spec),
    totalSteps: protocolSteps(o.protocol).totalSteps,
    quiet: o.progress?.quiet,
    tty: o.progress?.tty,
    stream: o.progress?.stream,
  });
  return {
    onStep: (s) => progress.onStep(s),
    onEpoch: (e) => progress.onEpoch(e),
    onFinish: (rec) => {
      if (rec.status === 'diverged') return progress.done(`diverged at step ${rec.divergence!.step} (${rec.divergence!.tensor})`);
      const last = rec.history[rec.history.length - 1]!;
      progress.done(`test acc ${rec.accuracy!.test.toFixed(3)} (paper acc ${last.trainAccuracy.toFixed(3)}), Q ${rec.metrics!.Q_cnm.toFixed(3)}`);
    },
  };
}

/** Both observers see every call, `a` first (an onStep that throws stops the run). */
function bothObservers(a: RunObserver, b: RunObserver): RunObserver {
  return {
    onStart: (W) => (a.onStart?.(W), b.onStart?.(W)),
    onStep: async (s) => {
      await a.onStep?.(s);
      await b.onStep?.(s);
    },
    onEpoch: (e, W) => (a.onEpoch?.(e, W), b.onEpoch?.(e, W)),
    onTrained: () => (a.onTrained?.(), b.onTrained?.()),
    onFinish: (rec, W) => (a.onFinish?.(rec, W), b.onFinish?.(rec, W)),
  };
}

/** Trains one network and writes its run directory; returns the final record. */
export async function runOne(spec: RunSpec, o: RunOptions): Promise<FinalRecord> {
  return (await runGroup([spec], () => o))[0]!;
}

/**
 * Trains runs of the same field and task side by side (experiments/lifecycle.ts) into their run
 * directories, each emptied first (keeping corrupt records set aside), with the analyses spread
 * over worker threads.
 */
export async function runGroup(specs: RunSpec[], optionsFor: (spec: RunSpec) => RunOptions): Promise<FinalRecord[]> {
  const runs: LifecycleRun[] = [];
  const first = optionsFor(specs[0]!);
  const design = !first.design || first.design === 'auto' ? (specs.map((s) => recordedDesign(optionsFor(s).dir)).find(Boolean) ?? 'auto') : first.design;
  for (const spec of specs) {
    const o = optionsFor(spec);
    await clearRunDir(o.dir);
    await makeDir(join(o.dir, 'params_final'));
    const progress = progressObserver(spec, o);
    runs.push({ spec, ctx: prepareField(o.dataDir, spec.field), sink: diskSink(o.dir), observer: o.observer ? bothObservers(progress, o.observer) : progress });
  }
  return trainRunGroup(runs, { backend: first.backend, protocol: first.protocol, design, code: codeVersion(), analyse: (jobs) => analyseTrainedRuns(jobs) });
}
