/**
 * The training protocol and the two modes.
 *
 * Paper protocol: Elman ReLU RNN (α = 1), N = the field's neuron count, input noise σ = 0.05,
 * softmax output with bias, Adam lr 1e-3, batch 128, 10 epochs over 5,120 training trials
 * (2,560 test, 2,560 validation), loss at the last step; λ = 0.3, μ = 0.1.
 *
 * Modes:
 *  - 'paper': the released code's choices — paper-compat geometry (the (N,3)→(3,N) reshape
 *    bug), the 1e-10 rule for the EMD target, L1 without λ, no strength floor in WDC/EMD.
 *  - 'corrected' (default): isotropic true geometry (µm distances over their maximum), strengths
 *    floored at 1e-4, the EMD target with silent neurons floored at one synapse, L1 with λ.
 */
import type { DistanceMode } from '../connectome/geometry.ts';
import type { EmdTarget } from '../engine/regularizers/cost.ts';
import { OptionError } from '../engine/errors.ts';

export type Mode = 'paper' | 'corrected';

export interface ModeSettings {
  mode: Mode;
  /** How the real D is computed from the neuron positions. */
  distanceMode: DistanceMode;
  /** Positions fed to distanceMatrix: the paper's code used voxel coordinates. */
  positionUnits: 'voxel' | 'um';
  emdTarget: EmdTarget;
  /** L1 with λ omitted (effectively 1). */
  l1IgnoresLambda: boolean;
  /** WDC/EMD strength floor; null = none (the paper). */
  sMin: number | null;
  summary: string;
}

export function modeSettings(mode: Mode): ModeSettings {
  if (mode === 'paper') {
    return {
      mode,
      distanceMode: 'paper-compat',
      positionUnits: 'voxel',
      emdTarget: 'paper',
      l1IgnoresLambda: true,
      sMin: null,
      summary: 'paper mode: paper-compat geometry (reshape bug), EMD target with the 1e-10 zero-strength rule, L1 without λ, no strength floor',
    };
  }
  if (mode === 'corrected') {
    return {
      mode,
      distanceMode: 'isotropic',
      positionUnits: 'um',
      emdTarget: 'floor-one-synapse',
      l1IgnoresLambda: false,
      sMin: 1e-4,
      summary: 'corrected mode: isotropic µm geometry, strengths floored at 1e-4, EMD target with silent neurons floored at one synapse, L1 with λ',
    };
  }
  throw new OptionError('--mode', "'paper' or 'corrected'", `"${String(mode)}"`);
}

interface SplitSizes {
  train: number;
  test: number;
  val: number;
}

export interface Protocol {
  epochs: number;
  /** Total steps cap (null: epochs × ceil(train / batch)). */
  steps: number | null;
  batchSize: number;
  lr: number;
  inputNoise: number;
  splits: SplitSizes;
  lambda: number;
  mu: number;
  /** Paper null graphs and rewirings for σ. */
  nNull: number;
  nMatched: number;
}

export const PAPER_PROTOCOL: Readonly<Protocol> = {
  epochs: 10,
  steps: null,
  batchSize: 128,
  lr: 1e-3,
  inputNoise: 0.05,
  splits: { train: 5120, test: 2560, val: 2560 },
  lambda: 0.3,
  mu: 0.1,
  nNull: 1000,
  nMatched: 50,
};

/**
 * The --quick preset: the smallest paper field (5_3_4, N = 70), Go/NoGo and PDM, four variants,
 * two seeds, 1,280 training trials (10 batches of 128) for 6 epochs = 60 Adam steps at the
 * paper's lr 1e-3; 512 test and 256 validation trials. Everything else is the paper protocol.
 */
export const QUICK_PRESET = {
  field: '5_3_4',
  tasks: ['gonogo', 'pdm'],
  variants: 'W,WD*C,W*D*C,W*D*C*',
  seeds: 2,
  protocol: {
    ...PAPER_PROTOCOL,
    epochs: 6,
    splits: { train: 1280, test: 512, val: 256 },
  } as Protocol,
} as const;

/** The paper's three tasks (canonical names of tasks/). */
export const PAPER_TASKS: readonly string[] = ['inference', 'gonogo', 'pdm'];

export interface ProtocolOverrides {
  epochs?: number;
  steps?: number;
  lr?: number;
  batchSize?: number;
  trainTrials?: number;
  testTrials?: number;
  valTrials?: number;
  nNull?: number;
  nMatched?: number;
  lambda?: number;
  mu?: number;
}

/**
 * Trials of one split at most: 10⁶ trials of the longest paper task (41 steps, 8 floats a step
 * with inputs, labels and masks) take about 1.3 GB, beyond which generation itself fails.
 */
export const MAX_TRIALS = 1_000_000;

/** A protocol with command-line overrides, each checked (the flag is named in the error). */
export function resolveProtocol(base: Protocol, o: ProtocolOverrides): Protocol {
  const posInt = (flag: string, v: number | undefined, max = Number.MAX_SAFE_INTEGER) => {
    if (v === undefined) return undefined;
    if (!Number.isInteger(v) || v < 1) throw new OptionError(`--${flag}`, 'a positive integer', `${v}`);
    if (v > max) throw new OptionError(`--${flag}`, `at most ${max.toLocaleString('en')}`, `${v}`);
    return v;
  };
  const posNum = (flag: string, v: number | undefined) => {
    if (v === undefined) return undefined;
    if (!Number.isFinite(v) || v <= 0) throw new OptionError(`--${flag}`, 'a positive number', `${v}`);
    return v;
  };
  const nonNeg = (flag: string, v: number | undefined) => {
    if (v === undefined) return undefined;
    if (!Number.isFinite(v) || v < 0) throw new OptionError(`--${flag}`, 'a number ≥ 0', `${v}`);
    return v;
  };
  const p: Protocol = { ...base, splits: { ...base.splits } };
  p.epochs = posInt('epochs', o.epochs) ?? p.epochs;
  const steps = posInt('steps', o.steps);
  if (steps !== undefined) p.steps = steps;
  p.lr = posNum('lr', o.lr) ?? p.lr;
  p.batchSize = posInt('batch-size', o.batchSize) ?? p.batchSize;
  p.splits.train = posInt('train-trials', o.trainTrials, MAX_TRIALS) ?? p.splits.train;
  p.splits.test = posInt('test-trials', o.testTrials, MAX_TRIALS) ?? p.splits.test;
  p.splits.val = posInt('val-trials', o.valTrials, MAX_TRIALS) ?? p.splits.val;
  // Refused rather than clamped: a run records the batch size it was asked for, so it must be the one used.
  if (p.batchSize > p.splits.train) {
    throw new OptionError('--batch-size', `at most the training trials (${p.splits.train})`, `${p.batchSize}`);
  }
  p.nNull = posInt('n-null', o.nNull) ?? p.nNull;
  p.nMatched = posInt('n-matched', o.nMatched) ?? p.nMatched;
  p.lambda = nonNeg('lambda', o.lambda) ?? p.lambda;
  p.mu = nonNeg('mu', o.mu) ?? p.mu;
  return p;
}

/** '--mode paper|corrected|both' → the modes. */
export function parseModes(spec: string): Mode[] {
  const s = spec.trim();
  if (s === 'both') return ['paper', 'corrected'];
  if (s === 'paper' || s === 'corrected') return [s];
  throw new OptionError('--mode', "'paper', 'corrected' or 'both'", `"${spec}"`);
}
