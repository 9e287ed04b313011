/**
 * The report's tables without a file system: runs grouped by (field, mode, positive), Table 2
 * and 3 (accuracy per variant × task, mean and 95% t-CI, diverged runs counted) and the network
 * metrics per variant, and what the modules follow. report.ts puts them in the HTML report; the browser workbench shows the
 * same tables from the same code, so both show the same numbers.
 */
import { meanCI, type MeanCI } from '../analysis/stats.ts';
import { LABELLINGS, type LabellingName } from '../analysis/module_alignment.ts';
import type { FinalRecord } from './record.ts';
import type { Mode } from './protocol.ts';
import { ALL_VARIANTS } from './variants.ts';
import { esc } from './style.ts';

export interface RunRow {
  dir: string;
  rec: FinalRecord;
  mode: Mode;
  positive: boolean;
  field: string;
  task: string;
  variant: string;
  seed: number;
}

// ---------------------------------------------------------------- aggregation helpers

const variantOrder = (name: string) => {
  const i = ALL_VARIANTS.findIndex((v) => v.name === name);
  return i < 0 ? 999 : i;
};
const TASK_ORDER = ['inference', 'gonogo', 'pdm'];
const taskOrder = (t: string) => (TASK_ORDER.includes(t) ? TASK_ORDER.indexOf(t) : 99);
export const uniq = <T>(xs: T[]) => [...new Set(xs)];

export function sortedVariants(rows: RunRow[]): string[] {
  return uniq(rows.map((r) => r.variant)).sort((a, b) => variantOrder(a) - variantOrder(b) || a.localeCompare(b));
}
export function sortedTasks(rows: RunRow[]): string[] {
  return uniq(rows.map((r) => r.task)).sort((a, b) => taskOrder(a) - taskOrder(b) || a.localeCompare(b));
}

export interface CellStats {
  n: number;
  diverged: number;
  divergedSteps: number[];
  test: MeanCI | null;
  paper: MeanCI | null;
}

export function ci(values: number[]): MeanCI | null {
  return values.length ? meanCI(values) : null;
}

export function cellStats(rows: RunRow[]): CellStats {
  const ok = rows.filter((r) => r.rec.status === 'ok');
  const div = rows.filter((r) => r.rec.status === 'diverged');
  return {
    n: rows.length,
    diverged: div.length,
    divergedSteps: div.map((r) => r.rec.divergence!.step),
    test: ci(ok.map((r) => r.rec.accuracy!.test)),
    paper: ci(ok.map((r) => r.rec.accuracy!.paper)),
  };
}

export const fmt = (x: number | null | undefined, d = 3) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d));
/** The fewest values whose t-interval is shown: two values bound nothing (their interval is their range times 12.7). */
const MIN_FOR_INTERVAL = 3;

/**
 * A mean with its 95% interval, clipped to the value's range when one is given; below
 * MIN_FOR_INTERVAL values the interval is left out and the count shown instead.
 */
export function fmtCI(c: MeanCI | null, d = 3, range: readonly [number, number] = [-Infinity, Infinity]): string {
  if (!c) return '—';
  if (c.n < MIN_FOR_INTERVAL || !Number.isFinite(c.lo)) return `${fmt(c.mean, d)} (n=${c.n})`;
  return `${fmt(c.mean, d)} [${fmt(Math.max(range[0], c.lo), d)}, ${fmt(Math.min(range[1], c.hi), d)}]`;
}
/** Accuracies lie in [0, 1]. */
export const ACCURACY_RANGE = [0, 1] as const;
export const fmtP = (p: number) => (!Number.isFinite(p) ? '—' : p < 1e-4 ? p.toExponential(1) : p.toFixed(4));

/** The groups of a report: one per (field, mode, positive). */
export interface Group {
  key: string;
  field: string;
  mode: Mode;
  positive: boolean;
  rows: RunRow[];
}

export function groupsOf(runs: RunRow[]): Group[] {
  const m = new Map<string, Group>();
  for (const r of runs) {
    const key = `${r.field}|${r.mode}|${r.positive}`;
    let g = m.get(key);
    if (!g) m.set(key, (g = { key, field: r.field, mode: r.mode, positive: r.positive, rows: [] }));
    g.rows.push(r);
  }
  // paper mode before corrected mode: the claims are the paper's, corrected mode checks them
  const modeRank = (g: Group) => (g.mode === 'paper' ? 0 : 1);
  return [...m.values()].sort((a, b) => a.field.localeCompare(b.field) || Number(a.positive) - Number(b.positive) || modeRank(a) - modeRank(b));
}

/** Each metric with the range its values can take (Newman's Q lies in [−1/2, 1]). */
const NETWORK_METRICS: Array<{ key: string; label: string; range: readonly [number, number] }> = [
  { key: 'Q_cnm', label: 'Q (CNM)', range: [-0.5, 1] },
  { key: 'Q_louvain', label: 'Q (Louvain)', range: [-0.5, 1] },
  { key: 'sigma_paper', label: 'σ (paper null)', range: [0, Infinity] },
  { key: 'sigma_matched', label: 'σ (degree-matched null)', range: [0, Infinity] },
  { key: 'swp', label: 'SWP φ', range: [0, 1] },
  { key: 'entropy_kde_bits', label: 'entropy (KDE, bits)', range: [-Infinity, Infinity] },
  { key: 'entropy_rowwise_bits', label: 'entropy (row-wise, bits)', range: [0, Infinity] },
  { key: 'clustering', label: 'clustering', range: [0, 1] },
  { key: 'efficiency', label: 'efficiency', range: [0, 1] },
];

export function metricValues(rows: RunRow[], key: string): number[] {
  const out: number[] = [];
  for (const r of rows) {
    if (r.rec.status !== 'ok') continue;
    const v = (r.rec.metrics as unknown as Record<string, unknown>)[key];
    if (typeof v === 'number' && Number.isFinite(v)) out.push(v);
  }
  return out;
}

export function accuracyTable(g: Group, id: string, json: Record<string, unknown>): string {
  const tasks = sortedTasks(g.rows);
  const variants = sortedVariants(g.rows);
  const head1 = tasks.map((t) => `<th colspan="3">${esc(t)}</th>`).join('');
  const head2 = tasks.map(() => '<th>test accuracy</th><th>paper accuracy</th><th>runs (diverged)</th>').join('');
  const body: string[] = [];
  const cells: Record<string, Record<string, CellStats>> = {};
  for (const v of variants) {
    cells[v] = {};
    const tds = tasks.map((t) => {
      const c = cellStats(g.rows.filter((r) => r.variant === v && r.task === t));
      cells[v]![t] = c;
      if (!c.n) return '<td>—</td><td>—</td><td>0</td>';
      const div = c.diverged
        ? ` <span class="div">(${c.diverged} diverged${c.divergedSteps.length ? `, steps ${c.divergedSteps.join(', ')}` : ''})</span>`
        : '';
      return `<td>${fmtCI(c.test, 3, ACCURACY_RANGE)}</td><td>${fmtCI(c.paper, 3, ACCURACY_RANGE)}</td><td>${c.n}${div}</td>`;
    });
    body.push(`<tr><th scope="row">${esc(v)}</th>${tds.join('')}</tr>`);
  }
  json[id] = cells;
  return `<table id="${id}" class="acc"><thead><tr><th rowspan="2">variant</th>${head1}</tr><tr>${head2}</tr></thead><tbody>${body.join('')}</tbody></table>`;
}

export function metricsTable(g: Group, id: string, json: Record<string, unknown>): string {
  const tasks = sortedTasks(g.rows);
  const variants = sortedVariants(g.rows);
  const out: string[] = [];
  const data: Record<string, Record<string, Record<string, MeanCI | null>>> = {};
  for (const t of tasks) {
    data[t] = {};
    const body = variants.map((v) => {
      const rows = g.rows.filter((r) => r.variant === v && r.task === t);
      data[t]![v] = {};
      const tds = NETWORK_METRICS.map((m) => {
        const c = ci(metricValues(rows, m.key));
        data[t]![v]![m.key] = c;
        return `<td>${fmtCI(c, 3, m.range)}</td>`;
      });
      return `<tr><th scope="row">${esc(v)}</th>${tds.join('')}</tr>`;
    });
    out.push(
      `<h4>${esc(t)}</h4><table id="${id}-${esc(t)}" class="metrics"><thead><tr><th>variant</th>${NETWORK_METRICS.map((m) => `<th>${esc(m.label)}</th>`).join('')}</tr></thead><tbody>${body.join('')}</tbody></table>`,
    );
  }
  json[id] = data;
  return out.join('\n');
}

/** How the report names each labelling of `module_alignment`, in the order (a)–(e). */
export const LABELLING_NAMES: Record<LabellingName, string> = {
  index_mod3: '(a) index mod 3 (construction)',
  depth: '(b) depth, 3 bins',
  spatial: '(c) spatial k-means',
  functional: '(d) functional clusters',
  connectome: '(e) connectome modules',
};

/** The columns of the V1 population's neuron classes, after (a)–(e). */
const CLASS_NAMES: Record<string, string> = { layer: '(f) layer', cell_type: '(g) cell type', orientation: '(h) preferred orientation' };

/** (a)–(e), then any class labelling the runs recorded (the V1 population's layer, cell type, orientation). */
function labellingColumns(rows: RunRow[]): string[] {
  const extra = new Set<string>();
  for (const r of rows)
    for (const k of Object.keys(r.rec.metrics?.module_alignment?.cnm.labellings ?? {})) if (!(LABELLINGS as readonly string[]).includes(k)) extra.add(k);
  return [...LABELLINGS, ...[...extra].sort((a, b) => Object.keys(CLASS_NAMES).indexOf(a) - Object.keys(CLASS_NAMES).indexOf(b))];
}

/** Runs with p below this count as following a labelling. */
export const ALIGNMENT_P = 0.01;

/** One variant × labelling cell: the mean NMI over seeds, its interval, and the runs with p < ALIGNMENT_P. */
interface AlignmentCell {
  /** Per seed, the mean NMI over the seed's tasks. */
  seedValues: number[];
  nmi: MeanCI | null;
  significant: number;
  runs: number;
}

/** The CNM modules' NMI with a labelling of one finished run, with its permutation p; null where absent. */
export function alignmentOf(rec: FinalRecord, name: string): { nmi: number; p: number } | null {
  const a = rec.status === 'ok' ? rec.metrics?.module_alignment?.cnm.labellings[name] : null;
  return a ? { nmi: a.nmi, p: a.p_nmi } : null;
}

/** The cell of `rows` (one variant) for one labelling; seeds average their tasks first, so a seed counts once. */
function alignmentCell(rows: RunRow[], name: string): AlignmentCell {
  const bySeed = new Map<number, number[]>();
  let significant = 0;
  let runs = 0;
  for (const r of rows) {
    const a = alignmentOf(r.rec, name);
    if (!a) continue;
    runs++;
    if (a.p < ALIGNMENT_P) significant++;
    bySeed.set(r.seed, [...(bySeed.get(r.seed) ?? []), a.nmi]);
  }
  const seedValues = [...bySeed.keys()].sort((x, y) => x - y).map((s) => bySeed.get(s)!.reduce((p, q) => p + q, 0) / bySeed.get(s)!.length);
  return { seedValues, nmi: boundedCI(seedValues, 0, 1), significant, runs };
}

/**
 * A mean with its 95% t-interval over seeds, clipped to the metric's range [lo, hi]; below three
 * seeds the interval is left out (NaN), since two values bound nothing.
 */
function boundedCI(values: number[], lo: number, hi: number): MeanCI | null {
  if (!values.length) return null;
  const c = meanCI(values);
  if (values.length < 3) return { ...c, lo: NaN, hi: NaN };
  return { ...c, lo: Math.max(lo, c.lo), hi: Math.min(hi, c.hi) };
}

/**
 * What the modules follow: one row per variant, one column per labelling (a)–(e), each cell the
 * mean NMI of the CNM modules with the labelling over seeds [95% interval], and how many runs
 * follow it at p < ALIGNMENT_P.
 */
export function modulesTable(g: Group, id: string, json: Record<string, unknown>): string {
  const data: Record<string, Record<string, AlignmentCell>> = {};
  const names = labellingColumns(g.rows);
  const body = sortedVariants(g.rows).map((v) => {
    const rows = g.rows.filter((r) => r.variant === v);
    data[v] = {};
    const tds = names.map((name) => {
      const c = alignmentCell(rows, name);
      data[v]![name] = c;
      if (!c.nmi) return '<td>—</td>';
      const seeds = `${c.seedValues.length} seed${c.seedValues.length === 1 ? '' : 's'}`;
      return `<td>${fmtCI(c.nmi)} <small>(${seeds}; ${c.significant}/${c.runs} p&lt;${ALIGNMENT_P})</small></td>`;
    });
    return `<tr><th scope="row">${esc(v)}</th>${tds.join('')}</tr>`;
  });
  json[id] = data;
  const head = names.map((name) => `<th>${esc(LABELLING_NAMES[name as LabellingName] ?? CLASS_NAMES[name] ?? name)}</th>`).join('');
  return `<table id="${id}" class="modules"><thead><tr><th>variant</th>${head}</tr></thead><tbody>${body.join('')}</tbody></table>`;
}
