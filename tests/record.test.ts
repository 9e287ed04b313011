/** Run-record helpers that need no file system. */
import { describe, expect, it } from 'vitest';
import { checkFinalRecord, epochWeightFiles, RUN_SCHEMA, runId, runKey, runRelDir, type FinalRecord } from '../experiments/record.ts';

describe('epoch weight files', () => {
  it('come in epoch order, by number, without the initial weights or other files', () => {
    const names = ['W_rec_epoch100.npy', 'config.json', 'W_rec_epoch99.npy', 'W_rec_init.npy', 'W_rec_epoch02.npy', 'W_rec_epoch10.npy'];
    expect(epochWeightFiles(names)).toEqual(['W_rec_epoch02.npy', 'W_rec_epoch10.npy', 'W_rec_epoch99.npy', 'W_rec_epoch100.npy']);
  });
});

describe("a run's identity", () => {
  it('is spelled from one list of parts as an id, a directory and a queue key', () => {
    const spec = { field: '6_6_2', task: 'pdm', variant: 'W*D*C', seed: 2, mode: 'corrected' as const, positive: true, lambda: 0.003 };
    expect(runId(spec)).toBe('corrected-positive/6_6_2/pdm/W*D*C/lambda-0.003/seed-2');
    expect(runRelDir(spec)).toBe('runs/corrected-positive/6_6_2/pdm/WsDsC/lambda-0.003/seed-2');
    expect(runKey(spec)).toBe('corrected-positive.6_6_2.pdm.WsDsC.lambda-0.003.seed-2');
    const plain = { ...spec, positive: false, lambda: undefined };
    expect(runRelDir(plain)).toBe('runs/corrected/6_6_2/pdm/WsDsC/seed-2');
  });
});

describe('the final record check', () => {
  const record = (schema: string, epochs: number[]) =>
    ({
      schema,
      id: 'paper/6_6_2/gonogo/W/seed-1',
      spec: { field: '6_6_2', task: 'gonogo', variant: 'W', seed: 1, mode: 'paper', positive: false },
      status: 'ok',
      accuracy: { test: 0.9, paper: 0.8, val: null },
      metrics: { Q_cnm: 0.3 },
      history: epochs.map((epoch, i) => ({ epoch, step: 40 * (i + 1), trainAccuracy: 0.5 })),
    }) as unknown as FinalRecord;

  it('reads a run/1 record as run/2, its history renumbered from 1, and leaves the rest alone', () => {
    const old = record('cortical-rnn/run/1', [0, 1, 2]);
    const rec = checkFinalRecord(old, 'x/final.json');
    expect(rec.schema).toBe(RUN_SCHEMA);
    expect(rec.history.map((h) => h.epoch)).toEqual([1, 2, 3]);
    expect(rec.history.map((h) => h.step)).toEqual([40, 80, 120]);
    expect(old.history.map((h) => h.epoch)).toEqual([0, 1, 2]); // the parsed input is not changed in place
    expect(rec.accuracy).toEqual(old.accuracy);
  });

  it('refuses a run/2 history numbered from 0, and a schema it does not know, in one line naming the file', () => {
    expect(() => checkFinalRecord(record(RUN_SCHEMA, [0, 1]), 'x/final.json')).toThrow(
      'x/final.json: field "history": expected a list of epochs numbered from 1, got [0,1]',
    );
    expect(() => checkFinalRecord(record('cortical-rnn/run/9', [1]), 'x/final.json')).toThrow(
      /^x\/final\.json: field "schema": expected "cortical-rnn\/run\/2"/,
    );
    expect(checkFinalRecord(record(RUN_SCHEMA, [1, 2]), 'x/final.json').history.map((h) => h.epoch)).toEqual([1, 2]);
  });
});
