/** Worker thread of experiments/analysis.ts: one job per message, one answer per job. */
import { parentPort } from 'node:worker_threads';
import { analyseRun, type AnalysisJob } from './analysis.ts';

parentPort!.on('message', (job: AnalysisJob) => {
  try {
    parentPort!.postMessage({ result: analyseRun(job) });
  } catch (e) {
    parentPort!.postMessage({ error: (e as Error).message });
  }
});
