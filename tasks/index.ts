/**
 * Task registry. Paper tasks: 'inference', 'gonogo', 'pdm' (with aliases); NeuroGym-compatible
 * tasks under 'ng.<NeuroGym class name>'.
 */
import { goNogoTask } from './gonogo.ts';
import { inferenceTask } from './inference.ts';
import { ngContextDecisionMaking, contextDecisionMaking } from './neurogym/contextDecisionMaking.ts';
import { ngDelayMatchSample } from './neurogym/delayMatchSample.ts';
import { ngGoNogo } from './neurogym/goNogo.ts';
import { ngPerceptualDecisionMaking } from './neurogym/perceptualDecisionMaking.ts';
import { pdmTask } from './pdm.ts';
import type { Task } from './types.ts';
import { OptionError } from '../engine/errors.ts';

export type { Dataset, Period, Task } from './types.ts';
export { periodBounds } from './types.ts';
export { inferenceTask, INFERENCE_PROBLEMS, GOAL_CHANNEL, DIRECTIONS } from './inference.ts';
export { goNogoTask } from './gonogo.ts';
export { pdmTask, pdmCeiling, PDM_COHERENCES } from './pdm.ts';
export { ngPerceptualDecisionMaking } from './neurogym/perceptualDecisionMaking.ts';
export { ngGoNogo } from './neurogym/goNogo.ts';
export { ngContextDecisionMaking, contextDecisionMaking, CDM_COHERENCES } from './neurogym/contextDecisionMaking.ts';
export { ngDelayMatchSample } from './neurogym/delayMatchSample.ts';
export { makeSplits, PAPER_SPLITS, PAPER_BATCH_SIZE } from './splits.ts';

const TASKS: Task[] = [
  inferenceTask,
  goNogoTask,
  pdmTask,
  ngPerceptualDecisionMaking,
  ngGoNogo,
  ngContextDecisionMaking,
  contextDecisionMaking({ explicitContext: true }),
  ngDelayMatchSample,
];

const ALIASES: Record<string, string> = {
  'one-step-inference': 'inference',
  onestepinference: 'inference',
  'go-nogo': 'gonogo',
  'go-no-go': 'gonogo',
  gonogo: 'gonogo',
  'perceptual-decision-making': 'pdm',
  perceptualdecisionmaking: 'pdm',
};

/** Canonical task names. */
export const taskNames: readonly string[] = TASKS.map((t) => t.name);

/** The task of a name or alias (case-insensitive); throws listing the known names. */
/** A task by name or alias; `option` names the flag in the error (e.g. '--tasks'). */
export function getTask(name: string, option = '--task'): Task {
  const key = name.trim();
  const lower = key.toLowerCase();
  const canonical = ALIASES[lower] ?? key;
  const task = TASKS.find((t) => t.name === canonical || t.name.toLowerCase() === canonical.toLowerCase());
  if (!task) {
    throw new OptionError(option, `one of ${taskNames.join(', ')} (aliases: ${Object.keys(ALIASES).join(', ')})`, `"${name}"`);
  }
  return task;
}
