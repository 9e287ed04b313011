/**
 * Training progress on stderr: a redrawn bar (steps, loss, ETA) on a TTY, otherwise one plain
 * line per epoch (so CI logs stay readable). Silent when `quiet`.
 */
import type { EpochInfo, StepInfo } from '../engine/rnn/train.ts';

export interface ProgressOptions {
  label: string;
  totalSteps: number;
  stream?: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean };
  quiet?: boolean;
  /** Force TTY (true) or plain (false) rendering; default: the stream's isTTY. */
  tty?: boolean;
}

/** Whole seconds below an hour, whole minutes above; rounded before splitting, so 119.6 s is 2m00s. */
export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  const sec = Math.round(s);
  if (sec < 60) return `${sec}s`;
  if (sec < 3600) return `${Math.floor(sec / 60)}m${String(sec % 60).padStart(2, '0')}s`;
  const min = Math.round(s / 60);
  return `${Math.floor(min / 60)}h${String(min % 60).padStart(2, '0')}m`;
}

export class Progress {
  private readonly t0 = Date.now();
  private readonly tty: boolean;
  private readonly stream: NonNullable<ProgressOptions['stream']>;
  private lastDraw = 0;
  private drawn = false;

  constructor(private readonly o: ProgressOptions) {
    this.stream = o.stream ?? process.stderr;
    // CORTICAL_RNN_STDERR_TTY: stderr reaches a terminal through bin/cortical-rnn.js's filter.
    const terminal = Boolean((this.stream as { isTTY?: boolean }).isTTY) || (this.stream === process.stderr && process.env.CORTICAL_RNN_STDERR_TTY === '1');
    this.tty = o.tty ?? terminal;
  }

  private eta(step: number): string {
    const el = (Date.now() - this.t0) / 1000;
    return formatDuration(step > 0 ? (el / step) * (this.o.totalSteps - step) : NaN);
  }

  onStep(s: StepInfo): void {
    if (this.o.quiet || !this.tty) return;
    const now = Date.now();
    if (now - this.lastDraw < 100 && s.step < this.o.totalSteps) return;
    this.lastDraw = now;
    const total = this.o.totalSteps;
    const width = 24;
    const filled = Math.min(width, Math.round((s.step / total) * width));
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    this.stream.write(`\r\x1b[2K${this.o.label} ${bar} ${s.step}/${total} loss ${s.loss.toFixed(4)} ETA ${this.eta(s.step)}`);
    this.drawn = true;
  }

  onEpoch(e: EpochInfo): void {
    if (this.o.quiet || this.tty) return;
    const ev = e.evalAccuracy !== undefined ? ` eval acc ${e.evalAccuracy.toFixed(3)}` : '';
    this.stream.write(
      `${this.o.label} epoch ${e.epoch} step ${e.step}/${this.o.totalSteps} loss ${e.meanLoss.toFixed(4)} train acc ${e.trainAccuracy.toFixed(3)}${ev} (${e.seconds.toFixed(1)}s) ETA ${this.eta(e.step)}\n`,
    );
  }

  done(summary: string): void {
    if (this.o.quiet) return;
    if (this.tty && this.drawn) this.stream.write('\r\x1b[2K');
    this.stream.write(`${this.o.label} ${summary} (${formatDuration((Date.now() - this.t0) / 1000)})\n`);
  }
}

/** An epoch's summary as plain JSON (an event's or a job's progress data; no evaluation: null). */
export function epochData(e: EpochInfo): Record<string, number | null> {
  const { epoch, step, meanLoss, meanCe, meanReg, trainAccuracy, seconds } = e;
  return { epoch, step, meanLoss, meanCe, meanReg, trainAccuracy, evalAccuracy: e.evalAccuracy ?? null, seconds };
}
