/**
 * `bench peers`: our training step and the peers' on the canonical workload, in the same run,
 * with ratios computed pair by pair. Peers run in their own processes (bench/peers/run.ts):
 * TensorFlow.js WebGPU on the same Dawn adapter, TensorFlow.js wasm, and PyTorch CPU when
 * Debian's python3-torch is installed (nothing is installed silently).
 */
import type { Backend } from '../engine/tensor.ts';
import { WdcRegularizer } from '../engine/regularizers/communicability.ts';
import { runPeerProcess, type PeerKind } from './peers/run.ts';
import type { PeerResult } from './peers/workload.ts';
import { canonicalWorkload, timeTrainingSteps } from './rnn.ts';
import { printTable, type BenchRecord } from './harness.ts';
import type { SuiteOptions } from './harness.ts';

export async function benchPeers(backend: Backend, opts: SuiteOptions & { peers?: PeerKind[] }): Promise<BenchRecord[]> {
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
      peerResults.push(...(await runPeerProcess(kind, { Ns: sizes, reg: 'both', budgetS })));
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
  }
  return records;
}
