/** Worker thread of experiments/analysis_pool.ts: one job per message, one answer per job. */
import { parentPort } from 'node:worker_threads';
import { analyseTrainedRun, type AnalysisJob } from './trained_analysis.ts';

parentPort!.on('message', (job: AnalysisJob) => {
  try {
    parentPort!.postMessage({ result: analyseTrainedRun(job) });
  } catch (e) {
    parentPort!.postMessage({ error: (e as Error).message });
  }
});
