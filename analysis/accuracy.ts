/**
 * Classification accuracy from network outputs.
 *
 * Two numbers are reported. The headline is held-out **test** accuracy at the last training
 * step (`accuracyAtMask` on a test batch, noise as in evaluation). The paper's own number is
 * the running training accuracy of the last epoch, with training noise on: the correct and
 * total counts of every batch of that epoch pooled (`RunningAccuracy`).
 *
 * Layouts: logits are row-major [T, B, C] (time, batch, class) or [B, C] for final outputs;
 * labels are class indices per trial [B] or per time step [T, B]; the mask is [T, B], nonzero
 * where a time step is scored.
 */

/** Index of the largest of C values starting at `offset` (first one wins ties). */
export function argmax(values: ArrayLike<number>, offset: number, C: number): number {
  let best = 0;
  let bestValue = values[offset]!;
  for (let c = 1; c < C; c++) {
    const v = values[offset + c]!;
    if (v > bestValue) {
      bestValue = v;
      best = c;
    }
  }
  return best;
}

export interface AccuracyCount {
  correct: number;
  total: number;
  /** correct / total (NaN when nothing was scored). */
  accuracy: number;
}

/**
 * Accuracy over masked time steps: the fraction of (t, b) with mask[t, b] ≠ 0 where
 * argmax_c logits[t, b, c] equals the label (labels[b] when labels has B entries, else
 * labels[t, b]).
 */
export function accuracyAtMask(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  mask: ArrayLike<number>,
  shape: { T: number; B: number; C: number },
): AccuracyCount {
  const { T, B, C } = shape;
  if (logits.length !== T * B * C) throw new Error(`accuracyAtMask: logits have ${logits.length} entries, expected T*B*C = ${T * B * C}`);
  if (mask.length !== T * B) throw new Error(`accuracyAtMask: mask has ${mask.length} entries, expected T*B = ${T * B}`);
  const perTrial = labels.length === B;
  if (!perTrial && labels.length !== T * B) throw new Error(`accuracyAtMask: labels must have B or T*B entries, got ${labels.length}`);
  let correct = 0;
  let total = 0;
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      if (!mask[t * B + b]) continue;
      total++;
      const label = perTrial ? labels[b]! : labels[t * B + b]!;
      if (argmax(logits, (t * B + b) * C, C) === label) correct++;
    }
  }
  return { correct, total, accuracy: total > 0 ? correct / total : NaN };
}

/**
 * Accuracy at the last time step of each trial: argmax_c logits[T−1, b, c] against labels[b]
 * (or labels[T−1, b] when labels has T·B entries).
 */
export function lastStepAccuracy(logits: ArrayLike<number>, labels: ArrayLike<number>, shape: { T: number; B: number; C: number }): AccuracyCount {
  const { T, B } = shape;
  const mask = new Uint8Array(T * B);
  mask.fill(1, (T - 1) * B);
  return accuracyAtMask(logits, labels, mask, shape);
}

/** Accuracy of final outputs: logits [B, C] against labels [B]. */
export function finalAccuracy(logits: ArrayLike<number>, labels: ArrayLike<number>, C: number): AccuracyCount {
  const B = labels.length;
  const ones = new Uint8Array(B).fill(1);
  return accuracyAtMask(logits, labels, ones, { T: 1, B, C });
}

/**
 * Running accuracy over an epoch: pools the correct and total counts of each batch, so the
 * result is the fraction correct over all scored steps of the epoch (not a mean of batch
 * accuracies). `reset()` at the start of each epoch; the value after the last epoch is the
 * paper's reported training accuracy.
 */
export class RunningAccuracy {
  correct = 0;
  total = 0;

  add(batch: { correct: number; total: number }): void {
    this.correct += batch.correct;
    this.total += batch.total;
  }

  reset(): void {
    this.correct = 0;
    this.total = 0;
  }

  get accuracy(): number {
    return this.total > 0 ? this.correct / this.total : NaN;
  }
}
