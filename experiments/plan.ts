/**
 * What one training step costs, from the run's shapes alone (nothing is trained): FLOPs and
 * device memory, following RnnTrainer.step on the WebGPU engine (engine/rnn/trainer.ts,
 * engine/gpu/backend.ts, engine/regularizers/gpu.ts, engine/expm/gpu.ts) dispatch by dispatch
 * and buffer by buffer, so that a change there shows up as a failing count in
 * tests/plan.test.ts rather than as a silently wrong plan.
 *
 *  - FLOPs: the work every dispatch declares for `bench profile` (its `cost`), summed, with the
 *    expm's squaring steps counted at the `squarings` the GPU runs (a gated step that passes
 *    its operand on does no arithmetic). Dispatches that declare no cost (the expm scaling and
 *    plan, the EMD sort and comparison, a bias row added outside a skinny product) are not
 *    counted; the persistent RNN kernels, which declare none either, are counted as the
 *    per-step kernels' arithmetic, which is the same.
 *  - Memory: the step's allocations and releases replayed through a model of the context's
 *    buffer pool (GpuContext.acquireBuffer: sizes rounded up to 16 bytes, a released buffer
 *    reused by the next request of its size, nothing freed while a run trains). The total is
 *    what the context holds once the first step has run, the high-water mark of the run: the
 *    first step encodes the most expm squarings (WDC and EMD encode `maxSquarings`, 16, before
 *    their first read-back of the s they need), and later steps draw from the pool.
 */
import { expmProducts } from '../engine/expm/gpu.ts';
import { stepDispatch } from '../engine/gpu/rnn_design.ts';
import { grid1d } from '../engine/gpu/tensor.ts';
import { WdcRegularizer } from '../engine/regularizers/communicability.ts';
import { sortLength } from '../engine/regularizers/gpu.ts';
import { Rng } from '../engine/rng.ts';
import { arenaLayout, type RnnConfig } from '../engine/rnn/params.ts';
import type { RnnDesign } from '../engine/tensor.ts';
import type { Task } from '../tasks/index.ts';
import type { RegularizerKind } from './variants.ts';

/**
 * Squaring steps a WDC or EMD regulariser encodes before it has read back the s it needs: its
 * default maxSquarings, read off a regulariser so that the two cannot drift apart.
 */
export const FIRST_CALL_SQUARINGS = new WdcRegularizer({ lambda: 0, D: [] }).maxSquarings;

export const FLOP_PARTS = ['recurrence', 'inputReadout', 'loss', 'bptt', 'weightGrads', 'regulariser', 'adam'] as const;
export const MEMORY_PARTS = ['parameters', 'gradients', 'adam', 'batch', 'states', 'bptt', 'logits', 'regulariser', 'readback'] as const;
type FlopPart = (typeof FLOP_PARTS)[number];
type MemoryPart = (typeof MEMORY_PARTS)[number];

/** The shapes a step's cost depends on. */
export interface StepShape {
  cfg: RnnConfig;
  T: number;
  B: number;
  /** Networks trained side by side. */
  K: number;
  regularizer: RegularizerKind;
  /** Steps whose logits the loss reads (the trainer's read-out range, `maskedSteps`). */
  readoutSteps: number;
  /** expm squarings the GPU runs, for the FLOPs. */
  squarings: number;
  /** expm squaring steps encoded (each an n×n buffer), for the memory. */
  encodedSquarings: number;
  design: RnnDesign;
  /** Bytes a value takes: 4 on a float32 device, 8 on the float64 CPU reference. */
  valueBytes: number;
}

export interface StepPlan {
  flops: Record<FlopPart, number> & { total: number };
  /** Bytes the step's buffers add to the pool, by what they hold. */
  memory: Record<MemoryPart, number> & { total: number };
  /** The largest single buffer requested (what must fit one storage binding). */
  largest: { name: string; bytes: number };
}

/** A replay of the step: FLOPs by part, and buffers through a model of the context's pool. */
class Ledger {
  readonly flops = Object.fromEntries(FLOP_PARTS.map((p) => [p, 0])) as Record<FlopPart, number>;
  readonly bytes = Object.fromEntries(MEMORY_PARTS.map((p) => [p, 0])) as Record<MemoryPart, number>;
  largest = { name: '', bytes: 0 };
  private readonly free = new Map<number, number>();
  private readonly live = new Map<number, number>();
  private nextId = 0;

  constructor(readonly valueBytes: number) {}

  /** A buffer of `values` values: from the pool when one of its size is free, else new. */
  alloc(part: MemoryPart, name: string, values: number): number {
    const size = Math.max(16, Math.ceil((values * this.valueBytes) / 16) * 16);
    if (size > this.largest.bytes) this.largest = { name, bytes: size };
    const pooled = this.free.get(size) ?? 0;
    if (pooled > 0) this.free.set(size, pooled - 1);
    else this.bytes[part] += size;
    const id = this.nextId++;
    this.live.set(id, size);
    return id;
  }

  release(...ids: number[]): void {
    for (const id of ids) {
      const size = this.live.get(id);
      if (size === undefined) continue; // released already
      this.live.delete(id);
      this.free.set(size, (this.free.get(size) ?? 0) + 1);
    }
  }

  count(part: FlopPart, flops: number): void {
    this.flops[part] += flops;
  }
}

/** The buffers of one `backend.scope`: released together at its end, except those it returns. */
class Scope {
  private readonly ids: number[] = [];
  constructor(private readonly l: Ledger) {}
  alloc(name: string, values: number): number {
    const id = this.l.alloc('regulariser', name, values);
    this.ids.push(id);
    return id;
  }
  close(): void {
    this.l.release(...this.ids);
  }
}

/** GpuBackend.sum: passes over chunks of 4096 values until one is left; the partials freed after. */
function sum(l: Ledger, part: MemoryPart, flopPart: FlopPart, n: number): number {
  const temps: number[] = [];
  let out = -1;
  do {
    const groups = Math.max(1, Math.ceil(n / 4096));
    const dst = l.alloc(part, 'reduce_sum', groups);
    l.count(flopPart, n);
    if (groups === 1) out = dst;
    else temps.push(dst);
    n = groups;
  } while (out < 0);
  l.release(...temps);
  return out;
}

/** Work of one fused RNN step for all K networks (the kernels' own figure). */
function stepFlops(s: StepShape): number {
  return stepDispatch(null, 'forward', s.B, s.cfg.nHidden, s.K, { offW: 0, stride: 0 }).cost.flops;
}

/** RnnTrainer.upload, rnnForward and the softmax cross-entropy. */
function forward(l: Ledger, s: StepShape): void {
  const { K, T, B } = s;
  const { nIn, nHidden: N, nOut } = s.cfg;
  const TB = T * B;
  l.alloc('batch', 'inputs x [K·T·B·nIn]', K * TB * nIn);
  l.alloc('batch', 'labels [K·T·B]', K * TB);
  l.alloc('batch', 'loss mask [K·T·B]', K * TB);
  l.alloc('states', 'input drive U [K·T·B·N]', K * TB * N);
  l.count('inputReadout', 2 * K * TB * nIn * N);
  l.alloc('states', 'states H [K·T·B·N]', K * TB * N);
  l.alloc('states', 'rectified R [K·T·B·N]', K * TB * N);
  if (s.design === 'persistent') {
    l.alloc('states', 'W_rec copies [K·N·N]', K * N * N);
    l.alloc('states', 'W_recᵀ [K·N·N]', K * N * N);
  }
  l.count('recurrence', T * stepFlops(s));
  l.alloc('logits', 'logits [K·T·B·nOut]', K * TB * nOut);
  l.count('inputReadout', 2 * K * s.readoutSteps * B * N * nOut);
  l.alloc('logits', 'probabilities [K·T·B·nOut]', K * TB * nOut);
  l.alloc('logits', 'loss', 2 * K);
  l.count('loss', 7 * K * TB * nOut);
}

/** Elementwise FLOPs of the expm's fused epilogues: 2n² per term and identity, forward and Fréchet. */
const EXPM_TERMS = { forward: 5 + 4 + 4 + 4, frechet: 4 + 3 * 3 };

/** comm_strength, comm_normalize, the plan and the expm forward (encodeForward), for G networks. */
function commForward(l: Ledger, sc: Scope, s: StepShape, withGc: boolean, G: number): { E: number; state: number[] } {
  const n = s.cfg.nHidden;
  const nn = n * n;
  sc.alloc('strengths', 3 * n * G);
  l.count('regulariser', 2 * nn * G);
  sc.alloc('M', nn * G);
  sc.alloc('column sums', n * G);
  sc.alloc(withGc ? 'G_Cᵀ' : 'unused binding', withGc ? nn * G : 4);
  l.count('regulariser', (withGc ? 6 : 4) * nn * G);
  sc.alloc('expm plan', 4 * G);
  // X, P₂, P₃, P₄, H₃, H₂, H₁, T, then one operand per encoded squaring; the last is exp(M).
  const mats = Array.from({ length: 8 + s.encodedSquarings }, () => sc.alloc('expm (n×n) [scaling and squaring]', nn * G));
  l.count('regulariser', G * (2 * n ** 3 * expmProducts(s.squarings).forward + 2 * nn * EXPM_TERMS.forward));
  return { E: mats.pop()!, state: mats };
}

/** encodeExpmFrechet: L_exp on the forward's polynomial and squares, for G networks; returns Λ. */
function frechet(l: Ledger, sc: Scope, s: StepShape, G: number): number {
  const n = s.cfg.nHidden;
  const nn = n * n * G;
  const [Ex, L2, L3, L4] = [0, 1, 2, 3].map(() => sc.alloc('Fréchet (n×n)', nn)) as [number, number, number, number];
  let LH = sc.alloc('Fréchet (n×n)', nn);
  for (let j = 2; j >= 0; j--) {
    const next = sc.alloc('Fréchet (n×n)', nn);
    l.release(LH);
    LH = next;
  }
  l.release(Ex, L2, L3, L4);
  let L = LH;
  for (let k = 0; k < s.encodedSquarings; k++) {
    const Ln = sc.alloc('Fréchet (n×n)', nn);
    l.release(L);
    L = Ln;
  }
  l.count('regulariser', G * (2 * n ** 3 * expmProducts(s.squarings).frechet + 2 * n * n * EXPM_TERMS.frechet));
  return L;
}

/**
 * One network's wiringCostGpu (G = 1, not stacked), or the K networks' stack (wiringCosts with
 * their blocks read in place), in its scope: D (kept), the temporaries (released), the values
 * and gradients (returned).
 */
function wiringCost(l: Ledger, s: StepShape, kind: 'WD' | 'WDC' | 'EMD', G = 1, stacked = false): void {
  const n = s.cfg.nHidden;
  const nn = n * n;
  const g = grid1d(nn).groups;
  const partials = g[0] * g[1];
  l.alloc('regulariser', 'distances D [N·N]', nn);
  const sc = new Scope(l);
  if (kind === 'WD') {
    l.alloc('regulariser', 'dR/dW_rec [N·N]', nn * G);
    sc.alloc('partials', partials * G);
    l.count('regulariser', 4 * nn * G);
  } else {
    const f = commForward(l, sc, s, kind === 'WDC', G);
    if (kind === 'EMD') {
      const len = sortLength(nn);
      const keys = sc.alloc('sort keys', len);
      const idx = sc.alloc('sort permutation', len);
      l.alloc('regulariser', 'sorted C_emp [N·N]', nn);
      sc.alloc('G_Cᵀ', nn);
      sc.alloc('partials', partials);
      l.release(keys, idx);
    }
    frechet(l, sc, s, G);
    sc.alloc('strength gradient', n * G);
    l.count('regulariser', 4 * nn * G);
    l.alloc('regulariser', 'dR/dW_rec [N·N]', nn * G);
    sc.alloc('partials', partials * G);
    l.count('regulariser', (kind === 'WDC' ? 12 : 9) * nn * G);
    l.release(...f.state);
  }
  if (stacked) stackSums(l, sc, G, partials);
  else sum(l, 'regulariser', 'regulariser', partials);
  sc.close();
}

/** sumPerModel: one reduce_sum workgroup per network, or past 4096 partials be.sum per network and an assemble. */
function stackSums(l: Ledger, sc: Scope, G: number, per: number): void {
  if (per <= 4096) {
    l.alloc('regulariser', 'values [G]', G);
    l.count('regulariser', G * per);
    return;
  }
  for (let m = 0; m < G; m++) {
    sc.alloc('partials, one network', per);
    l.release(sum(l, 'regulariser', 'regulariser', per));
  }
  l.alloc('regulariser', 'values [G]', G);
}

/** L1Regularizer.apply: four elementwise kernels and a sum, all held until the step ends. */
function l1(l: Ledger, nn: number): void {
  l.alloc('regulariser', '|W_rec|', nn);
  l.count('regulariser', nn);
  sum(l, 'regulariser', 'regulariser', nn);
  l.alloc('regulariser', 'L1 value', 1);
  l.count('regulariser', 2);
  l.alloc('regulariser', 'sign(W_rec)', nn);
  l.count('regulariser', nn);
  l.alloc('regulariser', 'dR/dW_rec [N·N]', nn);
  l.count('regulariser', 2 * nn);
}

/**
 * RnnTrainer.regularizers: WD and WDC as one stack of the K networks (their W_rec blocks read
 * in place); L1 and EMD network by network, each W_rec copied out first.
 */
function regularisers(l: Ledger, s: StepShape): void {
  const nn = s.cfg.nHidden ** 2;
  if (s.regularizer === 'WD' || s.regularizer === 'WDC') wiringCost(l, s, s.regularizer, s.K, true);
  else {
    for (let k = 0; k < s.K; k++) {
      l.alloc('regulariser', 'W_rec copy [N·N]', nn);
      if (s.regularizer === 'L1') l1(l, nn);
      else wiringCost(l, s, s.regularizer);
    }
  }
  l.alloc('logits', 'regulariser values [K]', s.K);
  l.alloc('logits', 'loss + regulariser [K]', s.K);
  l.count('loss', s.K);
}

/** Tape.backward: the regulariser's entry, the loss's, then the RNN's (rnnBackward). */
function backward(l: Ledger, s: StepShape, S: number): void {
  const { K, T, B } = s;
  const { nIn, nHidden: N, nOut, outputBias } = s.cfg;
  const TB = T * B;
  const rows = s.readoutSteps * B;
  l.alloc('logits', 'gradient seed [K]', K);
  // assembleScaled: each network's g_k·dR/dW_rec written straight into the arena
  l.alloc('gradients', 'regulariser gradient arena [K·S]', K * S);
  l.count('regulariser', K * N * N);
  l.alloc('logits', 'dlogits [K·T·B·nOut]', K * TB * nOut);
  l.count('loss', 3 * K * TB * nOut);
  l.alloc('gradients', 'RNN gradient arena [K·S]', K * S);
  l.alloc('bptt', 'dH from the read-out [K·T·B·N]', K * TB * N);
  l.count('weightGrads', 2 * 2 * K * rows * nOut * N); // dW_out and dH
  l.alloc('bptt', 'δ [K·T·B·N]', K * TB * N);
  if (s.design === 'per-step') l.alloc('bptt', 'G [K·T·B·N]', K * TB * N);
  l.count('bptt', T * stepFlops(s));
  if (T > 1) l.count('weightGrads', 2 * K * N * N * (T - 1) * B);
  l.count('weightGrads', 2 * K * N * TB * nIn + K * TB * N + (outputBias && rows > 0 ? K * rows * nOut : 0));
  l.alloc('gradients', 'gradient arena, summed [K·S]', K * S);
  l.count('regulariser', K * S);
}

/** The cost of one training step of K networks (see the header for what is counted). */
export function planStep(s: StepShape): StepPlan {
  const l = new Ledger(s.valueBytes);
  const S = arenaLayout(s.cfg).total;
  const K = s.K;
  l.alloc('parameters', 'parameters θ [K·S]', K * S);
  l.alloc('adam', 'Adam m [K·S]', K * S);
  l.alloc('adam', 'Adam v [K·S]', K * S);
  forward(l, s);
  regularisers(l, s);
  backward(l, s, S);
  l.alloc('adam', 'Adam flags', Math.max(4, K));
  l.alloc('adam', 'Adam status [K]', K);
  l.count('adam', 16 * K * S);
  // status, loss, cross-entropy, regulariser, and the logits the accuracy reads, in one transfer
  l.alloc('readback', 'read-back', 4 * K + K * s.T * s.B * s.cfg.nOut);
  const total = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
  return { flops: { ...l.flops, total: total(l.flops) }, memory: { ...l.bytes, total: total(l.bytes) }, largest: l.largest };
}

/**
 * The steps whose logits a batch's loss and score read (first to last, as the trainer's
 * `maskedSteps` finds them), over 256 trials of the task drawn with a fixed seed.
 */
export function readoutRange(task: Task): { from: number; to: number } {
  const ds = task.generate(256, new Rng(1, 'plan'));
  let from = task.T;
  let to = 0;
  for (let i = 0; i < ds.nTrials; i++) {
    for (let t = 0; t < task.T; t++) {
      const k = i * task.T + t;
      if (ds.mask[k] || ds.lossMask?.[k]) {
        from = Math.min(from, t);
        to = Math.max(to, t + 1);
      }
    }
  }
  return from < to ? { from, to } : { from: 0, to: 0 };
}

/** What K networks take: the plan for K, and what each network adds beyond the memory they share. */
export interface BatchPlan {
  one: StepPlan;
  all: StepPlan;
  /** Bytes each further network adds (the K = 2 plan less the K = 1 plan). */
  perNetwork: number;
  /** Bytes the networks share: the regulariser's temporaries, reused by one network after another. */
  shared: number;
  /** FLOPs of one more squaring the data may need, for K networks (3 products of 2N³ each). */
  flopsPerSquaring: number;
}

export function planBatch(s: StepShape): BatchPlan {
  const one = planStep({ ...s, K: 1 });
  const two = planStep({ ...s, K: 2 });
  const perNetwork = two.memory.total - one.memory.total;
  const communicability = s.regularizer === 'WDC' || s.regularizer === 'EMD';
  return {
    one,
    all: planStep(s),
    perNetwork,
    shared: one.memory.total - perNetwork,
    flopsPerSquaring: communicability ? s.K * 3 * 2 * s.cfg.nHidden ** 3 : 0,
  };
}
