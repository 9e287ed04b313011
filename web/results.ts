/**
 * The results browser: a served results directory's sweeps (folders holding runs/…/final.json),
 * each with Table 2 (3) and the network metrics built by the report's own code
 * (experiments/tables.ts), so the numbers are the HTML report's, each table downloadable as CSV,
 * with a link to the folder's report.html; each run's facts, curves (metrics.csv) and weights
 * (W_rec_epochNN.npy, on one colour scale per run), which can be shown in 3D; and the learning
 * curves of any ticked runs overlaid on one chart.
 */
import { parseCsv, numberColumn } from '../connectome/csv.ts';
import { parseNpy, toFloat64 } from '../connectome/npy.ts';
import { checkFinalRecord, type FinalRecord } from '../experiments/record.ts';
import { accuracyTable, groupsOf, metricsTable, modulesTable, type RunRow } from '../experiments/tables.ts';
import type { Manifest } from '../experiments/sweep.ts';
import { esc, PALETTE } from '../experiments/style.ts';
import { colourBar, heatmap, heatScale, lineChart } from './plots.ts';
import { chanceLevel, showNetwork } from './state.ts';
import { $, download, el } from './dom.ts';

const ROOT = 'results';

async function fetchOk(path: string): Promise<Response> {
  const res = await fetch(path);
  if (!res.ok) throw new Error(`/${path}: expected a file of the served results directory, got HTTP ${res.status}`);
  return res;
}

/** JSON.parse, naming the file when the text is not JSON (a truncated final.json, say). */
function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: expected a run's final record as JSON, got unparseable text (${(e as Error).message})`, { cause: e });
  }
}

interface Entry {
  name: string;
  dir: boolean;
}

/** Every sweep folder (relative to /results/) with the final.json paths of its runs. */
function findSweeps(entries: Entry[]): Map<string, string[]> {
  const sweeps = new Map<string, string[]>();
  for (const e of entries) {
    const m = /^(?:(.*)\/)?runs\/.+\/final\.json$/.exec(e.name);
    if (!m || e.dir) continue;
    const root = m[1] ?? '';
    sweeps.set(root, [...(sweeps.get(root) ?? []), e.name]);
  }
  return sweeps;
}

/** A folder with a report but no runs (e.g. docs/results/6_6_2, which keeps report.html only): the report itself. */
function showReportOnly(root: string): void {
  const src = `${ROOT}/${root ? `${root}/` : ''}report.html`;
  $('#res-tables').replaceChildren(el('iframe', { src, title: 'report.html', id: 'res-report', style: 'width:100%;height:75vh;border:0' }));
  $('#res-list').replaceChildren(el('li', { className: 'muted', textContent: 'no runs in this folder (only its report)' }));
  $('#res-status').textContent = `/${src}: the report of a sweep whose runs are not in this folder`;
}

/** A run's row from its final.json, read by the same check as the CLI's reader (older schemas upgraded). */
function rowOf(path: string, json: unknown): RunRow {
  if (!json || typeof json !== 'object' || Array.isArray(json))
    throw new Error(`/${ROOT}/${path}: expected a run's final record (a JSON object), got ${JSON.stringify(json).slice(0, 80)}`);
  const rec = checkFinalRecord(json as FinalRecord, `/${ROOT}/${path}`);
  const s = rec.spec;
  return {
    dir: `${ROOT}/${path.replace(/\/final\.json$/, '')}`,
    rec,
    mode: s.mode,
    positive: s.positive,
    field: s.field,
    task: s.task,
    variant: s.variant,
    seed: s.seed,
  };
}

const fmtNum = (x: number | null | undefined) => (x === null || x === undefined ? '—' : String(x));

function showFacts(rec: FinalRecord): void {
  $('#res-run-title').textContent = rec.id;
  const facts: [string, string, string?][] = [
    ['status', rec.status],
    ['test accuracy', fmtNum(rec.accuracy?.test), 'res-test-acc'],
    ['paper accuracy', fmtNum(rec.accuracy?.paper)],
    ['validation accuracy', fmtNum(rec.accuracy?.val)],
    ['test loss', fmtNum(rec.testLoss)],
    ['Q (CNM)', fmtNum(rec.metrics?.Q_cnm)],
    ['σ (paper null)', fmtNum(rec.metrics?.sigma_paper)],
    ['N, epochs, steps', `${rec.n}, ${rec.epochs}, ${rec.steps}`],
    ['backend', rec.backend],
    ['commit', rec.code?.commit ?? '—'],
  ];
  if (rec.divergence) facts.push(['divergence', rec.divergence.message]);
  $('#res-run-facts').replaceChildren(...facts.flatMap(([k, v, id]) => [el('dt', { textContent: k }), el('dd', { textContent: v, ...(id ? { id } : {}) })]));
}

/** A run's learning curves, one value per epoch. */
interface Curves {
  epoch: number[];
  train: number[];
  val: number[];
  loss: number[];
  valLoss: number[];
}

const curveCache = new Map<string, Promise<Curves>>();

/** Curves from metrics.csv (one row per epoch), else from the record's history; read once per run. */
function curvesOf(r: RunRow, files: string[]): Promise<Curves> {
  let c = curveCache.get(r.dir);
  if (!c) {
    c = (async (): Promise<Curves> => {
      const h = r.rec.history;
      if (!files.includes(`${r.dir}/metrics.csv`))
        return {
          epoch: h.map((e) => e.epoch),
          train: h.map((e) => e.trainAccuracy),
          val: h.map((e) => e.evalAccuracy ?? NaN),
          loss: h.map((e) => e.meanLoss),
          valLoss: h.map((e) => e.evalLoss ?? NaN),
        };
      const t = parseCsv(await (await fetchOk(`${r.dir}/metrics.csv`)).text(), `/${r.dir}/metrics.csv`);
      // a column an older metrics.csv lacks is a curve of gaps, not an error
      const col = (name: string) => (t.header.includes(name) ? Array.from(numberColumn(t, name, true)) : t.rows.map(() => NaN));
      return {
        epoch: Array.from(numberColumn(t, 'epoch')),
        train: col('train_accuracy'),
        val: col('eval_accuracy'),
        loss: col('mean_loss'),
        valLoss: col('eval_loss'),
      };
    })();
    c.catch(() => curveCache.delete(r.dir));
    curveCache.set(r.dir, c);
  }
  return c;
}

async function drawCurves(r: RunRow, files: string[]): Promise<void> {
  const c = await curvesOf(r, files);
  lineChart(
    $<HTMLCanvasElement>('#res-curve'),
    [
      { name: 'train (noisy)', x: c.epoch, y: c.train, colour: '#f28e2b', dashed: true },
      { name: 'validation', x: c.epoch, y: c.val, colour: '#59a14f' },
    ],
    { x: { label: 'epoch', integer: true }, y: { label: 'accuracy', min: 0, max: 1 }, chance: chanceLevel(r.task) },
  );
}

/** The overlay's choices: which curve of each run, and whether it is an accuracy. */
const COMPARE: Record<string, { label: string; of: (c: Curves) => number[]; accuracy: boolean }> = {
  val: { label: 'validation accuracy', of: (c) => c.val, accuracy: true },
  train: { label: 'train accuracy (noisy)', of: (c) => c.train, accuracy: true },
  loss: { label: 'training loss (epoch mean)', of: (c) => c.loss, accuracy: false },
  valLoss: { label: 'validation loss', of: (c) => c.valLoss, accuracy: false },
};

/** The ticked runs' curves on one chart, a colour each, the legend by run id. */
let compareDraws = 0;

async function drawCompare(ticked: RunRow[], files: string[]): Promise<void> {
  const what = COMPARE[$<HTMLSelectElement>('#res-cmp-metric').value] ?? COMPARE.val!;
  const chosen = [...ticked];
  const draw = ++compareDraws;
  const curves = await Promise.all(chosen.map((r) => curvesOf(r, files)));
  // a later tick's drawing supersedes this one
  if (draw !== compareDraws) return;
  const series = chosen.map((r, i) => ({ name: r.rec.id, x: curves[i]!.epoch, y: what.of(curves[i]!), colour: PALETTE[i % PALETTE.length]! }));
  // one chance line only when every ticked run has the same
  const chances = [...new Set(chosen.map((r) => chanceLevel(r.task)))];
  const chance = what.accuracy && chances.length === 1 ? chances[0] : null;
  const canvas = $<HTMLCanvasElement>('#res-cmp');
  lineChart(canvas, series, {
    x: { label: 'epoch', integer: true },
    y: what.accuracy ? { label: what.label, min: 0, max: 1 } : { label: what.label },
    chance,
  });
  canvas.dataset.runs = String(chosen.length);
  $('#res-cmp-note').textContent = chosen.length
    ? `${chosen.length} run${chosen.length > 1 ? 's' : ''}: ${what.label} per epoch${what.accuracy && chances.length > 1 ? ' (tasks of different chance levels: no chance line)' : ''}.`
    : 'Tick runs in the list to overlay their learning curves.';
}

const weightCache = new Map<string, Promise<Float64Array>>();

/** A run's W_rec file as an n×n matrix, fetched and checked once. */
function weightsOf(path: string, n: number): Promise<Float64Array> {
  let w = weightCache.get(path);
  if (!w) {
    w = (async () => {
      const a = parseNpy(new Uint8Array(await (await fetchOk(path)).arrayBuffer()), `/${path}`);
      if (a.shape.length !== 2 || a.shape[0] !== n || a.shape[1] !== n) throw new Error(`/${path}: shape: expected (${n}, ${n}), got (${a.shape.join(', ')})`);
      return toFloat64(a);
    })();
    w.catch(() => weightCache.delete(path));
    weightCache.set(path, w);
  }
  return w;
}

/**
 * The colour scale of every W_rec map of a run: the 99th percentile of the off-diagonal |w| of its
 * first matrix here (W_rec_init when the folder kept it), so the epochs' maps compare by eye.
 */
async function runScale(r: RunRow, weights: string[]): Promise<{ scale: number; why: string }> {
  const first = weights[0]!;
  const scale = heatScale(await weightsOf(first, r.rec.n), r.rec.n);
  const why = /_init\.npy$/.test(first)
    ? "the 99th percentile of the initial W_rec's off-diagonal |w|"
    : `the 99th percentile of the off-diagonal |w| of ${first.slice(r.dir.length + 1, -4)}, the earliest W_rec of this run here (its W_rec_init.npy was not kept)`;
  return { scale, why };
}

/** The run's W_rec files, a picker to draw one as a heat map on the run's scale, and a button to show it in 3D. */
async function showWeights(r: RunRow, files: string[]): Promise<void> {
  const rec = r.rec;
  // W_rec_init first, then the epochs in order: by name, "init" would sort after "epoch".
  const epochOf = (f: string) => (/_init\.npy$/.test(f) ? 0 : Number(/_epoch(\d+)\.npy$/.exec(f)?.[1] ?? Infinity));
  const weights = files.filter((f) => f.startsWith(`${r.dir}/W_rec_`) && f.endsWith('.npy')).sort((a, b) => epochOf(a) - epochOf(b) || a.localeCompare(b));
  // The recorded modules are those of the last epoch's W_rec: only that matrix is drawn by them.
  const trained = weights.filter((f) => Number.isFinite(epochOf(f)) && epochOf(f) > 0).at(-1) ?? null;
  const pick = $<HTMLSelectElement>('#res-epoch');
  const to3d = $<HTMLButtonElement>('#res-3d');
  pick.replaceChildren(...weights.map((f) => el('option', { value: f, textContent: f.slice(r.dir.length + 1, -4) })));
  const canvas = $<HTMLCanvasElement>('#res-wrec');
  const [bar, caption] = [$('#res-wrec-bar'), $('#res-wrec-scale')];
  // Until this run's matrix is drawn, neither the button nor the drawn marker may speak of the last run's.
  to3d.disabled = true;
  delete canvas.dataset.shown;
  const scale = weights.length ? await runScale(r, weights) : null;
  let current: Float64Array | null = null;
  const drawWeights = async () => {
    if (!pick.value || !scale) {
      canvas.getContext('2d')!.clearRect(0, 0, canvas.width, canvas.height);
      bar.replaceChildren();
      caption.textContent = 'No W_rec file of this run is in this folder.';
      current = null;
      return;
    }
    current = await weightsOf(pick.value, rec.n);
    const beyond = heatmap(canvas, current, rec.n, scale.scale);
    colourBar(bar, scale.scale);
    caption.textContent =
      `Rows post, columns pre. Colour scale ±${scale.scale.toPrecision(3)} for every matrix of this run: ${scale.why}. ` +
      `${(100 * beyond).toFixed(1)}% of this matrix's entries lie beyond it and take the end colours.`;
  };
  pick.value = trained ?? weights.at(-1) ?? '';
  const can3d = () => !!(current && rec.metrics && pick.value === trained && files.includes(`${r.dir}/positions_um.npy`));
  const redraw = async () => {
    delete canvas.dataset.shown;
    await drawWeights();
    to3d.disabled = !can3d();
    // The marker says which matrix the map, its scale and the 3D button now show.
    canvas.dataset.shown = pick.value;
  };
  pick.onchange = redraw;
  await redraw();
  to3d.onclick = async () => {
    if (!current || !rec.metrics) return;
    const pos = toFloat64(parseNpy(new Uint8Array(await (await fetchOk(`${r.dir}/positions_um.npy`)).arrayBuffer()), `/${r.dir}/positions_um.npy`));
    showNetwork({
      field: rec.spec.field,
      label: `${rec.spec.variant}, ${rec.spec.task}, seed ${rec.spec.seed} (${pick.selectedOptions[0]?.textContent})`,
      n: rec.n,
      W: current,
      communities: rec.metrics.communities,
      positionsUm: pos,
    });
    location.hash = '#connectome';
  };
}

async function showRun(r: RunRow, files: string[]): Promise<void> {
  delete $('#res-wrec').dataset.shown;
  showFacts(r.rec);
  await drawCurves(r, files);
  await showWeights(r, files);
}

/** A cell of a CSV file: quoted when it holds a comma, a quote or a line break (RFC 4180). */
const csvCell = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** A table's rows as a grid of cell texts, each spanning cell repeated over the columns and rows it spans. */
function tableGrid(rows: HTMLTableRowElement[]): string[][] {
  const grid: string[][] = rows.map(() => []);
  rows.forEach((tr, i) => {
    let c = 0;
    for (const cell of Array.from(tr.cells)) {
      while (grid[i]![c] !== undefined) c++;
      const text = (cell.textContent ?? '').replace(/\s+/g, ' ').trim();
      for (let dr = 0; dr < cell.rowSpan && i + dr < rows.length; dr++) for (let dc = 0; dc < cell.colSpan; dc++) grid[i + dr]![c + dc] = text;
      c += cell.colSpan;
    }
  });
  return grid;
}

/**
 * A shown table as CSV: one header row (a spanning heading joined to the headings under it with
 * " · ", e.g. "gonogo · test accuracy"), then each body row's cells as the page shows them.
 */
function tableCsv(table: HTMLTableElement): string {
  const head = tableGrid(Array.from(table.tHead?.rows ?? []));
  const body = tableGrid(Array.from(table.tBodies).flatMap((b) => Array.from(b.rows)));
  const cols = Math.max(0, ...[...head, ...body].map((r) => r.length));
  const header = Array.from({ length: cols }, (_, c) => [...new Set(head.map((r) => r[c] ?? '').filter(Boolean))].join(' · '));
  return [header, ...body].map((r) => Array.from({ length: cols }, (_, c) => csvCell(r[c] ?? '')).join(',')).join('\r\n') + '\r\n';
}

/** A CSV button before each table of the view, downloading `<folder>.<table id>.csv`. */
function addCsvButtons(root: string): void {
  const stem = root ? root.replaceAll('/', '.') : 'results';
  for (const table of Array.from(document.querySelectorAll<HTMLTableElement>('#res-tables table[id]'))) {
    const file = `${stem}.${table.id}.csv`;
    const button = el('button', { className: 'csv', textContent: '⤓ CSV', title: `download this table as ${file}` });
    button.dataset.table = table.id;
    button.dataset.file = file;
    button.onclick = () => download(file, tableCsv(table), 'text/csv');
    table.before(el('div', { className: 'table-tools' }, [button]));
  }
}

/** The run list: a click opens a run, a tick adds it to the overlay of learning curves. */
function listRuns(runs: RunRow[], files: string[], status: HTMLElement): void {
  const list = $('#res-list');
  const chosen: RunRow[] = [];
  const redraw = () => void drawCompare(chosen, files).catch((e) => (status.textContent = (e as Error).message));
  const sorted = [...runs].sort((a, b) => a.rec.id.localeCompare(b.rec.id));
  list.replaceChildren(
    ...sorted.map((r) => {
      const tick = el('input', { type: 'checkbox', title: 'overlay this run in "Compare runs"' });
      tick.onclick = (e) => e.stopPropagation();
      tick.onchange = () => {
        if (tick.checked) chosen.push(r);
        else chosen.splice(chosen.indexOf(r), 1);
        redraw();
      };
      const text = `${r.task} · ${r.variant} · seed ${r.seed}${r.mode === 'paper' ? ' · paper' : ''}${r.positive ? ' · positive' : ''}`;
      const li = el('li', { title: r.rec.id }, [tick, el('span', { textContent: text })]);
      li.dataset.run = r.rec.id;
      li.onclick = () => {
        for (const x of Array.from(list.children)) x.classList.remove('active');
        li.classList.add('active');
        void showRun(r, files).catch((e) => (status.textContent = (e as Error).message));
      };
      return li;
    }),
  );
  $<HTMLSelectElement>('#res-cmp-metric').onchange = redraw;
  $<HTMLButtonElement>('#res-cmp-clear').onclick = () => {
    chosen.length = 0;
    for (const t of Array.from(list.querySelectorAll<HTMLInputElement>('input[type=checkbox]'))) t.checked = false;
    redraw();
  };
  redraw();
  list.dataset.ready = '1';
}

async function openSweep(root: string, finals: string[], files: string[]): Promise<void> {
  const status = $('#res-status');
  status.textContent = `reading ${finals.length} runs…`;
  const runs = await Promise.all(finals.map(async (p) => rowOf(p, parseJson(await (await fetchOk(`${ROOT}/${p}`)).text(), `/${ROOT}/${p}`))));
  const json: Record<string, unknown> = {};
  const groups = groupsOf(runs);
  const tag = (g: (typeof groups)[number]) => `${g.field}-${g.mode}${g.positive ? '-positive' : ''}`;
  const head = (g: (typeof groups)[number]) => `<h3>Field ${esc(g.field)}, ${esc(g.mode)} mode${g.positive ? ', positive-only' : ''}</h3>`;
  const html = [
    '<h2>Table 2 — accuracy per variant and task</h2>',
    ...groups.filter((g) => !g.positive).map((g) => head(g) + accuracyTable(g, `table2-${tag(g)}`, json)),
    ...(groups.some((g) => g.positive) ? ['<h2>Table 3 — positive-only recurrence</h2>'] : []),
    ...groups.filter((g) => g.positive).map((g) => head(g) + accuracyTable(g, `table3-${tag(g)}`, json)),
    '<h2>Network metrics</h2>',
    ...groups.map((g) => head(g) + metricsTable(g, `metrics-${tag(g)}`, json)),
    ...(groups.some((g) => g.rows.some((r) => r.rec.metrics?.module_alignment)) ? ['<h2>What the modules follow (NMI with each labelling)</h2>'] : []),
    ...groups.filter((g) => g.rows.some((r) => r.rec.metrics?.module_alignment)).map((g) => head(g) + modulesTable(g, `modules-${tag(g)}`, json)),
  ];
  $('#res-tables').innerHTML = html.join('\n');
  addCsvButtons(root);
  // sweep.json (when the folder has one): how the sweep was run, first line of the view.
  const manifest = await fetch(`${ROOT}/${root ? `${root}/` : ''}sweep.json`).then((r) => (r.ok ? (r.json() as Promise<Manifest>) : null));
  const inv = manifest?.invocations ?? [];
  const commits = [...new Set(inv.map((i) => i.code?.commit?.slice(0, 10) ?? 'unknown'))];
  const about = inv.length
    ? ` · sweep.json: ${inv.length} invocation${inv.length > 1 ? 's' : ''}, commit ${commits.join(', ')}, on ${[...new Set(inv.map((i) => i.backend))].join('; ')}`
    : '';
  const ok = runs.filter((r) => r.rec.status === 'ok').length;
  status.textContent = `${runs.length} runs (${ok} ok, ${runs.length - ok} diverged) in /${ROOT}/${root}${about}`;
  listRuns(runs, files, status);
}

/** The folder's report.html, linked beside the folder picker when the folder has one. */
function linkReport(root: string, reports: string[]): void {
  const link = $<HTMLAnchorElement>('#res-report-link');
  link.hidden = !reports.includes(root);
  link.href = `${ROOT}/${root ? `${root}/` : ''}report.html`;
}

export async function initResults(): Promise<void> {
  const status = $('#res-status');
  const pick = $<HTMLSelectElement>('#res-dir');
  try {
    const res = await fetch(`${ROOT}/?recursive=1`);
    if (!res.ok) throw new Error('no results directory is served (start `cortical-rnn serve --results DIR`)');
    const entries = ((await res.json()) as { entries: Entry[] }).entries;
    const files = entries.filter((e) => !e.dir).map((e) => `${ROOT}/${e.name}`);
    const sweeps = findSweeps(entries);
    const reports = entries.filter((e) => !e.dir && /(^|\/)report\.html$/.test(e.name)).map((e) => e.name.replace(/\/?report\.html$/, ''));
    const roots = [...new Set([...sweeps.keys(), ...reports])].sort();
    if (!roots.length) throw new Error('no finished runs (runs/…/final.json) and no report.html under the served results directory');
    pick.replaceChildren(...roots.map((k) => el('option', { value: k, textContent: k || '(the results directory)' })));
    const open = () => {
      linkReport(pick.value, reports);
      const finals = sweeps.get(pick.value);
      if (!finals) return showReportOnly(pick.value);
      void openSweep(pick.value, finals, files).catch((e) => (status.textContent = (e as Error).message));
    };
    pick.onchange = open;
    open();
  } catch (e) {
    status.textContent = (e as Error).message;
  }
}
