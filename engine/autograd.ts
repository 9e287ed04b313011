/**
 * A tape autograd in the spirit of micrograd. Each op computes its value on the backend and,
 * when an input needs a gradient, records (output, inputs, backward). `backward()` walks the
 * tape in reverse, turning the output's gradient into input gradients and summing them.
 * Fused ops (the RNN over T steps, the regulariser) enter through `record` with hand-written
 * backward kernels.
 */
import type { Backend, MatmulOptions, Shape, Tensor } from './tensor.ts';

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
  private noGradDepth = 0;

  constructor(readonly backend: Backend) {}

  /** A leaf: a parameter (requiresGrad) or a constant input. */
  leaf(value: Tensor, requiresGrad = false, name = ''): Var {
    return new Var(value, requiresGrad, name);
  }

  /** Runs fn without recording (evaluation, optimiser updates). */
  noGrad<T>(fn: () => T): T {
    this.noGradDepth++;
    try {
      return fn();
    } finally {
      this.noGradDepth--;
    }
  }

  /** Records an op; returns its output Var. Fused ops call this directly. */
  record(value: Tensor, inputs: Var[], backward: Backward): Var {
    const needs = this.noGradDepth === 0 && inputs.some((v) => v.requiresGrad);
    const out = new Var(value, needs);
    if (needs) this.entries.push({ output: out, inputs, backward });
    return out;
  }

  /** Back-propagates from a scalar; gradients land in `.grad` of every Var that requires one. */
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

  /** Forgets recorded ops without back-propagating. */
  clear(): void {
    this.entries = [];
  }

  // ---- primitive ops ----

  matmul(a: Var, c: Var, opts: Omit<MatmulOptions, 'accumulate'> = {}): Var {
    const b = this.backend;
    const tA = opts.transA ?? false;
    const tB = opts.transB ?? false;
    return this.record(b.matmul(a.value, c.value, opts), [a, c], (g) => {
      // C = op(A)·op(B): d op(A) = g·op(B)ᵀ and d op(B) = op(A)ᵀ·g, transposed back where needed.
      const dA = tA ? b.matmul(c.value, g, { transA: tB, transB: true }) : b.matmul(g, c.value, { transB: !tB });
      const dB = tB ? b.matmul(g, a.value, { transA: true, transB: tA }) : b.matmul(a.value, g, { transA: !tA });
      return [sumToRank(b, dA, a.shape), sumToRank(b, dB, c.shape)];
    });
  }

  add(a: Var, c: Var): Var {
    const b = this.backend;
    return this.record(b.binary('add', a.value, c.value), [a, c], (g) => [g, reduceLike(b, g, c.shape)]);
  }

  sub(a: Var, c: Var): Var {
    const b = this.backend;
    return this.record(b.binary('sub', a.value, c.value), [a, c], (g) => [g, reduceLike(b, b.unary('neg', g), c.shape)]);
  }

  mul(a: Var, c: Var): Var {
    const b = this.backend;
    return this.record(b.binary('mul', a.value, c.value), [a, c], (g) => [b.binary('mul', g, c.value), reduceLike(b, b.binary('mul', g, a.value), c.shape)]);
  }

  div(a: Var, c: Var): Var {
    const b = this.backend;
    const out = b.binary('div', a.value, c.value);
    return this.record(out, [a, c], (g) => {
      const gc = b.binary('div', b.binary('mul', g, out), c.value); // g·a/c²
      return [b.binary('div', g, c.value), reduceLike(b, b.unary('neg', gc), c.shape)];
    });
  }

  relu(x: Var): Var {
    const b = this.backend;
    return this.record(b.unary('relu', x.value), [x], (g) => [b.binary('mul', g, b.unary('reluMask', x.value))]);
  }

  /** |x|, with d|x|/dx = sign(x) (0 at 0). */
  abs(x: Var): Var {
    const b = this.backend;
    return this.record(b.unary('abs', x.value), [x], (g) => [b.binary('mul', g, b.unary('sign', x.value))]);
  }

  exp(x: Var): Var {
    const b = this.backend;
    const y = b.unary('exp', x.value);
    return this.record(y, [x], (g) => [b.binary('mul', g, y)]);
  }

  log(x: Var): Var {
    const b = this.backend;
    return this.record(b.unary('log', x.value), [x], (g) => [b.binary('div', g, x.value)]);
  }

  square(x: Var): Var {
    const b = this.backend;
    return this.record(b.unary('square', x.value), [x], (g) => [b.affine(b.binary('mul', g, x.value), 2)]);
  }

  /** alpha·x + beta. */
  affine(x: Var, alpha: number, beta = 0): Var {
    const b = this.backend;
    return this.record(b.affine(x.value, alpha, beta), [x], (g) => [b.affine(g, alpha)]);
  }

  sum(x: Var): Var {
    const b = this.backend;
    return this.record(b.sum(x.value), [x], (g) => [b.binary('mul', b.fill(x.shape, 1), g)]);
  }

  mean(x: Var): Var {
    return this.affine(this.sum(x), 1 / Math.max(x.value.size, 1));
  }

  sumAxis(x: Var, axis: number): Var {
    const b = this.backend;
    const shape = x.shape;
    const ax = axis < 0 ? axis + shape.length : axis;
    return this.record(b.sumAxis(x.value, ax), [x], (g) => [broadcastAxis(b, g, shape, ax)]);
  }

  transpose(x: Var): Var {
    const b = this.backend;
    return this.record(b.transpose(x.value), [x], (g) => [b.transpose(g)]);
  }

  reshape(x: Var, shape: Shape): Var {
    const b = this.backend;
    return this.record(b.reshape(x.value, shape), [x], (g) => [b.reshape(g, x.shape)]);
  }

  /** Masked mean softmax cross-entropy of logits [R, C]; labels and mask are constants. */
  softmaxCrossEntropy(logits: Var, labels: Tensor, mask?: Tensor): Var {
    const b = this.backend;
    const { loss, probs } = b.softmaxCrossEntropy(logits.value, labels, mask);
    return this.record(loss, [logits], (g) => [b.softmaxCrossEntropyBackward(probs, labels, mask, loss, g)]);
  }
}

/** Sums a batched gradient over the batch axis when the operand was broadcast (rank 2). */
function sumToRank(b: Backend, g: Tensor, shape: Shape): Tensor {
  return g.shape.length > shape.length ? b.sumAxis(g, 0) : g;
}

/** Reduces a gradient to a broadcast operand's shape (a scalar operand gets the total). */
function reduceLike(b: Backend, g: Tensor, shape: Shape): Tensor {
  const size = shape.reduce((x, y) => x * y, 1);
  return size === 1 && g.size !== 1 ? b.reshape(b.sum(g), shape) : g;
}

/** Expands g (shape without `axis`) back along `axis`: out[o, l, i] = g[o, i]. */
function broadcastAxis(b: Backend, g: Tensor, shape: Shape, axis: number): Tensor {
  const outer = shape.slice(0, axis).reduce((x, y) => x * y, 1);
  const len = shape[axis]!;
  const inner = shape.slice(axis + 1).reduce((x, y) => x * y, 1);
  const ones = b.fill([len, 1], 1);
  const expanded = b.matmul(ones, b.reshape(g, [outer, 1, inner])); // [outer, len, inner]
  return b.reshape(expanded, shape);
}
