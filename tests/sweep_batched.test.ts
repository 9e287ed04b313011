/**
 * `sweep` trains runs of one field and task together, K networks per dispatch. Each network
 * follows the trajectory it follows alone, so a batched sweep writes the same run directories
 * (weights per epoch, metrics, accuracies) as an unbatched one.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PAPER_PROTOCOL, type Protocol } from '../experiments/protocol.ts';
import { planRuns, sweep } from '../experiments/sweep.ts';
import { readRunRecord } from '../experiments/run.ts';
import { runRelDir } from '../experiments/record.ts';
import { parseVariantList } from '../experiments/variants.ts';
import { hasAdapter, useGpu } from './helpers/gpu.ts';
import { expectSameRun } from './helpers/runs.ts';

const DATA = '../shared/data';
const haveData = existsSync(join(DATA, 'microns-fields', '5_3_4'));
const TINY: Protocol = { ...PAPER_PROTOCOL, epochs: 2, splits: { train: 256, test: 128, val: 128 }, nNull: 20, nMatched: 3 };

describe.skipIf(!hasAdapter || !haveData)('batched sweeps', () => {
  const gpu = useGpu();

  it('two networks per batch write the same runs as one at a time', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'cortical-rnn-batched-'));
    const plan = { field: '5_3_4', tasks: ['gonogo'], variants: parseVariantList('W*D*C,WD*'), seeds: [1, 2], modes: ['corrected' as const], positive: false };
    const base = { ...plan, dataDir: DATA, backend: gpu.get(), protocol: TINY, quiet: true };
    const one = await sweep({ ...base, out: join(tmp, 'one'), modelsPerBatch: 1 });
    const two = await sweep({ ...base, out: join(tmp, 'two'), modelsPerBatch: 2 });
    expect(one.ran).toHaveLength(4);
    expect(two.ran.sort()).toEqual(one.ran.sort());
    for (const spec of planRuns(plan)) {
      const a = join(tmp, 'one', runRelDir(spec));
      const b = join(tmp, 'two', runRelDir(spec));
      const fa = readRunRecord(a)!;
      const fb = readRunRecord(b)!;
      expect(fb.status).toBe(fa.status);
      expect(fb.accuracy).toEqual(fa.accuracy);
      expect(fb.testLoss).toBe(fa.testLoss);
      expect(fb.metrics).toEqual(fa.metrics);
      expect(fb.history.map((h) => [h.meanLoss, h.trainAccuracy, h.evalAccuracy])).toEqual(
        fa.history.map((h) => [h.meanLoss, h.trainAccuracy, h.evalAccuracy]),
      );
      for (const f of readdirSync(a).filter((x) => x.endsWith('.npy'))) {
        expect(readFileSync(join(b, f)).equals(readFileSync(join(a, f))), `${spec.variant} seed ${spec.seed} ${f}`).toBe(true);
      }
    }
  });

  it("runs of both modes share a batch (the mode changes only each network's own regulariser) and write the same runs as one at a time", async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'cortical-rnn-batched-modes-'));
    const plan = {
      field: '5_3_4',
      tasks: ['gonogo'],
      variants: parseVariantList('WD*,W*D*C'),
      seeds: [1],
      modes: ['paper' as const, 'corrected' as const],
      positive: false,
    };
    const base = { ...plan, dataDir: DATA, backend: gpu.get(), protocol: TINY, quiet: true };
    const one = await sweep({ ...base, out: join(tmp, 'one'), modelsPerBatch: 1 });
    const lines: string[] = [];
    const four = await sweep({ ...base, out: join(tmp, 'four'), modelsPerBatch: 4, log: (l) => lines.push(l) });
    expect(lines).toContain('sweep: training up to 4 networks per batch');
    expect(one.ran).toHaveLength(4);
    expect(four.ran).toEqual(one.ran);
    // every file the same (.npy byte for byte; records and metrics.csv apart from timings)
    for (const spec of planRuns(plan)) expectSameRun(join(tmp, 'one', runRelDir(spec)), join(tmp, 'four', runRelDir(spec)));
  });
});
