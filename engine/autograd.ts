/**
 * A tape autograd in the spirit of micrograd. Each op computes its value on the backend and,
 * when an input needs a gradient, records (output, inputs, backward). `backward()` walks the
 * tape in reverse, turning the output's gradient into input gradients and summing them.
 * The training step's entries are fused ops with hand-written backward kernels (the RNN over
 * T steps and the regularisers, recorded by engine/rnn/trainer.ts), the loss and their sum;
 * the tape has the ops that step uses and no others.
 */
import type { Backend, Shape, Tensor } from './tensor.ts';

export class Var {
  grad: Tensor | null = null;
  constructor(
    public value: Tensor,
    readonly requiresGrad = false,
    readonly name = '',
  ) {}
  get shape(): Shape {
    return this.value.shape;
  }
}

type Backward = (gradOut: Tensor) => (Tensor | null)[];

interface TapeEntry {
  output: Var;
  inputs: Var[];
  backward: Backward;
}

export class Tape {
  private entries: TapeEntry[] = [];

  constructor(readonly backend: Backend) {}

  /** A leaf: a parameter (requiresGrad) or a constant input. */
  leaf(value: Tensor, requiresGrad = false, name = ''): Var {
    return new Var(value, requiresGrad, name);
  }

  /** Records an op; returns its output Var. Fused ops call this directly. */
  record(value: Tensor, inputs: Var[], backward: Backward): Var {
    const needs = inputs.some((v) => v.requiresGrad);
    const out = new Var(value, needs);
    if (needs) this.entries.push({ output: out, inputs, backward });
    return out;
  }

  /**
   * Back-propagates from `root` with gradient `seed` (default ones: d Σ root); gradients land
   * in `.grad` of every Var that requires one.
   */
  backward(root: Var, seed?: Tensor): void {
    const b = this.backend;
    root.grad = seed ?? b.fill(root.shape, 1);
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const { output, inputs, backward } = this.entries[i]!;
      if (!output.grad) continue;
      const grads = backward(output.grad);
      inputs.forEach((input, k) => {
        const g = grads[k];
        if (!g || !input.requiresGrad) return;
        input.grad = input.grad ? b.binary('add', input.grad, g) : g;
      });
    }
    this.entries = [];
  }

  // ---- ops ----

  add(a: Var, c: Var): Var {
    const b = this.backend;
    return this.record(b.binary('add', a.value, c.value), [a, c], (g) => [g, reduceLike(b, g, c.shape)]);
  }

  /** Masked mean softmax cross-entropy of logits [R, C] (or K problems [K, R, C]); labels and mask are constants. */
  softmaxCrossEntropy(logits: Var, labels: Tensor, mask?: Tensor): Var {
    const b = this.backend;
    const { loss, probs } = b.softmaxCrossEntropy(logits.value, labels, mask);
    return this.record(loss, [logits], (g) => [b.softmaxCrossEntropyBackward(probs, labels, mask, loss, g)]);
  }
}

/** Reduces a gradient to a broadcast operand's shape (a scalar operand gets the total). */
function reduceLike(b: Backend, g: Tensor, shape: Shape): Tensor {
  const size = shape.reduce((x, y) => x * y, 1);
  return size === 1 && g.size !== 1 ? b.reshape(b.sum(g), shape) : g;
}
