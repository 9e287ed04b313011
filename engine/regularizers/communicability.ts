/**
 * The communicability-distance regularisers (WD, WDC, EMD) as `RecurrentRegularizer`s: each
 * is a wiring cost (cost.ts) that every backend computes (`Backend.wiringCost`): the GPU with
 * the kernels of gpu.ts, the CPU reference with the float64 twins of cpu.ts. The EMD target is
 * built once in float64 (target.ts) whichever backend trains.
 */
import { checkDistances } from '../checks.ts';
import { OptionError } from '../errors.ts';
import { DEFAULT_S_MIN, EMD_EPS } from './constants.ts';
import type { EmdCost, EmdTarget, EmdTargetData, ExpmStats, WdCost, WdcCost } from './cost.ts';
import { makeEmdTarget } from './target.ts';
import type { RecurrentRegularizer } from './regularizer.ts';
import type { Backend, Tensor } from '../tensor.ts';

interface StrengthFloorOptions {
  /** Strength floor s_min (default 1e-4); null or 0: none (the paper). */
  sMin?: number | null;
  /** The paper's setting: no strength floor (overrides sMin). */
  paperCompat?: boolean;
}

interface SquaringOptions {
  /**
   * Squaring steps encoded per call on the GPU ('adaptive', the default: the s the GPU needed
   * last time + 2, read back lagged without blocking; `maxSquarings` before the first read).
   * A number fixes it. The GPU always runs min(s, encoded) of them.
   */
  squarings?: 'adaptive' | number;
  /** Upper bound of encoded steps (default 16: ‖M‖₁ up to 2.5·2¹⁶). */
  maxSquarings?: number;
}

export interface WdOptions {
  lambda: number;
  /** Distances, n×n row-major (W layout). */
  D: ArrayLike<number>;
}

export interface WdcOptions extends WdOptions, StrengthFloorOptions, SquaringOptions {
  /** Added to the column sums before the floor (default 0). */
  eps?: number;
}

export interface EmdOptions extends WdOptions, StrengthFloorOptions, SquaringOptions {
  mu: number;
  /** Empirical connectome (W layout: K[post][pre]); C_emp is computed once in float64. */
  K?: ArrayLike<number>;
  /**
   * Target: 'floor-one-synapse' (default, corrected), 'paper' (zero strengths → 1e-10; the
   * default under paperCompat) or 'active-only'; or a prebuilt target from makeEmdTarget.
   */
  target?: EmdTarget | EmdTargetData;
  /** Strength floor of 'floor-one-synapse' (default 1 synapse). */
  synapseFloor?: number;
  /** Added to the model's column sums (default 1e-10, the paper's C*). */
  eps?: number;
}

function floorOf(o: StrengthFloorOptions): number | null {
  if (o.paperCompat) return null;
  return o.sMin === undefined ? DEFAULT_S_MIN : o.sMin;
}

function fmtFloor(s: number | null): string {
  return s === null || s === 0 ? 's_min none (paper-compat)' : `s_min = ${s}`;
}

/** R = λ Σ |W|∘D, dR/dW = λ D∘sign(W). */
export class WdRegularizer implements RecurrentRegularizer, WdCost {
  readonly kind = 'WD' as const;
  readonly name = 'WD';
  readonly lambda: number;
  readonly D: Float64Array;
  constructor(o: WdOptions) {
    this.lambda = o.lambda;
    this.D = Float64Array.from(o.D);
  }
  describe(): string {
    return `WD: λ·Σ|W_rec|∘D, λ = ${this.lambda}`;
  }
  apply(backend: Backend, W: Tensor, n: number): { value: Tensor; grad: Tensor } {
    checkDistances(this.name, this.D, n);
    return backend.wiringCost(this, W, n);
  }
}

/** What WDC and EMD share: λ, D, the strength floor and the GPU expm's squaring policy and statistics. */
abstract class CommunicabilityRegularizer implements RecurrentRegularizer {
  abstract readonly name: string;
  abstract describe(): string;
  readonly lambda: number;
  readonly D: Float64Array;
  readonly sMin: number | null;
  readonly squarings: 'adaptive' | number;
  readonly maxSquarings: number;
  readonly stats: ExpmStats = { norm: null, squarings: null, encoded: 0, overflows: 0 };

  constructor(o: WdcOptions | EmdOptions) {
    if (!Number.isFinite(o.lambda)) {
      throw new OptionError('lambda', 'a finite number', String(o.lambda), { message: `${new.target.name}: lambda must be finite` });
    }
    this.lambda = o.lambda;
    this.D = Float64Array.from(o.D);
    this.sMin = floorOf(o);
    this.squarings = o.squarings ?? 'adaptive';
    this.maxSquarings = o.maxSquarings ?? 16;
  }

  abstract apply(backend: Backend, W: Tensor, n: number): { value: Tensor; grad: Tensor };
}

/** R = λ Σ |W|∘C∘D with C = offdiag(expm(diag(s)^-½ |W| diag(s)^-½)), s floored at s_min. */
export class WdcRegularizer extends CommunicabilityRegularizer implements WdcCost {
  readonly kind = 'WDC' as const;
  readonly name = 'WDC';
  readonly eps: number;
  constructor(o: WdcOptions) {
    super(o);
    this.eps = o.eps ?? 0;
  }
  describe(): string {
    return `WDC: λ·Σ|W_rec|∘C∘D, C = offdiag expm(s^-½|W|s^-½), s = column sums${this.eps ? ` + ${this.eps}` : ''}, λ = ${this.lambda}, ${fmtFloor(this.sMin)}`;
  }

  apply(backend: Backend, W: Tensor, n: number): { value: Tensor; grad: Tensor } {
    checkDistances(this.name, this.D, n);
    return backend.wiringCost(this, W, n);
  }
}

/**
 * R = λ Σ |W|∘D + μ·mean_k |sort(c)_k − sort(c_emp)_k| (the paper's C*), C computed with
 * s + eps (eps 1e-10) and the floor s_min; C_emp computed once in float64 (makeEmdTarget) and
 * uploaded sorted; all N² entries compared (diagonal zeros included) except for 'active-only'.
 */
export class EmdRegularizer extends CommunicabilityRegularizer implements EmdCost {
  readonly kind = 'EMD' as const;
  readonly name = 'EMD';
  readonly mu: number;
  readonly eps: number;
  readonly target: EmdTargetData;
  /** the compared C_emp values, ascending (float64) */
  readonly cempSorted: Float64Array;

  constructor(o: EmdOptions) {
    super(o);
    this.mu = o.mu;
    this.eps = o.eps ?? EMD_EPS;
    const n = Math.round(Math.sqrt(this.D.length));
    if (o.target && typeof o.target === 'object') {
      this.target = o.target;
    } else {
      if (!o.K) {
        throw new OptionError('K', 'the empirical connectome K or a prebuilt target', 'neither', {
          message: 'EMD: give the empirical connectome K or a prebuilt target',
        });
      }
      const kind: EmdTarget = o.target ?? (o.paperCompat ? 'paper' : 'floor-one-synapse');
      this.target = makeEmdTarget(o.K, n, { target: kind, synapseFloor: o.synapseFloor });
    }
    const vals: number[] = [];
    const act = this.target.active;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) if (!act || (act[i] && act[j])) vals.push(this.target.Cemp[i * n + j]!);
    }
    this.cempSorted = Float64Array.from(vals).sort();
  }

  describe(): string {
    return `EMD: λ·Σ|W_rec|∘D + μ·mean|sort(C) − sort(C_emp)|, C with s + ${this.eps}, λ = ${this.lambda}, μ = ${this.mu}, target ${this.target.target} (${this.cempSorted.length} entries compared), ${fmtFloor(this.sMin)}`;
  }

  apply(backend: Backend, W: Tensor, n: number): { value: Tensor; grad: Tensor } {
    checkDistances(this.name, this.D, n);
    return backend.wiringCost(this, W, n);
  }
}
