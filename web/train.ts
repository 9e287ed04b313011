/**
 * Train live: one network of the paper's protocol trained on the browser's GPU by the engine's
 * own training loop (trainNetworks), set up from the seed exactly as `cortical-rnn train` sets
 * it up (experiments/record.ts), with live curves (the loss per step with its cross-entropy and
 * regulariser; the accuracy per epoch against the task's chance level), W_rec as a heat map on one
 * colour scale for the whole run, steps per second, pause, resume and stop; then the run's
 * final.json and any of its W_rec matrices, downloaded under the run's key.
 */
import { NonFiniteError, type EpochInfo, type RnnDesign } from '../engine/index.ts';
import { QUICK_PRESET, PAPER_TASKS, resolveProtocol, type Mode, type Protocol } from '../experiments/protocol.ts';
import { ALL_VARIANTS } from '../experiments/variants.ts';
import { npyF4, runKey, toJson, type FinalRecord, type RunSpec } from '../experiments/record.ts';
import { protocolSteps } from '../experiments/setup.ts';
import { analyseInline, trainRunGroup, type RunObserver } from '../experiments/lifecycle.ts';
import { analyseTrainedRun } from '../experiments/trained_analysis.ts';
import { taskNames } from '../tasks/index.ts';
import { fieldContextOf, listFields } from './data.ts';
import { chanceLevel, gpuBackend, showNetwork } from './state.ts';
import { serverEngine, setServerToken, trainOnServer } from './server_run.ts';
import { colourBar, heatmap, heatScale, lineChart } from './plots.ts';
import { $, download, el } from './dom.ts';
import type { FrameStats } from './connectome3d.ts';

/** What a test (or a curious user, from the console) can read of the last run. */
interface LiveRun {
  /** The run's key (runKey, e.g. corrected.5_3_4.gonogo.WsDsC.seed-1): the stem of its downloads. */
  key: string;
  /** Per step: the loss, and its two parts (loss = ce + reg). */
  losses: number[];
  ces: number[];
  regs: number[];
  /** Milliseconds of each step (pauses and page repaints left out). */
  stepMs: number[];
  epochs: EpochInfo[];
  stepsPerSecond: number;
  /** The task's chance accuracy (the accuracy plot's dashed line). */
  chance: number | null;
  /** The heat maps' colour scale, fixed by the run's initial W_rec. */
  heatScale: number | null;
  /** The W_rec matrices the run has given so far ('initial', 'epoch 1', …, 'trained'). */
  weights: string[];
  done: boolean;
  record: FinalRecord | null;
  error: string | null;
}
declare global {
  interface Window {
    workbench: { run: LiveRun | null; frameStats?: () => FrameStats };
  }
}

class Stopped extends Error {}

function newLiveRun(spec: RunSpec): LiveRun {
  return {
    key: runKey(spec),
    losses: [],
    ces: [],
    regs: [],
    stepMs: [],
    epochs: [],
    stepsPerSecond: 0,
    chance: chanceLevel(spec.task),
    heatScale: null,
    weights: [],
    done: false,
    record: null,
    error: null,
  };
}

const KNOBS: Array<{ key: string; label: string; value: string; step?: string }> = [
  { key: 'seed', label: 'seed', value: '1', step: '1' },
  { key: 'epochs', label: 'epochs', value: String(QUICK_PRESET.protocol.epochs), step: '1' },
  { key: 'steps', label: 'steps (cap, optional)', value: '', step: '1' },
  { key: 'batchSize', label: 'batch size', value: String(QUICK_PRESET.protocol.batchSize), step: '1' },
  { key: 'lr', label: 'learning rate', value: String(QUICK_PRESET.protocol.lr), step: 'any' },
  { key: 'inputNoise', label: 'input noise σ', value: String(QUICK_PRESET.protocol.inputNoise), step: 'any' },
  { key: 'trainTrials', label: 'training trials', value: String(QUICK_PRESET.protocol.splits.train), step: '1' },
  { key: 'testTrials', label: 'test trials', value: String(QUICK_PRESET.protocol.splits.test), step: '1' },
  { key: 'valTrials', label: 'validation trials', value: String(QUICK_PRESET.protocol.splits.val), step: '1' },
  { key: 'lambda', label: 'λ (wiring cost)', value: String(QUICK_PRESET.protocol.lambda), step: 'any' },
  { key: 'mu', label: 'μ (EMD)', value: String(QUICK_PRESET.protocol.mu), step: 'any' },
  { key: 'nNull', label: 'null graphs for σ', value: '100', step: '1' },
  { key: 'nMatched', label: 'rewirings for σ_matched', value: '10', step: '1' },
];

function select(id: string, label: string, options: string[], value: string): HTMLLabelElement {
  const s = el(
    'select',
    { id },
    options.map((o) => el('option', { value: o, textContent: o })),
  );
  s.value = value;
  return el('label', { textContent: label }, [s]);
}

function readForm(): { spec: RunSpec; protocol: Protocol } {
  const v = (k: string) => $<HTMLInputElement>(`#t-${k}`).value.trim();
  const num = (k: string) => (v(k) === '' ? undefined : Number(v(k)));
  const seed = Number(v('seed'));
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`seed: expected a non-negative integer, got "${v('seed')}"`);
  const inputNoise = Number(v('inputNoise'));
  if (!Number.isFinite(inputNoise) || inputNoise < 0) throw new Error(`input noise σ: expected a number ≥ 0, got "${v('inputNoise')}"`);
  const protocol = {
    ...resolveProtocol(QUICK_PRESET.protocol, {
      epochs: num('epochs'),
      steps: num('steps'),
      lr: num('lr'),
      batchSize: num('batchSize'),
      trainTrials: num('trainTrials'),
      testTrials: num('testTrials'),
      valTrials: num('valTrials'),
      nNull: num('nNull'),
      nMatched: num('nMatched'),
      lambda: num('lambda'),
      mu: num('mu'),
    }),
    inputNoise,
  };
  const spec: RunSpec = {
    field: v('field'),
    task: v('task'),
    variant: v('variant'),
    seed,
    mode: v('mode') as Mode,
    positive: $<HTMLInputElement>('#t-positive').checked,
  };
  return { spec, protocol };
}

/** The form's selects and number fields, ids t-<key>, with the quick preset's values. */
function formControls(fieldNames: string[]): HTMLLabelElement[] {
  return [
    select('t-field', 'field', fieldNames, fieldNames.includes(QUICK_PRESET.field) ? QUICK_PRESET.field : fieldNames[0]!),
    select('t-task', 'task', [...PAPER_TASKS, ...taskNames.filter((t) => !PAPER_TASKS.includes(t))], 'gonogo'),
    select(
      't-variant',
      'variant',
      ALL_VARIANTS.map((x) => x.name),
      'W*D*C',
    ),
    select('t-mode', 'mode', ['corrected', 'paper'], 'corrected'),
    // the server: its API trains the run on its engine, this page follows the events
    select('t-where', 'run on', ['this browser', 'the server'], 'this browser'),
    // shown when the server's API asks for its bearer token
    el('label', { id: 't-token-label', textContent: 'server token', hidden: true }, [el('input', { id: 't-token', type: 'password', autocomplete: 'off' })]),
    // auto: one dispatch per time step on software adapters, one for all steps on GPUs (engine/gpu/rnn_design.ts)
    select('t-design', 'RNN kernels', ['auto', 'per-step', 'persistent'], 'auto'),
    ...KNOBS.map((k) => el('label', { textContent: k.label }, [el('input', { id: `t-${k.key}`, type: 'number', value: k.value, step: k.step ?? 'any' })])),
    el('label', { textContent: 'positive-only W_rec' }, [el('input', { id: 't-positive', type: 'checkbox' })]),
  ];
}

/** The page's run buttons and status line. */
interface TrainUi {
  start: HTMLButtonElement;
  pause: HTMLButtonElement;
  stop: HTMLButtonElement;
  dlW: HTMLButtonElement;
  dlF: HTMLButtonElement;
  /** Which of the run's W_rec matrices the heat map shows and the W_rec button downloads. */
  wsel: HTMLSelectElement;
  status: HTMLElement;
}

/** Pause/resume and stop, wired to their buttons; a run honours them between steps. */
function runControls(pause: HTMLButtonElement, stop: HTMLButtonElement) {
  let paused: { resume: () => void; promise: Promise<void> } | null = null;
  let stopping = false;
  pause.onclick = () => {
    if (paused) {
      paused.resume();
      paused = null;
      pause.textContent = 'Pause';
    } else {
      let resume = () => {};
      const promise = new Promise<void>((r) => (resume = r));
      paused = { resume, promise };
      pause.textContent = 'Resume';
    }
  };
  stop.onclick = () => {
    stopping = true;
    paused?.resume();
  };
  return {
    /** A new run starts unstopped. */
    arm: () => void (stopping = false),
    /** Between steps: wait while paused (after onPause), then end the run if stopped. */
    checkpoint: async (onPause: () => void) => {
      if (paused) {
        onPause();
        await paused.promise;
      }
      if (stopping) throw new Stopped('stopped');
    },
    /** The run is over: nothing is paused any more. */
    release: () => {
      paused = null;
      pause.textContent = 'Pause';
    },
  };
}
type RunControls = ReturnType<typeof runControls>;

/** The name of a run's file as a download: the run's key, then its path in the run directory with '.' for '/'. */
const downloadName = (key: string, path: string) => `${key}.${path.replaceAll('/', '.')}`;

/**
 * The run's W_rec matrices (initial, each epoch's, trained) behind the matrix picker, the heat
 * map with its colour bar, and the W_rec download; and its record behind the final.json download.
 * Every matrix of a run is drawn on one colour scale, fixed by the first (the initial W_rec), so
 * the epochs' maps compare by eye. After a stopped run the last matrix stays downloadable.
 */
function runFiles(ui: TrainUi) {
  let live: LiveRun | null = null;
  let n = 0;
  let last = '';
  let record: FinalRecord | null = null;
  const kept = new Map<string, { W: Float64Array; file: string }>();
  // The run's files as the CLI writes them (the same bytes), for the downloads.
  let written = new Map<string, string | Uint8Array>();
  const show = (label: string) => {
    const m = kept.get(label);
    if (!m || !live) return;
    ui.wsel.value = label;
    const beyond = heatmap($<HTMLCanvasElement>('#plot-wrec'), m.W, n, live.heatScale!);
    colourBar($('#plot-wrec-bar'), live.heatScale!);
    $('#heat-caption').textContent = `W_rec (${n}×${n}, rows post, columns pre), ${label === 'initial' || label === 'trained' ? label : `after ${label}`}`;
    $('#heat-scale').textContent =
      `Colour scale ±${live.heatScale!.toPrecision(3)} for every matrix of this run: the 99th percentile of the initial W_rec's off-diagonal |w|. ` +
      `${(100 * beyond).toFixed(1)}% of this matrix's entries lie beyond it and take the end colours.`;
    ui.dlW.textContent = `⤓ W_rec, ${label} (.npy)`;
    ui.dlW.title = ui.dlW.dataset.file = m.file;
  };
  ui.wsel.onchange = () => show(ui.wsel.value);
  ui.dlW.onclick = () => {
    const m = kept.get(ui.wsel.value);
    if (m) download(m.file, npyF4(m.W, [n, n]), 'application/octet-stream');
  };
  ui.dlF.onclick = () => record && live && download(downloadName(live.key, 'final.json'), written.get('final.json') ?? toJson(record), 'application/json');
  return {
    /** A new run: nothing kept, nothing to download. */
    reset: (run: LiveRun, size: number) => {
      [live, n, last, record] = [run, size, '', null];
      kept.clear();
      written = new Map<string, string | Uint8Array>();
      ui.wsel.replaceChildren();
      ui.wsel.disabled = ui.dlW.disabled = ui.dlF.disabled = true;
      ui.dlW.textContent = '⤓ W_rec (.npy)';
      ui.dlF.textContent = '⤓ final.json';
      ui.dlF.title = ui.dlF.dataset.file = downloadName(run.key, 'final.json');
      return written;
    },
    /** A matrix of the run (`path` as the CLI names its file); shown when the picker was on the latest. */
    keep: (label: string, path: string, W: Float64Array) => {
      if (!live) return;
      live.heatScale ??= heatScale(W, n);
      const follow = ui.wsel.value === last;
      kept.set(label, { W: Float64Array.from(W), file: downloadName(live.key, path) });
      if (!live.weights.includes(label)) {
        live.weights.push(label);
        ui.wsel.append(el('option', { value: label, textContent: label }));
      }
      last = label;
      ui.wsel.disabled = ui.dlW.disabled = false;
      if (follow) show(label);
    },
    keepRecord: (rec: FinalRecord) => {
      record = rec;
      ui.dlF.disabled = false;
      ui.dlF.textContent = '⤓ final.json (run record)';
    },
  };
}
type RunFiles = ReturnType<typeof runFiles>;

/** The live plots: loss per step (total, cross-entropy, regulariser) and accuracy per epoch. */
function liveView(live: LiveRun) {
  return {
    drawLoss: () =>
      lineChart(
        $<HTMLCanvasElement>('#plot-loss'),
        [
          { name: 'total', y: live.losses, colour: '#2f6fde' },
          { name: 'cross-entropy', y: live.ces, colour: '#f28e2b', dashed: true },
          // the wiring cost is often orders of magnitude below the CE: it has the right axis
          { name: 'regulariser (right axis)', y: live.regs, colour: '#2a9d5c', right: true },
        ],
        { x: { label: 'step', integer: true }, y: { label: 'loss' }, y2: { label: 'regulariser', colour: '#2a9d5c' } },
      ),
    drawAcc: () =>
      lineChart(
        $<HTMLCanvasElement>('#plot-acc'),
        [
          { name: 'train (noisy)', y: live.epochs.map((e) => e.trainAccuracy), x: live.epochs.map((e) => e.epoch), colour: '#f28e2b', dashed: true },
          { name: 'validation', y: live.epochs.map((e) => e.evalAccuracy ?? NaN), x: live.epochs.map((e) => e.epoch), colour: '#59a14f' },
        ],
        { x: { label: 'epoch', integer: true }, y: { label: 'accuracy', min: 0, max: 1 }, chance: live.chance },
      ),
  };
}

/** What one run's callbacks share. */
interface Run {
  spec: RunSpec;
  n: number;
  totalSteps: number;
  live: LiveRun;
  view: ReturnType<typeof liveView>;
  ui: TrainUi;
  controls: RunControls;
  files: RunFiles;
}

/** Feeds the live record and view from the training loop, and times the steps. */
function liveObserver(run: Run, onFinish: RunObserver['onFinish']): RunObserver {
  const { live, view, ui } = run;
  let busyMs = 0;
  let tLast = performance.now();
  return {
    onStart: (W) => run.files.keep('initial', 'W_rec_init.npy', W),
    onStep: async (s) => {
      const now = performance.now();
      busyMs += now - tLast;
      live.stepMs.push(now - tLast);
      live.losses.push(s.loss);
      live.ces.push(s.ce);
      live.regs.push(s.reg);
      // the first step compiles every kernel: the rate is of the steps after it
      live.stepsPerSecond = live.stepMs.length > 1 ? (live.stepMs.length - 1) / ((busyMs - live.stepMs[0]!) / 1000) : 1000 / busyMs;
      ui.status.textContent = `step ${s.step}/${run.totalSteps}, epoch ${s.epoch}: loss ${s.loss.toFixed(4)} (CE ${s.ce.toFixed(4)}, reg ${s.reg.toFixed(4)}) · ${live.stepsPerSecond.toFixed(2)} steps/s`;
      view.drawLoss();
      await run.controls.checkpoint(() => (ui.status.textContent += ' · paused'));
      // a frame for the page to paint between steps
      await new Promise((r) => requestAnimationFrame(() => r(null)));
      tLast = performance.now();
    },
    onEpoch: (e, W) => {
      live.epochs.push(e);
      view.drawAcc();
      run.files.keep(`epoch ${e.epoch}`, `W_rec_epoch${String(e.epoch).padStart(2, '0')}.npy`, W);
      // the epoch's evaluation is not a training step: the next step's clock starts here
      tLast = performance.now();
    },
    onTrained: () => (ui.status.textContent = 'evaluating on the test set and analysing the network…'),
    onFinish,
  };
}

/** The finished run: its record, its trained W_rec (shown in 3D too) and a summary line. */
function showResult(run: Run, rec: FinalRecord, W: Float64Array | null, positionsUm: ArrayLike<number>, backendName: () => string): void {
  const { spec, n, live, ui } = run;
  run.files.keepRecord(rec);
  live.record = rec;
  if (rec.status === 'diverged' || !W) {
    ui.status.textContent = `diverged at step ${rec.divergence!.step} (${rec.divergence!.tensor})`;
    return;
  }
  run.files.keep('trained', 'params_final/W_rec.npy', W);
  showNetwork({
    field: spec.field,
    label: `${spec.variant}, ${spec.task}, seed ${spec.seed} (trained here)`,
    n,
    W,
    communities: rec.metrics!.communities,
    positionsUm,
  });
  ui.status.textContent = `done: test accuracy ${rec.accuracy!.test.toFixed(3)}, paper accuracy ${rec.accuracy!.paper.toFixed(3)}, Q ${rec.metrics!.Q_cnm.toFixed(3)} · ${live.stepsPerSecond.toFixed(2)} steps/s on ${backendName()}`;
}

/** One run, from loading its field to its result; failures are the caller's to show. */
async function trainLive(spec: RunSpec, protocol: Protocol, live: LiveRun, ui: TrainUi, controls: RunControls, runFiles: RunFiles): Promise<void> {
  const backend = await gpuBackend();
  const ctx = await fieldContextOf(spec.field);
  const n = ctx.n;
  const { totalSteps } = protocolSteps(protocol);
  const files = runFiles.reset(live, n);
  ui.status.textContent = `N = ${n}, ${totalSteps} steps: compiling kernels…`;
  const run: Run = { spec, n, totalSteps, live, view: liveView(live), ui, controls, files: runFiles };
  // the step clock starts here, before the empty plots are drawn
  const observer = liveObserver(run, (rec, W) => showResult(run, rec, W, ctx.positionsUm, () => backend.ctx.describe()));
  run.view.drawLoss();
  run.view.drawAcc();
  await trainRunGroup([{ spec, ctx, sink: { write: async (name, data) => void files.set(name, data) }, observer }], {
    backend,
    protocol,
    design: $<HTMLSelectElement>('#t-design').value as RnnDesign | 'auto',
    analyse: (jobs) => analyseInline(jobs, analyseTrainedRun),
  });
}

/** One run on the server (through its API), followed live from its events. */
async function trainLiveOnServer(spec: RunSpec, protocol: Protocol, live: LiveRun, ui: TrainUi, controls: RunControls, runFiles: RunFiles): Promise<void> {
  const ctx = await fieldContextOf(spec.field);
  const { totalSteps } = protocolSteps(protocol);
  runFiles.reset(live, ctx.n);
  ui.status.textContent = `N = ${ctx.n}, ${totalSteps} steps: submitted to the server…`;
  const run: Run = { spec, n: ctx.n, totalSteps, live, view: liveView(live), ui, controls, files: runFiles };
  let engine = 'the server';
  const observer = liveObserver(run, (rec, W) => {
    // the events arrive faster than the server trained: its own rate is in the record
    if (rec.timings.s_per_step) live.stepsPerSecond = 1 / rec.timings.s_per_step;
    showResult(run, rec, W, ctx.positionsUm, () => engine);
  });
  run.view.drawLoss();
  run.view.drawAcc();
  const where = await serverEngine();
  if ('why' in where) throw new Error(`the server: ${where.why}`);
  engine = `the server (${where.engine})`;
  await trainOnServer(spec, protocol, observer);
}

function showFailure(e: unknown, live: LiveRun, status: HTMLElement): void {
  const stoppedByUser = e instanceof Stopped;
  live.error = stoppedByUser ? 'stopped' : (e as Error).message;
  status.textContent = stoppedByUser ? `stopped after ${live.losses.length} steps` : `error: ${(e as Error).message}`;
  status.className = stoppedByUser ? 'muted' : 'bad';
  if (e instanceof NonFiniteError) status.textContent = `diverged: ${e.message}`;
}

/**
 * The "run on the server" choice, offered when the server's API answers (else greyed, with
 * why); a token field appears when the API asks for its bearer token.
 */
async function offerServer(): Promise<boolean> {
  const where = await serverEngine();
  const option = $<HTMLSelectElement>('#t-where').options[1]!;
  option.disabled = 'why' in where;
  option.title = 'why' in where ? where.why : `trains on ${where.engine}`;
  $('#t-token-label').hidden = !('needsToken' in where && where.needsToken) && !$<HTMLInputElement>('#t-token').value;
  return !option.disabled;
}

/** A token typed in: kept for this tab, and the server offered again with it. */
function onToken(ui: TrainUi, localOk: boolean): void {
  $<HTMLInputElement>('#t-token').onchange = async (e) => {
    setServerToken((e.target as HTMLInputElement).value);
    const server = await offerServer();
    if (server && !localOk) $<HTMLSelectElement>('#t-where').value = 'the server';
    if (server || localOk) ui.start.disabled = false;
    ui.status.textContent = server ? 'the server accepted the token' : $<HTMLSelectElement>('#t-where').options[1]!.title;
  };
}

export async function initTrain(): Promise<void> {
  window.workbench = { run: null };
  const form = $<HTMLFormElement>('#train-form');
  const fieldNames = (await listFields()).map((f) => f.field);
  form.append(...formControls(fieldNames));
  form.onsubmit = (e) => e.preventDefault();

  const ui: TrainUi = {
    start: $<HTMLButtonElement>('#train-start'),
    pause: $<HTMLButtonElement>('#train-pause'),
    stop: $<HTMLButtonElement>('#train-stop'),
    dlW: $<HTMLButtonElement>('#dl-weights'),
    dlF: $<HTMLButtonElement>('#dl-final'),
    wsel: $<HTMLSelectElement>('#t-wsel'),
    status: $('#train-status'),
  };
  const { start, pause, stop, status } = ui;
  const local = await gpuBackend().then(
    () => null,
    (e: unknown) => (e as Error).message,
  );
  const server = await offerServer();
  onToken(ui, local === null);
  if (local !== null) {
    status.textContent = server ? `${local} · this page trains on the server instead` : local;
    status.className = server ? 'muted' : 'bad';
    const where = $<HTMLSelectElement>('#t-where');
    where.options[0]!.disabled = true;
    if (server) where.value = 'the server';
  }
  // without a local adapter, Train waits for the server (a token typed in may open it)
  start.disabled = local !== null && !server;
  const controls = runControls(pause, stop);
  const files = runFiles(ui);

  start.onclick = async () => {
    let spec: RunSpec;
    let protocol: Protocol;
    try {
      ({ spec, protocol } = readForm());
    } catch (e) {
      status.textContent = (e as Error).message;
      status.className = 'bad';
      return;
    }
    const live = newLiveRun(spec);
    window.workbench.run = live;
    start.disabled = true;
    pause.disabled = false;
    stop.disabled = false;
    controls.arm();
    status.className = 'muted';
    status.textContent = `loading field ${spec.field}…`;
    const onServer = $<HTMLSelectElement>('#t-where').value === 'the server';
    pause.disabled = onServer; // a server run cannot pause; Stop cancels it there
    try {
      await (onServer ? trainLiveOnServer : trainLive)(spec, protocol, live, ui, controls, files);
    } catch (e) {
      showFailure(e, live, status);
    } finally {
      live.done = true;
      controls.release();
      start.disabled = false;
      pause.disabled = stop.disabled = true;
    }
  };
}
