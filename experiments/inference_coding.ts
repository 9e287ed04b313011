/**
 * The seRNN paper's functional analyses of a trained network on the one-step inference task
 * (Achterberg, Akarca et al. 2023): what units code, where they sit, and what the code costs.
 *
 * The network runs (float64, on the CPU twin of the forward kernel) on `TRIALS` fresh trials of the
 * task with the training input noise, so units vary from trial to trial as they did in training.
 * The two task variables are the goal (4 values) and the choice options (the pair of available
 * directions, 5 values). They are confounded (an options pair hints at the goal), so:
 *  - goal coding is η² by goal of the unit's mean rate over the delay (steps 20–29: the goal has
 *    been seen, the options not yet);
 *  - options coding is the partial η² by options beyond the goal of its mean rate over the choice
 *    period (the last 20 steps, when goal and options are combined).
 * See analysis/unit_coding.ts for the formulas.
 */
import {
  codingPreference,
  colocalisation,
  CODING_ETA2,
  meanActivity,
  mixedSelectivity,
  unitTuning,
  windowedSelectivityCorrelation,
} from '../analysis/unit_coding.ts';
import { rnnForwardCpu } from '../engine/cpu/rnn.ts';
import { gatherBatch } from '../engine/data.ts';
import { Rng } from '../engine/rng.ts';
import type { HostParams, RnnConfig } from '../engine/rnn/params.ts';
import { INFERENCE_PROBLEMS, inferenceTask } from '../tasks/inference.ts';
import { periodBounds } from '../tasks/types.ts';

/** Trials simulated per network (128 per problem on average). */
const TRIALS = 1024;

export interface FunctionMetrics {
  trials: number;
  /** η² threshold for "codes a variable". */
  coding_eta2: number;
  /** Active units (activity varies across trials) and those coding goal, options, both. */
  units_active: number;
  units_goal: number;
  units_choices: number;
  /** Share of active units coding both goal and options. */
  mixed_selectivity: number;
  /**
   * Mixed selectivity by the seRNN authors' measure: the correlation across units of the
   * variance explained by goal and by options (η² of each, in 5-step windows), averaged over the
   * windows of the choice period (null where no window has 3 active units). Absent in runs
   * analysed before it existed.
   */
  mixed_selectivity_r?: number | null;
  /** Mean η² of goal (delay) and partial η² of options beyond goal (choice period) over active units. */
  eta2_goal: number;
  eta2_choices: number;
  /** corr(|Δ preference|, distance) over coding unit pairs, its permutation p and the units used. */
  colocalisation: number;
  colocalisation_p: number;
  colocalisation_units: number;
  /** Mean rate over units, steps and trials (the energy of the code). */
  energy: number;
}

/** The functional metrics of a network trained on the inference task (positions [N, 3]). */
export function inferenceFunction(cfg: RnnConfig, params: HostParams, positions: ArrayLike<number>, o: { seed: number; inputNoise: number }): FunctionMetrics {
  const N = cfg.nHidden;
  const rng = new Rng(o.seed, 'function:inference');
  const ds = inferenceTask.generate(TRIALS, rng.fork('trials'));
  const idx = Int32Array.from({ length: TRIALS }, (_, k) => k);
  const batch = gatherBatch(ds, idx, o.inputNoise, rng.fork('noise'));
  const T = ds.T;
  const { H } = rnnForwardCpu(cfg, params, batch.x, T, TRIALS);
  const windowMean = (start: number, end: number) => {
    const out = new Float64Array(TRIALS * N);
    for (let t = start; t < end; t++) {
      for (let k = 0; k < TRIALS; k++) {
        const src = (t * TRIALS + k) * N;
        for (let j = 0; j < N; j++) out[k * N + j] = out[k * N + j]! + H[src + j]! / (end - start);
      }
    }
    return out;
  };
  const periods = periodBounds(inferenceTask.periods);
  const delay = windowMean(periods.delay!.start, periods.delay!.end);
  const choicePeriod = windowMean(periods.choices!.start, periods.choices!.end);
  const goal = ds.trialInfo.goal!;
  const pairs = [...new Set(INFERENCE_PROBLEMS.map((p) => [...p.choices].sort().join('')))];
  const choices = Float64Array.from(ds.trialInfo.problem!, (k) => pairs.indexOf([...INFERENCE_PROBLEMS[k]!.choices].sort().join('')));
  const tuning = unitTuning(delay, choicePeriod, N, goal, choices);
  const windows = windowedSelectivityCorrelation(H, { T, trials: TRIALS, N }, goal, choices).filter(
    (w) => w.start >= periods.choices!.start && w.end <= periods.choices!.end && Number.isFinite(w.r),
  );
  const pref = codingPreference(tuning);
  const co = colocalisation(pref, positions, { seed: o.seed });
  let active = 0;
  let codeGoal = 0;
  let codeChoices = 0;
  let sumGoal = 0;
  let sumChoices = 0;
  for (let j = 0; j < N; j++) {
    if (!tuning.active[j]) continue;
    active++;
    sumGoal += tuning.etaA[j]!;
    sumChoices += tuning.etaB[j]!;
    if (tuning.etaA[j]! >= CODING_ETA2) codeGoal++;
    if (tuning.etaB[j]! >= CODING_ETA2) codeChoices++;
  }
  return {
    trials: TRIALS,
    coding_eta2: CODING_ETA2,
    units_active: active,
    units_goal: codeGoal,
    units_choices: codeChoices,
    mixed_selectivity: mixedSelectivity(tuning),
    mixed_selectivity_r: windows.length ? windows.reduce((acc, w) => acc + w.r, 0) / windows.length : null,
    eta2_goal: active ? sumGoal / active : 0,
    eta2_choices: active ? sumChoices / active : 0,
    colocalisation: co.r,
    colocalisation_p: co.p,
    colocalisation_units: co.units,
    energy: meanActivity(H),
  };
}
