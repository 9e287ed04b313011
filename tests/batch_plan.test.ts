/**
 * The batch planner (experiments/batch_plan.ts), which the local sweep, its shards and the queue
 * workers share: runs of one field, task and protocol train together, K at a time, in plan
 * order; mode and positivity do not separate them; incompatible runs never share a batch.
 */
import { describe, expect, it } from 'vitest';
import type { Backend } from '../engine/tensor.ts';
import { modelsPerBatch } from '../engine/rnn/trainer.ts';
import { batchKey, batchSizeFor, nextBatch, planBatches, type BatchRun } from '../experiments/batch_plan.ts';
import { PAPER_PROTOCOL, type Protocol } from '../experiments/protocol.ts';
import { runId, type RunSpec } from '../experiments/record.ts';
import { rnnConfigFor } from '../experiments/setup.ts';
import { planRuns } from '../experiments/sweep.ts';
import { parseVariantList } from '../experiments/variants.ts';
import { getTask } from '../tasks/index.ts';
import { smallGrid } from './helpers/runs.ts';

const GRID = smallGrid();

/** The batches of `specs` under one protocol, `k` per batch, as run ids. */
function plan(specs: RunSpec[], k: number, protocol: Protocol = PAPER_PROTOCOL): string[][] {
  return planBatches(
    specs,
    (spec) => ({ spec, protocol }),
    () => k,
  ).map((b) => b.map(runId));
}

const id = (task: string, variant: string, seed: number) => `corrected/5_3_4/${task}/${variant}/seed-${seed}`;

describe('batch planner', () => {
  it('runs of one field and task train together, K at a time, in plan order', () => {
    expect(plan(GRID, 2)).toEqual([
      [id('gonogo', 'W', 1), id('gonogo', 'WD*C', 1)],
      [id('gonogo', 'W*D*C', 1), id('gonogo', 'W', 2)],
      [id('gonogo', 'WD*C', 2), id('gonogo', 'W*D*C', 2)],
      [id('pdm', 'W', 1), id('pdm', 'WD*C', 1)],
      [id('pdm', 'W*D*C', 1), id('pdm', 'W', 2)],
      [id('pdm', 'WD*C', 2), id('pdm', 'W*D*C', 2)],
    ]);
    // One at a time: every run alone, each task's runs in plan order.
    const gonogo = GRID.filter((s) => s.task === 'gonogo').map(runId);
    const pdm = GRID.filter((s) => s.task === 'pdm').map(runId);
    expect(plan(GRID, 1)).toEqual([...gonogo, ...pdm].map((r) => [r]));
    // As many as there are: one batch per task.
    expect(plan(GRID, 64)).toEqual([gonogo, pdm]);
    // Never fewer than one per batch.
    expect(plan(GRID, 0)).toEqual(plan(GRID, 1));
  });

  it('incompatible runs (field, task, protocol) never share a batch; mode and positivity do not separate runs', () => {
    const other: Protocol = { ...PAPER_PROTOCOL, epochs: 2 };
    const runs: BatchRun[] = [];
    for (const field of ['5_3_4', '6_6_2'])
      for (const protocol of [PAPER_PROTOCOL, other])
        for (const spec of planRuns({
          field,
          tasks: ['gonogo', 'pdm', 'inference'],
          variants: parseVariantList('W,WDC'),
          seeds: [1, 2, 3],
          modes: ['paper', 'corrected'],
          positive: field === '6_6_2',
          lambdas: { WDC: [0.01, 0.1] },
        }))
          runs.push({ spec, protocol });
    const shuffled = runs.map((r, i) => ({ r, k: (i * 7919) % runs.length })).sort((a, b) => a.k - b.k);
    for (const items of [runs, shuffled.map((x) => x.r)]) {
      for (const k of [1, 2, 5, 64]) {
        const batches = planBatches(
          items,
          (r) => r,
          () => k,
        );
        expect(batches.flat(), `K = ${k}`).toHaveLength(items.length);
        expect(new Set(batches.flat()).size).toBe(items.length);
        for (const b of batches) {
          expect(b.length).toBeGreaterThan(0);
          expect(b.length).toBeLessThanOrEqual(k);
          for (const r of b) {
            expect(r.spec.field).toBe(b[0]!.spec.field);
            expect(r.spec.task).toBe(b[0]!.spec.task);
            expect(r.protocol).toEqual(b[0]!.protocol);
          }
        }
        // Runs keep their relative order within a batch and across a kind's batches.
        for (const kind of new Set(items.map(batchKey))) {
          const inPlan = items.filter((r) => batchKey(r) === kind);
          expect(batches.filter((b) => batchKey(b[0]!) === kind).flat()).toEqual(inPlan);
        }
      }
      // Unbounded: one batch per field × task × protocol, holding both modes (and λs).
      const whole = planBatches(
        items,
        (r) => r,
        () => Infinity,
      );
      expect(whole).toHaveLength(2 * 3 * 2);
      for (const b of whole) expect(new Set(b.map((r) => r.spec.mode))).toEqual(new Set(['paper', 'corrected']));
    }
    expect(batchKey(runs[0]!)).not.toBe(batchKey({ ...runs[0]!, protocol: other }));
    expect(batchKey(runs[0]!)).toBe(batchKey({ ...runs[0]!, spec: { ...runs[0]!.spec, mode: 'paper', positive: true, variant: 'WDC', seed: 9, lambda: 1 } }));
  });

  it("a worker's next batch is the first batch the plan forms", () => {
    const items = GRID.map((spec) => ({ spec, protocol: PAPER_PROTOCOL }));
    for (let start = 0; start < items.length; start++) {
      const held = [...items.slice(start), ...items.slice(0, start)];
      for (const k of [1, 2, 3, 64]) {
        const size = () => k;
        const first = planBatches(held, (r) => r, size)[0];
        expect(nextBatch(held, (r) => r, size)).toEqual(first);
      }
    }
    expect(
      nextBatch(
        [],
        (r: BatchRun) => r,
        () => 2,
      ),
    ).toEqual([]);
  });

  it("sizes each kind once, from its first run: --models-per-batch, else what the adapter's memory allows", () => {
    const asked: string[] = [];
    planBatches(
      GRID,
      (spec) => ({ spec, protocol: PAPER_PROTOCOL }),
      (run) => {
        asked.push(runId(run.spec));
        return 2;
      },
    );
    expect(asked).toEqual([id('gonogo', 'W', 1), id('pdm', 'W', 1)]);

    const run = { spec: { field: 'grid-5x5x4', task: 'gonogo', variant: 'W', seed: 1, mode: 'corrected' as const, positive: false }, protocol: PAPER_PROTOCOL };
    // The option wins, without asking the adapter.
    expect(batchSizeFor(run, { backend: {} as Backend, dataDir: '', modelsPerBatch: 3 })).toBe(3);
    // No binding limit (CPU adapters): one network at a time.
    expect(batchSizeFor(run, { backend: { maxBindingBytes: null } as unknown as Backend, dataDir: '' })).toBe(1);
    // A GPU's binding limit: as many as memory allows for this N, T and B, up to 64.
    const gpu = { maxBindingBytes: 128 * 2 ** 20 } as unknown as Backend;
    const task = getTask('gonogo');
    const expected = modelsPerBatch(gpu, rnnConfigFor(task, 100), task.T, PAPER_PROTOCOL.batchSize);
    expect(expected).toBeGreaterThan(1);
    expect(batchSizeFor(run, { backend: gpu, dataDir: '' })).toBe(expected);
  });
});
