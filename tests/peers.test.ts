/**
 * The benchmark peers are honest: they generate the canonical workload's data exactly, and the
 * tfjs peer's loss, gradients and Adam step for the fixture's weights match the float64
 * reference (../shared/fixtures/rnn_bptt_ref.json: seed 7, N 32, B 4, T 10). On the paper
 * workload's shape (Elman, 8 inputs, 4 classes, output bias, loss at the last step), handed to
 * the peers as a file, PyTorch and tfjs compute the engine's loss before and after two training
 * steps. PyTorch's variants (torch.nn.RNN, K networks through bmm, the eager loop under a CUDA
 * graph's capture-safe expm) train like its eager loop; the CUDA graph itself says on CPU that it
 * cannot run. The process runner reports a missing PyTorch with the way to enable it and
 * installs nothing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { makeWorkload } from '../bench/peers/workload.ts';
import { parsePeerLines, runPeerProcess, torchAvailable, TORCH_MISSING, TORCH_VARIANTS, type PeerResult } from '../bench/peers/run.ts';
import { readPeerData, writePeerData } from '../bench/peers/peer_data.ts';
import { paperWorkload } from '../bench/rnn.ts';
import { RnnTrainer } from '../engine/rnn/trainer.ts';
import { WdcRegularizer } from '../engine/regularizers/communicability.ts';
import { hasAdapter, useGpu } from './helpers/gpu.ts';

const FIXTURE = fileURLToPath(new URL('../../shared/fixtures/rnn_bptt_ref.json', import.meta.url));
const haveFixture = existsSync(FIXTURE);

function tfjsInstalled(): boolean {
  try {
    const req = createRequire(import.meta.url);
    req.resolve('@tensorflow/tfjs');
    req.resolve('@tensorflow/tfjs-backend-wasm');
    return true;
  } catch {
    return false;
  }
}
const haveTfjs = tfjsInstalled();
if (!haveTfjs) console.warn('[peers.test] @tensorflow/tfjs(-backend-wasm) not installed (npm ci): tfjs peer checks skipped');
const haveTorch = torchAvailable();
if (!haveTorch) console.warn(`[peers.test] ${TORCH_MISSING}: PyTorch checks skipped`);
if (!haveFixture) console.warn(`[peers.test] fixture ${FIXTURE} missing: fixture checks skipped`);

interface Fixture {
  config: { seed: number; N: number; B: number; T: number; alpha: number; lambda: number; lr: number };
  inputs: { x: number[][][]; labels: number[][]; D: number[][]; coords: number[][] };
  params: { W_in: number[][]; W_rec: number[][]; b: number[]; W_out: number[][] };
  outputs: {
    total_loss: number;
    ce_loss: number;
    reg_value: number;
    grads_total: Record<'W_in' | 'W_rec' | 'b' | 'W_out', number[] | number[][]>;
    params_after_adam_step: Record<'W_in' | 'W_rec' | 'b' | 'W_out', number[] | number[][]>;
  };
}

const fx = (haveFixture ? JSON.parse(readFileSync(FIXTURE, 'utf8')) : null) as Fixture | null;
const flat = (a: unknown): number[] => (Array.isArray(a) ? (a.flat(Infinity as 1) as number[]) : [a as number]);
const f32 = (a: unknown) => Float32Array.from(flat(a));

const TORCH_PEER = fileURLToPath(new URL('../bench/peers/torch_peer.py', import.meta.url));

/** torch_peer.py --check-variants: each variant's losses over two Adam steps and its gradient differences to the eager loop. */
interface VariantDiffs {
  losses: number[] | number[][];
  max_abs_loss_diff: number;
  max_abs_grad_diff: Record<string, number>;
}
interface VariantCheck {
  configs: {
    reg: boolean;
    eager: { losses: number[]; max_abs_grad: Record<string, number> };
    cudnn: VariantDiffs | { unavailable: string };
    bmm: VariantDiffs | { unavailable: string };
    graph_loss: VariantDiffs | { unavailable: string };
  }[];
}

/** A line's losses at step 0 and after its steps; a bmm-K line's spread over its networks too. */
function finalLosses(r: PeerResult): Record<string, number> {
  const keys = ['loss_first', 'loss_first_min', 'loss_first_max', 'loss_last', 'loss_last_min', 'loss_last_max'];
  return Object.fromEntries(keys.filter((k) => typeof r[k] === 'number').map((k) => [k, r[k] as number]));
}

describe.skipIf(!haveFixture)('peer workload data', () => {
  it('reproduces the fixture inputs and initial weights bit for bit (seed 7, N 32, B 4, T 10)', () => {
    const { seed, N, B, T } = fx!.config;
    const w = makeWorkload({ seed, N, B, T });
    expect(Array.from(w.x)).toEqual(Array.from(f32(fx!.inputs.x)));
    expect(Array.from(w.labels)).toEqual(flat(fx!.inputs.labels));
    expect(Array.from(w.coords)).toEqual(Array.from(f32(fx!.inputs.coords)));
    expect(Array.from(w.D)).toEqual(Array.from(f32(fx!.inputs.D)));
    for (const k of ['W_in', 'W_rec', 'b', 'W_out'] as const) expect(Array.from(w[k]), k).toEqual(Array.from(f32(fx!.params[k])));
  });
});

describe.skipIf(!haveFixture || !haveTfjs)('tfjs peer vs the float64 fixture', () => {
  it('loss parts, gradients and one Adam step (wasm backend)', async () => {
    const { loadTf, lossAndGrads } = await import('../bench/peers/tfjs.ts');
    const h = await loadTf('wasm');
    try {
      const c = fx!.config;
      const data = { T: c.T, B: c.B, N: c.N, x: f32(fx!.inputs.x), labels: Int32Array.from(flat(fx!.inputs.labels)), D: f32(fx!.inputs.D) };
      const init = { W_in: f32(fx!.params.W_in), W_rec: f32(fx!.params.W_rec), b: f32(fx!.params.b), W_out: f32(fx!.params.W_out) };
      const r = await lossAndGrads(h.tf, data, init, { alpha: c.alpha, lambda: c.lambda, reg: true, lr: c.lr });
      const rel = (x: number, ref: number) => Math.abs(x - ref) / Math.abs(ref);
      expect(rel(r.total, fx!.outputs.total_loss)).toBeLessThan(1e-5);
      expect(rel(r.ce, fx!.outputs.ce_loss)).toBeLessThan(1e-5);
      expect(rel(r.reg!, fx!.outputs.reg_value)).toBeLessThan(1e-5);
      expect(r.squarings).toBe(2);
      for (const k of ['W_in', 'W_rec', 'b', 'W_out'] as const) {
        const g = flat(fx!.outputs.grads_total[k]);
        const after = flat(fx!.outputs.params_after_adam_step[k]);
        let gErr = 0;
        let wErr = 0;
        for (let i = 0; i < g.length; i++) {
          gErr = Math.max(gErr, Math.abs(r.grads[k][i]! - g[i]!));
          // tiny gradients make the first Adam step ill-conditioned (WORKLOAD.md): skip them
          if (Math.abs(g[i]!) >= 1e-6) wErr = Math.max(wErr, Math.abs(r.afterAdam[k][i]! - after[i]!));
        }
        expect(gErr, `grad ${k}`).toBeLessThan(1e-6);
        expect(wErr, `Adam ${k}`).toBeLessThan(1e-6);
      }
      // without the regulariser the loss is the cross-entropy alone
      const r0 = await lossAndGrads(h.tf, data, init, { alpha: c.alpha, lambda: c.lambda, reg: false });
      expect(rel(r0.total, fx!.outputs.ce_loss)).toBeLessThan(1e-5);
      expect(r0.reg).toBeNull();
    } finally {
      h.dispose();
    }
  });
});

describe('peer process runner', () => {
  it('reports a missing PyTorch with how to enable it, installing nothing', async () => {
    const rs = await runPeerProcess('torch-cpu', { python: '/nonexistent/python3', Ns: [32] });
    expect(rs).toHaveLength(1);
    expect(rs[0]!.steps_per_s).toBeNull();
    expect(rs[0]!.error).toBe(TORCH_MISSING);
  });

  it('parses JSON lines and skips the rest', () => {
    const rs = parsePeerLines('banner\n{"peer":"x","N":1,"reg":false,"steps_per_s":2,"ms_per_step":500}\n{bad\n');
    expect(rs).toEqual([{ peer: 'x', N: 1, reg: false, steps_per_s: 2, ms_per_step: 500 }]);
  });

  it.skipIf(!haveTfjs)('runs the tfjs CLI in its own process (cpu, tiny) and agrees with PyTorch when present', async () => {
    const tiny = { Ns: [32], reg: true as const, B: 4, T: 10, seed: 7, budgetS: 0, warmup: 1, minSteps: 2, maxSteps: 2 };
    const tf = await runPeerProcess('tfjs-cpu', tiny);
    expect(tf).toHaveLength(1);
    expect(tf[0]!.error).toBeUndefined();
    expect(tf[0]!.timed_steps).toBe(2);
    expect(tf[0]!.ms_per_step).toBeGreaterThan(0);
    if (haveFixture) expect(Math.abs(tf[0]!.loss_first! - fx!.outputs.total_loss)).toBeLessThan(1e-5);
    if (torchAvailable()) {
      const th = await runPeerProcess('torch-cpu', tiny);
      expect(th[0]!.error).toBeUndefined();
      expect(Math.abs(th[0]!.loss_first! - tf[0]!.loss_first!)).toBeLessThan(1e-5);
      // same weights after the same number of steps
      expect(Math.abs(th[0]!.loss_last! - tf[0]!.loss_last!)).toBeLessThan(1e-5);
    } else {
      console.warn(`[peers.test] ${TORCH_MISSING}: cross-peer check skipped`);
    }
  });
});

describe('paper workload handed to the peers', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cortical-rnn-peers-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // the paper model at a small size: N 32, B 8, T 10, Elman, 8 inputs, 4 classes, loss at the last step
  const run = paperWorkload(32, 8, 10, 3);
  const file = path.join(dir, 'paper.bin');
  writePeerData(file, run);

  it('writes the engine data and weights as float32, and reads them back', () => {
    const d = readPeerData(file);
    expect([d.nIn, d.N, d.nOut, d.alpha, d.outputBias, d.T, d.B]).toEqual([8, 32, 4, 1, true, 10, 8]);
    expect(Array.from(d.x)).toEqual(Array.from(Float32Array.from(run.batch.x)));
    expect(Array.from(d.labels)).toEqual(Array.from(run.batch.labels));
    expect(Array.from(d.lossMask)).toEqual(Array.from(run.batch.lossMask));
    for (const k of ['W_in', 'W_rec', 'b', 'W_out'] as const) expect(Array.from(d[k]), k).toEqual(Array.from(Float32Array.from(run.params[k])));
    expect(Array.from(d.b_out!)).toEqual(Array.from(Float32Array.from(run.params.b_out!)));
    expect(Array.from(d.D)).toEqual(Array.from(Float32Array.from(run.D)));
  });

  describe.skipIf(!haveTorch)('PyTorch variants against its eager loop (CPU)', () => {
    const TOL = 1e-5;
    it('nn.RNN, bmm-3 and the graph variant loss: the same losses and gradients over two Adam steps', () => {
      const r = spawnSync('/usr/bin/python3', [TORCH_PEER, '--data', file, '--check-variants', '--bmm-k', '3'], {
        encoding: 'utf8',
        env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' },
      });
      expect(r.status, r.stderr).toBe(0);
      const check = JSON.parse(r.stdout) as VariantCheck;
      expect(check.configs.map((c) => c.reg)).toEqual([false, true]);
      for (const c of check.configs) {
        const ref = c.eager.losses;
        // the reference trained: its loss moved and its gradients are not zero
        expect(ref[0]! - ref[2]!, `reg=${c.reg}`).toBeGreaterThan(1e-3);
        expect(Math.max(...Object.values(c.eager.max_abs_grad))).toBeGreaterThan(1e-3);
        const bmm = c.bmm as VariantDiffs;
        expect(bmm.losses).toHaveLength(3);
        const variants: [string, number[]][] = [
          ['cudnn', (c.cudnn as VariantDiffs).losses as number[]],
          ['graph_loss', (c.graph_loss as VariantDiffs).losses as number[]],
          ...(bmm.losses as number[][]).map((l, k): [string, number[]] => [`bmm network ${k}`, l]),
        ];
        for (const [name, losses] of variants) {
          expect(losses).toHaveLength(3);
          losses.forEach((l, i) => expect(Math.abs(l - ref[i]!), `reg=${c.reg} ${name} loss ${i}`).toBeLessThan(TOL));
        }
        for (const name of ['cudnn', 'bmm', 'graph_loss'] as const) {
          const d = (c[name] as VariantDiffs).max_abs_grad_diff;
          expect(Object.keys(d).sort(), name).toEqual(['W_in', 'W_out', 'W_rec', 'b', 'b_out']);
          for (const [k, v] of Object.entries(d)) expect(v, `reg=${c.reg} ${name} grad ${k}`).toBeLessThan(TOL);
        }
      }
    });

    it('runs every variant in one process: the CUDA graph is unavailable on CPU, the others train like the eager loop', async () => {
      const rs = await runPeerProcess('torch-cpu', {
        data: file,
        reg: 'both',
        budgetS: 0,
        warmup: 1,
        minSteps: 2,
        maxSteps: 2,
        variants: TORCH_VARIANTS,
        bmmK: 3,
      });
      expect(rs.map((r) => `${r.reg} ${r.variant}`)).toEqual([
        'false cudnn',
        'false eager',
        'false graph',
        'false bmm-3',
        'true cudnn',
        'true eager',
        'true graph',
        'true bmm-3',
      ]);
      for (const r of rs) {
        if (r.variant === 'graph') {
          expect([r.steps_per_s, r.unavailable, r.error]).toEqual([null, true, 'unavailable: CUDA graphs need --device cuda']);
          continue;
        }
        expect(r.error, `${r.variant}`).toBeUndefined();
        const eager = rs.find((q) => q.reg === r.reg && q.variant === 'eager')!;
        for (const [k, x] of Object.entries(finalLosses(r)))
          expect(Math.abs(x - finalLosses(eager)[k.replace(/_m(in|ax)$/, '')]!), `reg=${r.reg} ${r.variant} ${k}`).toBeLessThan(TOL);
      }
      expect(rs[0]!.impl).toBe('torch.nn.RNN, ATen cpu kernels');
      const bmm = rs[3]!;
      expect(bmm.K).toBe(3);
      expect((bmm.batched_ms_per_step as number) / bmm.ms_per_step!).toBeCloseTo(3, 6);
    });
  });

  describe.runIf(hasAdapter)('the peers compute the engine loss', () => {
    const gpu = useGpu();
    const lambda = 0.01;
    /** The engine's losses of three consecutive steps (before each update), with or without WDC. */
    const engineLosses = async (reg: boolean) => {
      const regs = reg ? [new WdcRegularizer({ lambda, D: run.D, sMin: 1e-4 })] : [];
      const trainer = new RnnTrainer(gpu.get(), run.cfg, [{ params: run.params, regularizers: regs }]);
      try {
        const out: number[] = [];
        for (let i = 0; i < 3; i++) out.push((await trainer.step([run.batch]))[0]!.loss);
        return out;
      } finally {
        trainer.dispose();
      }
    };
    // one untimed and two timed steps: loss_first before any update, loss_last after two
    const steps = { data: file, reg: 'both' as const, lambda, budgetS: 0, warmup: 1, minSteps: 2, maxSteps: 2 };

    for (const kind of ['torch-cpu', 'tfjs-cpu'] as const) {
      const available = kind === 'torch-cpu' ? torchAvailable() : haveTfjs;
      it.skipIf(!available)(`${kind}: same loss at step 0 and after two Adam steps, with and without WDC`, async () => {
        const rs = await runPeerProcess(kind, steps);
        expect(rs.map((r) => r.error)).toEqual([undefined, undefined]);
        for (const r of rs) {
          expect([r.N, r.B, r.T]).toEqual([32, 8, 10]);
          const ours = await engineLosses(r.reg!);
          expect(Math.abs(r.loss_first! - ours[0]!), `reg=${r.reg} step 0`).toBeLessThan(1e-5);
          expect(Math.abs(r.loss_last! - ours[2]!), `reg=${r.reg} step 2`).toBeLessThan(1e-5);
        }
        // the regulariser is on in the second line: its loss is larger
        expect(rs[1]!.loss_first!).toBeGreaterThan(rs[0]!.loss_first!);
      });
    }

    it.skipIf(!haveTorch)('torch-cpu nn.RNN and bmm-2: same loss as the engine at step 0 and after two Adam steps', async () => {
      const rs = await runPeerProcess('torch-cpu', { ...steps, variants: ['cudnn', 'bmm'], bmmK: 2 });
      expect(rs.map((r) => [r.reg, r.variant, r.error])).toEqual([
        [false, 'cudnn', undefined],
        [false, 'bmm-2', undefined],
        [true, 'cudnn', undefined],
        [true, 'bmm-2', undefined],
      ]);
      for (const reg of [false, true]) {
        const ours = await engineLosses(reg);
        for (const r of rs.filter((q) => q.reg === reg))
          for (const [k, x] of Object.entries(finalLosses(r)))
            expect(Math.abs(x - (k.startsWith('loss_first') ? ours[0]! : ours[2]!)), `reg=${reg} ${r.variant} ${k}`).toBeLessThan(1e-5);
      }
    });
  });
});

/** Debian's reference BLAS (libblas3): put first on the library path, torch's libblas.so.3 resolves to it. */
const REFERENCE_BLAS_DIR = '/usr/lib/x86_64-linux-gnu/blas';

describe.skipIf(!torchAvailable())('which BLAS the PyTorch peer reports', () => {
  const probe = (env: NodeJS.ProcessEnv = {}) => {
    const code = 'import json, sys; from blas_info import blas_info, warn_if_reference; b = blas_info(); warn_if_reference(b); print(json.dumps(b))';
    const r = spawnSync('/usr/bin/python3', ['-c', code], {
      cwd: fileURLToPath(new URL('../bench/peers/', import.meta.url)),
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    return { blas: JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { kind: string; library: string | null; reference: boolean }, stderr: r.stderr };
  };

  it('names the library behind libblas.so.3 in the process, as Debian points it', () => {
    const { blas, stderr } = probe();
    const alt = spawnSync('update-alternatives', ['--query', 'libblas.so.3-x86_64-linux-gnu'], { encoding: 'utf8' }).stdout;
    const value = /^Value:\s*(\S+)/m.exec(alt)?.[1] ?? '';
    expect(blas.library).not.toBeNull();
    if (value.includes('openblas')) {
      expect(blas.kind).toBe('openblas');
      expect(blas.reference).toBe(false);
      expect(stderr).not.toMatch(/REFERENCE BLAS/);
    } else if (value.includes('/blas/')) {
      expect(blas.kind).toBe('reference');
    }
  });

  it.skipIf(!existsSync(`${REFERENCE_BLAS_DIR}/libblas.so.3`))('flags the reference BLAS loudly', () => {
    const { blas, stderr } = probe({ LD_LIBRARY_PATH: REFERENCE_BLAS_DIR });
    expect(blas.kind).toBe('reference');
    expect(blas.reference).toBe(true);
    expect(blas.library).toContain(`${REFERENCE_BLAS_DIR}/libblas.so`);
    expect(stderr).toMatch(/WARNING: PyTorch is using Debian's REFERENCE BLAS/);
    expect(stderr).toMatch(/libopenblas0-pthread/);
  });
});
