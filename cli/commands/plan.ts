/**
 * `cortical-rnn plan --field 6_6_2 --variant 'W*D*C' [--task pdm] [--models-per-batch K] [--json]`
 * prints what one training step of that run costs on the adapter in hand, without training:
 * the shapes (N, the task's T, nIn, nOut, the batch B, the networks K side by side), the FLOPs
 * of each part of the step, the device memory by what it holds, for one network and for K, and
 * whether the largest buffer fits the adapter's binding limit. The counts come from
 * experiments/plan.ts, which follows the WebGPU engine's own code path.
 */
import type { CommandModule } from 'yargs';
import { resolveDataDir } from '../../connectome/datadir.ts';
import { CpuBackend } from '../../engine/cpu/backend.ts';
import { OptionError } from '../../engine/errors.ts';
import { GpuBackend } from '../../engine/gpu/backend.ts';
import { formatBytes } from '../../engine/gpu/context.ts';
import { chooseDesign } from '../../engine/gpu/rnn_design.ts';
import { maxModelsFor } from '../../engine/rnn/trainer.ts';
import type { Backend, RnnDesign } from '../../engine/tensor.ts';
import { batchSizeFor } from '../../experiments/batch_plan.ts';
import { overridesOf, withProtocolOptions, type ProtocolArgs } from '../../experiments/cli_options.ts';
import { FIRST_CALL_SQUARINGS, FLOP_PARTS, MEMORY_PARTS, planBatch, readoutRange, type BatchPlan } from '../../experiments/plan.ts';
import { prepareField } from '../../experiments/prepare.ts';
import { PAPER_PROTOCOL, QUICK_PRESET, modeSettings, resolveProtocol, type Mode, type Protocol } from '../../experiments/protocol.ts';
import { protocolSteps, rnnConfigFor } from '../../experiments/setup.ts';
import { getVariant, type Variant } from '../../experiments/variants.ts';
import { getTask, type Task } from '../../tasks/index.ts';
import { withBackend, withBackendOption, BACKEND_CHOICES } from '../common.ts';

type Args = ProtocolArgs & {
  data?: string;
  field?: string;
  task: string;
  variant: string;
  mode: string;
  positive: boolean;
  quick: boolean;
  backend: (typeof BACKEND_CHOICES)[number];
  modelsPerBatch?: number;
  squarings: number;
  json?: boolean;
};

/** The run as the flags name it, checked before any adapter is asked for. */
interface RunChoice {
  field: string;
  n: number;
  dataDir: string;
  task: Task;
  variant: Variant;
  mode: Mode;
  positive: boolean;
  protocol: Protocol;
}

const FLOP_LABELS: Record<(typeof FLOP_PARTS)[number], string> = {
  recurrence: 'forward: recurrence (T fused steps)',
  inputReadout: 'forward: input drive and read-out',
  loss: 'loss: softmax cross-entropy',
  bptt: 'BPTT: recurrence (T fused steps)',
  weightGrads: 'BPTT: weight and bias gradients',
  regulariser: 'regulariser (value and gradient)',
  adam: 'Adam',
};

const MEMORY_LABELS: Record<(typeof MEMORY_PARTS)[number], string> = {
  parameters: 'parameters θ',
  adam: 'Adam moments m, v',
  gradients: 'gradients (RNN, regulariser, sum)',
  batch: 'batch (inputs, labels, mask)',
  states: 'forward states U, H, R (for BPTT)',
  bptt: 'BPTT temporaries dH, δ, G',
  logits: 'logits, probabilities, loss',
  regulariser: 'regulariser (D, W_rec copies, temporaries)',
  readback: 'read-back',
};

const REGULARISER_WORK: Record<Variant['regularizer'], string> = {
  L1: 'L1, λ·Σ|W_rec|: elementwise, O(N²)',
  WD: 'WD, λ·Σ|W_rec|∘D: one fused elementwise kernel, O(N²)',
  WDC: 'WDC: expm of the N×N normalised |W_rec| (6 + s products) and its Fréchet adjoint (12 + 2s), 2N³ FLOPs a product',
  EMD: 'EMD: expm of the N×N normalised |W_rec| (6 + s products), a sort of C, and the Fréchet adjoint (12 + 2s), 2N³ FLOPs a product',
};

function checkedRun(a: Args): RunChoice {
  const variant = getVariant(a.variant);
  const task = getTask(a.task);
  const mode = modeSettings(a.mode as Mode).mode;
  const protocol = resolveProtocol(a.quick ? QUICK_PRESET.protocol : PAPER_PROTOCOL, overridesOf(a));
  if (a.modelsPerBatch !== undefined && !(Number.isInteger(a.modelsPerBatch) && a.modelsPerBatch >= 1))
    throw new OptionError('--models-per-batch', 'a positive integer', `${a.modelsPerBatch}`);
  if (!(Number.isInteger(a.squarings) && a.squarings >= 0 && a.squarings <= FIRST_CALL_SQUARINGS))
    throw new OptionError('--squarings', `an integer from 0 to ${FIRST_CALL_SQUARINGS}`, `${a.squarings}`);
  const field = a.field ?? (a.quick ? QUICK_PRESET.field : '6_6_2');
  const dataDir = resolveDataDir(a.data);
  const n = prepareField(dataDir, field).n; // a bad field or data file fails here, before the adapter starts
  return { field, n, dataDir, task, variant, mode, positive: a.positive, protocol };
}

/** What the backend decides: the value width, the RNN design, the limits, and K. */
function adapterFacts(b: Backend, run: RunChoice, modelsPerBatch: number | undefined) {
  const cfg = rnnConfigFor(run.task, run.n);
  const { T } = run.task;
  const B = run.protocol.batchSize;
  const gpu = b instanceof GpuBackend ? b : null;
  const design: RnnDesign = gpu ? chooseDesign(gpu.ctx, run.n, 1, 'auto') : 'per-step';
  const limits = gpu ? { maxStorageBufferBindingSize: gpu.ctx.limits.maxStorageBufferBindingSize!, maxBufferSize: gpu.ctx.limits.maxBufferSize! } : null;
  const spec = { field: run.field, task: run.task.name, variant: run.variant.name, seed: 1, mode: run.mode, positive: run.positive };
  const K = batchSizeFor({ spec, protocol: run.protocol }, { backend: b, dataDir: run.dataDir, modelsPerBatch });
  const kSource =
    modelsPerBatch !== undefined
      ? '--models-per-batch'
      : gpu
        ? `the default: as many as the adapter allows, up to 64; maxModelsFor gives ${maxModelsFor(b, cfg, T, B)}`
        : 'the default on the CPU reference backend';
  const valueBytes = b instanceof CpuBackend && b.precision === 'f64' ? 8 : 4;
  return { cfg, design, limits, K, kSource, valueBytes, description: b.describe(), backend: gpu ? 'webgpu' : 'cpu' };
}

/** The whole plan as one object: what --json prints and the table is made from. */
function planReport(b: Backend, run: RunChoice, a: Args) {
  const f = adapterFacts(b, run, a.modelsPerBatch);
  const { T, nIn, nOut } = run.task;
  const B = run.protocol.batchSize;
  const readout = readoutRange(run.task);
  const plan = planBatch({
    cfg: f.cfg,
    T,
    B,
    K: f.K,
    regularizer: run.variant.regularizer,
    readoutSteps: readout.to - readout.from,
    squarings: a.squarings,
    encodedSquarings: FIRST_CALL_SQUARINGS,
    design: f.design,
    valueBytes: f.valueBytes,
  });
  const steps = protocolSteps(run.protocol).totalSteps;
  const limit = f.limits ? Math.min(f.limits.maxStorageBufferBindingSize, f.limits.maxBufferSize) : null;
  return {
    adapter: { backend: f.backend, description: f.description, limits: f.limits },
    run: { field: run.field, N: run.n, task: run.task.name, T, nIn, nOut, readout, variant: run.variant.name, regularizer: run.variant.regularizer },
    protocol: { mode: run.mode, batchSize: B, steps, design: f.design, K: f.K, kSource: f.kSource },
    flops: { squarings: a.squarings, perSquaring: plan.flopsPerSquaring, oneNetwork: plan.one.flops, all: plan.all.flops, run: steps * plan.all.flops.total },
    memory: {
      estimate: f.backend === 'cpu',
      oneNetwork: plan.one.memory,
      all: plan.all.memory,
      perNetwork: plan.perNetwork,
      shared: plan.shared,
      largest: plan.all.largest,
      fits: limit === null ? null : plan.all.largest.bytes <= limit,
    },
    notes: notesOf(run, f, plan),
  };
}

type Report = ReturnType<typeof planReport>;

function notesOf(run: RunChoice, f: ReturnType<typeof adapterFacts>, plan: BatchPlan): string[] {
  const notes: string[] = [
    'FLOPs: the work each dispatch declares for `bench profile`, summed; kernels that declare none (expm scaling, the EMD sort) are not counted.',
  ];
  if (plan.flopsPerSquaring > 0) {
    notes.push('expm squarings s: the data decide them (the fewest with ‖M‖₁/2^s ≤ 2.51, read back as training runs); --squarings sets the s counted here.');
  }
  if (f.design === 'persistent')
    notes.push('the persistent RNN kernels declare no cost; they are counted as the per-step kernels’ arithmetic, which is the same.');
  notes.push(
    f.backend === 'cpu'
      ? `memory is an estimate: the WebGPU engine's buffers at ${f.valueBytes} bytes a value; the CPU reference allocates its own arrays and frees them through the garbage collector.`
      : `memory: the buffers the engine holds after the first step (its buffer pool replayed${plan.flopsPerSquaring > 0 ? `; the first step encodes ${FIRST_CALL_SQUARINGS} expm squarings` : ''}; later steps reuse the pool); WebGPU’s own overhead, uniforms and staging buffers are not counted.`,
  );
  const B = run.protocol.batchSize;
  const ragged = Object.entries(run.protocol.splits).filter(([, n]) => n % B !== 0);
  if (ragged.length) {
    const names = ragged.map(([k]) => k).join(' and ');
    const which = ragged.length === 1 ? `the ${names} split's last batch is` : `the ${names} splits' last batches are`;
    notes.push(`${which} smaller than B and allocate${ragged.length === 1 ? 's' : ''} buffers of ${ragged.length === 1 ? 'its' : 'their'} own (not counted).`);
  }
  return notes;
}

function fmtFlops(x: number): string {
  const units: [number, string][] = [
    [1e15, 'PFLOP'],
    [1e12, 'TFLOP'],
    [1e9, 'GFLOP'],
    [1e6, 'MFLOP'],
    [1e3, 'kFLOP'],
  ];
  const [scale, unit] = units.find(([s]) => x >= s) ?? [1, 'FLOP'];
  return `${(x / scale).toFixed(x / scale >= 100 ? 0 : x / scale >= 10 ? 1 : 2)} ${unit}`;
}

/** Rows of a two-column table (one network, K networks) under a heading. */
function printColumns(heading: string, K: number, rows: [string, string, string][]): void {
  const w = Math.max(...rows.map((r) => r[0].length), heading.length) + 2;
  const c = Math.max(12, ...rows.map((r) => r[1].length)) + 2;
  console.log(`${heading.padEnd(w)}${'1 network'.padStart(c)}${`K = ${K}`.padStart(c)}`);
  for (const [label, one, all] of rows) console.log(`  ${label.padEnd(w - 2)}${one.padStart(c)}${all.padStart(c)}`);
}

function printReport(r: Report): void {
  const { run, protocol: p, flops, memory } = r;
  const rows: [string, string][] = [
    ['adapter', r.adapter.description],
    ['network', `N = ${run.N} units (field ${run.field})${r.adapter.backend === 'webgpu' ? `, RNN design ${p.design}` : ''}`],
    ['task', `${run.task}: T = ${run.T} steps, nIn = ${run.nIn}, nOut = ${run.nOut}, read-out at steps ${run.readout.from}..${run.readout.to - 1}`],
    ['batch', `B = ${p.batchSize} trials, ${p.steps} steps a run (${p.mode} mode)`],
    ['networks', `K = ${p.K} side by side (${p.kSource})`],
    ['regulariser', `${REGULARISER_WORK[run.regularizer]} (variant ${run.variant})`],
  ];
  for (const [k, v] of rows) console.log(`${`${k}:`.padEnd(14)}${v}`);
  console.log('');
  const flopRows = FLOP_PARTS.map((k): [string, string, string] => [FLOP_LABELS[k], fmtFlops(flops.oneNetwork[k]), fmtFlops(flops.all[k])]);
  flopRows.push(['total', fmtFlops(flops.oneNetwork.total), fmtFlops(flops.all.total)]);
  if (flops.perSquaring > 0) flopRows.push(['each further expm squaring', `+${fmtFlops(flops.perSquaring / p.K)}`, `+${fmtFlops(flops.perSquaring)}`]);
  printColumns(`FLOPs per training step${flops.perSquaring > 0 ? ` (expm at s = ${flops.squarings})` : ''}`, p.K, flopRows);
  console.log(`  a run's ${p.steps} steps, K networks: ${fmtFlops(flops.run)}`);
  console.log('');
  const memRows = MEMORY_PARTS.map((k): [string, string, string] => [MEMORY_LABELS[k], formatBytes(memory.oneNetwork[k]), formatBytes(memory.all[k])]);
  memRows.push(['total', formatBytes(memory.oneNetwork.total), formatBytes(memory.all.total)]);
  printColumns(memory.estimate ? 'memory (estimate, host)' : 'device memory', p.K, memRows);
  console.log(
    `  K networks = K × ${formatBytes(memory.perNetwork)} + ${formatBytes(memory.shared)} shared (what the networks share: the distances, and the temporaries of costs run network by network)`,
  );
  console.log('');
  printLimits(r);
  console.log('notes:');
  for (const n of r.notes) console.log(`  - ${n}`);
}

function printLimits(r: Report): void {
  const { limits } = r.adapter;
  const big = r.memory.largest;
  if (!limits) {
    console.log(`limits:       none on the CPU reference backend (largest array: ${big.name}, ${formatBytes(big.bytes)})`);
    return;
  }
  console.log('limits:');
  console.log(`  ${'maxStorageBufferBindingSize'.padEnd(30)}${formatBytes(limits.maxStorageBufferBindingSize)}`);
  console.log(`  ${'maxBufferSize'.padEnd(30)}${formatBytes(limits.maxBufferSize)}`);
  console.log(`  ${'largest buffer'.padEnd(30)}${big.name}, ${formatBytes(big.bytes)}${r.memory.fits ? ': fits' : ''}`);
  if (!r.memory.fits) {
    const name = limits.maxStorageBufferBindingSize <= limits.maxBufferSize ? 'maxStorageBufferBindingSize' : 'maxBufferSize';
    const limit = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
    console.log(
      `does not fit: ${big.name} needs ${formatBytes(big.bytes)}, over the adapter's ${name} of ${formatBytes(limit)}; lower --models-per-batch or --batch-size`,
    );
  }
}

export const command: CommandModule<object, Args> = {
  command: 'plan',
  describe: 'Print what one training step of a run costs on this adapter: shapes, FLOPs, device memory, and the limits it must fit',
  builder: (y) =>
    withProtocolOptions(withBackendOption(y))
      .option('field', { type: 'string', describe: 'imaging field (default 6_6_2; 5_3_4 with --quick)' })
      .option('task', { type: 'string', default: 'inference', describe: "inference | gonogo | pdm (or any task name); default inference, the paper's longest" })
      .option('variant', { type: 'string', demandOption: true, describe: "variant, e.g. 'W*D*C' (quote it in the shell)" })
      .option('mode', { choices: ['paper', 'corrected'] as const, default: 'corrected' as const, describe: 'paper or corrected mode (as train)' })
      .option('models-per-batch', {
        type: 'number',
        describe: "networks trained together (default: as many as the adapter's memory allows, up to 64; 1 on the CPU reference backend)",
      })
      .option('squarings', {
        type: 'number',
        default: 0,
        describe: `expm squarings s counted in the FLOPs of WDC and EMD (the data decide s; 0 to ${FIRST_CALL_SQUARINGS})`,
      })
      .option('json', { type: 'boolean', describe: 'machine-readable output' }) as never,
  handler: async (a) => {
    const run = checkedRun(a);
    await withBackend(a, async (b) => {
      const report = planReport(b, run, a);
      if (a.json) console.log(JSON.stringify(report, null, 2));
      else printReport(report);
    });
  },
};
