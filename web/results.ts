/**
 * The results browser: a served results directory's sweeps (folders holding runs/…/final.json),
 * each with Table 2 (3) and the network metrics built by the report's own code
 * (experiments/tables.ts), so the numbers are the HTML report's; and each run's facts, curves
 * (metrics.csv) and weights (W_rec_epochNN.npy), which can be shown in 3D.
 */
import { parseCsv, numberColumn } from '../connectome/csv.ts';
import { parseNpy, toFloat64 } from '../connectome/npy.ts';
import { checkFinalRecord, type FinalRecord } from '../experiments/record.ts';
import { accuracyTable, groupsOf, metricsTable, modulesTable, type RunRow } from '../experiments/tables.ts';
import { esc } from '../experiments/style.ts';
import type { Manifest } from '../experiments/sweep.ts';
import { lineChart, heatmap } from './plots.ts';
import { showNetwork } from './state.ts';
import { $, el } from './dom.ts';

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

/** Curves from metrics.csv (one row per epoch), else from the record's history. */
async function drawCurves(r: RunRow, files: string[]): Promise<void> {
  const rec = r.rec;
  let epochs = rec.history.map((h) => h.epoch);
  let train = rec.history.map((h) => h.trainAccuracy);
  let val = rec.history.map((h) => h.evalAccuracy ?? NaN);
  if (files.includes(`${r.dir}/metrics.csv`)) {
    const t = parseCsv(await (await fetchOk(`${r.dir}/metrics.csv`)).text(), `/${r.dir}/metrics.csv`);
    epochs = Array.from(numberColumn(t, 'epoch'));
    train = Array.from(numberColumn(t, 'train_accuracy', true));
    val = Array.from(numberColumn(t, 'eval_accuracy', true));
  }
  lineChart(
    $<HTMLCanvasElement>('#res-curve'),
    [
      { name: 'train (noisy)', x: epochs, y: train, colour: '#f28e2b', dashed: true },
      { name: 'validation', x: epochs, y: val, colour: '#59a14f' },
    ],
    { yMin: 0, yMax: 1, xLabel: 'epoch' },
  );
}

/** The run's W_rec files, a picker to draw one as a heat map, and a button to show it in 3D. */
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
  let current: Float64Array | null = null;
  const drawWeights = async () => {
    if (!pick.value) {
      canvas.getContext('2d')!.clearRect(0, 0, canvas.width, canvas.height);
      current = null;
      return;
    }
    const a = parseNpy(new Uint8Array(await (await fetchOk(pick.value)).arrayBuffer()), `/${pick.value}`);
    if (a.shape.length !== 2 || a.shape[0] !== rec.n || a.shape[1] !== rec.n)
      throw new Error(`/${pick.value}: shape: expected (${rec.n}, ${rec.n}), got (${a.shape.join(', ')})`);
    current = toFloat64(a);
    heatmap(canvas, current, rec.n);
  };
  pick.value = trained ?? weights.at(-1) ?? '';
  const can3d = () => !!(current && rec.metrics && pick.value === trained && files.includes(`${r.dir}/positions_um.npy`));
  pick.onchange = async () => {
    await drawWeights();
    to3d.disabled = !can3d();
  };
  await drawWeights();
  to3d.disabled = !can3d();
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
  showFacts(r.rec);
  await drawCurves(r, files);
  await showWeights(r, files);
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
  // sweep.json (when the folder has one): how the sweep was run, first line of the view.
  const manifest = await fetch(`${ROOT}/${root ? `${root}/` : ''}sweep.json`).then((r) => (r.ok ? (r.json() as Promise<Manifest>) : null));
  const inv = manifest?.invocations ?? [];
  const commits = [...new Set(inv.map((i) => i.code?.commit?.slice(0, 10) ?? 'unknown'))];
  const about = inv.length
    ? ` · sweep.json: ${inv.length} invocation${inv.length > 1 ? 's' : ''}, commit ${commits.join(', ')}, on ${[...new Set(inv.map((i) => i.backend))].join('; ')}`
    : '';
  const ok = runs.filter((r) => r.rec.status === 'ok').length;
  status.textContent = `${runs.length} runs (${ok} ok, ${runs.length - ok} diverged) in /${ROOT}/${root}${about}`;
  const list = $('#res-list');
  const sorted = [...runs].sort((a, b) => a.rec.id.localeCompare(b.rec.id));
  list.replaceChildren(
    ...sorted.map((r) => {
      const li = el('li', {
        textContent: `${r.task} · ${r.variant} · seed ${r.seed}${r.mode === 'paper' ? ' · paper' : ''}${r.positive ? ' · positive' : ''}`,
      });
      li.dataset.run = r.rec.id;
      li.onclick = () => {
        for (const x of Array.from(list.children)) x.classList.remove('active');
        li.classList.add('active');
        void showRun(r, files).catch((e) => (status.textContent = (e as Error).message));
      };
      return li;
    }),
  );
  list.dataset.ready = '1';
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
