/** yargs options shared by `train` and `sweep` (the protocol's overrides). */
import type { Argv } from 'yargs';
import type { ProtocolOverrides } from './protocol.ts';

export function withProtocolOptions<T>(y: Argv<T>) {
  return y
    .option('positive', { type: 'boolean', default: false, describe: 'positive-only recurrence (W_rec clipped at 0 after every update)' })
    .option('out', { type: 'string', default: 'results', describe: 'results directory (runs go to DIR/runs/…; `report DIR` reads it)' })
    .option('quick', {
      type: 'boolean',
      default: false,
      describe: 'the quick preset (field 5_3_4, 1,280 training trials, 6 epochs; sweep: 2 seeds, Go/NoGo + PDM, W, WD*C, W*D*C, W*D*C*)',
    })
    .option('epochs', { type: 'number', describe: 'epochs (paper: 10)' })
    .option('steps', { type: 'number', describe: 'cap on the total number of Adam steps' })
    .option('lr', { type: 'number', describe: 'Adam learning rate (paper: 1e-3)' })
    .option('batch-size', { type: 'number', describe: 'batch size (paper: 128)' })
    .option('train-trials', { type: 'number', describe: 'training trials (paper: 5120)' })
    .option('test-trials', { type: 'number', describe: 'held-out test trials (paper: 2560)' })
    .option('val-trials', { type: 'number', describe: 'validation trials, evaluated after every epoch (paper: 2560)' })
    .option('n-null', { type: 'number', describe: 'paper null graphs for σ (default 1000)' })
    .option('n-matched', { type: 'number', describe: 'degree-preserving rewirings for σ_matched (default 50)' });
}

/** `--redo-corrupt`, of the commands that resume (sweep, sernn, quickstart) or check for a finished run (train). */
export const REDO_CORRUPT_OPTION = {
  type: 'boolean',
  default: false,
  describe:
    'retrain runs whose final.json is corrupt (unparseable, another schema or incomplete) instead of stopping; the old file is kept as final.json.corrupt-<time> in the run directory',
} as const;

/** The protocol flags the train and sweep commands accept (λ and μ are fixed by the paper). */
export type ProtocolArgs = Omit<ProtocolOverrides, 'lambda' | 'mu'>;

export function overridesOf(a: ProtocolArgs): ProtocolOverrides {
  return {
    epochs: a.epochs,
    steps: a.steps,
    lr: a.lr,
    batchSize: a.batchSize,
    trainTrials: a.trainTrials,
    testTrials: a.testTrials,
    valTrials: a.valTrials,
    nNull: a.nNull,
    nMatched: a.nMatched,
  };
}
