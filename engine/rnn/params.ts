/**
 * The rate RNN's parameters. Layout: W_rec[i][j] is the weight from unit j (presynaptic) to
 * unit i (postsynaptic), so the recurrent drive is W_rec h.
 *   W_in [N, nIn], W_rec [N, N], b [N], W_out [nOut, N], b_out [nOut] (optional)
 */
import { ShapeError } from '../errors.ts';
import { glorotUniform, orthogonal } from '../init.ts';
import type { Rng } from '../rng.ts';

export interface RnnConfig {
  nIn: number;
  nHidden: number;
  nOut: number;
  /** dt/τ: 1 is the discrete Elman cell (Keras SimpleRNN(relu)); < 1 the leaky rate RNN. */
  alpha: number;
  outputBias: boolean;
}

export const PARAM_NAMES = ['W_in', 'W_rec', 'b', 'W_out', 'b_out'] as const;
export type ParamName = (typeof PARAM_NAMES)[number];

/** Host copies of the parameters, row-major float64. `b_out` is absent without an output bias. */
export type HostParams = { [K in ParamName]?: Float64Array } & {
  W_in: Float64Array;
  W_rec: Float64Array;
  b: Float64Array;
  W_out: Float64Array;
};

export function paramShape(cfg: RnnConfig, name: ParamName): [number, number] | [number] {
  const { nIn, nHidden: N, nOut } = cfg;
  switch (name) {
    case 'W_in':
      return [N, nIn];
    case 'W_rec':
      return [N, N];
    case 'b':
      return [N];
    case 'W_out':
      return [nOut, N];
    case 'b_out':
      return [nOut];
  }
}

export function activeParams(cfg: RnnConfig): ParamName[] {
  return PARAM_NAMES.filter((n) => n !== 'b_out' || cfg.outputBias);
}

export type RecurrentInit = { kind: 'orthogonal'; gain?: number } | { kind: 'matrix'; W: ArrayLike<number> };

/**
 * Keras-equivalent defaults: Orthogonal W_rec (or a user matrix), glorot_uniform W_in and
 * W_out, zero biases. Each tensor draws from its own fork of the RNG.
 */
export function initParams(cfg: RnnConfig, rng: Rng, recurrent: RecurrentInit = { kind: 'orthogonal' }): HostParams {
  const N = cfg.nHidden;
  let W_rec: Float64Array;
  if (recurrent.kind === 'matrix') {
    if (recurrent.W.length !== N * N) {
      throw new ShapeError('initParams', { message: `initial W_rec has ${recurrent.W.length} entries, expected ${N}x${N} = ${N * N}` });
    }
    W_rec = Float64Array.from(recurrent.W);
  } else {
    W_rec = orthogonal(N, rng.fork('W_rec'), recurrent.gain ?? 1);
  }
  const p: HostParams = {
    W_in: glorotUniform(N, cfg.nIn, rng.fork('W_in')),
    W_rec,
    b: new Float64Array(N),
    W_out: glorotUniform(cfg.nOut, N, rng.fork('W_out')),
  };
  if (cfg.outputBias) p.b_out = new Float64Array(cfg.nOut);
  return p;
}

/**
 * W_rec under its constraints: entries outside a fixed binary mask are zero, and with
 * positive-only recurrence negatives are clipped to 0 (as the update does after every step).
 */
export function constrainRecurrent(W: ArrayLike<number>, mask?: ArrayLike<number>, positiveOnly = false): Float64Array {
  const out = Float64Array.from(W);
  for (let i = 0; i < out.length; i++) {
    if (mask) out[i]! *= mask[i]!;
    if (positiveOnly && out[i]! < 0) out[i] = 0;
  }
  return out;
}

export function cloneParams(p: HostParams): HostParams {
  const out = {} as HostParams;
  for (const k of PARAM_NAMES) if (p[k]) out[k] = Float64Array.from(p[k]!);
  return out;
}

/** Element offsets of each parameter in one flat arena, each aligned to 64 floats (256 B). */
export interface ArenaLayout {
  offsets: Record<ParamName, number>;
  sizes: Record<ParamName, number>;
  total: number;
  names: ParamName[];
}

export function arenaLayout(cfg: RnnConfig): ArenaLayout {
  const offsets = {} as Record<ParamName, number>;
  const sizes = {} as Record<ParamName, number>;
  let at = 0;
  const names = activeParams(cfg);
  for (const name of names) {
    const size = paramShape(cfg, name).reduce((a, b) => a * b, 1);
    offsets[name] = at;
    sizes[name] = size;
    at += Math.ceil(size / 64) * 64;
  }
  return { offsets, sizes, total: Math.max(at, 64), names };
}

/** Packs host parameters into an arena (float64; a float32 device rounds it on upload). */
export function packArena(cfg: RnnConfig, p: HostParams, layout = arenaLayout(cfg)): Float64Array {
  const arena = new Float64Array(layout.total);
  for (const name of layout.names) {
    const v = p[name];
    if (!v) throw new ShapeError('packArena', { message: `parameter ${name} missing` });
    if (v.length !== layout.sizes[name]) {
      throw new ShapeError('packArena', { message: `parameter ${name} has ${v.length} entries, expected ${layout.sizes[name]}` });
    }
    arena.set(v, layout.offsets[name]);
  }
  return arena;
}

export function unpackArena(cfg: RnnConfig, arena: ArrayLike<number>, layout = arenaLayout(cfg)): HostParams {
  const out = {} as HostParams;
  for (const name of layout.names) {
    const o = layout.offsets[name];
    out[name] = Float64Array.from({ length: layout.sizes[name] }, (_, i) => arena[o + i]!);
  }
  return out;
}
