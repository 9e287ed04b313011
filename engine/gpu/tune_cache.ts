/**
 * The autotuner's cache on disk: one JSON file of measured winners, keyed by adapter, driver,
 * engine version and shape, so tuning is paid once per machine. Reached through
 * process.getBuiltinModule (not a static import), so the engine still bundles for a browser,
 * where the cache lives in memory only.
 *
 * A file that cannot be trusted is named in one warning line and then ignored and rewritten,
 * never a crash: one that does not parse, is of another schema (foreign), or whose entries were
 * measured for other kernels (stale: the engine version in the key changed). Writes go to a
 * temporary file renamed over the cache, under a lock file, and merge with what another process
 * wrote meanwhile, so two processes tuning at once lose nothing and never leave half a file.
 */
import type { MatmulDesign, RnnDesign } from '../tensor.ts';

export const TUNE_CACHE_SCHEMA = 'cortical-rnn/rnn-designs/2';

/** A time: median and min over repeats, in milliseconds. */
export interface Timing {
  ms: number;
  min: number;
  repeats: number;
}

/** One recurrent design's forward + BPTT for a shape, with one matmul design. */
export interface DesignTiming extends Timing {
  design: RnnDesign;
  matmul: MatmulDesign;
}

/** The K networks' WDC cost (expm, its Fréchet adjoint, the gradient) with one matmul design. */
export interface RegularizerTiming extends Timing {
  matmul: MatmulDesign;
}

/** A tuned shape: where and when it was measured, every candidate's time, and the winner. */
export interface TuneEntry {
  adapter: string;
  driver: string;
  engine: string;
  shape: { N: number; B: number; T: number; K: number };
  /** the pair with the least forward + BPTT + regulariser time */
  winner: RnnDesign;
  matmul: MatmulDesign;
  timings: DesignTiming[];
  regularizer: RegularizerTiming[];
  measuredAt: string;
}

interface CacheFile {
  schema: string;
  entries: Record<string, TuneEntry>;
}

type NodeFs = { fs: typeof import('node:fs'); path: typeof import('node:path'); os: typeof import('node:os') };

function nodeModules(): NodeFs | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const get = proc?.getBuiltinModule;
  if (typeof get !== 'function') return null;
  return { fs: get('node:fs') as NodeFs['fs'], path: get('node:path') as NodeFs['path'], os: get('node:os') as NodeFs['os'] };
}

/** CORTICAL_RNN_TUNE_CACHE, else $XDG_CACHE_HOME (or ~/.cache)/cortical-rnn/rnn-designs.json; null outside Node. */
function defaultCachePath(): string | null {
  const node = nodeModules();
  if (!node) return null;
  const env = process.env;
  if (env.CORTICAL_RNN_TUNE_CACHE) return env.CORTICAL_RNN_TUNE_CACHE;
  const base = env.XDG_CACHE_HOME || node.path.join(node.os.homedir(), '.cache');
  return node.path.join(base, 'cortical-rnn', 'rnn-designs.json');
}

/** The cache's entries, the trusted ones only; `warn` hears one line for a file it cannot trust. */
export class TuneCache {
  private memory = new Map<string, TuneEntry>();
  private warned = false;

  constructor(
    readonly path: string | null = defaultCachePath(),
    private readonly warn: (line: string) => void = (line) => console.warn(line),
  ) {}

  /** The entry for `key` measured by this engine version, else undefined (a stale one is named once). */
  get(key: string, engine: string): TuneEntry | undefined {
    const entry = this.read()[key] ?? this.memory.get(key);
    if (!entry) return undefined;
    if (entry.engine !== engine) {
      this.warnOnce(`${this.path}: the entry for ${key} was measured for other kernels (engine ${entry.engine}, now ${engine}); retuning`);
      return undefined;
    }
    return entry;
  }

  /** Records an entry, merged into whatever the file holds now. */
  put(key: string, entry: TuneEntry): void {
    this.memory.set(key, entry);
    const node = nodeModules();
    if (!node || !this.path) return;
    const { fs, path } = node;
    fs.mkdirSync(path.dirname(this.path), { recursive: true });
    withLockFile(fs, `${this.path}.lock`, () => {
      const entries = { ...this.read(), [key]: entry };
      const tmp = `${this.path}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify({ schema: TUNE_CACHE_SCHEMA, entries } satisfies CacheFile, null, 1) + '\n');
      fs.renameSync(tmp, this.path!);
    });
  }

  /** Every trusted entry in the file (empty when there is none, or it cannot be trusted). */
  read(): Record<string, TuneEntry> {
    const node = nodeModules();
    if (!node || !this.path || !node.fs.existsSync(this.path)) return {};
    let data: unknown;
    try {
      data = JSON.parse(node.fs.readFileSync(this.path, 'utf8'));
    } catch (e) {
      this.warnOnce(`${this.path}: unreadable tuning cache (${(e as Error).message.split('\n')[0]}); ignoring it and retuning`);
      return {};
    }
    const file = data as Partial<CacheFile> | null;
    if (!file || file.schema !== TUNE_CACHE_SCHEMA || typeof file.entries !== 'object' || file.entries === null) {
      this.warnOnce(`${this.path}: not a tuning cache of schema ${TUNE_CACHE_SCHEMA} (foreign or older file); ignoring it and retuning`);
      return {};
    }
    return Object.fromEntries(Object.entries(file.entries).filter(([, e]) => isEntry(e)));
  }

  private warnOnce(line: string): void {
    if (this.warned) return;
    this.warned = true;
    this.warn(line);
  }
}

function isEntry(e: unknown): e is TuneEntry {
  const x = e as Partial<TuneEntry> | null;
  return (
    !!x &&
    typeof x.winner === 'string' &&
    (x.matmul === 'workgroup' || x.matmul === 'subgroup') &&
    typeof x.engine === 'string' &&
    Array.isArray(x.timings) &&
    Array.isArray(x.regularizer) &&
    typeof x.shape === 'object'
  );
}

/**
 * Runs `fn` holding an exclusive lock file (O_EXCL create). A lock older than 30 s is taken to
 * be left by a crashed process and removed; a writer waits at most 10 s, then writes anyway
 * (the rename keeps the file whole; at worst one process's entry is lost and re-measured).
 */
function withLockFile(fs: NodeFs['fs'], lock: string, fn: () => void): void {
  const deadline = Date.now() + 10_000;
  let fd: number | null = null;
  while (fd === null) {
    try {
      fd = fs.openSync(lock, 'wx');
    } catch {
      try {
        if (Date.now() - fs.statSync(lock).mtimeMs > 30_000) fs.rmSync(lock, { force: true });
      } catch {
        // removed by its owner meanwhile
      }
      if (Date.now() > deadline) break;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
  try {
    fn();
  } finally {
    if (fd !== null) {
      fs.closeSync(fd);
      fs.rmSync(lock, { force: true });
    }
  }
}
