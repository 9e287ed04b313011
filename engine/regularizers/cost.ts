/**
 * The wiring costs as the backends see them: what `Backend.wiringCost` computes R and dR/dW
 * from. The classes in communicability.ts build them from their options and describe them.
 */

/** How the EMD target C_emp treats neurons without outgoing synapses (see target.ts). */
export type EmdTarget = 'paper' | 'floor-one-synapse' | 'active-only';

/** An EMD target: C_emp and, for 'active-only', the neurons compared. */
export interface EmdTargetData {
  target: EmdTarget;
  Cemp: Float64Array;
  /** null: all N² entries are compared */
  active: Uint8Array | null;
}

/** Lagged statistics of the GPU expm (from the plan read back after each call). */
export interface ExpmStats {
  /** ‖M‖₁ of the last call read back */
  norm: number | null;
  /** squarings it needed */
  squarings: number | null;
  /** squaring steps encoded in the last call */
  encoded: number;
  /** calls whose needed squarings exceeded the encoded steps (result less accurate) */
  overflows: number;
}

/** R = λ Σ |W|∘D. */
export interface WdCost {
  readonly kind: 'WD';
  readonly lambda: number;
  /** Distances, n×n row-major (W layout). */
  readonly D: Float64Array;
}

/** What WDC and EMD share: the communicability C of |W| with a strength floor. */
interface CommunicabilityCost {
  readonly lambda: number;
  readonly D: Float64Array;
  /** Strength floor s_min; null: none (the paper). */
  readonly sMin: number | null;
  /** Added to the column sums before the floor. */
  readonly eps: number;
  /**
   * GPU squaring steps encoded per call: 'adaptive' (the s the GPU needed last time + 2, read
   * back lagged; `maxSquarings` before the first read) or a fixed number.
   */
  readonly squarings: 'adaptive' | number;
  readonly maxSquarings: number;
  /** Written by the GPU backend after each call. */
  readonly stats: ExpmStats;
}

/** R = λ Σ |W|∘C∘D with C = offdiag(expm(diag(s)^-½ |W| diag(s)^-½)). */
export interface WdcCost extends CommunicabilityCost {
  readonly kind: 'WDC';
}

/** R = λ Σ |W|∘D + μ·mean_k |sort(c)_k − sort(c_emp)_k|. */
export interface EmdCost extends CommunicabilityCost {
  readonly kind: 'EMD';
  readonly mu: number;
  readonly target: EmdTargetData;
  /** The compared C_emp values, ascending (float64). */
  readonly cempSorted: Float64Array;
}

export type WiringCost = WdCost | WdcCost | EmdCost;
