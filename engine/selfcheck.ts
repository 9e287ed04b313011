/**
 * Kernel self-checks that run wherever the engine runs (Node or a browser page): each GPU
 * kernel family against its CPU twin on small random inputs — the tiled matmuls (plain and
 * transposed), elementwise and reduction kernels, softmax cross-entropy, the fused recurrent
 * forward and BPTT in every design with the communicability regulariser (expm and its
 * gradient), the fused Adam, and the regulariser of several networks as one stack. A representative subset of the Node test suite, so a browser
 * adapter (e.g. Chromium's SwiftShader, with 4-lane subgroups) can be checked in place.
 */
import { Rng } from './rng.ts';
import type { Backend, RnnDesign, Tensor } from './tensor.ts';
import { RnnTrainer } from './rnn/trainer.ts';
import { initParams, PARAM_NAMES, type HostParams, type RnnConfig } from './rnn/params.ts';
import { WdcRegularizer } from './regularizers/communicability.ts';
import type { Batch } from './data.ts';

export interface CheckResult {
  name: string;
  /** max |gpu − cpu| / max(1, max |cpu|). */
  error: number;
  tolerance: number;
  pass: boolean;
}

function relError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) return Infinity;
  let scale = 1;
  let err = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    err = Number.isNaN(d) ? Infinity : Math.max(err, d);
  }
  return err / scale;
}

/** A random batch of a small rate RNN, loss at the last step. */
function randomBatch(rng: Rng, T: number, B: number, nIn: number, nOut: number): Batch {
  const x = Float32Array.from(rng.normals(T * B * nIn));
  const labels = Float32Array.from({ length: T * B }, () => rng.int(nOut));
  const mask = new Float32Array(T * B).fill(1, (T - 1) * B);
  return { T, B, x, labels, lossMask: mask, scoreMask: mask };
}

const flat = (p: HostParams) => Float64Array.from(PARAM_NAMES.flatMap((k) => Array.from(p[k] ?? [])));

/**
 * Runs every check of `gpu` against `cpu` (a CpuBackend); `onResult` sees each as it finishes.
 * Tolerances are float32's: 1e-4 for single kernels, 1e-3 after a BPTT chain.
 */
/** Single kernels: the same op on both backends from the same host data. */
const SINGLE_OPS: Array<{ name: string; shapes: number[][]; run: (be: Backend, t: Tensor[]) => Tensor }> = [
  {
    name: 'matmul 37×29 · 29×41',
    shapes: [
      [37, 29],
      [29, 41],
    ],
    run: (be, [a, b]) => be.matmul(a!, b!),
  },
  {
    name: 'matmul 64×64 · 64×64 (aligned)',
    shapes: [
      [64, 64],
      [64, 64],
    ],
    run: (be, [a, b]) => be.matmul(a!, b!),
  },
  {
    name: 'matmul Aᵀ·B',
    shapes: [
      [33, 20],
      [33, 17],
    ],
    run: (be, [a, b]) => be.matmul(a!, b!, { transA: true }),
  },
  {
    name: 'matmul A·Bᵀ',
    shapes: [
      [20, 33],
      [17, 33],
    ],
    run: (be, [a, b]) => be.matmul(a!, b!, { transB: true }),
  },
  {
    name: 'matmul skinny 300×3 · 3×50',
    shapes: [
      [300, 3],
      [3, 50],
    ],
    run: (be, [a, b]) => be.matmul(a!, b!),
  },
  { name: 'unary relu', shapes: [[50, 30]], run: (be, [a]) => be.unary('relu', a!) },
  { name: 'unary exp', shapes: [[50, 30]], run: (be, [a]) => be.unary('exp', a!) },
  {
    name: 'binary mul',
    shapes: [
      [40, 30],
      [40, 30],
    ],
    run: (be, [a, b]) => be.binary('mul', a!, b!),
  },
  { name: 'affine', shapes: [[40, 30]], run: (be, [a]) => be.affine(a!, 0.5, -2) },
  { name: 'sum', shapes: [[70, 33]], run: (be, [a]) => be.sum(a!) },
  { name: 'sum over axis 0', shapes: [[70, 33]], run: (be, [a]) => be.sumAxis(a!, 0) },
  { name: 'transpose', shapes: [[23, 45]], run: (be, [a]) => be.transpose(a!) },
];

export async function kernelSelfCheck(gpu: Backend, cpu: Backend, onResult?: (r: CheckResult) => void): Promise<CheckResult[]> {
  const rng = new Rng(7, 'selfcheck');
  const results: CheckResult[] = [];
  const record = (name: string, got: ArrayLike<number>, want: ArrayLike<number>, tolerance: number) => {
    const error = relError(got, want);
    const r = { name, error, tolerance, pass: error <= tolerance };
    results.push(r);
    onResult?.(r);
  };

  for (const op of SINGLE_OPS) {
    const data = op.shapes.map((s) => Float32Array.from(rng.normals(s[0]! * s[1]!)));
    const out = await Promise.all(
      [gpu, cpu].map((be) => {
        const reads = be.scope(() => ({
          r: be.read(
            op.run(
              be,
              data.map((d, i) => be.fromArray(d, op.shapes[i]!)),
            ),
          ),
        }));
        return reads.r;
      }),
    );
    record(op.name, out[0]!, out[1]!, 1e-4);
  }
  await checkSoftmax(gpu, cpu, rng, record);

  await checkRecurrence(gpu, cpu, rng, record);
  await checkStack(gpu, cpu, rng, record);
  return results;
}

type RecordCheck = (name: string, got: ArrayLike<number>, want: ArrayLike<number>, tolerance: number) => void;

/**
 * The recurrent cell over all steps, forward and BPTT, with the communicability regulariser, in
 * every design that fits the adapter; then three Adam steps of the per-step design.
 */
async function checkRecurrence(gpu: Backend, cpu: Backend, rng: Rng, record: RecordCheck): Promise<void> {
  const cfg: RnnConfig = { nIn: 3, nHidden: 24, nOut: 3, alpha: 1, outputBias: true };
  const N = cfg.nHidden;
  const params = initParams(cfg, new Rng(3, 'selfcheck:init'));
  const D = Float64Array.from({ length: N * N }, (_, k) => (Math.floor(k / N) === k % N ? 0 : rng.uniformIn(0.1, 1)));
  const reg = () => new WdcRegularizer({ lambda: 0.3, D });
  const batch = randomBatch(rng, 10, 16, cfg.nIn, cfg.nOut);
  const trainers = (design: RnnDesign) =>
    [gpu, cpu].map((be) => new RnnTrainer(be, cfg, [{ params, regularizers: [reg()] }], { design: be === gpu ? design : 'auto' }));
  const designs = gpu.rnnDesigns(N, batch.B);
  for (const design of designs) {
    const [tg, tc] = trainers(design);
    try {
      const [g] = await tg!.gradients([batch]);
      const [c] = await tc!.gradients([batch]);
      record(`RNN forward + regulariser, ${design} (loss)`, [g!.ce, g!.reg], [c!.ce, c!.reg], 1e-4);
      record(`RNN BPTT + expm gradient, ${design} (all gradients)`, flat(g!.grads), flat(c!.grads), 1e-3);
    } finally {
      tg!.dispose();
      tc!.dispose();
    }
  }
  const [tg, tc] = trainers('per-step');
  try {
    for (let s = 0; s < 3; s++) {
      await tg!.step([batch]);
      await tc!.step([batch]);
    }
    record('Adam, 3 steps (all parameters)', flat(await tg!.getParams()), flat(await tc!.getParams()), 1e-4);
  } finally {
    tg!.dispose();
    tc!.dispose();
  }
}

/**
 * The WDC cost of three networks as one stack (each its own λ and expm plan), and the scaled
 * scatter of their gradients into an arena, on both backends from the same weights.
 */
async function checkStack(gpu: Backend, cpu: Backend, rng: Rng, record: RecordCheck): Promise<void> {
  const N = 20;
  const D = Float64Array.from({ length: N * N }, (_, k) => (Math.floor(k / N) === k % N ? 0 : rng.uniformIn(0.1, 1)));
  const costs = [0.3, 0.05, 1].map((lambda) => new WdcRegularizer({ lambda, D, sMin: 1e-4 }));
  // The third network's one dominant column raises its ‖M‖₁, so its expm needs more squarings.
  const W = Float32Array.from(rng.normals(3 * N * N + 5)).map((w, k) => (k >= 5 + 2 * N * N && (k - 5) % N === 0 ? 4 : w * 0.1));
  const scale = [0.5, 2, -1];
  const out = await Promise.all(
    [gpu, cpu].map((be) => {
      const reads = be.scope(() => {
        const r = be.wiringCosts(costs, be.fromArray(W, [W.length]), [5, 5 + N * N, 5 + 2 * N * N], N);
        const rows = [0, 1, 2].map((m) => ({ block: m, scaleAt: 2 - m, offset: 3 + m * (N * N + 2) }));
        const placed = be.assembleScaled(3 * N * N + 9, be.fromArray(scale, [3]), [{ blocks: r.grads, len: N * N, rows }]);
        return { r: be.readAll([r.values, placed]) };
      });
      return reads.r;
    }),
  );
  record('WDC of 3 networks as one stack (values)', out[0]![0]!, out[1]![0]!, 1e-4);
  record('WDC of 3 networks as one stack, gradients scaled into an arena', out[0]![1]!, out[1]![1]!, 1e-3);
}

/** Softmax cross-entropy, loss and probabilities, on both backends from the same logits. */
async function checkSoftmax(gpu: Backend, cpu: Backend, rng: Rng, record: RecordCheck): Promise<void> {
  const C = 5;
  const rows = 64;
  const logits = Float32Array.from(rng.normals(rows * C));
  const labels = Float32Array.from({ length: rows }, () => rng.int(C));
  const [g, c] = await Promise.all(
    [gpu, cpu].map((be) => {
      const reads = be.scope(() => {
        const { loss, probs } = be.softmaxCrossEntropy(be.fromArray(logits, [rows, C]), be.fromArray(labels, [rows]));
        return { r: be.readAll([loss, probs]) };
      });
      return reads.r;
    }),
  );
  record('softmax cross-entropy (loss, probabilities)', [...g![0]!, ...g![1]!], [...c![0]!, ...c![1]!], 1e-4);
}
