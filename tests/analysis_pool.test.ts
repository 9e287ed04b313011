import { describe, expect, it } from 'vitest';
import { analyseTrainedRuns } from '../experiments/analysis_pool.ts';
import type { AnalysisJob, AnalysisResult } from '../experiments/trained_analysis.ts';
import { rnnConfigFor } from '../experiments/setup.ts';
import { Rng } from '../engine/rng.ts';
import { initParams } from '../engine/rnn/params.ts';
import { getTask } from '../tasks/index.ts';

function job(seed: number, n = 40): AnalysisJob {
  const rng = new Rng(seed, 'pool-test');
  const cfg = rnnConfigFor(getTask('inference'), n);
  const params = initParams(cfg, rng.fork('init'));
  return {
    W_rec: Float64Array.from(params.W_rec),
    n,
    seed,
    nNull: 20,
    nMatched: 5,
    positions: Float64Array.from(rng.normals(n * 3), (v) => 100 * v),
    fn: { cfg, params, inputNoise: 0.05 },
  };
}

const numbers = (r: AnalysisResult[]) => r.map(({ metrics, fn }) => ({ metrics, fn }));
const all = async (jobs: AnalysisJob[], threads: number) => {
  const out: AnalysisResult[] = [];
  for await (const r of analyseTrainedRuns(jobs, threads)) out.push(r);
  return out;
};

describe('analyses in worker threads', () => {
  it('give exactly the numbers of the same analyses inline, in job order', async () => {
    const jobs = [job(1), job(2), job(3)];
    const inline = await all(jobs, 1);
    const threaded = await all(jobs, 2);
    expect(numbers(threaded)).toEqual(numbers(inline));
    // the jobs differ, so a mix-up of the order would show
    expect(inline[0]!.metrics.Q_cnm).not.toBe(inline[1]!.metrics.Q_cnm);
    expect(inline.every((r) => r.fn !== null && r.seconds > 0)).toBe(true);
  }, 120_000);

  it("a worker's error reaches the caller with its message", async () => {
    const bad = { ...job(4), W_rec: new Float64Array(7) };
    await expect(all([job(5), bad], 2)).rejects.toThrow(/analysis worker: thresholdTop10: expected 1600 weights, got 7/);
  }, 120_000);
});
