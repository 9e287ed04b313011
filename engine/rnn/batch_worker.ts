/** Worker thread of engine/rnn/batch_workers.ts: builds its networks' training batches, one step per request. */
import { serveBatches } from './batch_workers.ts';

serveBatches();
