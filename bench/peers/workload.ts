/**
 * The canonical peer workload's data and initial weights (../shared/peers/WORKLOAD.md, section
 * "Data and initialisation"): every tensor is a pure function of (seed, tensor id, row-major
 * index) through `workloadUniform`, so the tfjs peer, the PyTorch peer and the engine all start
 * from the same float32 values.
 */
import { workloadUniform } from '../../engine/rng.ts';

export const N_IN = 3;
export const N_OUT = 3;
export const S_FLOOR = 1e-4;

/** Tensor ids of the workload's hash streams. */
const TENSOR_ID = { x: 1, labels: 2, W_in: 3, W_rec: 4, W_out: 5, coords: 6 } as const;

export interface WorkloadConfig {
  seed: number;
  N: number;
  B: number;
  T: number;
  /** Recurrent gain g (W_rec std g/sqrt(N)); 1 in the benchmark. */
  gRec?: number;
}

/** All row-major float32 (labels int32), with the shapes of WORKLOAD.md. */
export interface WorkloadData {
  seed: number;
  N: number;
  B: number;
  T: number;
  /** [T, B, N_IN] */
  x: Float32Array;
  /** [T, B], values in {0, 1, 2} */
  labels: Int32Array;
  /** [N, N_IN] */
  W_in: Float32Array;
  /** [N, N]; W_rec[i][j]: unit j -> unit i */
  W_rec: Float32Array;
  /** [N] (zeros) */
  b: Float32Array;
  /** [N_OUT, N] */
  W_out: Float32Array;
  /** [N, 3] */
  coords: Float32Array;
  /** [N, N], zero diagonal */
  D: Float32Array;
}

function fill(n: number, seed: number, id: number, f: (u: number) => number): Float32Array {
  const out = new Float32Array(n);
  for (let k = 0; k < n; k++) out[k] = f(workloadUniform(seed, id, k)); // Float32Array rounds (fround)
  return out;
}

export function makeWorkload(cfg: WorkloadConfig): WorkloadData {
  const { seed, N, B, T } = cfg;
  const g = cfg.gRec ?? 1;
  const x = fill(T * B * N_IN, seed, TENSOR_ID.x, (u) => 2 * u - 1);
  const labels = new Int32Array(T * B);
  for (let k = 0; k < T * B; k++) labels[k] = Math.floor(3 * workloadUniform(seed, TENSOR_ID.labels, k));
  const W_in = fill(N * N_IN, seed, TENSOR_ID.W_in, (u) => 2 * u - 1);
  const recScale = g * Math.sqrt(3 / N);
  const W_rec = fill(N * N, seed, TENSOR_ID.W_rec, (u) => (2 * u - 1) * recScale);
  const outScale = Math.sqrt(3 / N);
  const W_out = fill(N_OUT * N, seed, TENSOR_ID.W_out, (u) => (2 * u - 1) * outScale);
  const coords = fill(N * 3, seed, TENSOR_ID.coords, (u) => u);
  const D = new Float32Array(N * N);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < N; j++) {
      if (i === j) continue;
      const dx = coords[i * 3]! - coords[j * 3]!;
      const dy = coords[i * 3 + 1]! - coords[j * 3 + 1]!;
      const dz = coords[i * 3 + 2]! - coords[j * 3 + 2]!;
      D[i * N + j] = Math.sqrt(dx * dx + dy * dy + dz * dz);
    }
  }
  return { seed, N, B, T, x, labels, W_in, W_rec, b: new Float32Array(N), W_out, coords, D };
}

/** One JSON line of a peer (WORKLOAD.md, "Output line"). */
export interface PeerResult {
  peer: string;
  /** PyTorch's lines: which variant (cudnn, eager, graph, bmm-K). */
  variant?: string;
  N: number | null;
  reg: boolean | null;
  steps_per_s: number | null;
  ms_per_step: number | null;
  timed_steps?: number;
  warmup_steps?: number;
  loss_first?: number;
  loss_last?: number;
  adapter?: Record<string, unknown>;
  error?: string;
  probe?: boolean;
  [extra: string]: unknown;
}

export interface TimingPlan {
  warmup: number;
  minSteps: number;
  maxSteps: number;
  budgetS: number;
}

/**
 * The protocol's step counts: `warmup` untimed steps (1; 2 on WebGPU), then steps until the
 * budget is spent and at least 3 ran, capped; N >= 1024 times 2..3 steps.
 */
export function timingPlan(
  N: number,
  o: { budgetS?: number; minSteps?: number; maxSteps?: number; warmup?: number; defaultWarmup: number; defaultMax: number },
): TimingPlan {
  const big = N >= 1024;
  return {
    warmup: o.warmup ?? o.defaultWarmup,
    minSteps: o.minSteps ?? (big ? 2 : 3),
    maxSteps: o.maxSteps ?? (big ? 3 : o.defaultMax),
    budgetS: o.budgetS ?? 5,
  };
}
