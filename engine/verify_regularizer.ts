/**
 * Checks the regularisers against a fixture of the format `regularizer_ref/1`
 * (../shared/fixtures/README.md): W, D, K, lam, mu and, in `results`, the value R and dR/dW of
 * `wd`, `wdc` (no strength floor, no epsilon) and `emd` (C with s + 1e-10, C_emp from |K| with
 * the paper's zero-strength rule, all N² entries compared). Runs on any backend.
 * Tolerances (the README's): value relative error ≤ 1e-5; gradient max absolute error ≤
 * 1e-4 · max|gradient|.
 */
import { fromNested } from './dense.ts';
import { ShapeError } from './errors.ts';
import type { RecurrentRegularizer } from './regularizers/regularizer.ts';
import { EmdRegularizer, WdcRegularizer, WdRegularizer } from './regularizers/communicability.ts';
import type { Backend } from './tensor.ts';

export interface RegularizerFixture {
  format: string;
  n?: number;
  lam: number;
  mu: number;
  W: number[][];
  D: number[][];
  K: number[][];
  results: Record<'wd' | 'wdc' | 'emd', { R: number; grad: number[][] }>;
}

interface RegularizerCheck {
  name: 'wd' | 'wdc' | 'emd';
  value: number;
  reference: number;
  valueRelError: number;
  gradMaxAbsError: number;
  gradMaxAbs: number;
  /** gradMaxAbsError / gradMaxAbs */
  gradRelError: number;
  pass: boolean;
}

export interface RegularizerReport {
  format: string;
  n: number;
  backend: string;
  checks: RegularizerCheck[];
  pass: boolean;
  tolerances: { valueRel: number; gradRel: number };
}

export const VALUE_REL_TOL = 1e-5;
export const GRAD_REL_TOL = 1e-4;

/** The three regularisers of a fixture, in the fixture's (paper) setting. */
function fixtureRegularizers(fx: RegularizerFixture): Record<'wd' | 'wdc' | 'emd', RecurrentRegularizer> {
  const D = fromNested(fx.D);
  const K = fromNested(fx.K);
  return {
    wd: new WdRegularizer({ lambda: fx.lam, D }),
    wdc: new WdcRegularizer({ lambda: fx.lam, D, paperCompat: true, eps: 0 }),
    emd: new EmdRegularizer({ lambda: fx.lam, mu: fx.mu, D, K, target: 'paper', paperCompat: true, eps: 1e-10 }),
  };
}

export async function verifyRegularizerFixture(backend: Backend, fixture: RegularizerFixture | string): Promise<RegularizerReport> {
  const fx: RegularizerFixture = typeof fixture === 'string' ? (JSON.parse(fixture) as RegularizerFixture) : fixture;
  if (fx.format !== 'regularizer_ref/1') throw new Error(`verifyRegularizerFixture: format '${fx.format}', expected 'regularizer_ref/1'`);
  const n = fx.W.length;
  if (fx.n !== undefined && fx.n !== n) {
    throw new ShapeError('verifyRegularizerFixture', { message: `verifyRegularizerFixture: n = ${fx.n} but W has ${n} rows` });
  }
  const W = backend.fromArray(fromNested(fx.W), [n, n]);
  const regs = fixtureRegularizers(fx);
  const checks: RegularizerCheck[] = [];
  for (const name of ['wd', 'wdc', 'emd'] as const) {
    const ref = fx.results[name];
    const { value, grad } = regs[name].apply(backend, W, n);
    const v = (await value.read())[0]!;
    const g = await grad.read();
    value.dispose();
    grad.dispose();
    const gref = fromNested(ref.grad);
    let err = 0;
    let mx = 0;
    for (let k = 0; k < gref.length; k++) {
      const e = Math.abs(g[k]! - gref[k]!);
      err = Number.isNaN(e) ? Infinity : Math.max(err, e);
      mx = Math.max(mx, Math.abs(gref[k]!));
    }
    const vrel = Math.abs(v - ref.R) / Math.max(Math.abs(ref.R), Number.MIN_VALUE);
    const grel = mx > 0 ? err / mx : err;
    checks.push({
      name,
      value: v,
      reference: ref.R,
      valueRelError: Number.isNaN(vrel) ? Infinity : vrel,
      gradMaxAbsError: err,
      gradMaxAbs: mx,
      gradRelError: grel,
      pass: vrel <= VALUE_REL_TOL && grel <= GRAD_REL_TOL,
    });
  }
  W.dispose();
  return {
    format: fx.format,
    n,
    backend: backend.describe(),
    checks,
    pass: checks.every((c) => c.pass),
    tolerances: { valueRel: VALUE_REL_TOL, gradRel: GRAD_REL_TOL },
  };
}
