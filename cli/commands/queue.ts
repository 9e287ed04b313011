/**
 * `cortical-rnn queue status --queue URL` prints the queue's job counts and the workers Redis
 * sees; `cortical-rnn queue drain --queue URL` removes its pending jobs (running ones finish).
 */
import type { CommandModule } from 'yargs';
import { parseQueueUrl, DEFAULT_QUEUE_NAME } from '../../experiments/queue_redis.ts';
import { drainQueue, queueStatus } from '../../experiments/queue_coordinator.ts';

export const command: CommandModule<object, { action: string; queue: string; queueName: string }> = {
  command: 'queue <action>',
  describe: "A sweep's Redis queue: status (job counts, workers seen) or drain (remove its pending jobs)",
  builder: (y) =>
    y
      .positional('action', { choices: ['status', 'drain'] as const, describe: 'what to do' })
      .option('queue', { type: 'string', demandOption: true, describe: 'the Redis URL (redis://[USER:PASSWORD@]HOST:PORT[/DB])' })
      .option('queue-name', { type: 'string', default: DEFAULT_QUEUE_NAME, describe: 'the BullMQ queue' }) as never,
  handler: async (a) => {
    const q = parseQueueUrl(a.queue);
    if (a.action === 'drain') {
      const n = await drainQueue(q, a.queueName);
      process.stdout.write(`queue ${q.shown}/${a.queueName}: removed ${n} pending job(s)\n`);
      return;
    }
    const s = await queueStatus(q, a.queueName);
    const c = s.counts;
    const lines = [
      `queue ${q.shown}/${a.queueName}`,
      `  waiting   ${(c.waiting ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0)}`,
      `  active    ${c.active ?? 0}`,
      `  completed ${c.completed ?? 0}`,
      `  failed    ${c.failed ?? 0}`,
      `  workers   ${s.workers.length}${s.workers.length ? ':' : ''}`,
      ...s.workers.map((w) => `    ${w.name} (${w.addr}, connected ${w.age} s)`),
    ];
    process.stdout.write(lines.join('\n') + '\n');
  },
};
