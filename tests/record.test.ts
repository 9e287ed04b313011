/** Run-record helpers that need no file system. */
import { describe, expect, it } from 'vitest';
import { epochWeightFiles } from '../experiments/record.ts';

describe('epoch weight files', () => {
  it('come in epoch order, by number, without the initial weights or other files', () => {
    const names = ['W_rec_epoch100.npy', 'config.json', 'W_rec_epoch99.npy', 'W_rec_init.npy', 'W_rec_epoch02.npy', 'W_rec_epoch10.npy'];
    expect(epochWeightFiles(names)).toEqual(['W_rec_epoch02.npy', 'W_rec_epoch10.npy', 'W_rec_epoch99.npy', 'W_rec_epoch100.npy']);
  });
});
