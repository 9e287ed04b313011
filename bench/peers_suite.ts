/**
 * `bench peers`: our training step and the peers' on the canonical workload, in the same run,
 * with ratios computed pair by pair. Peers run in their own processes (bench/peers/run.ts):
 * TensorFlow.js WebGPU on the same Dawn adapter, TensorFlow.js wasm, and PyTorch CPU when
 * Debian's python3-torch is installed (nothing is installed silently).
 *
 * `--workload paper`: the paper workload (bench/rnn.ts paperWorkload: N = 312, B = 128, T = 50,
 * Elman, 8 inputs, 4 classes, loss at the last step) with and without the WDC regulariser,
 * against PyTorch CPU and TensorFlow.js WebGPU. The peers train from the engine's own data and
 * initial weights (handed over in a file, bench/peers/peer_data.ts), so the losses at step 0
 * must agree; the output says whether they do. PyTorch runs every variant in one process
 * (torch.nn.RNN / cuDNN, the eager loop, a CUDA graph of it, K networks through bmm), each
 * with its ratio to the engine; the bmm-K lines are compared with the engine training K
 * networks at once (K: PeersOptions.bmmK, else $CORTICAL_RNN_PEERS_BMM_K, else 16 or the
 * engine's memory cap on the backend when that is lower).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Backend } from '../engine/tensor.ts';
import { WdcRegularizer } from '../engine/regularizers/communicability.ts';
import { GpuBackend } from '../engine/gpu/backend.ts';
import { RnnTrainer, maxModelsFor } from '../engine/rnn/trainer.ts';
import { peerLabel, runPeerProcess, TORCH_VARIANTS, type PeerKind } from './peers/run.ts';
import type { PeerResult } from './peers/workload.ts';
import { writePeerData } from './peers/peer_data.ts';
import { canonicalWorkload, paperWorkload, timeTrainingSteps, type WorkloadRun } from './rnn.ts';
import { median, printTable, type BenchRecord } from './harness.ts';
import type { SuiteOptions } from './harness.ts';

/** Step-0 losses of the engine and a peer from the same weights must agree to this (absolute). */
const STEP0_LOSS_TOLERANCE = 1e-4;

export async function benchPeers(backend: Backend, opts: PeersOptions): Promise<BenchRecord[]> {
  if (opts.workload === 'paper') return benchPeersPaper(backend, opts);
  if (opts.workload && !opts.workload.startsWith('canonical')) throw new Error(`bench peers: unknown workload '${opts.workload}'; choose canonical or paper`);
  const sizes = opts.sizes ?? [100, 256];
  const budgetS = opts.quick ? 1 : 2;
  const ours: BenchRecord[] = [];
  for (const N of sizes) {
    for (const reg of [false, true]) {
      const run = canonicalWorkload(N);
      const regs = reg ? [new WdcRegularizer({ lambda: 0.01, D: run.D, sMin: 1e-4 })] : [];
      const s = await timeTrainingSteps(backend, run, { regularizers: regs, budgetS });
      ours.push({ suite: 'peers', name: `cortical-rnn N=${N} reg=${reg}`, unit: 'ms/step', peer: 'cortical-rnn', N, reg, ...s, timing: 'wall' });
    }
  }
  const kinds = opts.peers ?? ['torch-cpu', 'tfjs-webgpu', 'tfjs-wasm'];
  const peerResults: PeerResult[] = [];
  for (const kind of kinds) {
    try {
      peerResults.push(...(await runPeerProcess(kind, { Ns: sizes, reg: 'both', budgetS, python: opts.python })));
    } catch (e) {
      peerResults.push({ peer: kind, N: null, reg: false, steps_per_s: null, ms_per_step: null, error: (e as Error).message } as PeerResult);
    }
  }
  const records: BenchRecord[] = [...ours];
  for (const p of peerResults) records.push({ suite: 'peers', name: `${p.peer} N=${p.N} reg=${p.reg}`, unit: 'ms/step', ...p, median: p.ms_per_step });
  if (!opts.json) {
    const peerNames = [...new Set(peerResults.filter((p) => p.N !== null).map((p) => p.peer))];
    printTable(
      ['N', 'reg', 'cortical-rnn ms', ...peerNames.flatMap((n) => [`${n} ms`, `vs ${n}`])],
      ours.map((o) => {
        const row: (string | number)[] = [o.N as number, String(o.reg), o.median as number];
        for (const n of peerNames) {
          const p = peerResults.find((q) => q.peer === n && q.N === o.N && q.reg === o.reg);
          const ms = p?.ms_per_step ?? null;
          row.push(ms ?? (p?.error ? 'error' : '-'), ms ? `${(ms / (o.median as number)).toFixed(2)}x` : '-');
        }
        return row;
      }),
    );
    for (const p of peerResults.filter((q) => q.error)) console.log(`${p.peer}: ${p.error}`);
    console.log('Same run, same workload (WORKLOAD.md, B = 32, T = 100); "vs X" = X ms / our ms, > 1 means we are faster.');
    printBlas(peerResults);
  }
  return records;
}

/** Which BLAS the PyTorch peer ran on (its lines carry it), and a loud warning for the reference BLAS. */
function printBlas(peerResults: PeerResult[]): void {
  const blas = peerResults.find((p) => p.blas)?.blas as { kind: string; library?: string | null; reference: boolean } | undefined;
  if (!blas) return;
  console.log(`PyTorch BLAS: ${blas.kind}${blas.library ? ` (${blas.library})` : ''}`);
  if (blas.reference)
    console.log(
      "WARNING: PyTorch ran on Debian's REFERENCE BLAS, about 12x slower than OpenBLAS: its figures and the ratios to it measure that BLAS, not PyTorch (install libopenblas0-pthread: scripts/install-system.sh --peers).",
    );
}

/** A peer's failure line, as the runner would have returned it. */
function peerFailure(kind: string, e: unknown): PeerResult {
  return { peer: kind, N: null, reg: null, steps_per_s: null, ms_per_step: null, error: (e as Error).message };
}

/** `bench peers` options: the common ones and the size of PyTorch's bmm variant. */
export interface PeersOptions extends SuiteOptions {
  /**
   * Networks PyTorch's bmm variant (and the engine beside it) trains at once; default
   * $CORTICAL_RNN_PEERS_BMM_K, else 16 (or the engine's memory cap on the backend when lower).
   */
  bmmK?: number;
}

/** K of the bmm variant: as asked, else 16, or the engine's memory cap here when that is lower (so both run the same K). */
function bmmKOf(opts: PeersOptions, engineCap: number): number {
  const env = Number(process.env.CORTICAL_RNN_PEERS_BMM_K);
  return opts.bmmK ?? (Number.isInteger(env) && env > 0 ? env : engineCap >= 2 ? Math.min(16, engineCap) : 16);
}

const wdc = (run: WorkloadRun, lambda: number) => new WdcRegularizer({ lambda, D: run.D, sMin: 1e-4 });

/**
 * The engine training K copies of the network at once (its counterpart of PyTorch's bmm-K),
 * all from the same weights: times per network-step, network 0's losses and the spread.
 */
async function timeEngineK(backend: Backend, run: WorkloadRun, K: number, reg: boolean, lambda: number, budgetS: number): Promise<Record<string, unknown>> {
  const cap = maxModelsFor(backend, run.cfg, run.batch.T, run.batch.B);
  if (K > cap) return { median: null, error: `K = ${K} is over the engine's memory cap on this backend (${cap})` };
  const specs = Array.from({ length: K }, () => ({ params: run.params, regularizers: reg ? [wdc(run, lambda)] : [] }));
  const batches = specs.map(() => run.batch);
  const trainer = new RnnTrainer(backend, run.cfg, specs);
  try {
    const first = (await trainer.step(batches)).map((r) => r.loss);
    const times: number[] = [];
    let last: number[] = [];
    const t0 = performance.now();
    while (times.length < 3 || (performance.now() - t0 < budgetS * 1000 && times.length < 50)) {
      const t = performance.now();
      last = (await trainer.step(batches)).map((r) => r.loss);
      times.push(performance.now() - t);
    }
    const ms = median(times);
    return {
      median: ms / K,
      batchedMedian: ms,
      steps: times.length,
      warmup: 1,
      lossFirst: first[0],
      lossFirstMin: Math.min(...first),
      lossFirstMax: Math.max(...first),
      lossLast: last[0],
    };
  } finally {
    trainer.dispose();
    if (backend instanceof GpuBackend) backend.ctx.trimPool();
  }
}

/** The engine's records: one network per step, and K at once when a PyTorch bmm-K runs beside it. */
async function paperEngine(backend: Backend, run: WorkloadRun, budgetS: number, lambda: number, K: number | null): Promise<BenchRecord[]> {
  const { T, B } = run.batch;
  const N = run.cfg.nHidden;
  const ours: BenchRecord[] = [];
  for (const reg of [false, true]) {
    const base = { suite: 'peers', workload: 'paper', unit: 'ms/step', peer: 'cortical-rnn', N, B, T, reg, timing: 'wall' };
    const s = await timeTrainingSteps(backend, run, { regularizers: reg ? [wdc(run, lambda)] : [], budgetS });
    ours.push({ ...base, name: `cortical-rnn paper N=${N} reg=${reg}`, ...s });
    if (K === null) continue;
    const k = await timeEngineK(backend, run, K, reg, lambda, budgetS);
    ours.push({ ...base, name: `cortical-rnn K=${K} paper N=${N} reg=${reg}`, unit: 'ms/network-step', K, ...k });
  }
  return ours;
}

/** The peers on the workload file; PyTorch runs all its variants in one process. */
async function paperPeers(kinds: PeerKind[], file: string, o: { budgetS: number; lambda: number; K: number; python?: string }): Promise<PeerResult[]> {
  const out: PeerResult[] = [];
  for (const kind of kinds) {
    const torch = kind.startsWith('torch-') ? { variants: TORCH_VARIANTS, bmmK: o.K } : {};
    try {
      out.push(
        ...(await runPeerProcess(kind, { data: file, workload: 'paper', reg: 'both', budgetS: o.budgetS, lambda: o.lambda, python: o.python, ...torch })),
      );
    } catch (e) {
      out.push(peerFailure(kind, e));
    }
  }
  return out;
}

/** The largest step-0 loss difference to the engine's: every network of a bmm-K line counts. */
function step0Diff(p: PeerResult, engine: number): number | null {
  const losses = [p.loss_first, p.loss_first_min, p.loss_first_max].filter((x): x is number => typeof x === 'number');
  return losses.length ? Math.max(...losses.map((x) => Math.abs(x - engine))) : null;
}

/** A peer line as a record: its median, the engine's time over it (bmm-K against the engine's K), the step-0 check. */
function paperPeerRecord(p: PeerResult, ours: BenchRecord[]): BenchRecord {
  const single = ours.find((r) => r.reg === p.reg && r.K === undefined);
  const engine = typeof p.K === 'number' ? ours.find((r) => r.reg === p.reg && r.K === p.K) : single;
  const lossDiff = single ? step0Diff(p, single.lossFirst as number) : null;
  const median = typeof p.ms_median === 'number' ? p.ms_median : p.ms_per_step;
  const ratio = (o: BenchRecord | undefined) => (typeof o?.median === 'number' && median ? o.median / median : null);
  return {
    suite: 'peers',
    name: `${peerLabel(p)} paper N=${p.N} reg=${p.reg}`,
    unit: typeof p.K === 'number' ? 'ms/network-step' : 'ms/step',
    ...p,
    workload: 'paper',
    median,
    engineOverPeer: ratio(engine),
    engineSingleOverPeer: ratio(single),
    step0LossDiff: lossDiff,
    step0LossAgrees: lossDiff === null ? null : lossDiff <= STEP0_LOSS_TOLERANCE,
  };
}

/** The paper workload, engine beside PyTorch (every variant) and TensorFlow.js WebGPU: medians and ratios. */
async function benchPeersPaper(backend: Backend, opts: PeersOptions): Promise<BenchRecord[]> {
  const run = paperWorkload(opts.sizes?.[0] ?? 312);
  const budgetS = opts.quick ? 1 : 3;
  const lambda = 0.01;
  const K = bmmKOf(opts, maxModelsFor(backend, run.cfg, run.batch.T, run.batch.B));
  const kinds = opts.peers ?? ['torch-cpu', 'tfjs-webgpu'];
  const dir = mkdtempSync(path.join(tmpdir(), 'cortical-rnn-peers-'));
  try {
    const file = path.join(dir, 'paper.bin');
    writePeerData(file, run);
    const ours = await paperEngine(backend, run, budgetS, lambda, kinds.some((k) => k.startsWith('torch-')) ? K : null);
    const peerResults = await paperPeers(kinds, file, { budgetS, lambda, K, python: opts.python });
    const records = [...ours, ...peerResults.filter((p) => p.N !== null).map((p) => paperPeerRecord(p, ours))];
    if (!opts.json) printPaper(run, lambda, records, peerResults, kinds);
    return [...records, ...peerResults.filter((p) => p.N === null).map((p) => ({ suite: 'peers', name: `${p.peer} paper`, unit: 'ms/step', ...p }))];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const fmtCheck = (d: unknown) => (typeof d !== 'number' ? '-' : `${d <= STEP0_LOSS_TOLERANCE ? 'agree' : 'MISMATCH'} ${d.toExponential(1)}`);

/** One row per regulariser and peer line: its median, the engine's beside it, the ratio, the step-0 check. */
function paperRow(r: BenchRecord, ours: BenchRecord[]): (string | number)[] {
  const engine = ours.find((o) => o.reg === r.reg && o.K === r.K);
  const engineMs = typeof engine?.median === 'number' ? engine.median : typeof engine?.error === 'string' ? 'n/a' : '-';
  const ms = typeof r.median === 'number' ? r.median : r.unavailable ? 'unavailable' : 'error';
  const ratio = typeof r.engineOverPeer === 'number' ? `${r.engineOverPeer.toFixed(2)}x` : '-';
  return [
    r.reg ? 'WDC' : 'none',
    peerLabel(r as unknown as PeerResult),
    ms,
    (r.timed_steps as number | undefined) ?? '-',
    engineMs,
    ratio,
    fmtCheck(r.step0LossDiff),
  ];
}

function printPaper(run: WorkloadRun, lambda: number, records: BenchRecord[], peerResults: PeerResult[], kinds: PeerKind[]): void {
  const { T, B } = run.batch;
  const ours = records.filter((r) => r.peer === 'cortical-rnn');
  const peers = records.filter((r) => r.peer !== 'cortical-rnn').sort((a, b) => Number(a.reg) - Number(b.reg));
  console.log(
    `\npeers, paper workload: N = ${run.cfg.nHidden}, B = ${B}, T = ${T}, Elman (α = 1), ${run.cfg.nIn} inputs, ${run.cfg.nOut} classes, loss at the last step; WDC λ = ${lambda}`,
  );
  printTable(
    ['regulariser', 'peer', 'peer ms', 'steps', 'cortical-rnn ms', 'cortical-rnn / peer', `step-0 loss vs engine (tol ${STEP0_LOSS_TOLERANCE})`],
    peers.map((r) => paperRow(r, ours)),
  );
  console.log('Same run, medians of the timed steps (wall time, loss read back each step); "cortical-rnn / peer" > 1 means the engine is slower.');
  console.log(
    'torch-X: the hand-written eager loop; cudnn: torch.nn.RNN (cuDNN on CUDA, ATen kernels on CPU); graph: the eager step, Adam included, replayed from one CUDA graph.',
  );
  const engineK = ours.filter((o) => o.K !== undefined);
  if (engineK.length) {
    const K = String(engineK[0]!.K);
    const each = engineK.map((o) => `reg=${String(o.reg)} ${typeof o.median === 'number' ? `${o.median.toFixed(2)} ms/network-step` : String(o.error)}`);
    console.log(`bmm-${K}: ${K} networks per step, ms per network-step, against the engine training ${K} networks at once (${each.join('; ')})`);
  }
  console.log(
    `engine step-0 loss: ${ours
      .filter((o) => o.K === undefined)
      .map((o) => `reg=${String(o.reg)} ${(o.lossFirst as number).toFixed(6)}`)
      .join(', ')}`,
  );
  printPeerProblems(peerResults, kinds);
  printBlas(peerResults);
}

/** Peers that did not run, and each line's error or unavailability, said once per peer line. */
function printPeerProblems(peerResults: PeerResult[], kinds: PeerKind[]): void {
  for (const kind of kinds)
    if (!peerResults.some((p) => p.peer === kind && p.ms_per_step !== null)) {
      const why = peerResults.find((p) => p.peer === kind && p.error)?.error ?? 'no result';
      console.log(`${kind}: skipped: ${why}`);
    }
  const said = new Map<string, string[]>();
  for (const p of peerResults)
    if (p.error && p.N !== null) {
      const key = `${peerLabel(p)}: ${p.error}`;
      said.set(key, [...(said.get(key) ?? []), `reg=${String(p.reg)}`]);
    }
  for (const [line, regs] of said) console.log(`${line} (${regs.join(', ')})`);
}
