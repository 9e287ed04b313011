/**
 * `cortical-rnn worker --queue redis://HOST:PORT --out DIR` pulls the runs a `sweep --queue`
 * coordinator enqueued, trains them (compatible runs together, as many per batch as the
 * adapter allows) and writes each run directory into DIR, which must be the coordinator's --out
 * (a shared filesystem across machines). SIGINT/SIGTERM: finish the running batch, hand back
 * the jobs not started, exit; a second signal hands back the running batch too and exits now.
 */
import type { CommandModule } from 'yargs';
import { resolveDataDir } from '../../connectome/datadir.ts';
import { rnnDesignOf, withBackend, withBackendOption, withDesignOption, BACKEND_CHOICES } from '../common.ts';
import { checkQueueName, parseQueueUrl, DEFAULT_QUEUE_NAME } from '../../experiments/queue_redis.ts';
import { startWorker } from '../../experiments/queue_worker.ts';
import { OptionError } from '../../engine/errors.ts';

type Args = {
  data?: string;
  queue: string;
  queueName: string;
  out: string;
  backend: (typeof BACKEND_CHOICES)[number];
  rnnDesign?: string;
  matmulKernel?: 'auto' | 'workgroup' | 'subgroup';
  modelsPerBatch?: number;
  idleExit?: number;
  lockSeconds: number;
  stalledSeconds: number;
};

function positive(flag: string, v: number | undefined, integer = false): void {
  if (v === undefined) return;
  if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v)))
    throw new OptionError(flag, integer ? 'a positive integer' : 'a positive number', `${v}`);
}

export const command: CommandModule<object, Args> = {
  command: 'worker',
  describe: 'Pull the runs of a `sweep --queue` from Redis and train them, writing run directories into --out',
  builder: (y) =>
    withDesignOption(withBackendOption(y))
      .option('queue', { type: 'string', demandOption: true, describe: 'the Redis of the sweep (redis://[USER:PASSWORD@]HOST:PORT[/DB], rediss:// for TLS)' })
      .option('queue-name', { type: 'string', default: DEFAULT_QUEUE_NAME, describe: 'the BullMQ queue (as given to the sweep)' })
      .option('out', { type: 'string', demandOption: true, describe: "the sweep's results directory (shared with the coordinator)" })
      .option('models-per-batch', {
        type: 'number',
        describe: "networks trained together (default: as many as the adapter's memory allows, up to 64; 1 on the CPU reference backend)",
      })
      .option('idle-exit', {
        type: 'number',
        describe: 'exit once the queue, having had jobs, has had none waiting or running for this many seconds (for job arrays)',
      })
      .option('lock-seconds', { type: 'number', default: 60, describe: "a dead worker's jobs go to another worker after this long" })
      .option('stalled-seconds', { type: 'number', default: 30, describe: "how often to look for dead workers' jobs" }) as never,
  handler: async (a) => {
    const queue = parseQueueUrl(a.queue);
    const queueName = checkQueueName(a.queueName);
    positive('--models-per-batch', a.modelsPerBatch, true);
    positive('--idle-exit', a.idleExit);
    positive('--lock-seconds', a.lockSeconds);
    positive('--stalled-seconds', a.stalledSeconds);
    const dataDir = resolveDataDir(a.data);
    const design = rnnDesignOf(a);
    await withBackend(a, async (backend) => {
      const w = await startWorker({
        design,
        queue,
        queueName,
        out: a.out,
        dataDir,
        backend,
        modelsPerBatch: a.modelsPerBatch,
        idleExitSeconds: a.idleExit,
        lockMs: a.lockSeconds * 1000,
        stalledMs: a.stalledSeconds * 1000,
      });
      let signals = 0;
      let last = 0;
      const onSignal = () => {
        // Ctrl-C reaches this process twice: from the terminal (the whole process group) and
        // forwarded by bin/cortical-rnn.js's filter. One keypress is one signal.
        if (Date.now() - last < 1000) return;
        last = Date.now();
        signals++;
        void w.stop().then(() => {
          // The second signal leaves a batch training: its jobs are back in the queue, so go.
          if (signals >= 2) process.exit(130);
        });
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const s = await w.done;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.stdout.write(`worker done: ${s.completed} runs completed, ${s.failed} failed, ${s.handedBack} handed back\n`);
    });
  },
};
