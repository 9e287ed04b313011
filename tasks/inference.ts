/**
 * One-step inference: the first choice of the seRNN maze task (Achterberg et al. 2023), as used
 * by the reproduced paper.
 *
 * Inputs (8 channels): 0–3 the goal, one-hot (goal id 7→ch0, 9→ch1, 17→ch2, 19→ch3);
 * 4–7 the two available directions, two-hot, in the order l, u, r, d.
 *
 * | period  | steps | channels 0–3 | channels 4–7 |
 * |---------|-------|--------------|--------------|
 * | goal    | 20    | goal one-hot | 0            |
 * | delay   | 10    | 0            | 0            |
 * | choices | 20    | 0            | two-hot      |
 * T = 50. Output: 4 classes (l=0, u=1, r=2, d=3), labelled at the last step only.
 */
import type { Rng } from '../engine/rng.ts';
import { emptyDataset, fillInput, labelLastStep, periodBounds, type Dataset, type Task } from './types.ts';

export const DIRECTIONS = ['l', 'u', 'r', 'd'] as const;
type Direction = (typeof DIRECTIONS)[number];

/** Goal id → input channel. */
export const GOAL_CHANNEL: Readonly<Record<number, number>> = { 7: 0, 9: 1, 17: 2, 19: 3 };

export interface InferenceProblem {
  goal: number;
  choices: [Direction, Direction];
  correct: Direction;
}

/** The 8 problems of the paper, written (goal id, choices, correct direction). */
export const INFERENCE_PROBLEMS: readonly InferenceProblem[] = [
  { goal: 9, choices: ['u', 'l'], correct: 'u' },
  { goal: 9, choices: ['r', 'd'], correct: 'r' },
  { goal: 19, choices: ['l', 'd'], correct: 'd' },
  { goal: 17, choices: ['r', 'd'], correct: 'd' },
  { goal: 17, choices: ['u', 'l'], correct: 'l' },
  { goal: 7, choices: ['u', 'r'], correct: 'u' },
  { goal: 19, choices: ['l', 'r'], correct: 'r' },
  { goal: 7, choices: ['l', 'r'], correct: 'l' },
];

const PERIODS = [
  { name: 'goal', steps: 20 },
  { name: 'delay', steps: 10 },
  { name: 'choices', steps: 20 },
];

export const inferenceTask: Task = {
  name: 'inference',
  description:
    'One-step inference (seRNN maze, first choice). Goal one-hot on channels 0–3 for 20 steps, ' +
    'a 10-step blank delay, then the two available directions two-hot on channels 4–7 (l, u, r, d) ' +
    'for 20 steps; answer the direction toward the goal at the last step (4 classes). ' +
    'The 8 problems are drawn uniformly. A network that ignores the goal scores at most 5/8 = 0.625, ' +
    'because three choice pairs (ul, rd, lr) have different answers for different goals.',
  nIn: 8,
  nOut: 4,
  T: 50,
  periods: PERIODS,
  generate(nTrials: number, rng: Rng): Dataset {
    const ds = emptyDataset(this, nTrials, ['problem', 'goal', 'groundTruth']);
    const b = periodBounds(PERIODS);
    for (let n = 0; n < nTrials; n++) {
      const k = rng.int(INFERENCE_PROBLEMS.length);
      const p = INFERENCE_PROBLEMS[k]!;
      fillInput(ds, n, b.goal!.start, b.goal!.end, GOAL_CHANNEL[p.goal]!, 1);
      for (const c of p.choices) fillInput(ds, n, b.choices!.start, b.choices!.end, 4 + DIRECTIONS.indexOf(c), 1);
      const cls = DIRECTIONS.indexOf(p.correct);
      labelLastStep(ds, n, cls);
      ds.trialInfo.problem![n] = k;
      ds.trialInfo.goal![n] = p.goal;
      ds.trialInfo.groundTruth![n] = cls;
    }
    return ds;
  },
};
