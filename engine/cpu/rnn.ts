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
  const pre = new Float64Array(N);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      const xo = (t * B + b) * nIn;
      const hPrev = t > 0 ? ((t - 1) * B + b) * N : -1;
      for (let i = 0; i < N; i++) {
        let s = p.b[i]!;
        for (let k = 0; k < nIn; k++) s += p.W_in[i * nIn + k]! * x[xo + k]!;
        if (hPrev >= 0) for (let j = 0; j < N; j++) s += p.W_rec[i * N + j]! * H[hPrev + j]!;
        pre[i] = s;
      }
      const o = (t * B + b) * N;
      for (let i = 0; i < N; i++) {
        const r = pre[i]! > 0 ? pre[i]! : 0;
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
  return { H, R, logits };
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
