/** Registry of benchmark suites beyond matmul; each later suite adds itself here. */
import type { Backend } from '../engine/tensor.ts';
import type { BenchRecord, SuiteOptions } from './harness.ts';
import { benchRnn } from './rnn.ts';
import { benchProfile } from './profile.ts';
import { benchScaling } from './scaling.ts';
import { benchMulti } from './multi.ts';
import { benchHost } from './host.ts';
import { benchPeers } from './peers_suite.ts';
import { runRegSuite } from './reg.ts';

export interface BenchSuite {
  describe: string;
  run(backend: Backend, opts: SuiteOptions): Promise<BenchRecord[]>;
}

export const benchSuites: Record<string, BenchSuite> = {
  reg: { describe: 'communicability regularisers (WDC, EMD): value + gradient, expm / adjoint / rest split', run: runRegSuite },
  rnn: { describe: 'canonical RNN training step (WORKLOAD.md), both recurrent designs', run: benchRnn },
  peers: {
    describe: 'our step and the peers (PyTorch CPU, TensorFlow.js WebGPU and wasm) side by side (--workload canonical|paper)',
    run: benchPeers,
  },
  profile: { describe: 'one training step broken into kernels and on a roofline (--workload canonical|canonical-100|paper)', run: benchProfile },
  scaling: { describe: 'ms/step against N, with and without the regulariser, plus an SVG plot', run: benchScaling },
  multi: { describe: 'K networks in the same dispatches: network-steps/s against K', run: benchMulti },
  host: { describe: "host work's share of a training step of K networks (1, 8, 55), batches built in this thread and in workers", run: benchHost },
};
