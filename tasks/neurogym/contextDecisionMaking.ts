/**
 * NeuroGym ContextDecisionMaking (dim_ring = 2), v2 defaults. Two modalities each carry a
 * two-direction stimulus; only the context modality's stimulus is relevant. By default the
 * context is implicit (always modality 1, as in neurogym's use_expl_context=False); with
 * `explicitContext` two extra channels signal it on every step of the trial.
 * Channels: 0 fixation, 1–2 modality 1 (θ = 0, π), 3–4 modality 2, [5–6 context 1/2].
 * Actions: 0 fixate, 1–2 choice.
 *
 * | period   | ms                       | steps   | input                                         | target |
 * |----------|--------------------------|---------|-----------------------------------------------|--------|
 * | fixation | 300                      | 3       | ch0 = 1                                       | 0      |
 * | stimulus | 750                      | 7       | cos(θ_k − θ_choice_m)·coh_m/200 + 0.5 + N(0, 0.1²) | 0 |
 * | delay    | TruncExp(600, 300, 3000) | 3 to 29 | 0                                             | 0      |
 * | decision | 100                      | 1       | 0 (context channels stay on)                  | gt     |
 * T = 40 (the longest trial); shorter trials are padded at the end. coh_m ~ U{5, 15, 50}.
 * In the relevant modality the stimulus points to gt ∈ {1, 2}; the other points to an
 * independent uniform choice.
 */
import type { Rng } from '../../engine/rng.ts';
import type { Dataset, Task } from '../types.ts';
import { addInput, addNoise, drawBounds, NG_DT, NG_SIGMA, ngDataset, periodTable, setTargets, totalSteps, type Duration } from './common.ts';

export const CDM_COHERENCES = [5, 15, 50] as const;
const TIMING: Record<string, Duration> = {
  fixation: 300,
  stimulus: 750,
  delay: { truncExp: { mean: 600, min: 300, max: 3000 } },
  decision: 100,
};
const PERIODS = periodTable(TIMING);
const THETA = [0, Math.PI];

export function contextDecisionMaking(opts: { explicitContext?: boolean } = {}): Task {
  const explicit = opts.explicitContext ?? false;
  return {
    name: explicit ? 'ng.ContextDecisionMakingExplicit' : 'ng.ContextDecisionMaking',
    description:
      'NeuroGym ContextDecisionMaking (v2 defaults, dt = 100 ms): fixation 3 steps, two noisy two-direction ' +
      'stimuli (modalities) for 7 steps, a truncated-exponential delay of 3–29 steps, decision 1 step. ' +
      (explicit ? 'Context channels 5–6 say which modality is relevant.' : 'The relevant modality is always modality 1 (implicit context).') +
      ' Targets: fixate (0), then the relevant direction (1 or 2).',
    nIn: explicit ? 7 : 5,
    nOut: 3,
    T: totalSteps(PERIODS),
    dt: NG_DT,
    periods: PERIODS,
    generate(nTrials: number, rng: Rng): Dataset {
      const ds = ngDataset(this, nTrials, ['groundTruth', 'otherChoice', 'context', 'coh1', 'coh2']);
      for (let n = 0; n < nTrials; n++) {
        const gt = 1 + rng.int(2);
        const other = 1 + rng.int(2);
        const context = explicit ? rng.int(2) : 0;
        const coh1 = CDM_COHERENCES[rng.int(CDM_COHERENCES.length)]!;
        const coh2 = CDM_COHERENCES[rng.int(CDM_COHERENCES.length)]!;
        const [choice1, choice2] = context === 1 ? [other, gt] : [gt, other];
        const b = drawBounds(TIMING, rng);
        addInput(ds, n, b.fixation!, 0, 1);
        for (let k = 0; k < 2; k++) {
          addInput(ds, n, b.stimulus!, 1 + k, (Math.cos(THETA[k]! - THETA[choice1 - 1]!) * coh1) / 200 + 0.5);
          addInput(ds, n, b.stimulus!, 3 + k, (Math.cos(THETA[k]! - THETA[choice2 - 1]!) * coh2) / 200 + 0.5);
          addNoise(ds, n, b.stimulus!, 1 + k, NG_SIGMA, rng);
          addNoise(ds, n, b.stimulus!, 3 + k, NG_SIGMA, rng);
        }
        const len = b.decision!.end;
        if (explicit) addInput(ds, n, { start: 0, end: len }, 5 + context, 1);
        setTargets(ds, n, len, b.decision!, gt);
        ds.trialInfo.groundTruth![n] = gt;
        ds.trialInfo.otherChoice![n] = other;
        ds.trialInfo.context![n] = context;
        ds.trialInfo.coh1![n] = coh1;
        ds.trialInfo.coh2![n] = coh2;
      }
      return ds;
    },
  };
}

export const ngContextDecisionMaking: Task = contextDecisionMaking();
