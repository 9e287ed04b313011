import type { CommandModule } from 'yargs';
import { command as info } from './info.ts';
import { command as bench } from './bench.ts';
import { command as verify } from './verify.ts';
import { command as quickstart } from './quickstart.ts';
import { command as data } from './data.ts';
import { command as train } from './train.ts';
import { command as sweep } from './sweep.ts';
import { command as report } from './report.ts';
import { command as analyze } from './analyze.ts';
import { command as sernn } from './sernn.ts';
import { command as serve } from './serve.ts';
import { command as worker } from './worker.ts';
import { command as queue } from './queue.ts';
import { command as slurm } from './slurm.ts';
import { command as plan } from './plan.ts';
import { command as tune } from './tune.ts';
// Registry of CLI commands; each module exports `command`.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [
  quickstart,
  info,
  bench,
  verify,
  data,
  plan,
  tune,
  train,
  sweep,
  sernn,
  worker,
  queue,
  slurm,
  report,
  analyze,
  serve,
];
