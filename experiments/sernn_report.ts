/**
 * The report's seRNN section (experiments/sernn.ts): the paper's comparisons of L1 and seRNN
 * networks across regularisation strength λ.
 *
 *  - per family and λ: accuracy, weight density, Q, σ (both nulls), co-localisation, mixed
 *    selectivity and energy (means over seeds);
 *  - figures: accuracy, weight density, co-localisation, mixed selectivity and energy against λ;
 *    Q and σ against weight density;
 *  - matched comparison: each seRNN network paired with the nearest unused L1 network of equal
 *    weight density (±0.05) and test accuracy (±0.03), both at least 0.9 accurate, as the paper
 *    compares the families; the effect is the mean paired difference with a bootstrap 95%
 *    interval over pairs and a sign-flip p;
 *  - what the modules follow: per family and λ, the NMI of the CNM modules with the grid's
 *    spatial clusters, its depth bins and the index residue;
 *  - the sweet spot: the λ where seRNNs are accurate (≥ 0.9), small-world (σ > 1), more modular
 *    than at the family's weakest λ, and co-localised (interval of r above 0), all at once.
 */
import { clusterBootstrapMean, meanCI, signFlipTest, type BootstrapCI } from '../analysis/stats.ts';
import type { FinalRecord } from './record.ts';
import { sernnFamily } from './sernn.ts';
import { lineChart, type Series } from './svg.ts';
import { ALIGNMENT_P, LABELLING_NAMES, alignmentOf, fmt, fmtP } from './tables.ts';
import type { LabellingName } from '../analysis/module_alignment.ts';
import { esc } from './style.ts';

/** A finished seRNN-sweep run as this section reads it. */
export interface SernnRun {
  variant: string;
  lambda: number;
  seed: number;
  rec: FinalRecord;
}

/** Accuracy that counts as solving the task (a goal-blind network scores at most 0.625). */
const HIGH_ACCURACY = 0.9;
/** Matching tolerances in weight density and test accuracy. */
const MATCH_DENSITY = 0.05;
const MATCH_ACCURACY = 0.03;

type Family = 'L1' | 'seRNN';
const FAMILIES: Family[] = ['L1', 'seRNN'];
const COLOUR: Record<Family, string> = { L1: '#4e79a7', seRNN: '#e15759' };

/** The values the section compares, per network (null when the run has none). */
const VALUES = {
  accuracy: (r: FinalRecord) => (r.status === 'ok' ? r.accuracy!.test : null),
  density: (r: FinalRecord) => r.metrics?.weight_density ?? null,
  Q: (r: FinalRecord) => r.metrics?.Q_cnm ?? null,
  sigma_paper: (r: FinalRecord) => r.metrics?.sigma_paper ?? null,
  sigma_matched: (r: FinalRecord) => r.metrics?.sigma_matched ?? null,
  colocalisation: (r: FinalRecord) => r.function?.colocalisation ?? null,
  mixed_selectivity: (r: FinalRecord) => r.function?.mixed_selectivity ?? null,
  energy: (r: FinalRecord) => r.function?.energy ?? null,
} as const;
type Key = keyof typeof VALUES;

const LABEL: Record<Key, string> = {
  accuracy: 'test accuracy',
  density: 'weight density (|W| > 0.01)',
  Q: 'modularity Q',
  sigma_paper: 'σ (paper null)',
  sigma_matched: 'σ (degree-matched null)',
  colocalisation: 'co-localisation r',
  mixed_selectivity: 'mixed selectivity',
  energy: 'energy (mean rate)',
};

const value = (k: Key, r: FinalRecord): number | null => {
  const v = VALUES[k](r);
  return v === null || v === undefined || !Number.isFinite(v) ? null : v;
};
const finite = (xs: (number | null)[]) => xs.filter((x): x is number => x !== null);
const meanOf = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

interface Cell {
  family: Family;
  lambda: number;
  runs: SernnRun[];
  ok: SernnRun[];
}

function cells(runs: SernnRun[]): Cell[] {
  const out: Cell[] = [];
  for (const family of FAMILIES) {
    const mine = runs.filter((r) => sernnFamily(r.variant) === family);
    for (const lambda of [...new Set(mine.map((r) => r.lambda))].sort((a, b) => a - b)) {
      const rs = mine.filter((r) => r.lambda === lambda);
      out.push({ family, lambda, runs: rs, ok: rs.filter((r) => r.rec.status === 'ok') });
    }
  }
  return out;
}

const cellMean = (c: Cell, k: Key) => meanOf(finite(c.ok.map((r) => value(k, r.rec))));

/** Greedy nearest matching of seRNN to L1 networks on (weight density, accuracy), without reuse. */
function matchNetworks(runs: SernnRun[]): [SernnRun, SernnRun][] {
  const eligible = (f: Family) =>
    runs.filter(
      (r) => sernnFamily(r.variant) === f && r.rec.status === 'ok' && (value('accuracy', r.rec) ?? 0) >= HIGH_ACCURACY && value('density', r.rec) !== null,
    );
  const se = eligible('seRNN');
  const l1 = eligible('L1');
  const cand: { i: number; j: number; d: number }[] = [];
  se.forEach((a, i) =>
    l1.forEach((b, j) => {
      const dd = Math.abs(value('density', a.rec)! - value('density', b.rec)!) / MATCH_DENSITY;
      const da = Math.abs(value('accuracy', a.rec)! - value('accuracy', b.rec)!) / MATCH_ACCURACY;
      if (dd <= 1 && da <= 1) cand.push({ i, j, d: Math.hypot(dd, da) });
    }),
  );
  cand.sort((x, y) => x.d - y.d || x.i - y.i || x.j - y.j);
  const usedI = new Set<number>();
  const usedJ = new Set<number>();
  const pairs: [SernnRun, SernnRun][] = [];
  for (const c of cand) {
    if (usedI.has(c.i) || usedJ.has(c.j)) continue;
    usedI.add(c.i);
    usedJ.add(c.j);
    pairs.push([se[c.i]!, l1[c.j]!]);
  }
  return pairs;
}

interface SernnClaim {
  id: string;
  claim: string;
  verdict: 'holds' | 'does not hold' | 'undecided';
  effect: BootstrapCI | null;
  p: number | null;
  pairs: number;
}

/** A matched-pair claim: seRNN − L1 of `key` is above 0 (`sign` +1) or below (−1). */
function pairedClaim(id: string, claim: string, key: Key, sign: 1 | -1, pairs: [SernnRun, SernnRun][]): SernnClaim {
  const d = finite(pairs.map(([a, b]) => (value(key, a.rec) !== null && value(key, b.rec) !== null ? value(key, a.rec)! - value(key, b.rec)! : null)));
  if (!d.length) return { id, claim, verdict: 'undecided', effect: null, p: null, pairs: 0 };
  const effect = clusterBootstrapMean(
    d.map((x) => [x]),
    { seed: 1 },
  );
  const p = signFlipTest(d, 1);
  const lo = sign * effect.lo;
  const hi = sign * effect.hi;
  const verdict = !Number.isFinite(lo) ? 'undecided' : Math.min(lo, hi) > 0 ? 'holds' : Math.max(lo, hi) < 0 ? 'does not hold' : 'undecided';
  return { id, claim, verdict, effect, p, pairs: d.length };
}

interface SweetSpotRow {
  lambda: number;
  accurate: boolean;
  smallWorld: boolean;
  modular: boolean;
  colocalised: boolean;
  inSpot: boolean;
}

/** Per seRNN λ, the four properties and whether they hold together. */
function sweetSpot(cs: Cell[]): SweetSpotRow[] {
  const se = cs.filter((c) => c.family === 'seRNN' && c.ok.length);
  if (!se.length) return [];
  const baseQ = cellMean(se[0]!, 'Q');
  return se.map((c) => {
    const co = finite(c.ok.map((r) => value('colocalisation', r.rec)));
    const ci = co.length >= 2 ? meanCI(co) : null;
    const row = {
      lambda: c.lambda,
      accurate: cellMean(c, 'accuracy') >= HIGH_ACCURACY,
      smallWorld: cellMean(c, 'sigma_paper') > 1,
      modular: c !== se[0] && cellMean(c, 'Q') > baseQ,
      colocalised: ci !== null && ci.lo > 0,
    };
    return { ...row, inSpot: row.accurate && row.smallWorld && row.modular && row.colocalised };
  });
}

function figures(cs: Cell[], runs: SernnRun[]): string[] {
  const byLambda = (k: Key): Series[] =>
    FAMILIES.map((family) => {
      const mine = cs.filter((c) => c.family === family && c.ok.length);
      return { name: family, x: mine.map((c) => Math.log10(c.lambda)), y: mine.map((c) => cellMean(c, k)), colour: COLOUR[family] };
    });
  const vsDensity = (k: Key): Series[] =>
    FAMILIES.map((family) => {
      const mine = runs.filter(
        (r) => sernnFamily(r.variant) === family && r.rec.status === 'ok' && value(k, r.rec) !== null && value('density', r.rec) !== null,
      );
      return { name: family, x: mine.map((r) => value('density', r.rec)!), y: mine.map((r) => value(k, r.rec)!), colour: COLOUR[family], markers: true };
    });
  const line = (k: Key) => lineChart({ title: `${LABEL[k]} against λ (mean over seeds)`, xLabel: 'log10 λ', yLabel: LABEL[k], series: byLambda(k) });
  const scatter = (k: Key) =>
    lineChart({ title: `${LABEL[k]} against weight density (each network)`, xLabel: LABEL.density, yLabel: LABEL[k], series: vsDensity(k) });
  return [line('accuracy'), line('density'), scatter('Q'), scatter('sigma_paper'), line('colocalisation'), line('mixed_selectivity'), line('energy')];
}

/** The seRNN section's HTML; its numbers go to json.sernn. */
export function sernnSection(runs: SernnRun[], json: Record<string, unknown>): string {
  const cs = cells(runs);
  const keys = Object.keys(VALUES) as Key[];
  const rows = cs.map((c) => {
    const acc = finite(c.ok.map((r) => value('accuracy', r.rec)));
    return {
      family: c.family,
      lambda: c.lambda,
      networks: c.runs.length,
      diverged: c.runs.length - c.ok.length,
      accuracy: acc.length ? meanCI(acc) : null,
      ...Object.fromEntries(keys.filter((k) => k !== 'accuracy').map((k) => [k, cellMean(c, k)])),
    } as Record<string, unknown> & { family: Family; lambda: number; networks: number; diverged: number; accuracy: ReturnType<typeof meanCI> | null };
  });
  const pairs = matchNetworks(runs);
  const claims: SernnClaim[] = [
    pairedClaim('Q', 'seRNNs are more modular (Q) than L1 networks at matched sparsity and accuracy', 'Q', 1, pairs),
    pairedClaim('sigma_paper', 'seRNNs are more small-world (σ, paper null) than L1 networks at matched sparsity and accuracy', 'sigma_paper', 1, pairs),
    pairedClaim('sigma_matched', 'seRNNs are more small-world (σ, degree-matched null) at matched sparsity and accuracy', 'sigma_matched', 1, pairs),
    pairedClaim('colocalisation', 'units with similar coding sit closer together in seRNNs (functional co-localisation)', 'colocalisation', 1, pairs),
    pairedClaim('mixed', 'seRNN units are more often mixed-selective (code goal and options)', 'mixed_selectivity', 1, pairs),
    pairedClaim('energy', 'seRNNs use less energy (lower mean activity)', 'energy', -1, pairs),
  ];
  const spot = sweetSpot(cs);
  const inSpot = spot.filter((s) => s.inSpot).map((s) => s.lambda);
  json.sernn = {
    rows,
    matching: { highAccuracy: HIGH_ACCURACY, density: MATCH_DENSITY, accuracy: MATCH_ACCURACY, pairs: pairs.length },
    claims,
    sweetSpot: { rows: spot, lambdas: inSpot },
  };

  const head = `<tr><th>family</th><th>λ</th><th>networks</th><th>${esc(LABEL.accuracy)} [95% CI]</th>${keys
    .filter((k) => k !== 'accuracy')
    .map((k) => `<th>${esc(LABEL[k])}</th>`)
    .join('')}</tr>`;
  const body = rows
    .map(
      (r) =>
        `<tr><td>${r.family}</td><td>${esc(String(r.lambda))}</td><td>${r.networks}${r.diverged ? ` <span class="div">(${r.diverged} diverged)</span>` : ''}</td><td>${
          r.accuracy ? `${fmt(r.accuracy.mean)}${Number.isFinite(r.accuracy.lo) ? ` [${fmt(r.accuracy.lo)}, ${fmt(r.accuracy.hi)}]` : ''}` : '—'
        }</td>${keys
          .filter((k) => k !== 'accuracy')
          .map((k) => `<td>${fmt(r[k] as number)}</td>`)
          .join('')}</tr>`,
    )
    .join('');
  const claimRows = claims
    .map((c) => {
      const e = c.effect;
      const effect = e ? `${fmt(e.estimate)}${Number.isFinite(e.lo) ? ` [${fmt(e.lo)}, ${fmt(e.hi)}]` : ' (one pair: no interval)'}` : '—';
      return `<tr><td>${esc(c.claim)}</td><td>${effect}</td><td>${fmtP(c.p ?? NaN)}</td><td>${c.pairs}</td><td class="verdict ${c.verdict.replace(/ /g, '-')}">${esc(c.verdict)}</td></tr>`;
    })
    .join('');
  const tick = (b: boolean) => (b ? '✓' : '·');
  const spotRows = spot
    .map(
      (s) =>
        `<tr${s.inSpot ? ' class="sig"' : ''}><td>${esc(String(s.lambda))}</td><td>${tick(s.accurate)}</td><td>${tick(s.smallWorld)}</td><td>${tick(s.modular)}</td><td>${tick(s.colocalised)}</td></tr>`,
    )
    .join('');
  return [
    `<p>L1 (λ·Σ|W|) against seRNN (λ·Σ|W|∘C∘D) networks of 100 units on a 5 × 5 × 4 grid, trained on the one-step inference task across regularisation strengths (Achterberg, Akarca et al. 2023). ${runs.length} networks. Weight density is the share of |W<sub>ij</sub>| above 0.01 (sparsity = 1 − density); Q and σ are on the top 10% of |W|; co-localisation is the correlation between two units' difference in coding preference (goal vs options) and their distance over coding units (positive: alike units are neighbours); mixed selectivity is the share of active units coding both goal and options (η² ≥ 0.1 each, choice period); energy is the mean rate over units, steps and trials.</p>`,
    `<table><thead>${head}</thead><tbody>${body}</tbody></table>`,
    ...figures(cs, runs).map((s) => `<figure class="curve">${s}</figure>`),
    `<h3>Matched comparison: seRNN − L1 at equal sparsity and accuracy</h3><p>Each seRNN network is paired with the nearest unused L1 network whose weight density is within ${MATCH_DENSITY} and test accuracy within ${MATCH_ACCURACY}, both at least ${HIGH_ACCURACY} accurate (${pairs.length} pairs). The effect is the mean paired difference with a bootstrap 95% interval over pairs; a claim <em>holds</em> when the interval lies on its side.</p>`,
    `<table><thead><tr><th>claim</th><th>effect [95% CI]</th><th>sign-flip p</th><th>pairs</th><th>verdict</th></tr></thead><tbody>${claimRows}</tbody></table>`,
    modulesOnTheGrid(cs, json),
    `<h3>The sweet spot</h3><p>seRNN strengths where the networks are accurate (mean test accuracy ≥ ${HIGH_ACCURACY}), small-world (mean σ > 1, paper null), more modular than at the weakest λ, and co-localised (95% interval of r over seeds above 0), all at once: <strong>${
      inSpot.length ? inSpot.map((l) => `λ = ${esc(String(l))}`).join(', ') : 'none here'
    }</strong>.</p>`,
    `<table><thead><tr><th>λ (seRNN)</th><th>accurate</th><th>small-world</th><th>more modular</th><th>co-localised</th></tr></thead><tbody>${spotRows}</tbody></table>`,
  ].join('\n');
}

/** The labellings that a grid of units has: positions only, no activity or synapses. */
const GRID_LABELLINGS: LabellingName[] = ['spatial', 'depth', 'index_mod3'];

/**
 * Do the modules follow the units' places on the grid? Per family and λ, the mean NMI of the CNM
 * modules with each grid labelling over the networks that have one, and how many follow it at
 * p < ALIGNMENT_P.
 */
function modulesOnTheGrid(cs: Cell[], json: Record<string, unknown>): string {
  const rows = cs.map((c) => {
    const byLabelling = Object.fromEntries(
      GRID_LABELLINGS.map((name) => {
        const a = c.ok.flatMap((r) => alignmentOf(r.rec, name) ?? []);
        return [name, { nmi: meanOf(a.map((x) => x.nmi)), significant: a.filter((x) => x.p < ALIGNMENT_P).length, networks: a.length }];
      }),
    );
    return { family: c.family, lambda: c.lambda, ...byLabelling } as { family: Family; lambda: number } & Record<
      LabellingName,
      { nmi: number; significant: number; networks: number }
    >;
  });
  if (!rows.some((r) => GRID_LABELLINGS.some((name) => r[name].networks))) return '';
  (json.sernn as Record<string, unknown>).modules = rows;
  const names = GRID_LABELLINGS.map((name) => LABELLING_NAMES[name].replace(/ \(construction\)$/, ''));
  const body = rows
    .map(
      (r) =>
        `<tr><td>${r.family}</td><td>${esc(String(r.lambda))}</td>${GRID_LABELLINGS.map((name) => `<td>${fmt(r[name].nmi)} <small>(${r[name].significant}/${r[name].networks} p&lt;${ALIGNMENT_P})</small></td>`).join('')}</tr>`,
    )
    .join('');
  return [
    `<h3>What the modules follow on the grid</h3><p>The CNM modules of each network against labellings of its 100 units by their place on the 5 × 5 × 4 grid: k-means of the grid coordinates (k = the modules with at least two units), the y coordinate in three equal-count bins (units of one y level split by index where a bin boundary falls inside it), and the index mod 3 as a check that carries no meaning here. NMI as in the paper grid's section, mean over the networks of each cell; in brackets, the networks whose modules follow the labelling at p &lt; ${ALIGNMENT_P} (1,000 shuffles).</p>`,
    `<table><thead><tr><th>family</th><th>λ</th>${names.map((n) => `<th>${esc(n)}</th>`).join('')}</tr></thead><tbody>${body}</tbody></table>`,
  ].join('\n');
}
