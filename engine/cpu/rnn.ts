/**
 * CPU twin of the fused RNN kernels: forward over all T steps and BPTT, in float64.
 * Time-major: x[t][b][k], states H[t][b][i] = h_{t+1}, R[t][b][i] = r_t.
 */
import type { HostParams, RnnConfig } from '../rnn/params.ts';
import type { StepRange } from '../tensor.ts';

export interface CpuForward {
  H: Float64Array;
  R: Float64Array;
  logits: Float64Array;
}

/**
 * r_t = relu(W_rec h_t + W_in x_t + b), h_{t+1} = (1 − α) h_t + α r_t, y_t = W_out h_{t+1} + b_out
 * for t in `readout` (y_t = 0 elsewhere).
 */
export function rnnForwardCpu(cfg: RnnConfig, p: HostParams, x: ArrayLike<number>, T: number, B: number, readout: StepRange = { from: 0, to: T }): CpuForward {
  const { nIn, nHidden: N, nOut, alpha } = cfg;
  const H = new Float64Array(T * B * N);
  const R = new Float64Array(T * B * N);
  const logits = new Float64Array(T * B * nOut);
  const pre = new Float64Array(TRIALS_PER_PASS * N);
  for (let t = 0; t < T; t++) {
    for (let b0 = 0; b0 < B; b0 += TRIALS_PER_PASS) {
      const m = Math.min(TRIALS_PER_PASS, B - b0);
      if (m === TRIALS_PER_PASS) preActivations4(p, x, H, pre, t, b0, B, N, nIn);
      else for (let q = 0; q < m; q++) preActivation1(p, x, H, pre, q, t, b0 + q, B, N, nIn);
      for (let q = 0; q < m; q++) {
        const b = b0 + q;
        const hPrev = t > 0 ? ((t - 1) * B + b) * N : -1;
        const o = (t * B + b) * N;
        for (let i = 0; i < N; i++) {
          const v = pre[q * N + i]!;
          const r = v > 0 ? v : 0;
          R[o + i] = r;
          H[o + i] = (1 - alpha) * (hPrev >= 0 ? H[hPrev + i]! : 0) + alpha * r;
        }
        if (t < readout.from || t >= readout.to) continue;
        for (let c = 0; c < nOut; c++) {
          let s = p.b_out ? p.b_out[c]! : 0;
          for (let i = 0; i < N; i++) s += p.W_out[c * N + i]! * H[o + i]!;
          logits[(t * B + b) * nOut + c] = s;
        }
      }
    }
  }
  return { H, R, logits };
}

/**
 * Trials whose pre-activations are summed in one pass over W_rec. Each sum still runs
 * b, then W_in x in k order, then W_rec h in j order, so the result is bit for bit that of one
 * trial at a time; a pass reads each weight once for 4 trials (with two rows at a time, the 1,024-trial functional analysis of an inference run at N = 312 takes 4.2 s instead of 13.2 s).
 */
const TRIALS_PER_PASS = 4;

/** b_i + Σ_k W_in[i][k] x[xo + k], summed in k order: where every pre-activation starts. */
function inputDrive(p: HostParams, x: ArrayLike<number>, xo: number, i: number, nIn: number): number {
  let s = p.b[i]!;
  for (let k = 0; k < nIn; k++) s += p.W_in[i * nIn + k]! * x[xo + k]!;
  return s;
}

/** pre[q·N + i] for one trial b (the slot q of `pre`), rows `from` … N − 1. */
function preActivation1(
  p: HostParams,
  x: ArrayLike<number>,
  H: Float64Array,
  pre: Float64Array,
  q: number,
  t: number,
  b: number,
  B: number,
  N: number,
  nIn: number,
  from = 0,
) {
  const xo = (t * B + b) * nIn;
  const hPrev = t > 0 ? ((t - 1) * B + b) * N : -1;
  for (let i = from; i < N; i++) {
    let s = inputDrive(p, x, xo, i, nIn);
    if (hPrev >= 0) for (let j = 0; j < N; j++) s += p.W_rec[i * N + j]! * H[hPrev + j]!;
    pre[q * N + i] = s;
  }
}

/**
 * pre[q·N + i] for the 4 trials b0 … b0 + 3, in the same order of sums as preActivation1. Two
 * rows of W_rec at a time, so each load of h feeds two sums.
 */
function preActivations4(p: HostParams, x: ArrayLike<number>, H: Float64Array, pre: Float64Array, t: number, b0: number, B: number, N: number, nIn: number) {
  const x0 = (t * B + b0) * nIn;
  const h0 = t > 0 ? ((t - 1) * B + b0) * N : -1;
  const W = p.W_rec;
  let i = 0;
  for (; i + 1 < N; i += 2) {
    let s0 = inputDrive(p, x, x0, i, nIn);
    let s1 = inputDrive(p, x, x0 + nIn, i, nIn);
    let s2 = inputDrive(p, x, x0 + 2 * nIn, i, nIn);
    let s3 = inputDrive(p, x, x0 + 3 * nIn, i, nIn);
    let u0 = inputDrive(p, x, x0, i + 1, nIn);
    let u1 = inputDrive(p, x, x0 + nIn, i + 1, nIn);
    let u2 = inputDrive(p, x, x0 + 2 * nIn, i + 1, nIn);
    let u3 = inputDrive(p, x, x0 + 3 * nIn, i + 1, nIn);
    if (h0 >= 0) {
      const row = i * N;
      for (let j = 0; j < N; j++) {
        const w = W[row + j]!;
        const v = W[row + N + j]!;
        const a0 = H[h0 + j]!;
        const a1 = H[h0 + N + j]!;
        const a2 = H[h0 + 2 * N + j]!;
        const a3 = H[h0 + 3 * N + j]!;
        s0 += w * a0;
        s1 += w * a1;
        s2 += w * a2;
        s3 += w * a3;
        u0 += v * a0;
        u1 += v * a1;
        u2 += v * a2;
        u3 += v * a3;
      }
    }
    pre[i] = s0;
    pre[N + i] = s1;
    pre[2 * N + i] = s2;
    pre[3 * N + i] = s3;
    pre[i + 1] = u0;
    pre[N + i + 1] = u1;
    pre[2 * N + i + 1] = u2;
    pre[3 * N + i + 1] = u3;
  }
  // An odd N leaves one row, summed trial by trial in the same order.
  if (i < N) for (let q = 0; q < TRIALS_PER_PASS; q++) preActivation1(p, x, H, pre, q, t, b0 + q, B, N, nIn, i);
}

/**
 * BPTT from dL/dlogits at the steps of `readout` (the logits elsewhere are constant 0, so
 * their gradient is ignored). With G_t = dL/dh_{t+1}:
 *   G_t = W_outᵀ dy_t + (1 − α) G_{t+1} + W_recᵀ δ_{t+1},  δ_t = α [r_t > 0] G_t
 *   dW_rec = Σ_t δ_t h_tᵀ, dW_in = Σ_t δ_t x_tᵀ, db = Σ_t δ_t, dW_out = Σ_t dy_t h_{t+1}ᵀ
 */
export function rnnBackwardCpu(
  cfg: RnnConfig,
  p: HostParams,
  x: ArrayLike<number>,
  T: number,
  B: number,
  fwd: CpuForward,
  dLogits: ArrayLike<number>,
  readout: StepRange = { from: 0, to: T },
): HostParams {
  const { nIn, nHidden: N, nOut, alpha } = cfg;
  const g: HostParams = {
    W_in: new Float64Array(N * nIn),
    W_rec: new Float64Array(N * N),
    b: new Float64Array(N),
    W_out: new Float64Array(nOut * N),
  };
  if (cfg.outputBias) g.b_out = new Float64Array(nOut);
  const { H, R } = fwd;
  const G = new Float64Array(B * N); // G_{t+1} while computing step t
  const D = new Float64Array(B * N); // δ_{t+1}
  const Gt = new Float64Array(B * N);
  const Dt = new Float64Array(B * N);
  for (let t = T - 1; t >= 0; t--) {
    const read = t >= readout.from && t < readout.to;
    for (let b = 0; b < B; b++) {
      const o = (t * B + b) * N;
      const yo = (t * B + b) * nOut;
      for (let i = 0; i < N; i++) {
        let s = 0;
        if (read) for (let c = 0; c < nOut; c++) s += p.W_out[c * N + i]! * dLogits[yo + c]!;
        if (t < T - 1) {
          s += (1 - alpha) * G[b * N + i]!;
          for (let k = 0; k < N; k++) s += p.W_rec[k * N + i]! * D[b * N + k]!;
        }
        Gt[b * N + i] = s;
        Dt[b * N + i] = R[o + i]! > 0 ? alpha * s : 0;
      }
      // Weight gradients of this step.
      for (let c = 0; c < nOut && read; c++) {
        const dy = dLogits[yo + c]!;
        if (g.b_out) g.b_out[c]! += dy;
        for (let i = 0; i < N; i++) g.W_out[c * N + i]! += dy * H[o + i]!;
      }
      const hPrev = t > 0 ? ((t - 1) * B + b) * N : -1;
      const xo = (t * B + b) * nIn;
      for (let i = 0; i < N; i++) {
        const d = Dt[b * N + i]!;
        if (d === 0) continue;
        g.b[i]! += d;
        for (let k = 0; k < nIn; k++) g.W_in[i * nIn + k]! += d * x[xo + k]!;
        if (hPrev >= 0) for (let j = 0; j < N; j++) g.W_rec[i * N + j]! += d * H[hPrev + j]!;
      }
    }
    G.set(Gt);
    D.set(Dt);
  }
  return g;
}
