/**
 * `bench peers`: our training step and the peers' on the canonical workload, in the same run,
 * with ratios computed pair by pair. Peers run in their own processes (bench/peers/run.ts):
 * TensorFlow.js WebGPU on the same Dawn adapter, TensorFlow.js wasm, and PyTorch CPU when
 * Debian's python3-torch is installed (nothing is installed silently).
 *
 * `--workload paper`: the paper workload (bench/rnn.ts paperWorkload: N = 312, B = 128, T = 50,
 * Elman, 8 inputs, 4 classes, loss at the last step) with and without the WDC regulariser,
 * against PyTorch CPU and TensorFlow.js WebGPU. The peers train from the engine's own data and
 * initial weights (handed over in a file, bench/peers/peer_data.ts), so the three losses at
 * step 0 must agree; the output says whether they do.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Backend } from '../engine/tensor.ts';
import { WdcRegularizer } from '../engine/regularizers/communicability.ts';
import { runPeerProcess } from './peers/run.ts';
import type { PeerResult } from './peers/workload.ts';
import { writePeerData } from './peers/peer_data.ts';
import { canonicalWorkload, paperWorkload, timeTrainingSteps } from './rnn.ts';
import { printTable, type BenchRecord } from './harness.ts';
import type { SuiteOptions } from './harness.ts';

/** Step-0 losses of the engine and a peer from the same weights must agree to this (absolute). */
const STEP0_LOSS_TOLERANCE = 1e-4;

export async function benchPeers(backend: Backend, opts: SuiteOptions): Promise<BenchRecord[]> {
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

/** The paper workload, engine beside PyTorch CPU and TensorFlow.js WebGPU: medians and ratios. */
async function benchPeersPaper(backend: Backend, opts: SuiteOptions): Promise<BenchRecord[]> {
  const N = opts.sizes?.[0] ?? 312;
  const run = paperWorkload(N);
  const { T, B } = run.batch;
  const budgetS = opts.quick ? 1 : 3;
  const lambda = 0.01;
  const dir = mkdtempSync(path.join(tmpdir(), 'cortical-rnn-peers-'));
  try {
    const file = path.join(dir, 'paper.bin');
    writePeerData(file, run);
    const ours: BenchRecord[] = [];
    for (const reg of [false, true]) {
      const regs = reg ? [new WdcRegularizer({ lambda, D: run.D, sMin: 1e-4 })] : [];
      const s = await timeTrainingSteps(backend, run, { regularizers: regs, budgetS });
      ours.push({
        suite: 'peers',
        workload: 'paper',
        name: `cortical-rnn paper N=${N} reg=${reg}`,
        unit: 'ms/step',
        peer: 'cortical-rnn',
        N,
        B,
        T,
        reg,
        ...s,
        timing: 'wall',
      });
    }
    const kinds = opts.peers ?? ['torch-cpu', 'tfjs-webgpu'];
    const peerResults: PeerResult[] = [];
    for (const kind of kinds) {
      try {
        peerResults.push(...(await runPeerProcess(kind, { data: file, workload: 'paper', reg: 'both', budgetS, lambda, python: opts.python })));
      } catch (e) {
        peerResults.push(peerFailure(kind, e));
      }
    }
    const records: BenchRecord[] = [...ours];
    const checks: string[] = [];
    for (const p of peerResults) {
      const o = ours.find((r) => r.reg === p.reg);
      const lossDiff = o && typeof p.loss_first === 'number' ? Math.abs(p.loss_first - (o.lossFirst as number)) : null;
      const median = typeof p.ms_median === 'number' ? p.ms_median : p.ms_per_step;
      records.push({
        suite: 'peers',
        name: `${p.peer} paper N=${p.N} reg=${p.reg}`,
        unit: 'ms/step',
        ...p,
        workload: 'paper',
        median,
        engineOverPeer: o && median ? (o.median as number) / median : null,
        step0LossDiff: lossDiff,
        step0LossAgrees: lossDiff === null ? null : lossDiff <= STEP0_LOSS_TOLERANCE,
      });
      if (o && lossDiff !== null)
        checks.push(
          `  reg=${p.reg}: cortical-rnn ${(o.lossFirst as number).toFixed(6)}, ${p.peer} ${p.loss_first!.toFixed(6)}, |Δ| ${lossDiff.toExponential(1)}: ${lossDiff <= STEP0_LOSS_TOLERANCE ? 'agree' : `MISMATCH (> ${STEP0_LOSS_TOLERANCE})`}`,
        );
    }
    if (!opts.json) {
      const peerNames = [...new Set(peerResults.filter((p) => p.N !== null && p.ms_per_step !== null).map((p) => p.peer))];
      console.log(
        `\npeers, paper workload: N = ${N}, B = ${B}, T = ${T}, Elman (α = 1), ${run.cfg.nIn} inputs, ${run.cfg.nOut} classes, loss at the last step; WDC λ = ${lambda}`,
      );
      printTable(
        ['regulariser', 'cortical-rnn ms', 'steps', ...peerNames.flatMap((n) => [`${n} ms`, 'steps', `cortical-rnn / ${n}`])],
        ours.map((o) => {
          const row: (string | number)[] = [o.reg ? 'WDC' : 'none', o.median as number, o.steps as number];
          for (const n of peerNames) {
            const r = records.find((q) => q.peer === n && q.reg === o.reg && q.suite === 'peers' && q.name.startsWith(n));
            const ms = (r?.median as number | null | undefined) ?? null;
            row.push(ms ?? (r?.error ? 'error' : '-'), (r?.timed_steps as number | undefined) ?? '-', ms ? `${((o.median as number) / ms).toFixed(2)}x` : '-');
          }
          return row;
        }),
      );
      console.log('Same run, medians of the timed steps (wall time, loss read back each step); "cortical-rnn / X" > 1 means the engine is slower.');
      if (checks.length) console.log(`step-0 loss from the same initial weights (tolerance ${STEP0_LOSS_TOLERANCE}):\n${checks.join('\n')}`);
      for (const kind of kinds)
        if (!peerResults.some((p) => p.peer === kind && p.ms_per_step !== null)) {
          const why = peerResults.find((p) => p.peer === kind && p.error)?.error ?? 'no result';
          console.log(`${kind}: skipped: ${why}`);
        }
      for (const p of peerResults) if (p.error && p.N !== null) console.log(`${p.peer} reg=${p.reg}: ${p.error}`);
      printBlas(peerResults);
    }
    return records;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
