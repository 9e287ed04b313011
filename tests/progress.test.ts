// Durations in logs: rounded before they are split into units, so no field reads 60.
import { describe, expect, it } from 'vitest';
import { Progress, formatDuration } from '../experiments/progress.ts';

describe('formatDuration', () => {
  it('rounds to whole seconds, then splits minutes and seconds', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(59.4)).toBe('59s');
    expect(formatDuration(59.6)).toBe('1m00s');
    expect(formatDuration(119.6)).toBe('2m00s');
    expect(formatDuration(125)).toBe('2m05s');
    expect(formatDuration(3599.4)).toBe('59m59s');
  });

  it('rounds to whole minutes above an hour', () => {
    expect(formatDuration(3599.6)).toBe('1h00m');
    expect(formatDuration(3600 + 59 * 60 + 40)).toBe('2h00m');
    expect(formatDuration(3 * 3600 + 7 * 60)).toBe('3h07m');
  });

  it('says ? for what is not a duration', () => {
    expect(formatDuration(NaN)).toBe('?');
    expect(formatDuration(-1)).toBe('?');
    expect(formatDuration(Infinity)).toBe('?');
  });

  it('ends a run with its label, summary and a valid duration', () => {
    let out = '';
    const p = new Progress({ label: '[1/1]', totalSteps: 4, tty: false, stream: { write: (s: string) => (out += s) } });
    p.done('test acc 1.000');
    expect(out).toMatch(/^\[1\/1\] test acc 1\.000 \((\d|[1-5]\d)s\)\n$/);
  });
});
