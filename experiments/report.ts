/**
 * `report DIR`: a self-contained HTML report of a sweep directory (plus report.json with every
 * number in it). Reads only the sweep's files: sweep.json (optional), each run's final.json, and
 * for the figures one run's W_rec_epochNN.npy and positions_um.npy.
 *
 * Sections: settings and modes; Table 2 (test accuracy — the headline — and the paper's running
 * training accuracy per variant × task, mean and 95% t-CI, diverged runs counted); Table 3 (the
 * same for positive-only runs); network metrics (Q, σ against both nulls, entropy) per variant;
 * significance tests (Kruskal–Wallis per factor, pairwise Mann–Whitney with Holm); figures
 * (learning curves, a W_rec heat map, the neurons in 3D coloured by module); paper vs corrected
 * mode (when both are present).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parseNpy, toFloat64 } from '../connectome/npy.ts';
import { kruskalWallisByFactor, pairwiseMannWhitney, mannWhitneyU } from '../analysis/stats.ts';
import { makeDir, writeFileAtomic } from './files.ts';
import { ALPHA, MIN_SEEDS_FOR_VERDICT, SEEDS_NEEDED_CAP, paperClaims, verdictClass, type ClaimResult } from './claims.ts';
import { sernnSection } from './sernn_report.ts';
import { sernnFamily } from './sernn.ts';
import { epochWeightFiles, toJson, type FinalRecord } from './record.ts';
import { readFinalStrict } from './run.ts';
import { findRunDirs, readManifest, type Manifest } from './sweep.ts';
import { getVariant } from './variants.ts';
import { modeSettings, type Mode } from './protocol.ts';
import { heatmap, lineChart, scatter3d } from './svg.ts';
import { modulesSection } from './modules_report.ts';
import {
  ACCURACY_RANGE,
  accuracyTable,
  cellStats,
  ci,
  fmt,
  fmtCI,
  fmtP,
  groupsOf,
  metricValues,
  metricsTable,
  sortedTasks,
  sortedVariants,
  uniq,
  type Group,
  type RunRow,
} from './tables.ts';
import { esc } from './style.ts';

export interface ReportData {
  dir: string;
  manifest: Manifest | null;
  runs: RunRow[];
}

export function loadSweepDir(dir: string): ReportData {
  if (!existsSync(dir))
    throw new Error(`${dir}: expected a sweep directory (from \`cortical-rnn sweep --out DIR\` or \`train --out DIR\`), got no such directory`);
  const manifest = readManifest(dir);
  const dirs = findRunDirs(dir);
  if (!dirs.length) throw new Error(`${dir}: expected finished runs (runs/**/final.json), found none`);
  const runs = dirs.map((d) => {
    const rec = readFinalStrict(d);
    return {
      dir: d,
      rec,
      mode: rec.spec.mode,
      positive: rec.spec.positive,
      field: rec.spec.field,
      task: rec.spec.task,
      variant: rec.spec.variant,
      seed: rec.spec.seed,
    };
  });
  refuseMixedProtocols(
    dir,
    runs.map((r) => r.rec).filter((r) => r.status === 'ok'),
  );
  return { dir, manifest, runs };
}

/** Flattens a protocol to 'key=value' entries (splits.train, …) for comparing two of them. */
function protocolEntries(p: object, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(p)) {
    if (v && typeof v === 'object') for (const [k2, v2] of protocolEntries(v, `${prefix}${k}.`)) out.set(k2, v2);
    else out.set(`${prefix}${k}`, JSON.stringify(v));
  }
  return out;
}

/**
 * A report averages runs of one protocol only: finished runs trained with other settings
 * (steps, lr, trials) in the same directory are refused, naming each group by how it differs.
 * (Diverged runs enter no mean; they are counted per cell whatever their settings.)
 */
function refuseMixedProtocols(dir: string, recs: FinalRecord[]): void {
  const groups = new Map<string, number>();
  for (const r of recs) groups.set(JSON.stringify(r.protocol), (groups.get(JSON.stringify(r.protocol)) ?? 0) + 1);
  if (groups.size < 2) return;
  const keys = [...groups.keys()];
  const entries = keys.map((k) => protocolEntries(JSON.parse(k) as object));
  const differing = [...new Set(entries.flatMap((e) => [...e.keys()]))].filter((k) => new Set(entries.map((e) => e.get(k))).size > 1);
  const desc = keys.map((k, i) => `${groups.get(k)} runs with ${differing.map((d) => `${d} ${entries[i]!.get(d) ?? 'unset'}`).join(', ')}`);
  throw new Error(
    `${dir}: expected runs of one protocol (a report averages within it), got ${groups.size} protocols: ${desc.join('; ')}; report each group from its own directory`,
  );
}

/**
 * The claims table: one row per claim, one column block per mode (paper and corrected side by
 * side), each with the effect and its bootstrap interval, the one-sided sign-flip p, its Holm
 * adjustment over the mode's claims, the seeds behind it (and the seeds it would need) and the
 * verdict.
 */
function claimsSection(groups: Group[], json: Record<string, unknown>): string {
  const normal = groups.filter((g) => !g.positive);
  if (!normal.length) return '<p class="note">No runs without the positive-only constraint.</p>';
  const asClaimRuns = (g: Group | undefined) => (g ? g.rows.map((r) => ({ variant: r.variant, task: r.task, seed: r.seed, rec: r.rec })) : []);
  const byMode = normal.map((g) => ({
    g,
    claims: paperClaims(asClaimRuns(g), asClaimRuns(groups.find((p) => p.positive && p.field === g.field && p.mode === g.mode))),
  }));
  json.claims = Object.fromEntries(byMode.map(({ g, claims }) => [`${g.field}-${g.mode}`, claims]));
  const ids = uniq(byMode.flatMap((m) => m.claims.map((c) => c.id)));
  const leftOut = (c: ClaimResult) => (c.leftOut.length ? `left out: ${c.leftOut.map((l) => `seed ${l.seed} (${l.why})`).join(', ')}` : '');
  const seedsCell = (c: ClaimResult | undefined) => {
    const needed = c?.seedsNeeded === null || c?.seedsNeeded === undefined ? '' : ` (${c.seedsNeeded} needed)`;
    const note = c?.leftOut.length ? `<br><small>${esc(leftOut(c))}</small>` : '';
    return `<td>${c?.seeds ?? 0}${esc(needed)}${note}</td>`;
  };
  const cell = (c: ClaimResult | undefined) => {
    if (!c || !c.effect) return `<td>—</td><td>—</td><td>—</td>${seedsCell(c)}<td>no pairs</td>`;
    const e = c.effect;
    const interval = Number.isFinite(e.lo) ? `[${fmt(e.lo)}, ${fmt(e.hi)}]` : '(one seed: no interval)';
    const verdict = `<td class="verdict ${verdictClass(c.verdict)}">${esc(c.verdict)}</td>`;
    return `<td>${fmt(e.estimate)} ${interval}</td><td>${fmtP(c.pOneSided ?? NaN)}</td><td>${fmtP(c.pHolm ?? NaN)}</td>${seedsCell(c)}${verdict}`;
  };
  const head = byMode.map(({ g }) => `<th colspan="5">${esc(g.field)}, ${esc(g.mode)} mode</th>`).join('');
  const sub = byMode.map(() => '<th>effect [95% CI]</th><th>one-sided p</th><th>Holm p</th><th>seeds (needed)</th><th>verdict</th>').join('');
  const rows = ids.map((id) => {
    const first = byMode.flatMap((m) => m.claims).find((c) => c.id === id)!;
    return `<tr><td>${esc(first.claim)}<br><small>${esc(first.contrast)}</small></td>${byMode.map((m) => cell(m.claims.find((c) => c.id === id))).join('')}</tr>`;
  });
  return [
    `<p>Each claim is a planned contrast between variants that differ in the factor it is about, paired by task and seed. The effect is the mean paired difference (accuracy or metric units) with a cluster-bootstrap 95% interval over seeds. The claims are directional and fixed in advance, so the test is one-sided: the exact sign-flip test over the k per-seed mean differences (effect minus the claim's threshold, signed so that the claim's side is positive), p = the share of the 2<sup>k</sup> sign patterns whose mean is at least the observed one. A claim <em>holds</em> only when p &lt; ${ALPHA} <em>and</em> the interval lies on its side; with the interval on its side but p ≥ ${ALPHA} it is <em>consistent, not decided</em>. Mirrored, the test in the other direction below ${ALPHA} with the interval on the other side means it <em>does not hold</em>, and the interval alone there <em>against, not decided</em>; anything else is <em>undecided</em>, as is every claim backed by fewer than ${MIN_SEEDS_FOR_VERDICT} seeds. The least one-sided p with k seeds is 2<sup>−k</sup>, so 5 seeds is the minimum to decide either way (1/32); 3 seeds all on one side give only 1/8. The Holm p adjusts the one-sided p over each mode's family (every claim of that mode with a p). <em>Needed</em> is the smallest number of seeds n ≥ 5 at which a one-sided one-sample t-test with the observed mean and standard deviation of the per-seed differences (t = mean / (sd / √n)) would pass Holm's threshold for the claim's rank r among the m claims of its mode, ${ALPHA} / (m − r + 1), and 2<sup>−n</sup> is below that threshold too: a projection that assumes further seeds look like these, blank when the effect is zero or on the wrong side or one seed backs the claim, and &gt;${SEEDS_NEEDED_CAP} past ${SEEDS_NEEDED_CAP}. A seed backs a claim only when it has every run the contrast pairs, on every task the claim covers: a half-finished seed, or one with a diverged run in the contrast, is left out of it, and the row names it. Rows marked <em>Control (ours)</em> are not claims of the paper: they pair W*D*C with our extra controls (same distance and regulariser, another initialisation) where those were run.</p>`,
    `<table><thead><tr><th rowspan="2">claim</th>${head}</tr><tr>${sub}</tr></thead><tbody>${rows.join('')}</tbody></table>`,
  ].join('\n');
}

// ---------------------------------------------------------------- sections

interface Section {
  id: string;
  title: string;
  html: string;
}

const FACTORS: Array<{ key: string; label: string; of: (r: RunRow) => string }> = [
  { key: 'variant', label: 'variant', of: (r) => r.variant },
  { key: 'init', label: 'initialisation', of: (r) => safeVariant(r.variant)?.init ?? '?' },
  { key: 'geometry', label: 'geometry', of: (r) => safeVariant(r.variant)?.geometry ?? '?' },
  { key: 'regularizer', label: 'regulariser', of: (r) => safeVariant(r.variant)?.regularizer ?? '?' },
];

function safeVariant(name: string) {
  try {
    return getVariant(name);
  } catch {
    return null;
  }
}

const TEST_VALUES: Array<{ key: string; label: string; of: (r: RunRow) => number | null }> = [
  { key: 'test', label: 'test accuracy', of: (r) => r.rec.accuracy?.test ?? null },
  { key: 'Q_cnm', label: 'Q (CNM)', of: (r) => num(r.rec.metrics?.Q_cnm) },
  { key: 'sigma_paper', label: 'σ (paper null)', of: (r) => num(r.rec.metrics?.sigma_paper) },
  { key: 'entropy_kde_bits', label: 'entropy (KDE)', of: (r) => num(r.rec.metrics?.entropy_kde_bits) },
];
function num(x: unknown): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

function significance(g: Group, id: string, json: Record<string, unknown>): string {
  const ok = g.rows.filter((r) => r.rec.status === 'ok');
  const out: string[] = [];
  const kwJson: unknown[] = [];
  const kwRows: string[] = [];
  for (const val of TEST_VALUES) {
    for (const fac of FACTORS) {
      const rows = ok.map((r) => ({ task: r.task, [fac.key]: fac.of(r), value: val.of(r) })).filter((x) => x.value !== null) as Array<
        Record<string, string | number>
      >;
      for (const t of kruskalWallisByFactor(rows, fac.key, 'value', ['task'])) {
        kwJson.push({ value: val.key, factor: fac.key, ...t });
        kwRows.push(
          `<tr><td>${esc(val.label)}</td><td>${esc(fac.label)}</td><td>${esc(String(t.fixed.task))}</td><td>${t.levels.length}</td><td>${fmt(t.H, 2)}</td><td>${t.df}</td><td>${fmtP(t.p)}</td></tr>`,
        );
      }
    }
  }
  out.push(`<h4>Kruskal–Wallis per factor (within each task)</h4>`);
  out.push(
    kwRows.length
      ? `<table id="${id}-kruskal" class="stats"><thead><tr><th>value</th><th>factor</th><th>task</th><th>levels</th><th>H</th><th>df</th><th>p</th></tr></thead><tbody>${kwRows.join('')}</tbody></table>`
      : `<p id="${id}-kruskal" class="note">Not enough groups for a Kruskal–Wallis test.</p>`,
  );
  const mwJson: unknown[] = [];
  const mwRows: string[] = [];
  for (const val of TEST_VALUES.slice(0, 2)) {
    for (const t of sortedTasks(ok)) {
      const groups: Record<string, number[]> = {};
      for (const v of sortedVariants(ok)) {
        const xs = ok
          .filter((r) => r.task === t && r.variant === v)
          .map(val.of)
          .filter((x): x is number => x !== null);
        if (xs.length) groups[v] = xs;
      }
      if (Object.keys(groups).length < 2) continue;
      for (const p of pairwiseMannWhitney(groups)) {
        mwJson.push({ value: val.key, task: t, ...p });
        const sig = p.pHolm < 0.05 ? ' class="sig"' : '';
        mwRows.push(
          `<tr${sig}><td>${esc(val.label)}</td><td>${esc(t)}</td><td>${esc(p.a)}</td><td>${esc(p.b)}</td><td>${fmt(p.U1, 1)}</td><td>${fmtP(p.p)}</td><td>${fmtP(p.pHolm)}</td><td>${p.method}</td></tr>`,
        );
      }
    }
  }
  out.push(`<h4>Pairwise Mann–Whitney U between variants (two-sided, Holm-adjusted within each task and value)</h4>`);
  out.push(
    mwRows.length
      ? `<table id="${id}-mannwhitney" class="stats"><thead><tr><th>value</th><th>task</th><th>A</th><th>B</th><th>U₁</th><th>p</th><th>p (Holm)</th><th>method</th></tr></thead><tbody>${mwRows.join('')}</tbody></table>`
      : `<p id="${id}-mannwhitney" class="note">Not enough groups for pairwise tests.</p>`,
  );
  json[id] = { kruskal: kwJson, mannWhitney: mwJson };
  return out.join('\n');
}

function learningCurves(g: Group): string[] {
  const svgs: string[] = [];
  for (const t of sortedTasks(g.rows)) {
    const series: Array<{ name: string; x: number[]; y: number[]; dashed?: boolean; colour?: string }> = [];
    sortedVariants(g.rows).forEach((v, i) => {
      const rows = g.rows.filter((r) => r.task === t && r.variant === v && r.rec.history.length);
      if (!rows.length) return;
      const E = Math.max(...rows.map((r) => r.rec.history.length));
      const mean = (get: (h: FinalRecord['history'][number]) => number | undefined) =>
        Array.from({ length: E }, (_, e) => {
          const xs = rows
            .map((r) => r.rec.history[e])
            .filter(Boolean)
            .map((h) => get(h!))
            .filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
          return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
        });
      const x = Array.from({ length: E }, (_, e) => e + 1);
      const c = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac', '#1f77b4', '#2ca02c', '#d62728'][
        i % 13
      ]!;
      series.push({ name: `${v} (validation)`, x, y: mean((h) => h.evalAccuracy), colour: c });
      series.push({ name: `${v} (train, noisy)`, x, y: mean((h) => h.trainAccuracy), dashed: true, colour: c });
    });
    if (!series.length) continue;
    svgs.push(
      lineChart({
        title: `Learning curves — ${t} (${g.field}, ${g.mode}${g.positive ? ', positive-only' : ''}), mean over seeds`,
        xLabel: 'epoch',
        yLabel: 'accuracy',
        series,
        yMin: 0,
        yMax: 1,
        width: 640,
        height: 340,
      }),
    );
  }
  return svgs;
}

const weightFiles = (dir: string) => epochWeightFiles(readdirSync(dir));

/**
 * The heat map and the 3D scatter of one representative run: W*D*C of the lowest seed whose
 * weights are in the directory (a results folder may keep weights for some runs only), else
 * another run with weights. A weight file that cannot be read leaves the figures out and says
 * why (`missing`); it never stops the report.
 */
function networkFigures(g: Group): { svgs: string[]; run: string | null; missing?: string } {
  const ok = g.rows.filter((r) => r.rec.status === 'ok' && r.rec.metrics && weightFiles(r.dir).length).sort((a, b) => a.seed - b.seed);
  const pick = ok.find((r) => r.variant === 'W*D*C') ?? ok[0];
  if (!pick) return { svgs: [], run: null, missing: 'no finished run of this group has its W_rec weights (W_rec_epochNN.npy) in the directory' };
  try {
    return drawNetwork(pick);
  } catch (e) {
    return { svgs: [], run: relative('.', pick.dir), missing: (e as Error).message };
  }
}

function drawNetwork(pick: RunRow): { svgs: string[]; run: string } {
  const files = weightFiles(pick.dir);
  const last = files[files.length - 1]!;
  const w = parseNpy(new Uint8Array(readFileSync(join(pick.dir, last))), join(pick.dir, last));
  const n = pick.rec.n;
  if (w.shape.length !== 2 || w.shape[0] !== n || w.shape[1] !== n)
    throw new Error(`${join(pick.dir, last)}: shape: expected (${n}, ${n}), got (${w.shape.join(', ')})`);
  const W = toFloat64(w);
  const comm = pick.rec.metrics!.communities;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => comm[a]! - comm[b]! || a - b);
  const label = `${pick.variant}, ${pick.task}, seed ${pick.seed}`;
  const svgs = [
    heatmap({ title: `Trained W_rec (${label}, ${last.replace('.npy', '')}), units sorted by CNM module`, W, n, order, groups: order.map((i) => comm[i]!) }),
  ];
  const posFile = join(pick.dir, 'positions_um.npy');
  if (existsSync(posFile)) {
    const pos = toFloat64(parseNpy(new Uint8Array(readFileSync(posFile)), posFile));
    if (pos.length !== n * 3) throw new Error(`${posFile}: expected ${n}×3 positions, got ${pos.length} values`);
    svgs.push(
      scatter3d({
        title: `Neurons of field ${pick.field} (µm), coloured by module of the trained W_rec (${label})`,
        positions: pos,
        groups: comm,
        axisLabels: ['x µm', 'depth (y) µm', 'z µm'],
      }),
    );
  }
  return { svgs, run: relative('.', pick.dir) };
}

function modeComparison(runs: RunRow[], json: Record<string, unknown>): string | null {
  const keys = uniq(runs.map((r) => `${r.field}|${r.positive}`));
  const parts: string[] = [];
  const data: unknown[] = [];
  for (const k of keys) {
    const rows = runs.filter((r) => `${r.field}|${r.positive}` === k);
    if (!rows.some((r) => r.mode === 'paper') || !rows.some((r) => r.mode === 'corrected')) continue;
    const [field, pos] = k.split('|');
    const body: string[] = [];
    for (const t of sortedTasks(rows)) {
      for (const v of sortedVariants(rows)) {
        const a = rows.filter((r) => r.task === t && r.variant === v && r.mode === 'paper');
        const b = rows.filter((r) => r.task === t && r.variant === v && r.mode === 'corrected');
        if (!a.length || !b.length) continue;
        const ca = cellStats(a),
          cb = cellStats(b);
        const xa = a.filter((r) => r.rec.status === 'ok').map((r) => r.rec.accuracy!.test);
        const xb = b.filter((r) => r.rec.status === 'ok').map((r) => r.rec.accuracy!.test);
        const qa = ci(metricValues(a, 'Q_cnm')),
          qb = ci(metricValues(b, 'Q_cnm'));
        const p = xa.length && xb.length ? mannWhitneyU(xa, xb).p : NaN;
        const d = ca.test && cb.test ? cb.test.mean - ca.test.mean : NaN;
        data.push({ field, positive: pos === 'true', task: t, variant: v, paper: ca, corrected: cb, deltaTest: d, p, Q: { paper: qa, corrected: qb } });
        body.push(
          `<tr><td>${esc(t)}</td><th scope="row">${esc(v)}</th><td>${fmtCI(ca.test, 3, ACCURACY_RANGE)}${ca.diverged ? ` <span class="div">(${ca.diverged} div.)</span>` : ''}</td><td>${fmtCI(cb.test, 3, ACCURACY_RANGE)}${cb.diverged ? ` <span class="div">(${cb.diverged} div.)</span>` : ''}</td><td>${fmt(d)}</td><td>${fmtP(p)}</td><td>${fmtCI(qa, 3, [-0.5, 1])}</td><td>${fmtCI(qb, 3, [-0.5, 1])}</td></tr>`,
        );
      }
    }
    if (!body.length) continue;
    parts.push(`<h3>Field ${esc(field!)}${pos === 'true' ? ', positive-only' : ''}</h3>`);
    parts.push(
      `<table id="mode-comparison-${esc(field!)}${pos === 'true' ? '-positive' : ''}" class="modes"><thead><tr><th>task</th><th>variant</th><th>test acc (paper mode)</th><th>test acc (corrected)</th><th>Δ (corrected − paper)</th><th>Mann–Whitney p</th><th>Q (paper mode)</th><th>Q (corrected)</th></tr></thead><tbody>${body.join('')}</tbody></table>`,
    );
  }
  if (!parts.length) return null;
  json['modeComparison'] = data;
  const p = modeSettings('paper'),
    c = modeSettings('corrected');
  return `<p>${esc(p.summary)}.</p><p>${esc(c.summary)}.</p>` + parts.join('\n');
}

// ---------------------------------------------------------------- assembly

const CSS = `body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:0.6em 0 1.4em;font-size:13px}th,td{border:1px solid #ccc;padding:3px 7px;text-align:right}
th[scope=row]{text-align:left}thead th{background:#f2f2f2}.div{color:#b00}.sig td{background:#fff4d6}.note{color:#666}
figure{margin:1em 0}h2{border-bottom:2px solid #ddd;padding-bottom:3px;margin-top:2em}code{background:#f4f4f4;padding:0 3px}.verdict.holds{color:#1a7f37;font-weight:600}.verdict.does-not-hold{color:#b3261e;font-weight:600}.verdict.consistent-not-decided{color:#1a7f37}.verdict.against-not-decided{color:#b3261e}.verdict.undecided{color:#666}p.missing{color:#b3261e}.pair{display:flex;flex-wrap:wrap;gap:1em}`;

export interface BuiltReport {
  html: string;
  json: Record<string, unknown>;
  sections: Section[];
}

/** The report's first section: modes, fields, runs, backends and protocols. */
function settingsSection(data: ReportData, modes: Mode[], fields: string[], ok: number): Section {
  const runs = data.runs;
  const div = runs.length - ok;
  const protos = uniq(runs.map((r) => JSON.stringify(r.rec.protocol)));
  const backends = uniq(runs.map((r) => r.rec.backend));
  const inv = data.manifest?.invocations ?? [];
  // Runs trained in one batch share their training time: count it once per batch.
  const totalTrain = runs.reduce((a, r) => a + r.rec.timings.total_s / (r.rec.timings.networks_per_batch ?? 1), 0);
  return {
    id: 'settings',
    title: 'Settings',
    html: [
      `<p><strong>Mode${modes.length > 1 ? 's' : ''}: ${modes.map(esc).join(' and ')}.</strong> ${modes.map((m) => esc(modeSettings(m).summary)).join('; ')}.</p>`,
      `<p>Field${fields.length > 1 ? 's' : ''} ${fields.map(esc).join(', ')}; ${runs.length} runs (${ok} ok, <span class="div">${div} diverged</span>); ${esc(String(Math.round(totalTrain)))} s of run time in all. Presets: ${esc(uniq(inv.map((i) => i.preset ?? 'none')).join(', ') || 'unknown')}.</p>`,
      `<p>Backend${backends.length > 1 ? 's' : ''}: ${backends.map(esc).join('; ')}.</p>`,
      `<p>Protocol${protos.length > 1 ? 's' : ''}: ${protos.map((p) => `<code>${esc(p)}</code>`).join('<br>')}</p>`,
      `<p>Headline accuracy: held-out <em>test</em> accuracy at the last step. "Paper accuracy": the running training accuracy of the last epoch with input noise on (the number the paper reports). Means with 95% t-intervals over seeds; diverged runs are counted and excluded from the means.</p>`,
    ].join('\n'),
  };
}

/** The sections of the paper's runs: Tables 2 and 3, metrics, tests, figures, modules, claims, modes. */
function paperSections(paperRuns: RunRow[], json: Record<string, unknown>): Section[] {
  const sections: Section[] = [];
  const groups = groupsOf(paperRuns);
  const tag = (g: Group) => `${g.field}-${g.mode}${g.positive ? '-positive' : ''}`;
  const normal = groups.filter((g) => !g.positive);
  const positive = groups.filter((g) => g.positive);
  sections.push({
    id: 'table2',
    title: 'Table 2 — accuracy per variant and task',
    html: normal.length
      ? normal.map((g) => `<h3>Field ${esc(g.field)}, ${esc(g.mode)} mode</h3>${accuracyTable(g, `table2-${tag(g)}`, json)}`).join('\n')
      : '<p class="note">No runs without the positive-only constraint.</p>',
  });
  sections.push({
    id: 'table3',
    title: 'Table 3 — positive-only recurrence',
    html: positive.length
      ? positive.map((g) => `<h3>Field ${esc(g.field)}, ${esc(g.mode)} mode, positive-only</h3>${accuracyTable(g, `table3-${tag(g)}`, json)}`).join('\n')
      : '<p class="note">No positive-only runs in this directory (run the sweep with <code>--positive</code>).</p>',
  });
  sections.push({
    id: 'metrics',
    title: 'Network metrics — modularity Q, small-worldness σ (both nulls), entropy',
    html: groups
      .map((g) => `<h3>Field ${esc(g.field)}, ${esc(g.mode)} mode${g.positive ? ', positive-only' : ''}</h3>${metricsTable(g, `metrics-${tag(g)}`, json)}`)
      .join('\n'),
  });
  sections.push({
    id: 'significance',
    title: 'Significance tests',
    html: groups
      .map((g) => `<h3>Field ${esc(g.field)}, ${esc(g.mode)} mode${g.positive ? ', positive-only' : ''}</h3>${significance(g, `significance-${tag(g)}`, json)}`)
      .join('\n'),
  });
  const figs: string[] = [];
  const figJson: unknown[] = [];
  for (const g of groups) {
    const curves = learningCurves(g);
    const net = networkFigures(g);
    figJson.push({ group: tag(g), learningCurves: curves.length, networkRun: net.run, ...(net.missing ? { missing: net.missing } : {}) });
    figs.push(`<h3>Field ${esc(g.field)}, ${esc(g.mode)} mode${g.positive ? ', positive-only' : ''}</h3>`);
    for (const s of curves) figs.push(`<figure class="curve">${s}</figure>`);
    for (const s of net.svgs) figs.push(`<figure class="network">${s}</figure>`);
    if (net.missing) figs.push(`<p class="missing">W_rec figures not drawn: ${esc(net.missing)}</p>`);
  }
  json.figures = figJson;
  sections.push({ id: 'figures', title: 'Figures — learning curves, W_rec, neurons by module', html: figs.join('\n') });
  sections.push({ id: 'modules', title: 'What the modules follow — anatomy, function or the index construction', html: modulesSection(groups, json) });
  sections.push({ id: 'claims', title: "The paper's claims — planned contrasts over seeds", html: claimsSection(groups, json) });
  const cmp = modeComparison(paperRuns, json);
  sections.push({
    id: 'mode-comparison',
    title: 'Paper mode vs corrected mode',
    html:
      cmp ??
      '<p class="note">This directory has runs of one mode only; run the sweep again with the other <code>--mode</code> (same <code>--out</code>) to compare.</p>',
  });
  return sections;
}

export function buildReport(data: ReportData): BuiltReport {
  const json: Record<string, unknown> = { schema: 'cortical-rnn/report/1', dir: data.dir, generatedAt: new Date().toISOString() };
  const runs = data.runs;
  const modes = uniq(runs.map((r) => r.mode)).sort();
  const fields = uniq(runs.map((r) => r.field)).sort();
  const ok = runs.filter((r) => r.rec.status === 'ok').length;
  json.summary = { runs: runs.length, ok, diverged: runs.length - ok, modes, fields };
  const sections: Section[] = [settingsSection(data, modes, fields, ok)];
  // A seRNN sweep (runs with their own λ, L1 and WDC) gets its own section; the paper's sections
  // cover the other runs.
  const sernnRuns = runs.filter((r) => r.rec.spec.lambda !== undefined && sernnFamily(r.variant));
  const paperRuns = runs.filter((r) => !sernnRuns.includes(r));
  if (sernnRuns.length) {
    sections.push({
      id: 'sernn',
      title: 'The seRNN experiment — L1 vs spatially embedded RNNs across λ',
      html: sernnSection(
        sernnRuns.map((r) => ({ variant: r.variant, lambda: r.rec.spec.lambda!, seed: r.seed, rec: r.rec })),
        json,
      ),
    });
  }
  if (paperRuns.length) sections.push(...paperSections(paperRuns, json));
  const nav = sections.map((s) => `<li><a href="#${s.id}">${esc(s.title)}</a></li>`).join('');
  const html = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>cortical-rnn report — ${esc(fields.join(', '))} (${esc(modes.join(', '))})</title><style>${CSS}</style></head>
<body><h1>cortical-rnn report</h1><p>Reproducing arXiv 2606.14975 ("Harnessing cortical geometry, wiring, and function as inductive biases for RNNs"). Sweep directory <code>${esc(data.dir)}</code>; generated ${esc(String(json.generatedAt))}.</p>
<nav><ol>${nav}</ol></nav>
${sections.map((s) => `<section id="${s.id}"><h2>${esc(s.title)}</h2>\n${s.html}\n</section>`).join('\n')}
</body></html>
`;
  return { html, json, sections };
}

/** Builds the report of DIR and writes it (atomically) to `out` (default DIR/report.html) and report.json beside it. */
export async function writeReport(dir: string, out?: string): Promise<{ html: string; json: string; report: BuiltReport }> {
  const data = loadSweepDir(dir);
  const report = buildReport(data);
  const htmlPath = out ?? join(dir, 'report.html');
  const jsonPath = htmlPath.replace(/\.html?$/, '') + '.json';
  await makeDir(dirname(htmlPath));
  await writeFileAtomic(htmlPath, report.html);
  await writeFileAtomic(jsonPath, toJson(report.json));
  return { html: htmlPath, json: jsonPath, report };
}
