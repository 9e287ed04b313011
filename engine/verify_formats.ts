/**
 * Glue between the fixture formats and the regularisers: which regulariser reproduces each
 * fixture's R, and the regularizer_ref/1 report in the common VerifyReport shape.
 */
import type { Backend } from './tensor.ts';
import type { RecurrentRegularizer } from './regularizers/regularizer.ts';
import type { VerifyReport } from './verify.ts';
import { WdcRegularizer } from './regularizers/communicability.ts';
import { GRAD_REL_TOL, VALUE_REL_TOL, verifyRegularizerFixture, type RegularizerFixture } from './verify_regularizer.ts';

/** rnn_bptt_ref/1's R = λ Σ |W|∘D∘C, strengths (column sums) floored at s_floor. */
export function rnnFixtureRegularizer(D: Float64Array, _n: number, lambda: number, sFloor: number): RecurrentRegularizer {
  return new WdcRegularizer({ lambda, D, sMin: sFloor });
}

export async function verifyRegularizerFormat(backend: Backend, fx: Record<string, unknown>, source: string): Promise<VerifyReport> {
  for (const key of ['W', 'D', 'K', 'lam', 'mu', 'results']) {
    if (!(key in fx)) throw new Error(`${source}: missing field '${key}' (format regularizer_ref/1)`);
  }
  const r = await verifyRegularizerFixture(backend, fx as unknown as RegularizerFixture);
  return {
    format: 'regularizer_ref/1',
    backend: r.backend,
    config: { n: r.n, lambda: fx.lam, mu: fx.mu },
    pass: r.pass,
    quantities: r.checks.flatMap((c) => [
      {
        name: `${c.name}.value`,
        status: c.valueRelError <= VALUE_REL_TOL ? ('pass' as const) : ('fail' as const),
        maxAbsError: Math.abs(c.value - c.reference),
        maxRelError: c.valueRelError,
        tolerance: `${VALUE_REL_TOL} relative`,
      },
      {
        name: `${c.name}.grad`,
        status: c.gradRelError <= GRAD_REL_TOL ? ('pass' as const) : ('fail' as const),
        maxAbsError: c.gradMaxAbsError,
        maxRelError: c.gradRelError,
        tolerance: `max abs error <= ${GRAD_REL_TOL} x max|grad|`,
      },
    ]),
  };
}
