/** Run-record helpers that need no file system. */
import { describe, expect, it } from 'vitest';
import { epochWeightFiles, runId, runKey, runRelDir } from '../experiments/record.ts';

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
