/**
 * The empirical EMD target C_emp, computed once in float64 on the host from the connectome K
 * (W layout: K[post][pre]) for whichever backend trains; the EMD regulariser uploads it.
 *
 * The paper builds C_emp from |K| with zero strengths replaced by 1e-10 (`target: 'paper'`). A
 * neuron j with no outgoing synapses has a zero column of K, so s_j = 1e-10 multiplies ROW j of M
 * (its incoming synapses) by 1e5: C_emp gets entries ~1e5 (field 6_6_2: 1,064 entries > 1) that
 * no trained network can match, and the EMD's sort pairs the largest model entries with them.
 * Corrected targets:
 *  - `'floor-one-synapse'` (recommended corrected default): s_j = max(Σ_i |K[i][j]|, 1), i.e. the
 *    strength of a silent neuron is floored at one synapse (K counts synapses). Row j of M is then
 *    K[j][b]/sqrt(s_b), of the same order as every other entry; all N² entries are compared, so
 *    the target distribution has the same size as the model's.
 *  - `'active-only'`: compare only the rows/columns of neurons with nonzero out-strength in K
 *    (the set I, see `activeNeurons`). Silent neurons are sinks of M_emp (zero columns), so the
 *    I×I block of the paper's C_emp equals expm of the I×I block of M_emp (with the full-network
 *    strengths s_i, i ∈ I): the 1e-10 rule never touches it (`expmWithSinks` computes it so,
 *    directly on the block). The entries outside I×I are NaN ("not compared"), so using this
 *    target without the `active` mask fails loudly. The model's C is computed on the full network and restricted
 *    to I×I likewise; P = |I|². On sparse fields this keeps few entries (5_3_4: 12 of 70).
 */
import { checkSquare } from '../checks.ts';
import { OptionError } from '../errors.ts';
import { expmWithSinks } from '../expm/cpu.ts';
import type { EmdTarget, EmdTargetData } from './cost.ts';
import { absColumnSums, normalizedCommunicability, type Communicability } from './float64.ts';

/** The paper's replacement for zero strengths of the empirical connectome. */
const PAPER_ZERO_STRENGTH = 1e-10;
const EMD_TARGETS: readonly EmdTarget[] = ['paper', 'floor-one-synapse', 'active-only'];

/** Neurons with nonzero out-strength in K (nonzero column of |K|): 1 = active. */
export function activeNeurons(K: ArrayLike<number>, n: number): Uint8Array {
  checkSquare(K, n, 'activeNeurons');
  const s = absColumnSums(K, n);
  const act = new Uint8Array(n);
  for (let j = 0; j < n; j++) act[j] = s[j]! > 0 ? 1 : 0;
  return act;
}

export interface EmpiricalOptions {
  /** default 'paper' */
  target?: EmdTarget;
  /** The strength floor of 'floor-one-synapse' (default 1: one synapse). */
  synapseFloor?: number;
}

/**
 * C_emp = offdiag(expm(diag(s)^-½ |K| diag(s)^-½)) in float64, with K in W layout
 * (K[post][pre]) and s its column sums:
 *  - 'paper': zero strengths replaced by 1e-10 (the paper's rule);
 *  - 'floor-one-synapse': s_j = max(s_j, synapseFloor = 1);
 *  - 'active-only': the I×I block (I = `activeNeurons(K)`) of the paper's C_emp, which is
 *    offdiag(expm(M_emp[I, I])); entries outside I×I are NaN. Use with `emd(..., { active })`.
 * Silent neurons are sinks, so the matrix is computed with `expmWithSinks` (exact block formula;
 * the plain expm of the paper's matrix leaves rounding of ~1e-7 in entries that are exactly 0).
 */
export function empiricalCommunicability(K: ArrayLike<number>, n: number, opts?: EmpiricalOptions): Float64Array {
  const C = empiricalCommunicabilityFull(K, n, opts).C;
  if ((opts?.target ?? 'paper') !== 'active-only') return C;
  const act = activeNeurons(K, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (!act[i] || !act[j]) C[i * n + j] = NaN;
  return C;
}

/**
 * The full-network quantities behind `empiricalCommunicability` ('active-only' gives the paper's
 * full matrices, whose I×I block is the active-only target up to rounding).
 */
export function empiricalCommunicabilityFull(K: ArrayLike<number>, n: number, opts?: EmpiricalOptions): Communicability {
  checkSquare(K, n, 'empiricalCommunicability');
  const target = opts?.target ?? 'paper';
  const A = new Float64Array(n * n);
  for (let k = 0; k < n * n; k++) A[k] = Math.abs(K[k]!);
  const sRaw = absColumnSums(K, n);
  const s = new Float64Array(n);
  const floored = new Uint8Array(n);
  const d = new Float64Array(n);
  const unit = opts?.synapseFloor ?? 1;
  for (let j = 0; j < n; j++) {
    let v = sRaw[j]!;
    if (target === 'floor-one-synapse') {
      if (v < unit) {
        v = unit;
        floored[j] = 1;
      }
    } else if (target === 'paper' || target === 'active-only') {
      if (v === 0) {
        v = PAPER_ZERO_STRENGTH;
        floored[j] = 1;
      }
    } else throw unknownTarget(target);
    s[j] = v;
    d[j] = 1 / Math.sqrt(v);
  }
  // Silent neurons (zero columns) are sinks: exact block formula instead of a plain expm whose
  // norm the 1e-10 rule inflates to ~1e5 (see expmWithSinks).
  const silent = new Uint8Array(n);
  for (let j = 0; j < n; j++) silent[j] = sRaw[j] === 0 ? 1 : 0;
  return normalizedCommunicability(A, sRaw, s, floored, d, n, (M, nn) => expmWithSinks(M, nn, silent));
}

function unknownTarget(target: unknown): OptionError {
  const expected = EMD_TARGETS.map((t) => `'${t}'`).join(', ');
  return new OptionError('target', `one of ${expected}`, String(target), {
    message: `empiricalCommunicability: unknown target ${String(target)}; expected one of ${expected}`,
  });
}

/** Builds the EMD target from an empirical connectome K (W layout). */
export function makeEmdTarget(K: ArrayLike<number>, n: number, opts?: EmpiricalOptions): EmdTargetData {
  const target = opts?.target ?? 'paper';
  return {
    target,
    Cemp: empiricalCommunicability(K, n, opts),
    active: target === 'active-only' ? activeNeurons(K, n) : null,
  };
}
