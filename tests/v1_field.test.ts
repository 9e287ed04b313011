/**
 * The V1 L2/3–4 population as a field (`v1l234`): which neurons, what K, W*'s stand-ins for
 * corr and STTC, corrected mode only, and the classes its module analysis adds.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { moduleAlignment } from '../analysis/module_alignment.ts';
import { responseCosine, signalCorrelation } from '../connectome/functional.ts';
import { loadV1L234 } from '../connectome/v1.ts';
import { makeEmdTarget } from '../engine/regularizers/target.ts';
import { EmdRegularizer } from '../engine/regularizers/communicability.ts';
import { prepareField } from '../experiments/prepare.ts';
import { PAPER_PROTOCOL } from '../experiments/protocol.ts';
import { runJob, validateJob } from '../experiments/queue_job.ts';
import { labellingInputs, makeRegularizer, setupRun } from '../experiments/setup.ts';
import { plannedRuns } from '../experiments/sweep.ts';
import { getVariant } from '../experiments/variants.ts';

const DATA = resolve('../shared/data');
const haveV1 = existsSync(join(DATA, 'microns-v1l234', 'neurons.csv'));

describe('response cosine', () => {
  it('is the cosine of the raw tuning curves, rate-free, 0 for a silent neuron', () => {
    // three neurons, four directions: b is a scaled a, c is silent
    const r = Float64Array.from([1, 2, 0, 1, 2, 4, 0, 2, 0, 0, 0, 0]);
    const s = responseCosine(r, 4);
    expect(s[0 * 3 + 1]).toBeCloseTo(1, 12);
    expect(s[0 * 3 + 2]).toBe(0);
    expect([s[0], s[4], s[8]]).toEqual([1, 1, 1]);
    const u = responseCosine(Float64Array.from([1, 0, 0, 1]), 2);
    expect(u[1]).toBe(0); // orthogonal responses
    expect(responseCosine(Float64Array.from([3, 4, 4, 3]), 2)[1]).toBeCloseTo(24 / 25, 12);
  });
});

describe.runIf(haveV1)('the V1 population as a field', () => {
  const ctx = prepareField(DATA, 'v1l234');
  const v1 = loadV1L234(DATA);

  it('keeps the positioned neurons, in µm, with K the summed synapse size among them', () => {
    const ids = Array.from({ length: v1.n }, (_, i) => i).filter((i) => v1.hasPosition[i]);
    expect(ctx.n).toBe(2115);
    expect(ids).toHaveLength(2115);
    // positions: voxels at (4, 4, 40) nm
    expect(ctx.positionsUm[0]).toBeCloseTo((v1.positionsVox[ids[0]! * 3]! * 4) / 1000, 9);
    expect(ctx.positionsUm[2]).toBeCloseTo((v1.positionsVox[ids[0]! * 3 + 2]! * 40) / 1000, 9);
    // K from the synapse list, counted independently
    const at = new Map(ids.map((id, k) => [id, k]));
    let pairs = 0;
    let total = 0;
    let smallest = Infinity;
    for (let r = 0; r < v1.synapses.pre.length; r++) {
      const a = at.get(v1.synapses.pre[r]!);
      const b = at.get(v1.synapses.post[r]!);
      if (a === undefined || b === undefined) continue;
      pairs++;
      total += v1.synapses.size[r]!;
      smallest = Math.min(smallest, v1.synapses.size[r]!);
    }
    expect(ctx.K.filter((x) => x > 0).length).toBe(pairs);
    expect(ctx.K.reduce((s, x) => s + x, 0)).toBeCloseTo(total, 3);
    expect(ctx.anatomy).toBe('summed synapse size');
    expect(ctx.synapseUnit).toBe(smallest);
    expect(ctx.source.files).toEqual(expect.arrayContaining(['neurons.csv', 'synapses.csv', 'responses.csv']));
    expect(ctx.source.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("builds W* from the tuning curves' signal correlation and response cosine", () => {
    const ids = Array.from({ length: v1.n }, (_, i) => i).filter((i) => v1.hasPosition[i]);
    const some = ids.slice(0, 40);
    const f = ctx.functional!;
    expect(f.source).toBe('tuning');
    const corr = signalCorrelation(v1.responses, 16, some);
    const cos = responseCosine(v1.responses, 16, some);
    for (const [a, b] of [
      [0, 1],
      [3, 39],
      [17, 8],
    ]) {
      expect(f.corr[a! * ctx.n + b!]).toBeCloseTo(corr[a! * 40 + b!]!, 12);
      expect(f.sttc[a! * ctx.n + b!]).toBeCloseTo(cos[a! * 40 + b!]!, 12);
    }
    const run = setupRun({ field: 'v1l234', task: 'gonogo', variant: 'W*D*C', seed: 1, mode: 'corrected', positive: false }, ctx, PAPER_PROTOCOL);
    expect(run.init.notes[0]).toMatch(/corr: signal correlation of the tuning curves; sttc: their response cosine/);
    expect(run.D).toHaveLength(2115 * 2115);
    expect(run.params.W_rec.every((w) => w >= 0)).toBe(true);
    const anat = setupRun({ field: 'v1l234', task: 'gonogo', variant: 'Wanat-D*C', seed: 1, mode: 'corrected', positive: false }, ctx, PAPER_PROTOCOL);
    expect(anat.init.notes[0]).toMatch(/K is the summed synapse size$/);
  }, 60_000);

  it('refuses paper mode in one line: train, sweep planning, and the run setup', () => {
    const spec = { field: 'v1l234', task: 'gonogo', variant: 'W', seed: 1, mode: 'paper' as const, positive: false };
    const message = '--mode: expected corrected for field v1l234 (paper mode';
    expect(() => setupRun(spec, ctx, PAPER_PROTOCOL)).toThrow(message);
    expect(() =>
      plannedRuns({
        field: 'v1l234',
        tasks: ['gonogo'],
        variants: [getVariant('W')],
        seeds: [1],
        modes: ['corrected', 'paper'],
        positive: false,
        dataDir: DATA,
      }),
    ).toThrow(message);
    const cli = spawnSync(
      process.execPath,
      ['bin/cortical-rnn.js', 'train', '--data', DATA, '--field', 'v1l234', '--task', 'gonogo', '--variant', 'W', '--mode', 'paper', '--out', '/tmp/never'],
      { encoding: 'utf8' },
    );
    expect(cli.status).toBe(2);
    expect(cli.stderr).toMatch(
      /^cortical-rnn: --mode: expected corrected for field v1l234 \(paper mode's voxel distances and index geometry belong to the imaging fields\), got paper\n$/,
    );
    expect(validateJob(runJob({ ...spec, mode: 'corrected' }, PAPER_PROTOCOL), DATA).spec.field).toBe('v1l234');
  });

  it('its module analysis adds layer, cell type and orientation (null for a class every neuron shares)', () => {
    const inputs = labellingInputs(ctx);
    expect(Object.keys(inputs.classes!)).toEqual(['layer', 'cell_type', 'orientation']);
    expect(ctx.classes!.layer.names).toEqual(['L2/3', 'L4']);
    // modules = layer exactly, on the first 300 neurons
    const n = 300;
    const sub = {
      positionsUm: ctx.positionsUm.subarray(0, n * 3),
      corr: null,
      K: null,
      classes: { layer: ctx.classes!.layer.index.subarray(0, n), cell_type: ctx.classes!.cell_type.index.subarray(0, n) },
    };
    const a = moduleAlignment(ctx.classes!.layer.index.subarray(0, n), sub, 1, 200);
    expect(a.labellings.layer!.nmi).toBeCloseTo(1, 12);
    expect(a.labellings.cell_type).toBeNull(); // all excitatory
    expect(Object.keys(a.labellings)).toEqual(['index_mod3', 'depth', 'spatial', 'functional', 'connectome', 'layer', 'cell_type']);
  });
});

describe('the EMD target in K units', () => {
  it("floors a silent neuron's strength at the field's one-synapse unit", () => {
    // 3 neurons; neuron 2 has no outgoing synapses; sizes in arbitrary units of 50 per synapse
    const K = Float64Array.from([0, 100, 0, 50, 0, 0, 150, 0, 0]);
    const D = Float64Array.from([0, 1, 1, 1, 0, 1, 1, 1, 0]);
    const reg = makeRegularizer('EMD', { mode: 'corrected', lambda: 0.1, mu: 0.1, D, K, synapseUnit: 50 }) as EmdRegularizer;
    const expected = makeEmdTarget(K, 3, { target: 'floor-one-synapse', synapseFloor: 50 }).Cemp;
    const unitFloor = makeEmdTarget(K, 3, { target: 'floor-one-synapse' }).Cemp;
    const got = (reg as unknown as { target: { Cemp: Float64Array } }).target.Cemp;
    expect(Array.from(got)).toEqual(Array.from(expected));
    expect(Array.from(got)).not.toEqual(Array.from(unitFloor));
  });
});
