/**
 * Argument and shape checks that several backends and the regularisers share. They live here,
 * outside every backend, so that no backend imports another's module for its validation and
 * all of them reject the same input with the same typed error.
 */
import { ShapeError } from './errors.ts';
import { fmtShape, type Tensor } from './tensor.ts';

/** Validates the shapes of a cross-entropy call; returns [problems K, rows per problem, classes]. */
export function checkCrossEntropy(logits: Tensor, labels: Tensor, mask?: Tensor): [number, number, number] {
  const rank = logits.shape.length;
  if (rank !== 2 && rank !== 3)
    throw new ShapeError('softmaxCrossEntropy', `logits must be [rows, classes] or [K, rows, classes], got ${fmtShape(logits.shape)}`);
  const [K, rows, classes] = (rank === 3 ? logits.shape : [1, ...logits.shape]) as [number, number, number];
  if (labels.size !== K * rows) throw new ShapeError('softmaxCrossEntropy', `labels ${fmtShape(labels.shape)} do not match ${K * rows} rows`);
  if (mask && mask.size !== K * rows) throw new ShapeError('softmaxCrossEntropy', `mask ${fmtShape(mask.shape)} does not match ${K * rows} rows`);
  return [K, rows, classes];
}

/** Checks that `x` holds an n×n row-major matrix; `what` names the caller (and argument). */
export function checkSquare(x: ArrayLike<number>, n: number, what: string): void {
  if (x.length !== n * n) throw new ShapeError(what, { message: `${what}: expected ${n}×${n} = ${n * n} entries, got ${x.length}` });
}

/** Checks that a regulariser's distance matrix D has the n×n entries of the W it is applied to. */
export function checkDistances(regularizer: string, D: ArrayLike<number>, n: number): void {
  if (D.length !== n * n) {
    throw new ShapeError(regularizer, { message: `${regularizer}: D has ${D.length} entries, expected ${n * n} (W is ${n}×${n})` });
  }
}

/** Refuses an assembleScaled row that reads past its blocks or scale, or writes past the output. */
export function checkScaledRows(
  blocks: number,
  scale: number,
  size: number,
  len: number,
  rows: readonly { block: number; scaleAt: number; offset: number }[],
): void {
  for (const r of rows) {
    if ((r.block + 1) * len > blocks || r.scaleAt >= scale || r.offset < 0 || r.offset + len > size) {
      throw new ShapeError('assembleScaled', `block ${r.block} of ${len} (of ${blocks} values), scale ${r.scaleAt} (of ${scale}), at ${r.offset} of [${size}]`);
    }
  }
}
