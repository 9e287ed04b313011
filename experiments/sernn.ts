/**
 * The seRNN experiment (Achterberg, Akarca et al., Nature Machine Intelligence 2023; code:
 * github.com/8erberg/spatially-embedded-RNN, seRNN_demo.ipynb) as a preset of the sweep: two
 * families of 100-unit networks on an even 5 × 5 × 4 grid, trained on the one-step inference task
 * across regularisation strengths λ:
 *   L1     λ·Σ|W|            (variant W, corrected mode, so λ applies)
 *   seRNN  λ·Σ|W|∘C∘D        (variant WDC: grid D in grid units, weighted communicability C)
 *
 * From the notebook: 100 ReLU units (SimpleRNN, orthogonal recurrent init), 8 inputs, 4 softmax
 * outputs, Gaussian input noise σ = 0.05, Adam (lr 1e-3), categorical cross-entropy at the last
 * step, 10 epochs of 5,120 trials in batches of 128 (2,560 test and 2,560 validation trials), the
 * 5 × 5 × 4 meshgrid with Euclidean distances, strengths = out-strengths (Keras kernel row sums),
 * C's diagonal zeroed, analysis on the top 10% of |W|, σ against 1,000 (U + Uᵀ)/2 > 0.7 nulls.
 * That is this engine's paper protocol (PAPER_PROTOCOL) with λ per run.
 *
 * Ours: the strengths (the notebook shows one value, 0.5, "from the set of networks used"). A pilot
 * (5 epochs, one seed) put the collapse to the goal-blind 0.61 between λ = 1e-4 and 1.7e-3 for L1
 * and between 0.055 and 1 for seRNN, hence 8 strengths from 3e-5 and from 0.01, two decades each
 * (at the full 10 epochs L1 still solves the task at 3e-3: `--strengths 11` extends both families
 * upward, keeping the finished runs). Also ours: corrected mode's strength floor 1e-4 in C (the
 * notebook has none, so a unit whose outgoing weights all vanish would give inf there).
 */
import { PAPER_PROTOCOL, type Protocol } from './protocol.ts';
import { OptionError } from '../engine/errors.ts';
import { getVariant } from './variants.ts';
import type { SweepPlan } from './sweep.ts';

const SERNN_FIELD = 'grid-5x5x4';
const SERNN_TASK = 'inference';

/**
 * The two families: their variant and their weakest λ. Strengths climb from it by a fixed ratio,
 * 8 of them spanning two decades (`STEP` = 100^(1/7)), so asking for more strengths extends the
 * range upward and keeps every finished run's λ.
 */
export const SERNN_FAMILIES = [
  { family: 'L1', variant: 'W', lo: 3e-5 },
  { family: 'seRNN', variant: 'WDC', lo: 1e-2 },
] as const;
const STEP = 100 ** (1 / 7);

export const SERNN_PROTOCOL: Readonly<Protocol> = PAPER_PROTOCOL;

/** The family of a run's variant ('L1' for W, 'seRNN' for WDC), or null. */
export function sernnFamily(variant: string): 'L1' | 'seRNN' | null {
  return SERNN_FAMILIES.find((f) => f.variant === variant)?.family ?? null;
}

/** k strengths lo·STEPⁱ (i = 0 … k − 1), each rounded to 3 significant digits. */
export function sernnStrengths(lo: number, k: number): number[] {
  if (!Number.isInteger(k) || k < 1 || k > 100) throw new OptionError('--strengths', 'an integer from 1 to 100', `${k}`);
  return Array.from({ length: k }, (_, i) => Number((lo * STEP ** i).toPrecision(3)));
}

export type SernnFamily = (typeof SERNN_FAMILIES)[number]['family'];

/** How many ladder strengths each family gets, and which strengths fill a range of it. */
export interface SernnSampling {
  strengths: Record<SernnFamily, number>;
  fill: Partial<Record<SernnFamily, number[]>>;
}

/**
 * --strengths: a count for both families ("8"), or one per family ("L1=11,seRNN=8"). A family
 * left out of the list keeps 8.
 */
export function parseSernnStrengths(text: string): Record<SernnFamily, number> {
  const counts = { L1: 8, seRNN: 8 } as Record<SernnFamily, number>;
  if (/^\d+$/.test(text.trim())) {
    for (const f of SERNN_FAMILIES) counts[f.family] = Number(text);
    return counts;
  }
  for (const part of text.split(',')) {
    const m = /^\s*(L1|seRNN)\s*=\s*(\d+)\s*$/.exec(part);
    if (!m) throw new OptionError('--strengths', 'a count, or FAMILY=COUNT per family (L1=11,seRNN=8)', JSON.stringify(text));
    counts[m[1] as SernnFamily] = Number(m[2]);
  }
  return counts;
}

/**
 * --fill FAMILY=LO-HIxCOUNT[,…]: COUNT strengths evenly spaced from LO to HI (both included, as
 * the seRNN authors spaced theirs), each rounded to 3 significant digits, added to that family's
 * ladder; e.g. seRNN=0.07-0.3x8 fills the range where seRNN networks grow sparse but still learn.
 */
export function parseSernnFill(text: string | undefined): Partial<Record<SernnFamily, number[]>> {
  const fill: Partial<Record<SernnFamily, number[]>> = {};
  if (!text) return fill;
  for (const part of text.split(',')) {
    const m = /^\s*(L1|seRNN)\s*=\s*([0-9.eE+-]+)\s*-\s*([0-9.eE+-]+)\s*x\s*(\d+)\s*$/.exec(part);
    const [lo, hi, count] = m ? [Number(m[2]), Number(m[3]), Number(m[4])] : [NaN, NaN, NaN];
    if (!m || !(lo > 0) || !(hi > lo) || count < 2 || count > 1000) {
      throw new OptionError('--fill', 'FAMILY=LO-HIxCOUNT with 0 < LO < HI and 2 ≤ COUNT ≤ 1000 (seRNN=0.07-0.3x8)', JSON.stringify(part.trim()));
    }
    const values = Array.from({ length: count }, (_, i) => Number((lo + ((hi - lo) * i) / (count - 1)).toPrecision(3)));
    fill[m[1] as SernnFamily] = [...(fill[m[1] as SernnFamily] ?? []), ...values];
  }
  return fill;
}

/** A family's strengths: its ladder and its fill, ascending, each once. */
function familyStrengths(family: (typeof SERNN_FAMILIES)[number], sampling: SernnSampling): number[] {
  const all = [...sernnStrengths(family.lo, sampling.strengths[family.family]), ...(sampling.fill[family.family] ?? [])];
  return [...new Set(all)].sort((a, b) => a - b);
}

/** The sweep plan of the seRNN experiment: both families × their strengths × seeds. */
export function sernnPlan(strengths: number | SernnSampling, seeds: number[]): SweepPlan {
  const sampling: SernnSampling =
    typeof strengths === 'number' ? { strengths: { L1: strengths, seRNN: strengths } as Record<SernnFamily, number>, fill: {} } : strengths;
  return {
    field: SERNN_FIELD,
    tasks: [SERNN_TASK],
    variants: SERNN_FAMILIES.map((f) => getVariant(f.variant)),
    seeds,
    modes: ['corrected'],
    positive: false,
    lambdas: Object.fromEntries(SERNN_FAMILIES.map((f) => [f.variant, familyStrengths(f, sampling)])),
  };
}
