/**
 * What a run needs from the data: a field's geometry (grid and real D), its connectome K, its
 * functional matrices (for W*), and per variant the initial W_rec and the regulariser; and
 * `setupRun`, everything a run trains from, drawn from its seed.
 *
 * RNG streams (all from the run seed, never from the variant unless stated):
 *   W*        new Rng(seed, `wstar:<field>`)          — shared by W*D*C, W*D*C*, W*DC*
 *   W!        new Rng(seed, `wbang:<field>`).fork(name) — a fresh permutation per variant
 *   control   new Rng(seed, `control:<field>`)
 *   W_in, W_out, orthogonal W_rec: new Rng(seed, `init:<field>`) (initParams forks per tensor)
 */
import { anatomical, hasDirectedCycle, spectrumMatchedControl, wBang, wStar } from '../connectome/weights.ts';
import { distanceMatrix, gridDistances, voxelsToUm } from '../connectome/geometry.ts';
import { functionalFromSpikes } from '../connectome/functional.ts';
import type { Field } from '../connectome/fields.ts';
import { Rng } from '../engine/rng.ts';
import { L1Regularizer, type RecurrentRegularizer } from '../engine/regularizers/regularizer.ts';
import { EmdRegularizer, WdcRegularizer, WdRegularizer } from '../engine/regularizers/communicability.ts';
import type { EmdTarget } from '../engine/regularizers/cost.ts';
import { initParams, type HostParams, type RnnConfig } from '../engine/rnn/params.ts';
import { getTask, makeSplits } from '../tasks/index.ts';
import type { RunSpec } from './record.ts';
import type { Protocol } from './protocol.ts';
import { modeSettings, type Mode } from './protocol.ts';
import type { LabellingInputs } from '../analysis/module_alignment.ts';
import { getVariant, needsWStar, type GeometryKind, type RegularizerKind, type Variant } from './variants.ts';
import { OptionError } from '../engine/errors.ts';

export interface FieldContext {
  name: string;
  n: number;
  /** The MICrONS field; null for a synthetic grid field (see `syntheticGrid`). */
  field: Field | null;
  /** Neuron positions in µm, [n, 3] (a synthetic field's grid coordinates, one unit apart). */
  positionsUm: Float64Array;
  /** K[post][pre]: what `anatomy` says (zeros for a synthetic field). */
  K: Float64Array;
  /** What K holds: synapse counts (an imaging field), summed synapse size (the V1 set), or nothing. */
  anatomy: 'synapse counts' | 'summed synapse size' | null;
  /** What stands for one synapse in K's units, the EMD target's strength floor (absent: 1, a count). */
  synapseUnit?: number;
  /** corr and (lower-triangle) STTC for W*, or null with the reason; `tuning`: the V1 set's stand-ins (v1_field.ts). */
  functional: { corr: ArrayLike<number>; sttc: ArrayLike<number>; source: 'shipped' | 'spikes' | 'tuning' } | null;
  functionalMissing?: string;
  /** The modes a run of this field may use (all when absent). */
  modes?: Mode[];
  /** Categories of the neurons beyond position and function (the V1 set's layer, cell type, orientation). */
  classes?: NeuronClasses;
  grid: { dims: [number, number, number]; D: Float64Array };
  /** Real D per mode (computed on demand; a synthetic field has none and throws). */
  realD(mode: Mode): Float64Array;
  /** Where the field's files came from, and a digest of their contents (recorded in config.json). */
  source: FieldSource;
}

/** Categories of a field's neurons (the V1 set's), as an index per neuron (in the field's order) into `names`. */
export interface NeuronClasses {
  layer: { index: Int32Array; names: string[] };
  cell_type: { index: Int32Array; names: string[] };
  /** The released preferred-orientation bin. */
  orientation: { index: Int32Array; names: string[] };
}

export interface FieldSource {
  dataDir: string;
  /** sha256 over the field's files, each as its name, a NUL, its bytes, in name order. */
  digest: string;
  files: string[];
}

/** What the variants need of a loaded field (geometry, K, functional matrices); pure, so a browser builds it too. */
export function fieldContext(field: Field, source: FieldSource): FieldContext {
  const { name, n } = field;
  const positionsUm = voxelsToUm(field.neurons.positionsVox);
  let functional: FieldContext['functional'] = null;
  let functionalMissing: string | undefined;
  if (field.matrices) functional = { corr: field.matrices.corr, sttc: field.matrices.sttc, source: 'shipped' };
  else if (field.spikes) {
    const f = functionalFromSpikes(field.spikes);
    functional = { corr: f.corr, sttc: f.sttc, source: 'spikes' };
  } else {
    functionalMissing = `field ${name} ships neither corr/sttc matrices nor spikes, so W* (and W!, the spectrum-matched control) cannot be built; use a field with functional data (e.g. 6_6_2, 5_6_8, 5_3_4) or variants without W*`;
  }
  const g = gridDistances(n);
  const realCache = new Map<Mode, Float64Array>();
  return {
    name,
    n,
    field,
    positionsUm,
    K: field.counts,
    anatomy: 'synapse counts',
    functional,
    functionalMissing,
    grid: { dims: g.dims, D: g.D },
    source,
    realD(mode: Mode) {
      let d = realCache.get(mode);
      if (!d) {
        const s = modeSettings(mode);
        d = distanceMatrix(s.positionUnits === 'voxel' ? field.neurons.positionsVox : positionsUm, s.distanceMode);
        realCache.set(mode, d);
      }
      return d;
    },
  };
}

/**
 * A synthetic field `grid-AxBxC`: A·B·C units on an even grid one unit apart, with no data (the
 * seRNN's 5 × 5 × 4 cube of 100 units is `grid-5x5x4`). Null for any other name.
 */
export function syntheticGrid(name: string): [number, number, number] | null {
  const m = /^grid-(\d{1,3})x(\d{1,3})x(\d{1,3})$/.exec(name);
  if (!m) return null;
  const dims = [Number(m[1]), Number(m[2]), Number(m[3])] as [number, number, number];
  const n = dims[0] * dims[1] * dims[2];
  if (dims.some((d) => d < 1) || n < 2 || n > 4096) throw new OptionError('--field', 'a synthetic grid grid-AxBxC of 2 to 4,096 units', `"${name}"`);
  return dims;
}

/** The context of a synthetic grid field: grid D only (Euclidean, in grid units), no K or W*. */
export function syntheticField(name: string, dims: [number, number, number]): FieldContext {
  const n = dims[0] * dims[1] * dims[2];
  const g = gridDistances(n, dims);
  const noData = `field ${name} is a synthetic grid without data`;
  return {
    name,
    n,
    field: null,
    positionsUm: g.positions,
    K: new Float64Array(n * n),
    anatomy: null,
    functional: null,
    functionalMissing: `${noData}, so W* (and W!, the spectrum-matched control) cannot be built; use variants with orthogonal init (W, WD, WDC)`,
    grid: { dims: g.dims, D: g.D },
    source: { dataDir: '', digest: `synthetic:${name}`, files: [] },
    realD() {
      throw new Error(`${noData}: it has no real neuron positions; use variants with grid geometry or none (W, WD, WDC)`);
    },
  };
}

/** The W* draw of one simulation (seed): identical for every W* variant and task. */
export function wStarDraw(ctx: FieldContext, seed: number): Float64Array {
  if (!ctx.functional) throw new Error(ctx.functionalMissing ?? `field ${ctx.name}: no functional data for W*`);
  return wStar({ n: ctx.n, corr: ctx.functional.corr, sttc: ctx.functional.sttc }, new Rng(seed, `wstar:${ctx.name}`));
}

export interface InitialRecurrent {
  kind: 'orthogonal' | 'matrix';
  W?: Float64Array;
  /** Notes for config.json (e.g. the permutation, a symmetrised K). */
  notes: string[];
  perm?: number[];
}

/** The initial W_rec of a variant (engine layout W[post][pre]). */
export function initialRecurrent(v: Variant, ctx: FieldContext, seed: number): InitialRecurrent {
  const n = ctx.n;
  if (needsWStar(v) && !ctx.functional) throw new Error(`variant ${v.name}: ${ctx.functionalMissing}`);
  if (!ctx.anatomy && (v.init === 'anatomical' || v.regularizer === 'EMD')) {
    throw new Error(`variant ${v.name}: field ${ctx.name} is a synthetic grid without an EM connectome; use variants with orthogonal init (W, WD, WDC)`);
  }
  switch (v.init) {
    case 'orthogonal':
      return { kind: 'orthogonal', notes: ['orthogonal (gain 1)'] };
    case 'wstar':
      return {
        kind: 'matrix',
        W: wStarDraw(ctx, seed),
        notes: [`W* = L∘corr_n∘sttc_n (${wStarSource(ctx)}), mean 0.1, floor 0.01, ρ = 0.95; draw shared by all W* variants of seed ${seed}`],
      };
    case 'wbang': {
      const r = wBang(wStarDraw(ctx, seed), n, new Rng(seed, `wbang:${ctx.name}`).fork(v.name));
      return { kind: 'matrix', W: r.W, perm: Array.from(r.perm), notes: [`W! = W* (seed ${seed}) with rows and columns permuted, a permutation per variant`] };
    }
    case 'control':
      return {
        kind: 'matrix',
        W: spectrumMatchedControl(wStarDraw(ctx, seed), n, new Rng(seed, `control:${ctx.name}`)),
        notes: ['spectrum-matched random control of W* (mean, diagonal share, spectral radius)'],
      };
    case 'anatomical': {
      const directed = hasDirectedCycle(ctx.K, n);
      const W = anatomical(ctx.K, n, { symmetric: !directed });
      return {
        kind: 'matrix',
        W,
        notes: [
          (directed
            ? 'anatomical: K[post][pre] scaled like W*'
            : `anatomical: K + Kᵀ scaled like W* (field ${ctx.name}'s K has no directed cycle, so ρ(K) = 0)`) +
            (ctx.anatomy === 'synapse counts' ? '' : `; K is the ${ctx.anatomy}`),
        ],
      };
    }
  }
}

/** Where W*'s two matrices came from, for config.json. */
function wStarSource(ctx: FieldContext): string {
  if (ctx.functional!.source !== 'tuning') return `${ctx.functional!.source} matrices`;
  return 'corr: signal correlation of the tuning curves; sttc: their response cosine, in place of spike-time tiling';
}

/** D for a geometry (null for none). */
export function geometryD(g: GeometryKind, ctx: FieldContext, mode: Mode): Float64Array | null {
  if (g === 'none') return null;
  if (g === 'grid') return ctx.grid.D;
  return ctx.realD(mode);
}

export interface RegularizerOptions {
  mode: Mode;
  lambda: number;
  mu: number;
  /** Needed for WD/WDC/EMD. */
  D: Float64Array | null;
  /** Empirical connectome for the EMD target. */
  K?: ArrayLike<number>;
  /** One synapse in K's units (the target's strength floor; default 1). */
  synapseUnit?: number;
}

/**
 * The regulariser of a kind under a mode, from engine/regularizers (both backends):
 *   L1   λ·Σ|W| (paper: λ omitted)
 *   WD   λ·Σ|W|∘D
 *   WDC  λ·Σ|W|∘C∘D, strengths floored at the mode's s_min (paper: none)
 *   EMD  λ·Σ|W|∘D + μ·EMD(C, C_emp), target per mode ('paper' | 'floor-one-synapse')
 */
export function makeRegularizer(kind: RegularizerKind, o: RegularizerOptions): RecurrentRegularizer {
  const s = modeSettings(o.mode);
  const needD = () => {
    if (!o.D) throw new Error(`regulariser ${kind} needs a distance matrix D`);
    return o.D;
  };
  switch (kind) {
    case 'L1':
      return new L1Regularizer(o.lambda, s.l1IgnoresLambda);
    case 'WD':
      return new WdRegularizer({ lambda: o.lambda, D: needD() });
    case 'WDC':
      return new WdcRegularizer({ lambda: o.lambda, D: needD(), ...(s.sMin === null ? { paperCompat: true } : { sMin: s.sMin }) });
    case 'EMD': {
      if (!o.K) throw new Error('regulariser EMD needs the empirical connectome K');
      const target: EmdTarget = s.emdTarget;
      const floor = o.synapseUnit === undefined ? {} : { synapseFloor: o.synapseUnit };
      return new EmdRegularizer({
        lambda: o.lambda,
        mu: o.mu,
        D: needD(),
        K: o.K,
        target,
        ...floor,
        ...(s.sMin === null ? { paperCompat: true } : { sMin: s.sMin }),
      });
    }
  }
}

export function rnnConfigFor(task: { nIn: number; nOut: number }, n: number): RnnConfig {
  return { nIn: task.nIn, nHidden: n, nOut: task.nOut, alpha: 1, outputBias: true };
}

/** Steps per epoch and in all (the protocol's cap on steps, if any, included). */
export function protocolSteps(p: Protocol): { stepsPerEpoch: number; totalSteps: number } {
  const stepsPerEpoch = Math.ceil(p.splits.train / p.batchSize);
  return { stepsPerEpoch, totalSteps: Math.min(p.steps ?? Infinity, p.epochs * stepsPerEpoch) };
}

/** Everything a run trains from, drawn from its seed (the same in Node and in a browser). */
export function setupRun(spec: RunSpec, ctx: FieldContext, p: Protocol) {
  checkFieldMode(ctx, spec.mode);
  const variant = getVariant(spec.variant);
  const task = getTask(spec.task);
  const n = ctx.n;
  const init = initialRecurrent(variant, ctx, spec.seed);
  const D = geometryD(variant.geometry, ctx, spec.mode);
  const reg = makeRegularizer(variant.regularizer, { mode: spec.mode, lambda: spec.lambda ?? p.lambda, mu: p.mu, D, K: ctx.K, synapseUnit: ctx.synapseUnit });
  const cfg = rnnConfigFor(task, n);
  const params: HostParams = initParams(
    cfg,
    new Rng(spec.seed, `init:${spec.field}`),
    init.kind === 'matrix' ? { kind: 'matrix', W: init.W! } : { kind: 'orthogonal' },
  );
  const splits = makeSplits(task, spec.seed, p.splits);
  return { variant, task, n, init, D, reg, cfg, params, splits, ...protocolSteps(p) };
}

/** Refuses, in one line, a mode the field does not allow (paper mode on the V1 set). */
export function checkFieldMode(ctx: FieldContext, mode: Mode): void {
  if (ctx.modes && !ctx.modes.includes(mode))
    throw new OptionError(
      '--mode',
      `${ctx.modes.join(' or ')} for field ${ctx.name} (paper mode's voxel distances and index geometry belong to the imaging fields)`,
      mode,
    );
}

/**
 * What the module labellings are computed from: the field's positions in µm, its activity
 * correlation (null where it has none) and its synapse counts. A synthetic grid field has its
 * grid coordinates and neither correlation nor synapses.
 */
export function labellingInputs(ctx: FieldContext): LabellingInputs {
  if (!ctx.anatomy) return { positionsUm: ctx.positionsUm, corr: null, K: null };
  const classes = ctx.classes ? { classes: Object.fromEntries(Object.entries(ctx.classes).map(([k, c]) => [k, c.index])) } : {};
  return { positionsUm: ctx.positionsUm, corr: ctx.functional?.corr ?? null, K: ctx.K, ...classes };
}
