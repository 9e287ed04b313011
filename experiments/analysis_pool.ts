/**
 * The analyses of trained runs spread over worker threads (experiments/trained_analysis_worker.ts).
 *
 * A batch of networks trained side by side finishes all at once, and its analyses are then the
 * only work left, all of it on the CPU: on an H200 a batch of 55 inference networks trained in
 * 169 s and was then analysed one run after another for 15 min. Each analysis is a pure, seeded
 * function of the run, so spreading them over threads changes run times, never numbers.
 */
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { analyseTrainedRun, type AnalysisJob, type AnalysisResult } from './trained_analysis.ts';

/** Threads for the analyses: CORTICAL_RNN_ANALYSIS_THREADS, else every core (training is over by then). */
function analysisThreads(): number {
  const env = process.env.CORTICAL_RNN_ANALYSIS_THREADS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) throw new Error(`CORTICAL_RNN_ANALYSIS_THREADS: expected a positive integer, got '${env}'`);
    return n;
  }
  return availableParallelism();
}

/**
 * Every job's analysis, yielded in job order as soon as it and those before it are done, so a
 * caller can write each run while the rest are still analysed (a batch stopped midway keeps
 * what it finished). One job, or one thread, runs inline; otherwise up to `threads` workers each
 * take the next job as they finish one. Leaving the loop early stops the workers.
 */
export async function* analyseTrainedRuns(jobs: AnalysisJob[], threads = analysisThreads()): AsyncGenerator<AnalysisResult> {
  const nWorkers = Math.min(threads, jobs.length);
  if (nWorkers <= 1) {
    for (const job of jobs) yield analyseTrainedRun(job);
    return;
  }
  const settled = jobs.map(() => {
    let resolve!: (r: AnalysisResult) => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<AnalysisResult>((res, rej) => ((resolve = res), (reject = rej)));
    promise.catch(() => {}); // a failure surfaces when its turn comes in the loop below
    return { promise, resolve, reject };
  });
  const workers = Array.from({ length: nWorkers }, () => startWorker());
  let nextJob = 0;
  const drain = async (w: AnalysisWorker) => {
    while (nextJob < jobs.length) {
      const i = nextJob++;
      try {
        settled[i]!.resolve(await w.run(jobs[i]!));
      } catch (e) {
        settled[i]!.reject(e as Error);
        for (let j = nextJob; j < jobs.length; j++) settled[j]!.reject(e as Error);
        nextJob = jobs.length;
      }
    }
  };
  const running = Promise.all(workers.map(drain));
  try {
    for (const s of settled) yield await s.promise;
    await running;
  } finally {
    nextJob = jobs.length;
    await Promise.all(workers.map((w) => w.close()));
  }
}

interface AnalysisWorker {
  run(job: AnalysisJob): Promise<AnalysisResult>;
  close(): Promise<number>;
}

/**
 * A worker on experiments/trained_analysis_worker. From the TypeScript sources (a development checkout)
 * the worker registers tsx first, as bin/cortical-rnn.js does: hooks registered in this thread do
 * not reach a worker's.
 */
function startWorker(): AnalysisWorker {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSource ? './trained_analysis_worker.ts' : './trained_analysis_worker.js', import.meta.url);
  let worker: Worker;
  if (fromSource) {
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href;
    const boot = `(async () => { const { register } = await import(${JSON.stringify(tsx)}); register(); await import(${JSON.stringify(entry.href)}); })()`;
    worker = new Worker(boot, { eval: true });
  } else {
    worker = new Worker(entry);
  }
  let pending: { resolve: (r: AnalysisResult) => void; reject: (e: Error) => void } | null = null;
  const fail = (e: Error) => {
    pending?.reject(e);
    pending = null;
  };
  worker.on('message', (m: { result?: AnalysisResult; error?: string }) => {
    if (m.error !== undefined) fail(new Error(`analysis worker: ${m.error}`));
    else pending?.resolve(m.result!);
    pending = null;
  });
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`analysis worker exited (code ${code}) before it answered`)));
  return {
    run: (job) =>
      new Promise<AnalysisResult>((resolve, reject) => {
        pending = { resolve, reject };
        worker.postMessage(job);
      }),
    close: () => worker.terminate(),
  };
}
