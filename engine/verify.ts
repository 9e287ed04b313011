/**
 * Checks the engine against reference fixtures (../shared/fixtures/README.md). Every quantity
 * gets its max absolute and relative error, its tolerance and a pass flag; quantities the
 * engine cannot compute yet are reported as not checked, never as passed.
 */
import type { Backend, RnnDesign } from './tensor.ts';
import type { RecurrentRegularizer } from './regularizers/regularizer.ts';
import { RnnTrainer, type GradientResult } from './rnn/trainer.ts';
import { stepMask, type Batch } from './data.ts';
import { activeParams, type HostParams, type ParamName, type RnnConfig } from './rnn/params.ts';

export interface QuantityReport {
  name: string;
  status: 'pass' | 'fail' | 'not checked';
  maxAbsError?: number;
  maxRelError?: number;
  tolerance?: string;
  note?: string;
}

export interface VerifyReport {
  format: string;
  backend: string;
  config: Record<string, unknown>;
  pass: boolean;
  quantities: QuantityReport[];
}

type Nested = number | Nested[];

function flatten(x: Nested): Float64Array {
  const out: number[] = [];
  const walk = (v: Nested) => {
    if (Array.isArray(v)) v.forEach(walk);
    else out.push(v);
  };
  walk(x);
  return Float64Array.from(out);
}

/** Field access with an error naming the missing key. */
function field<T = unknown>(obj: Record<string, unknown>, path: string, source: string): T {
  let cur: unknown = obj;
  for (const k of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || !(k in (cur as Record<string, unknown>))) {
      throw new Error(`${source}: missing field '${path}'`);
    }
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur as T;
}

function compare(
  name: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: { abs?: number; relToMax?: number; rel?: number; perEntry?: (i: number) => number },
  tolerance: string,
): QuantityReport {
  if (actual.length !== expected.length) {
    return { name, status: 'fail', note: `length ${actual.length} vs expected ${expected.length}` };
  }
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  let maxAbs = 0;
  let maxRel = 0;
  let ok = true;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.abs(actual[i]! - expected[i]!);
    if (!(e <= maxAbs)) maxAbs = Number.isNaN(e) ? Infinity : Math.max(maxAbs, e);
    const rel = e / Math.max(Math.abs(expected[i]!), 1e-300);
    maxRel = Math.max(maxRel, Number.isNaN(rel) ? Infinity : rel);
    let allowed = 0;
    if (tol.abs !== undefined) allowed = Math.max(allowed, tol.abs);
    if (tol.relToMax !== undefined) allowed = Math.max(allowed, tol.relToMax * scale);
    if (tol.rel !== undefined) allowed = Math.max(allowed, tol.rel * Math.abs(expected[i]!));
    if (tol.perEntry) allowed += tol.perEntry(i);
    if (!(e <= allowed)) ok = false;
  }
  return { name, status: ok ? 'pass' : 'fail', maxAbsError: maxAbs, maxRelError: maxRel, tolerance };
}

export interface RnnFixtureOptions {
  /** Builds the fixture's regulariser (R = λ Σ |W|∘D∘C with a strength floor), when available. */
  makeRegularizer?: (D: Float64Array, n: number, lambda: number, sFloor: number) => RecurrentRegularizer;
  /** The recurrent design on a GPU backend (default: the automatic choice). */
  design?: RnnDesign | 'auto';
}

/** The fixture's Adam settings, with PyTorch's defaults where it gives none. */
function fixtureAdam(config: Record<string, number | string>): { lr: number; beta1: number; beta2: number; eps: number } {
  return { lr: Number(config.lr ?? 1e-3), beta1: Number(config.beta1 ?? 0.9), beta2: Number(config.beta2 ?? 0.999), eps: Number(config.eps ?? 1e-8) };
}

/** `rnn_bptt_ref/1`: one training step of a rate RNN (losses, BPTT gradients, one Adam step). */
export async function verifyRnnFixture(backend: Backend, fx: Record<string, unknown>, opts: RnnFixtureOptions = {}, source = 'fixture'): Promise<VerifyReport> {
  const config = field<Record<string, number | string>>(fx, 'config', source);
  const N = Number(field(config, 'N', source));
  const B = Number(field(config, 'B', source));
  const T = Number(field(config, 'T', source));
  const nIn = Number(field(config, 'n_in', source));
  const nOut = Number(field(config, 'n_out', source));
  const alpha = Number(field(config, 'alpha', source));
  const lambda = Number(field(config, 'lambda', source));
  const lossOn = String(field(config, 'loss_on', source));
  if (lossOn !== 'all' && lossOn !== 'last') throw new Error(`${source}: config.loss_on must be 'all' or 'last', got '${lossOn}'`);
  const sFloor = Number(config.s_floor ?? 1e-4);
  const cfg: RnnConfig = { nIn, nHidden: N, nOut, alpha, outputBias: false };
  const params = {} as HostParams;
  for (const name of activeParams(cfg)) params[name] = flatten(field<Nested>(fx, `params.${name}`, source));
  const x = flatten(field<Nested>(fx, 'inputs.x', source));
  const labels = flatten(field<Nested>(fx, 'inputs.labels', source));
  const D = flatten(field<Nested>(fx, 'inputs.D', source));
  const out = field<Record<string, unknown>>(fx, 'outputs', source);
  const mask = stepMask(T, B, lossOn);
  const batch: Batch = { T, B, x, labels, lossMask: mask, scoreMask: mask };
  const reg = opts.makeRegularizer?.(D, N, lambda, sFloor);
  const adam = fixtureAdam(config);
  const trainer = new RnnTrainer(backend, cfg, [{ params, regularizers: reg ? [reg] : [] }], { adam, design: opts.design });
  const q: QuantityReport[] = [];
  const names = activeParams(cfg);
  const gradTol = { abs: 1e-7, relToMax: 1e-5 };
  const gradTolText = '1e-7 abs or 1e-5 × max|grad|';
  // Losses are sums of many float32 terms: 1e-6 absolute, or 1e-6 of the value when it is large.
  const lossTol = { abs: 1e-6, rel: 1e-6 };
  try {
    const [g] = (await trainer.gradients([batch])) as [GradientResult];
    q.push(compare('ce_loss', [g.ce], [Number(out.ce_loss)], lossTol, '1e-6 abs (or 1e-6 relative)'));
    for (const n of names) {
      q.push(compare(`grads_ce.${n}`, g.gradsCe[n]!, flatten(field<Nested>(out, `grads_ce.${n}`, source)), gradTol, gradTolText));
    }
    const regNames = ['reg_value', 'grad_reg_W_rec', ...names.map((n) => `grads_total.${n}`), 'total_loss', ...names.map((n) => `params_after_adam_step.${n}`)];
    if (!reg) {
      for (const name of regNames) q.push({ name, status: 'not checked', note: 'needs the communicability regulariser (not available on this backend)' });
    } else {
      q.push(compare('reg_value', [g.reg], [Number(out.reg_value)], lossTol, '1e-6 abs (or 1e-6 relative)'));
      q.push(compare('total_loss', [g.loss], [Number(out.total_loss)], lossTol, '1e-6 abs (or 1e-6 relative)'));
      q.push(compare('grad_reg_W_rec', g.gradReg, flatten(field<Nested>(out, 'grad_reg_W_rec', source)), gradTol, gradTolText));
      const refTotal = {} as Record<ParamName, Float64Array>;
      for (const n of names) {
        refTotal[n] = flatten(field<Nested>(out, `grads_total.${n}`, source));
        q.push(compare(`grads_total.${n}`, g.grads[n]!, refTotal[n], gradTol, gradTolText));
      }
      await trainer.step([batch]);
      const after = await trainer.getParams();
      for (const n of names) {
        // Adam's first step moves an entry by lr·g/(|g| + ε); its sensitivity to a gradient
        // error is lr·ε/(|g| + ε)², so tiny gradients get a proportionally wider tolerance.
        const gRef = refTotal[n];
        const scale = gRef.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        const dg = Math.max(1e-7, 1e-5 * scale);
        const perEntry = (i: number) => ((adam.lr * adam.eps) / (Math.abs(gRef[i]!) + adam.eps) ** 2) * dg;
        q.push(
          compare(
            `params_after_adam_step.${n}`,
            after[n]!,
            flatten(field<Nested>(out, `params_after_adam_step.${n}`, source)),
            { abs: 1e-5, perEntry },
            '1e-5 abs (+ Adam sensitivity lr·ε/(|g|+ε)²·δg for tiny gradients)',
          ),
        );
      }
    }
  } finally {
    trainer.dispose();
  }
  return {
    format: 'rnn_bptt_ref/1',
    backend: backend.describe(),
    config: config as Record<string, unknown>,
    pass: q.every((x) => x.status !== 'fail'),
    quantities: q,
  };
}
