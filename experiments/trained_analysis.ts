/**
 * The analyses of a trained run (graph metrics of W_rec, what its modules follow and, on the
 * inference task, the functional metrics): one pure, seeded function, `analyseTrainedRun`, which
 * the browser runs inline and Node spreads over worker threads (analysis_pool.ts).
 */
import { analyzeNetwork, type NetworkMetrics } from '../analysis/metrics.ts';
import type { LabellingInputs } from '../analysis/module_alignment.ts';
import type { HostParams, RnnConfig } from '../engine/rnn/params.ts';
import { inferenceFunction, type FunctionMetrics } from './inference_coding.ts';

export interface AnalysisJob {
  W_rec: Float64Array;
  n: number;
  seed: number;
  nNull?: number;
  nMatched?: number;
  positions?: Float64Array;
  /** The field's labellings' inputs, for what the modules follow (real fields only). */
  labellings?: LabellingInputs;
  /** The inference task's functional analysis, which runs the network on fresh trials. */
  fn?: { cfg: RnnConfig; params: HostParams; inputNoise: number };
}

export interface AnalysisResult {
  metrics: NetworkMetrics;
  fn: FunctionMetrics | null;
  /** Seconds this run's analysis took (in whichever thread ran it). */
  seconds: number;
}

export function analyseTrainedRun(job: AnalysisJob): AnalysisResult {
  const t0 = performance.now();
  const metrics = analyzeNetwork(job.W_rec, job.n, {
    seed: job.seed,
    nNull: job.nNull,
    nMatched: job.nMatched,
    positions: job.positions,
    labellings: job.labellings,
  });
  const fn = job.fn && job.positions ? inferenceFunction(job.fn.cfg, job.fn.params, job.positions, { seed: job.seed, inputNoise: job.fn.inputNoise }) : null;
  return { metrics, fn, seconds: (performance.now() - t0) / 1000 };
}
