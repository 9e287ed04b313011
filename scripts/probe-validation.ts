// The probe estimator of the WDC cost against the exact cost: relative bias (with its standard
// error) and spread of the value, and the error of the mean gradient, against the probe count p,
// on 6_6_2's W* and trained W*D*C (N = 312) and on a 1,000-neuron block of the V1 population.
//
//   npx tsx scripts/probe-validation.ts [--out FILE.json]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readNpyFile } from '../connectome/npy_file.ts';
import { toFloat64 } from '../connectome/npy.ts';
import { Rng } from '../engine/rng.ts';
import { wdc } from '../engine/regularizers/cpu.ts';
import { rademacherProbes, wdcProbe } from '../engine/regularizers/probe.ts';
import { prepareField } from '../experiments/prepare.ts';
import { wStarDraw } from '../experiments/setup.ts';

const { values: a } = parseArgs({ options: { out: { type: 'string' }, data: { type: 'string', default: '../shared/data' } } });
const lambda = 1;

function block(X: ArrayLike<number>, n: number, k: number): Float64Array {
  const Y = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) Y[i * k + j] = X[i * n + j]!;
  return Y;
}

function validate(name: string, W: Float64Array, D: Float64Array, n: number, ps: number[], draws: number) {
  let t = performance.now();
  const exact = wdc(W, D, n, { lambda });
  const exactMs = performance.now() - t;
  const gNorm = Math.sqrt(exact.grad.reduce((x, g) => x + g * g, 0));
  const rows = ps.map((p) => {
    const rng = new Rng(1, `probe-validation:${name}:${p}`);
    const values: number[] = [];
    const gMean = new Float64Array(n * n);
    let terms = 0;
    t = performance.now();
    for (let d = 0; d < draws; d++) {
      const est = wdcProbe(W, D, n, { lambda, probes: rademacherProbes(n, p, rng), p });
      values.push(est.value);
      terms = est.terms;
      for (let k = 0; k < n * n; k++) gMean[k]! += est.grad[k]! / draws;
    }
    const ms = (performance.now() - t) / draws;
    const mean = values.reduce((x, y) => x + y, 0) / draws;
    const sd = Math.sqrt(values.reduce((x, y) => x + (y - mean) ** 2, 0) / (draws - 1));
    let gErr = 0;
    for (let k = 0; k < n * n; k++) gErr += (gMean[k]! - exact.grad[k]!) ** 2;
    return {
      p,
      draws,
      relBias: (mean - exact.value) / exact.value,
      relBiasSE: sd / Math.sqrt(draws) / exact.value,
      relSD: sd / exact.value,
      meanGradRelErr: Math.sqrt(gErr) / gNorm,
      terms,
      msPerEstimate: ms,
    };
  });
  const r = { name, n, exact: exact.value, exactMs, rows };
  console.log(JSON.stringify(r));
  return r;
}

const out = [];
const f = prepareField(a.data!, '6_6_2');
const Dr = f.realD('corrected');
out.push(validate('6_6_2 W* (seed 1)', wStarDraw(f, 1), Dr, f.n, [1, 4, 16, 64], 100));
const trained = toFloat64(readNpyFile('docs/results/6_6_2/runs/corrected/6_6_2/pdm/WsDsC/seed-1/W_rec_epoch10.npy'));
out.push(validate('6_6_2 W*D*C trained (corrected, pdm, seed 1)', trained, Dr, f.n, [1, 4, 16, 64], 100));
const v1 = prepareField(a.data!, 'v1l234');
const k = 1000;
out.push(validate('v1l234 W* (seed 1), first 1,000 neurons', block(wStarDraw(v1, 1), v1.n, k), block(v1.realD('corrected'), v1.n, k), k, [4, 16], 10));
if (a.out) writeFileSync(a.out, JSON.stringify({ lambda, results: out }, null, 2) + '\n');
