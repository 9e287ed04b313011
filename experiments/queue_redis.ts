/**
 * The Redis side of the queue: the URL and queue name a user gives, a quick reachability probe,
 * and the connections BullMQ runs on (one per coordinator, worker or status call), which
 * outlive a Redis restart.
 */
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { OptionError } from '../engine/errors.ts';

export const DEFAULT_QUEUE_NAME = 'cortical-rnn';

/** A Redis URL: `url` to connect with, `shown` safe to print (no password). */
export interface QueueUrl {
  url: string;
  shown: string;
}

/** '--queue redis://[user:password@]HOST:PORT[/DB]' (or rediss:// for TLS). */
export function parseQueueUrl(spec: string, flag = '--queue'): QueueUrl {
  const expected = 'a Redis URL redis://[USER:PASSWORD@]HOST:PORT[/DB] (rediss:// for TLS)';
  let u: URL;
  try {
    u = new URL(spec.trim());
  } catch {
    throw new OptionError(flag, expected, `"${spec}"`);
  }
  if ((u.protocol !== 'redis:' && u.protocol !== 'rediss:') || !u.hostname) throw new OptionError(flag, expected, `"${redact(spec)}"`);
  const db = u.pathname.replace(/^\//, '');
  if (db && !/^\d{1,2}$/.test(db)) throw new OptionError(flag, `${expected}, DB a number 0-99`, `"${redact(spec)}"`);
  return { url: u.toString(), shown: redact(u.toString()) };
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/** A name for the queue (it prefixes Redis keys): letters, digits, '_' and '-'. */
export function checkQueueName(name: string, flag = '--queue-name'): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) throw new OptionError(flag, "a name of letters, digits, '_' and '-'", `"${name}"`);
  return name;
}

/**
 * Fails within `timeoutMs` with one line when Redis cannot be reached (refused, unknown host,
 * wrong password), instead of the client's endless reconnecting.
 */
export async function probe(q: QueueUrl, timeoutMs = 5000): Promise<void> {
  const r = new Redis(q.url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  // The client's own rejection is often only "Connection is closed"; the cause comes as an event.
  let cause = '';
  r.on('error', (e: Error) => (cause ||= e.message));
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    });
    await Promise.race([
      (async () => {
        await r.connect();
        await r.ping();
      })(),
      timeout,
    ]);
  } catch (e) {
    const m = cause || (e as Error).message || String(e);
    throw new Error(`--queue ${q.shown}: expected a reachable Redis server, got ${m}`, { cause: e });
  } finally {
    clearTimeout(timer);
    r.disconnect();
  }
}

/**
 * A connection that outlives a Redis restart: commands wait for the reconnection instead of
 * failing (BullMQ needs maxRetriesPerRequest null), and an outage is logged once.
 */
function connection(q: QueueUrl, log: (s: string) => void): Redis {
  const r = new Redis(q.url, { maxRetriesPerRequest: null, retryStrategy: (times) => Math.min(200 * times, 2000) });
  let down = false;
  r.on('error', (e: Error) => {
    if (!down) log(`queue: lost Redis at ${q.shown} (${e.message}); reconnecting`);
    down = true;
  });
  r.on('ready', () => {
    if (down) log(`queue: reconnected to Redis at ${q.shown}`);
    down = false;
  });
  return r;
}

/** A BullMQ queue on a connection of its own; `close` ends both. */
export interface OpenQueue<T> {
  connection: Redis;
  queue: Queue<T>;
  close(): Promise<void>;
}

/** Opens queue `name` on a new connection to `q` (outages are logged once each, by the connection). */
export function openQueue<T>(q: QueueUrl, name: string, log: (s: string) => void): OpenQueue<T> {
  const conn = connection(q, log);
  const queue = new Queue<T>(name, { connection: conn });
  queue.on('error', () => {}); // the connection logs outages
  return {
    connection: conn,
    queue,
    close: async () => {
      await queue.close().catch(() => {});
      conn.disconnect();
    },
  };
}

/** The queue's events (its jobs' progress among them) on a connection of their own; `close` ends both. */
export function openQueueEvents(q: QueueUrl, name: string, log: (s: string) => void): { events: QueueEvents; close(): Promise<void> } {
  const conn = connection(q, log);
  const events = new QueueEvents(name, { connection: conn });
  events.on('error', () => {}); // the connection logs outages
  return {
    events,
    close: async () => {
      await events.close().catch(() => {});
      conn.disconnect();
    },
  };
}
