/**
 * The grid of runs: tasks × variants × seeds for one field, mode(s) and positivity, resumable.
 *
 * Resumption: a run is done exactly when its final.json exists (run.ts writes it atomically,
 * last). A rerun skips done runs and redoes every other planned run from scratch (a partial
 * directory is deleted first), so a killed sweep loses no run and duplicates none. A final.json
 * that exists but is corrupt (unparseable, another schema, incomplete) stops the sweep, naming
 * it: it is retrained only when asked (`redoCorrupt`, --redo-corrupt), and then set aside as
 * final.json.corrupt-<time> in its run directory, never deleted.
 * The manifest sweep.json (rewritten atomically after every run) lists each invocation and
 * every run's status, keyed by run id.
 */
import { existsSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Backend, RnnDesign, RnnDesignChoice } from '../engine/tensor.ts';
import { getTask } from '../tasks/index.ts';
import { makeDir, writeFileAtomic } from './files.ts';
import { PAPER_TASKS, type Mode, type Protocol } from './protocol.ts';
import { readResumable, recordedDesign, redoCorrupt, runGroup, type CorruptRunRecordError } from './run.ts';
import { runId, runRelDir, toJson, type FinalRecord, type RunSpec } from './record.ts';
import { prepareField } from './prepare.ts';
import { checkFieldMode } from './setup.ts';
import type { Variant } from './variants.ts';
import { formatDuration } from './progress.ts';
import { codeVersion, type CodeVersion } from './provenance.ts';
import { lockDir, withDirLock } from './lock.ts';
import type { RunObserver } from './lifecycle.ts';
import { OptionError } from '../engine/errors.ts';
import { shardRuns, type Shard } from './shards.ts';
import { batchSizeFor, planBatches } from './batch_plan.ts';

const SWEEP_SCHEMA = 'cortical-rnn/sweep/1';

export interface SweepPlan {
  field: string;
  tasks: string[];
  variants: Variant[];
  seeds: number[];
  modes: Mode[];
  positive: boolean;
  /** Regularisation strengths per variant name (a run per λ); absent: the protocol's λ. */
  lambdas?: Record<string, number[]>;
  /** The runs, listed, instead of the grid above (the API's pool merging submissions); the field is still `field`. */
  specs?: RunSpec[];
}

export interface SweepOptions extends SweepPlan {
  out: string;
  dataDir: string;
  backend: Backend;
  protocol: Protocol;
  /** Name of the preset, e.g. 'quick' (recorded in the manifest). */
  preset?: string | null;
  /** The recurrent design for every run, or 'auto': one per shape, tuned or recorded (SweepDesigns). */
  design?: RnnDesign | 'auto';
  /** Stop after starting this many runs (tests simulate a killed sweep with it). */
  maxRuns?: number;
  /**
   * Networks trained together in the same dispatches (compatible runs, see batch_plan.ts).
   * Default: `modelsPerBatch` of the adapter (up to 64 within the adapter's memory; 1 on the CPU reference backend).
   */
  modelsPerBatch?: number;
  /** Resume a directory whose finished runs came from another commit (off by default). */
  allowMixedCommits?: boolean;
  /** Retrain runs whose final.json is corrupt, setting it aside (off by default: such a run stops the sweep). */
  redoCorrupt?: boolean;
  /** Run only this shard of the grid (`--shard I/N`). */
  shard?: Shard;
  quiet?: boolean;
  tty?: boolean;
  log?: (line: string) => void;
  /** A watcher per run beside the progress lines (the API's event stream). */
  observe?: (spec: RunSpec) => RunObserver;
}

interface ManifestRun {
  id: string;
  dir: string;
  status: 'ok' | 'diverged';
  test: number | null;
  paper: number | null;
  divergedAt: number | null;
  seconds: number;
  finishedAt: string;
}

export interface Manifest {
  schema: typeof SWEEP_SCHEMA;
  updatedAt: string;
  invocations: Array<{
    startedAt: string;
    finishedAt: string | null;
    preset: string | null;
    /** The grid it planned; `runs`: the run ids, when they were listed instead. */
    plan: Omit<SweepPlan, 'variants' | 'specs'> & { variants: string[]; runs?: string[] };
    protocol: Protocol;
    backend: string;
    code?: CodeVersion;
    /** The sweep's process (with startedAt, the invocation's identity in the manifest). */
    pid?: number;
    /** 'I/N' for a shard of the grid; the queue URL (without password) for a queue's coordinator. */
    shard?: string;
    queue?: string;
    planned: number;
    ran: number;
    skipped: number;
    wallSeconds: number | null;
  }>;
  runs: Record<string, ManifestRun>;
}

/** '--tasks all' → the paper's three; otherwise a comma list of task names (validated). */
export function parseTaskList(spec: string): string[] {
  const s = spec.trim();
  const names =
    s === 'all' || s === 'paper'
      ? [...PAPER_TASKS]
      : s
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean);
  if (!names.length) throw new OptionError('--tasks', `'all' or a comma-separated list of tasks`, `"${spec}"`);
  const out: string[] = [];
  for (const name of names) {
    const t = getTask(name, '--tasks').name;
    if (!out.includes(t)) out.push(t);
  }
  return out;
}

/** '--seeds 20' → 1..20 (from `start`); '--seeds 3,7' → [3, 7]. */
export function parseSeeds(spec: string | number, start = 1): number[] {
  if (!Number.isInteger(start) || start < 0) throw new OptionError('--seed-start', 'an integer seed ≥ 0', `${start}`);
  const s = String(spec).trim();
  if (/^\d+$/.test(s)) {
    const k = Number(s);
    if (k < 1) throw new OptionError('--seeds', 'a positive count', `${s}`);
    return Array.from({ length: k }, (_, i) => start + i);
  }
  const list = s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  const seeds = list.map((x) => {
    if (!/^\d+$/.test(x)) throw new OptionError('--seeds', 'a count (e.g. 20) or a comma-separated list of integer seeds ≥ 0', `"${spec}"`);
    return Number(x);
  });
  if (!seeds.length) throw new OptionError('--seeds', 'a count or a list of seeds', `"${spec}"`);
  return [...new Set(seeds)];
}

/** '--lambdas 0.001,0.01' → [0.001, 0.01] (each a finite number ≥ 0, duplicates removed). */
export function parseLambdas(spec: string, flag = '--lambdas'): number[] {
  const parts = spec
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  if (!parts.length) throw new OptionError(flag, 'a comma-separated list of regularisation strengths ≥ 0', `"${spec}"`);
  const out: number[] = [];
  for (const x of parts) {
    const v = Number(x);
    if (!/^[0-9.eE+-]+$/.test(x) || !Number.isFinite(v) || v < 0)
      throw new OptionError(flag, 'a comma-separated list of regularisation strengths ≥ 0', `"${x}"`);
    if (!out.includes(v)) out.push(v);
  }
  return out;
}

/** Every run of a plan, seed-major (a killed sweep leaves whole simulations done first). */
export function planRuns(p: SweepPlan): RunSpec[] {
  if (p.specs) return p.specs;
  const out: RunSpec[] = [];
  for (const mode of p.modes) {
    for (const seed of p.seeds) {
      for (const task of p.tasks) {
        for (const v of p.variants) {
          const lambdas = p.lambdas?.[v.name];
          if (!lambdas) out.push({ field: p.field, task, variant: v.name, seed, mode, positive: p.positive });
          else for (const lambda of lambdas) out.push({ field: p.field, task, variant: v.name, seed, mode, positive: p.positive, lambda });
        }
      }
    }
  }
  return out;
}

export function readManifest(out: string): Manifest | null {
  const p = join(out, 'sweep.json');
  if (!existsSync(p)) return null;
  let j: Manifest;
  try {
    j = JSON.parse(readFileSync(p, 'utf8')) as Manifest;
  } catch (e) {
    throw new Error(`${p}: expected the sweep manifest as JSON, got unparseable text (${(e as Error).message})`, { cause: e });
  }
  if (j.schema !== SWEEP_SCHEMA) throw new Error(`${p}: field "schema": expected "${SWEEP_SCHEMA}", got ${JSON.stringify(j.schema)}`);
  return j;
}

/** All final.json files under DIR/runs (what the report reads). */
export function findRunDirs(out: string): string[] {
  const root = join(out, 'runs');
  const found: string[] = [];
  const seen = new Set<string>();
  const walk = (d: string) => {
    if (!existsSync(d)) return;
    // A symbolic link back up the tree would be walked forever: each real folder is read once.
    const real = realpathSync(d);
    if (seen.has(real))
      throw new Error(
        `${d}: expected a tree of run directories, got a symbolic link to a folder already walked (${real}): a loop or a second way in; remove the link`,
      );
    seen.add(real);
    const entries = readdirSync(d);
    if (entries.includes('final.json')) found.push(d);
    for (const e of entries) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
    }
  };
  walk(root);
  return found.sort();
}

function manifestRun(out: string, dir: string, r: FinalRecord): ManifestRun {
  return {
    id: r.id,
    dir: relative(out, dir),
    status: r.status,
    test: r.accuracy?.test ?? null,
    paper: r.accuracy?.paper ?? null,
    divergedAt: r.divergence?.step ?? null,
    seconds: r.timings.total_s,
    finishedAt: r.finishedAt,
  };
}

function sameProtocol(a: Protocol, b: Protocol): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export interface SweepResult {
  planned: RunSpec[];
  ran: string[];
  skipped: string[];
  manifest: Manifest;
  wallSeconds: number;
  /** true when maxRuns stopped the sweep early */
  stopped: boolean;
}

export async function sweep(o: SweepOptions): Promise<SweepResult> {
  const t0 = Date.now();
  const log =
    o.log ??
    ((s: string) => {
      if (!o.quiet) process.stderr.write(s + '\n');
    });
  // One writer per directory: a second sweep waits here, then resumes what the first left.
  // Shards share their directory by design: each runs its own runs and takes the lock only
  // to read-modify-write the manifest.
  if (!o.shard) return await withDirLock(o.out, 'sweep', log, () => sweepLocked(o, t0, log));
  await makeDir(o.out);
  return await sweepLocked(o, t0, log);
}

type Invocation = Manifest['invocations'][number];

/** This invocation's entry in the manifest (plan, protocol, backend, commit, process). */
export function newInvocation(o: SweepPlan & { protocol: Protocol; preset?: string | null }, backend: string, planned: number): Invocation {
  return {
    startedAt: new Date().toISOString(),
    finishedAt: null,
    preset: o.preset ?? null,
    plan: {
      field: o.field,
      tasks: o.tasks,
      variants: o.variants.map((v) => v.name),
      seeds: o.seeds,
      modes: o.modes,
      positive: o.positive,
      ...(o.lambdas ? { lambdas: o.lambdas } : {}),
      ...(o.specs ? { runs: o.specs.map(runId) } : {}),
    },
    protocol: o.protocol,
    backend,
    code: codeVersion(),
    pid: process.pid,
    planned,
    ran: 0,
    skipped: 0,
    wallSeconds: null,
  };
}

/**
 * The manifest of `out` with this invocation added, and its saver: a read-modify-write of
 * sweep.json (what the file holds now, another writer's records included, plus this
 * invocation and the runs it saw or ran). With `lockEachSave` the directory lock is taken
 * around each save (shards, the queue's coordinator); otherwise the caller holds it.
 */
export function manifestWriter(out: string, inv: Invocation, o: { lockEachSave?: boolean } = {}) {
  const manifest: Manifest = readManifest(out) ?? { schema: SWEEP_SCHEMA, updatedAt: '', invocations: [], runs: {} };
  manifest.invocations.push(inv);
  const save = async () => {
    const lock = o.lockEachSave ? await lockDir(out, 'sweep manifest', { pollMs: 100 }) : null;
    try {
      const onDisk = readManifest(out) ?? { schema: SWEEP_SCHEMA, updatedAt: '', invocations: [], runs: {} };
      const invocations = onDisk.invocations.filter((x) => !(x.startedAt === inv.startedAt && x.pid === inv.pid));
      const merged: Manifest = {
        schema: SWEEP_SCHEMA,
        updatedAt: new Date().toISOString(),
        invocations: [...invocations, inv],
        runs: { ...onDisk.runs, ...manifest.runs },
      };
      await writeFileAtomic(join(out, 'sweep.json'), toJson(merged));
      Object.assign(manifest, merged);
    } finally {
      await lock?.release();
    }
  };
  const record = (dir: string, rec: FinalRecord) => {
    manifest.runs[rec.id] = manifestRun(out, dir, rec);
  };
  return { manifest, save, record };
}

/** The one-line refusal of a run or job whose protocol is not the directory's. */
export function protocolMismatch(path: string, expected: Protocol, got: Protocol): Error {
  return new Error(
    `${path}: field "protocol": expected the protocol of this sweep (${JSON.stringify(expected)}), got ${JSON.stringify(got)}; resume with the same settings (e.g. --quick) or use another --out`,
  );
}

/**
 * The final record of a planned run that is done in `dir`, or null when it is to be (re)done;
 * a done run from another protocol (or, unless allowed, another commit) is refused. A corrupt
 * final.json is refused with what to do, unless `onCorrupt` takes it (`readResumable`).
 */
export function doneRun(
  dir: string,
  protocol: Protocol,
  o: { commit?: string; allowMixedCommits?: boolean; onCorrupt?: (e: CorruptRunRecordError) => void } = {},
): FinalRecord | null {
  const done = readResumable(dir, o.onCorrupt);
  if (!done) return null;
  if (done.protocol && !sameProtocol(done.protocol, protocol)) throw protocolMismatch(join(dir, 'final.json'), protocol, done.protocol);
  if (!o.allowMixedCommits && o.commit && done.code?.commit && done.code.commit !== o.commit) {
    throw new Error(
      `${join(dir, 'final.json')}: field "code.commit": expected this checkout's commit ${o.commit}, got ${done.code.commit}; a grid comes from one commit: resume it from a worktree of that commit (git worktree add --detach DIR ${done.code.commit}) or pass --allow-mixed-commits`,
    );
  }
  return done;
}

/**
 * The planned runs split into those to (re)do and those done (each checked against the protocol
 * and commit by `doneRun`, then recorded); sets the invocation's `skipped`. With `redoCorrupt`,
 * the corrupt final.json files are set aside (one log line each) once every run has been
 * checked, so that a refusal leaves the directory as it was.
 */
export function splitDone(
  planned: RunSpec[],
  o: { out: string; protocol: Protocol; allowMixedCommits?: boolean; redoCorrupt?: boolean; log?: (line: string) => void },
  inv: Invocation,
  record: (dir: string, rec: FinalRecord) => void,
): { todo: RunSpec[]; skipped: string[] } {
  const todo: RunSpec[] = [];
  const skipped: string[] = [];
  const corrupt: { dir: string; e: CorruptRunRecordError }[] = [];
  for (const spec of planned) {
    const dir = join(o.out, runRelDir(spec));
    const onCorrupt = o.redoCorrupt ? (e: CorruptRunRecordError) => corrupt.push({ dir, e }) : undefined;
    const done = doneRun(dir, o.protocol, { commit: inv.code?.commit ?? undefined, allowMixedCommits: o.allowMixedCommits, onCorrupt });
    if (done) {
      record(dir, done);
      skipped.push(done.id);
    } else todo.push(spec);
  }
  for (const { dir, e } of corrupt) redoCorrupt(dir, e, 'sweep', o.log ?? (() => {}));
  inv.skipped = skipped.length;
  return { todo, skipped };
}

/** The runs this invocation plans: the whole grid, or its shard of it. */
export function plannedRuns(o: SweepPlan & { dataDir: string; shard?: Shard }): RunSpec[] {
  const ctx = prepareField(o.dataDir, o.field); // a bad field or mode fails here, before anything runs
  for (const mode of o.specs ? new Set(o.specs.map((s) => s.mode)) : o.modes) checkFieldMode(ctx, mode);
  const all = planRuns(o);
  if (!o.shard) return all;
  // Expected cost of a run: its trial length T times the field's N (one field per plan).
  const n = ctx.n;
  return shardRuns(all, o.shard, (s) => getTask(s.task).T * n);
}

/**
 * One recurrent design per shape (field and task) in a sweep: the one an earlier run of the
 * shape recorded in its config.json (this invocation's or a resumed one's), else what the
 * lifecycle resolves for the shape's first group, learnt from its config.json afterwards.
 */
class SweepDesigns {
  private known = new Map<string, RnnDesignChoice | null>();

  constructor(
    private readonly o: SweepOptions,
    private readonly planned: RunSpec[],
  ) {}

  for(spec: RunSpec): RnnDesign | 'auto' | RnnDesignChoice {
    if (this.o.design && this.o.design !== 'auto') return this.o.design;
    const key = `${spec.field}|${spec.task}`;
    if (!this.known.has(key)) {
      const same = this.planned.filter((s) => `${s.field}|${s.task}` === key);
      this.known.set(key, same.map((s) => recordedDesign(join(this.o.out, runRelDir(s)))).find(Boolean) ?? null);
    }
    return this.known.get(key) ?? 'auto';
  }

  learn(spec: RunSpec): void {
    const key = `${spec.field}|${spec.task}`;
    if (!this.known.get(key)) this.known.set(key, recordedDesign(join(this.o.out, runRelDir(spec))));
  }
}

async function sweepLocked(o: SweepOptions, t0: number, log: (s: string) => void): Promise<SweepResult> {
  const planned = plannedRuns(o);
  const inv = newInvocation(o, o.backend.describe(), planned.length);
  if (o.shard) inv.shard = `${o.shard.index}/${o.shard.count}`;
  const { manifest, save, record } = manifestWriter(o.out, inv, { lockEachSave: Boolean(o.shard) });

  const { todo, skipped } = splitDone(planned, { ...o, log }, inv, record);
  await save();
  const which = o.shard ? ` (shard ${o.shard.index}/${o.shard.count})` : '';
  log(`sweep: ${planned.length} runs planned${which}, ${skipped.length} already done, ${todo.length} to run → ${o.out}`);

  const ran: string[] = [];
  let stopped = false;
  const groups = planBatches(
    todo,
    (spec) => ({ spec, protocol: o.protocol }),
    (run) => batchSizeFor(run, o),
  );
  if (groups.some((g) => g.length > 1)) log(`sweep: training up to ${Math.max(...groups.map((g) => g.length))} networks per batch`);
  let started = 0;
  const designs = new SweepDesigns(o, planned);
  for (const group0 of groups) {
    if (o.maxRuns !== undefined && ran.length >= o.maxRuns) {
      stopped = true;
      break;
    }
    const group = o.maxRuns !== undefined ? group0.slice(0, o.maxRuns - ran.length) : group0;
    const optionsFor = (spec: RunSpec) => {
      const index = skipped.length + started + group.indexOf(spec) + 1;
      const label = `[${index}/${planned.length}] ${spec.mode}${spec.positive ? '+' : ''} ${spec.task} ${spec.variant}${spec.lambda === undefined ? '' : ` λ ${spec.lambda}`} seed ${spec.seed}`;
      return {
        dataDir: o.dataDir,
        backend: o.backend,
        protocol: o.protocol,
        dir: join(o.out, runRelDir(spec)),
        design: designs.for(spec),
        progress: { label, quiet: o.quiet, tty: o.tty },
        observer: o.observe?.(spec),
      };
    };
    const recs = await runGroup(group, optionsFor);
    designs.learn(group[0]!);
    started += group.length;
    recs.forEach((rec, i) => {
      record(join(o.out, runRelDir(group[i]!)), rec);
      ran.push(runId(group[i]!));
    });
    inv.ran = ran.length;
    await save();
    const el = (Date.now() - t0) / 1000;
    const left = todo.length - started;
    if (left > 0) log(`sweep: ${ran.length} run, ${left} left, ETA ${formatDuration((el / ran.length) * left)}`);
  }
  inv.finishedAt = stopped ? null : new Date().toISOString();
  inv.wallSeconds = (Date.now() - t0) / 1000;
  await save();
  return { planned, ran, skipped, manifest, wallSeconds: inv.wallSeconds, stopped };
}
