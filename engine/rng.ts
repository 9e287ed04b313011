/**
 * Counter-based random numbers. Every draw is a pure function of (key, counter), so a seed
 * reproduces a run bit for bit in any language and on any backend, and independent streams
 * never share state.
 *
 * The mixing function is the one of the canonical peer workload (../shared/peers/WORKLOAD.md):
 *   x = (k + stream * 0x9E3779B9) mod 2^32; x ^= x>>16; x *= 0x7feb352d; x ^= x>>15;
 *   x *= 0x846ca68b; x ^= x>>16; u = (x + 0.5) / 2^32
 */
import { OptionError } from './errors.ts';

/** The workload's 32-bit integer hash of counter k in a stream. */
export function hash32(stream: number, k: number): number {
  let x = (k + Math.imul(stream >>> 0, 0x9e3779b9)) >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}

/** Uniform in the open interval (0, 1) for counter k of a stream. */
export function uniformAt(stream: number, k: number): number {
  return (hash32(stream, k) + 0.5) / 4294967296;
}

/** The peer workload's uniform for `tensorId` at row-major index k (stream = seed*256 + id). */
export function workloadUniform(seed: number, tensorId: number, k: number): number {
  return uniformAt(seed * 256 + tensorId, k);
}

/** Derives a well-mixed 32-bit stream key from a parent key and a label. */
function deriveKey(parent: number, label: number | string): number {
  let h = typeof label === 'number' ? label >>> 0 : 0x811c9dc5;
  if (typeof label === 'string') {
    for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  }
  return hash32(hash32(parent, 0x632be5ab), h);
}

/**
 * A seeded stream of draws. `fork(label)` gives an independent child stream, so adding draws
 * to one consumer never shifts another's (e.g. the W* draw and the task trials).
 */
export class Rng {
  readonly key: number;
  private counter = 0;
  private spareNormal: number | null = null;

  constructor(
    readonly seed: number,
    label: number | string = 0,
  ) {
    if (!Number.isInteger(seed)) throw new OptionError('seed', 'an integer', String(seed), { message: `Rng: seed must be an integer, got ${seed}` });
    this.key = deriveKey(seed >>> 0, label);
  }

  /** An independent child stream; the same label always gives the same stream. */
  fork(label: number | string): Rng {
    const child = new Rng(0);
    (child as { key: number }).key = deriveKey(this.key, label);
    return child;
  }

  /** Uniform in (0, 1). */
  uniform(): number {
    if (this.counter >= 4294967296) throw new Error('Rng: stream exhausted (2^32 draws); fork a new stream');
    return uniformAt(this.key, this.counter++);
  }

  /** Uniform in [lo, hi). */
  uniformIn(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Integer uniform in [0, n). */
  int(n: number): number {
    return Math.min(n - 1, Math.floor(this.uniform() * n));
  }

  /** Standard normal by Box–Muller (both values of a pair are used). */
  normal(): number {
    if (this.spareNormal !== null) {
      const z = this.spareNormal;
      this.spareNormal = null;
      return z;
    }
    const u1 = this.uniform();
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spareNormal = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }

  /** Log-normal: exp(mu + sigma * z). */
  lognormal(mu: number, sigma: number): number {
    return Math.exp(mu + sigma * this.normal());
  }

  /** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    return p;
  }

  /** Fills an array with normals of the given standard deviation. */
  normals(count: number, std = 1): Float64Array {
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++) out[i] = std * this.normal();
    return out;
  }
}
