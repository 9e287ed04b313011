/**
 * The regulariser extension point: a function of W_rec that adds its value to the loss and
 * dR/dW_rec to W_rec's gradient. The trainer enters all of a step's regularisers into the
 * tape as one entry whose backward scales the precomputed dR/dW (engine/rnn/trainer.ts).
 * The communicability regularisers (WD, WDC, EMD) implement this interface in
 * engine/regularizers/; plain L1 lives here.
 */
import type { Backend, Tensor } from '../tensor.ts';

export interface RecurrentRegularizer {
  readonly name: string;
  /** A one-line description with every constant that matters (λ, floors, targets). */
  describe(): string;
  /** R(W) as a scalar tensor [] and dR/dW as [N, N], on W's backend. W is a plain tensor. */
  apply(backend: Backend, W: Tensor, n: number): { value: Tensor; grad: Tensor };
}

/**
 * L1: R = λ·Σ|W|, dR/dW = λ·sign(W) (0 at 0). `paperCompat` reproduces the released code,
 * which adds Σ|W| without λ (effectively λ = 1).
 */
export class L1Regularizer implements RecurrentRegularizer {
  readonly name = 'L1';
  constructor(
    readonly lambda: number,
    readonly paperCompat = false,
  ) {}
  get effectiveLambda(): number {
    return this.paperCompat ? 1 : this.lambda;
  }
  describe(): string {
    return this.paperCompat ? 'L1: Σ|W_rec| (paper-compat: λ omitted, effectively 1)' : `L1: λ·Σ|W_rec|, λ = ${this.lambda}`;
  }
  apply(backend: Backend, W: Tensor): { value: Tensor; grad: Tensor } {
    const lam = this.effectiveLambda;
    return {
      value: backend.affine(backend.sum(backend.unary('abs', W)), lam),
      grad: backend.affine(backend.unary('sign', W), lam),
    };
  }
}
