/**
 * The workbench in a real browser: Debian's Chromium, headless, driven by playwright-core, on
 * its own WebGPU adapter (SwiftShader: a CPU Vulkan with 4-lane subgroups, so the engine runs
 * its workgroup-tile kernels, not the subgroup ones, which are the default at 8 or 16 lanes). No mocks: the page loads the
 * engine bundle from `cortical-rnn serve`'s server, the field from the data directory, and a
 * committed sweep (tests/fixtures/results-tiny) from the results directory.
 *
 * Without Chromium the suite is skipped, unless CORTICAL_RNN_REQUIRE_BROWSER=1 or
 * CORTICAL_RNN_REQUIRE_GPU=1 (CI sets both), which fail it instead. Screenshots of the views
 * go to results/browser/.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { startServer } from '../cli/serve/server.ts';
import { CpuBackend } from '../engine/cpu/backend.ts';
import { createNodeBackend } from '../engine/node.ts';
import { trainNetworks } from '../engine/rnn/train.ts';
import type { Backend } from '../engine/tensor.ts';
import { prepareField } from '../experiments/prepare.ts';
import { runOne } from '../experiments/run.ts';
import { startApiServer } from './helpers/api_server.ts';
import { QUICK_PRESET, resolveProtocol } from '../experiments/protocol.ts';
import { RUN_SCHEMA, runKey, toJson, type FinalRecord, type RunSpec } from '../experiments/record.ts';
import { setupRun } from '../experiments/setup.ts';
import { parseNpy, toFloat64 } from '../connectome/npy.ts';
import { parseCsv } from '../connectome/csv.ts';
import { buildReport, loadSweepDir } from '../experiments/report.ts';

const CHROMIUM = process.env.CORTICAL_RNN_CHROMIUM ?? '/usr/bin/chromium';
const required = process.env.CORTICAL_RNN_REQUIRE_BROWSER === '1' || process.env.CORTICAL_RNN_REQUIRE_GPU === '1';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && required)
  throw new Error(`${CHROMIUM}: expected Chromium for the browser tests (CORTICAL_RNN_REQUIRE_BROWSER/GPU is set), got no such file; apt-get install chromium`);

const DATA = resolve('../shared/data');
const RESULTS = resolve('tests/fixtures/results-tiny');
const OUT = resolve('results/browser');
/** Chromium's software WebGPU on a machine without a GPU: SwiftShader's Vulkan, which can also present a canvas. */
const CHROMIUM_ARGS = ['--no-sandbox', '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-angle=swiftshader'];

/**
 * The run the page trains and Node replays: Go/NoGo on 5_3_4 (N = 70), W*D*C, 6 Adam steps of
 * 64 trials, 3 epochs of 128 (so the screenshot has accuracy curves).
 */
const SPEC: RunSpec = { field: '5_3_4', task: 'gonogo', variant: 'W*D*C', seed: 1, mode: 'corrected', positive: false };
const STEPS = 6;
const KNOBS = { steps: STEPS, batchSize: 64, trainTrials: 128, testTrials: 128, valTrials: 128, nNull: 100, nMatched: 10 };
const PROTOCOL = resolveProtocol(QUICK_PRESET.protocol, KNOBS);

/** The run's downloads are named by its key: corrected.5_3_4.gonogo.WsDsC.seed-1.<file>. */
const KEY = runKey(SPEC);

/**
 * A chart's ticks, as the page recorded them on its canvas: at least two, evenly spaced by a
 * 1-2-5 step (…, 0.1, 0.2, 0.5, 1, 2, 5, …), and whole numbers where `integer`.
 */
function niceTicks(attr: string | null | undefined, integer = false): number[] {
  expect(attr, 'the chart recorded its ticks').toBeTruthy();
  const t = attr!.split(',').map(Number);
  expect(t.length).toBeGreaterThanOrEqual(2);
  const step = t[1]! - t[0]!;
  const mantissa = step / 10 ** Math.floor(Math.log10(step) + 1e-9);
  expect(
    [1, 2, 5].some((m) => Math.abs(mantissa - m) < 1e-4),
    `step ${step} of ${attr}`,
  ).toBe(true);
  for (let i = 1; i < t.length; i++) expect(t[i]! - t[i - 1]!).toBeCloseTo(step, 9);
  if (integer) expect(t.every(Number.isInteger), attr!).toBe(true);
  return t;
}

/** The 99th percentile of a matrix's off-diagonal |w| (the heat maps' colour scale). */
function p99OffDiagonal(w: ArrayLike<number>, n: number): number {
  const mags: number[] = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) mags.push(Math.abs(w[i * n + j]!));
  mags.sort((a, b) => a - b);
  return mags[Math.min(mags.length - 1, Math.floor(mags.length * 0.99))]!;
}

/** The same run's losses and steps per second on a Node backend (the engine's own loop). */
async function nodeLosses(backend: Backend): Promise<{ losses: number[]; stepsPerSecond: number }> {
  const run = setupRun(SPEC, prepareField(DATA, SPEC.field), PROTOCOL);
  const losses: number[] = [];
  let t0 = 0;
  const times: number[] = [];
  const { trainer } = await trainNetworks(
    backend,
    run.cfg,
    [
      {
        params: run.params,
        splits: run.splits,
        seed: SPEC.seed,
        regularizers: [run.reg],
        onStep: (s) => {
          losses.push(s.loss);
          times.push(performance.now() - t0);
          t0 = performance.now();
        },
      },
    ],
    { epochs: PROTOCOL.epochs, steps: STEPS, batchSize: PROTOCOL.batchSize, lr: PROTOCOL.lr, inputNoise: PROTOCOL.inputNoise, evalEveryEpoch: false },
  );
  trainer.dispose();
  // The first step compiles every kernel; steady state is the later steps.
  const steady = times.slice(1);
  return { losses, stepsPerSecond: steady.length / (steady.reduce((a, b) => a + b, 0) / 1000) };
}

/** What the page's run exposes (window.workbench.run), after page.evaluate. */
type LiveRun = NonNullable<Window['workbench']['run']>;

/** The live charts of a finished run of SPEC: the loss's parts, labelled axes, 1-2-5 ticks and the chance line. */
async function checkLiveCharts(page: Page, run: LiveRun): Promise<void> {
  // The loss split into cross-entropy and regulariser, step by step.
  expect(run.ces).toHaveLength(STEPS);
  expect(run.regs).toHaveLength(STEPS);
  for (let i = 0; i < STEPS; i++) expect(run.ces[i]! + run.regs[i]!, `step ${i + 1}`).toBeCloseTo(run.losses[i]!, 5);
  // Both charts label their axes and tick them at 1-2-5 steps (whole steps and epochs); the
  // regulariser has the right axis; the accuracy chart has Go/NoGo's chance level, 1/2.
  const chart = (id: string) => page.$eval(id, (c) => ({ ...(c as HTMLCanvasElement).dataset }));
  const loss = await chart('#plot-loss');
  expect([loss.xLabel, loss.yLabel, loss.y2Label]).toEqual(['step', 'loss', 'regulariser']);
  expect(JSON.parse(loss.series!)).toEqual(['total', 'cross-entropy', 'regulariser (right axis)']);
  const stepTicks = niceTicks(loss.xTicks, true);
  expect(stepTicks[0]).toBeLessThanOrEqual(1);
  expect(stepTicks.at(-1)).toBeGreaterThanOrEqual(STEPS);
  niceTicks(loss.yTicks);
  niceTicks(loss.y2Ticks);
  const acc = await chart('#plot-acc');
  expect([acc.xLabel, acc.yLabel]).toEqual(['epoch', 'accuracy']);
  expect(niceTicks(acc.xTicks, true)).toEqual([1, 2, 3]);
  const accTicks = niceTicks(acc.yTicks);
  expect([accTicks[0], accTicks.at(-1)]).toEqual([0, 1]);
  expect(acc.chance).toBe('0.5');
  expect(run.chance).toBe(0.5);
}

/** The run's W_rec matrices: one colour scale for all, and downloads named by the run's key. */
async function checkRunWeights(page: Page, run: LiveRun): Promise<void> {
  // Every W_rec of the run on one colour scale, the initial W_rec's 99th percentile of
  // off-diagonal |w|: the colour bar's range is the same for two epochs.
  expect(run.weights).toEqual(['initial', 'epoch 1', 'epoch 2', 'epoch 3', 'trained']);
  const bar = () => page.$eval('#plot-wrec-bar', (b) => [Number((b as HTMLElement).dataset.min), Number((b as HTMLElement).dataset.max)]);
  await page.selectOption('#t-wsel', 'epoch 1');
  const epoch1 = await bar();
  await page.selectOption('#t-wsel', 'epoch 3');
  expect(await bar()).toEqual(epoch1);
  expect(epoch1).toEqual([-run.heatScale!, run.heatScale!]);
  expect(await page.textContent('#heat-caption')).toMatch(/after epoch 3$/);
  expect(await page.textContent('#heat-scale')).toMatch(/99th percentile of the initial W_rec's off-diagonal \|w\|/);

  // The downloads are named by the run's key, and the buttons say what they download.
  expect(run.key).toBe(KEY);
  const named = async (button: string) => {
    const [d] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
    return { name: d.suggestedFilename(), bytes: new Uint8Array(readFileSync((await d.path())!)) };
  };
  expect((await named('#dl-final')).name).toBe(`${KEY}.final.json`);
  expect(await page.textContent('#dl-weights')).toBe('⤓ W_rec, epoch 3 (.npy)');
  expect((await named('#dl-weights')).name).toBe(`${KEY}.W_rec_epoch03.npy`);
  await page.selectOption('#t-wsel', 'trained');
  expect((await named('#dl-weights')).name).toBe(`${KEY}.params_final.W_rec.npy`);
  await page.selectOption('#t-wsel', 'initial');
  const init = await named('#dl-weights');
  expect(init.name).toBe(`${KEY}.W_rec_init.npy`);
  const initial = toFloat64(parseNpy(init.bytes));
  expect(run.heatScale! / p99OffDiagonal(initial, 70)).toBeCloseTo(1, 6);
  await page.selectOption('#t-wsel', 'trained');
}

describe.skipIf(!haveChromium)('the workbench in headless Chromium', () => {
  let server: FastifyInstance;
  let browser: Browser;
  let page: Page;
  let url: string;
  let pageRecord: FinalRecord | null = null;
  // the committed sweep with the report.html `cortical-rnn report` writes beside it, so the
  // results view has a report to link to
  let served: string;
  const logs: string[] = [];
  const requested: string[] = [];

  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    // The bundle of the current sources, as `npm run build:web` makes it.
    await build({ configFile: resolve('web/vite.config.ts'), logLevel: 'warn' });
    served = mkdtempSync(join(tmpdir(), 'crnn-browser-results-'));
    cpSync(RESULTS, served, { recursive: true });
    writeFileSync(join(served, 'report.html'), buildReport(loadSweepDir(RESULTS)).html);
    server = await startServer({ webDir: resolve('dist/web'), dataDir: DATA, resultsDir: served, host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(server.server.address() as { port: number }).port}/`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 820 } });
    page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
    page.on('request', (r) => requested.push(r.url()));
    await page.goto(`${url}#adapter`);
    await page.waitForSelector('body[data-ready="1"]', { timeout: 120_000 });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (served) rmSync(served, { recursive: true, force: true });
    if (logs.some((l) => l.startsWith('pageerror'))) console.log(logs.join('\n'));
  });

  it('finds a WebGPU adapter and says what `cortical-rnn info` says of it', async () => {
    expect(await page.getAttribute('#adapter-info', 'data-ready')).toBe('1');
    const text = await page.textContent('#adapter-table');
    expect(text).toMatch(/subgroups/);
    // SwiftShader's 4-lane subgroups: the subgroup tiles are not the default there, workgroup tiles are.
    if (/4\.\.4 lanes/.test(text!)) expect(text).toMatch(/workgroup tiles/);
    await page.screenshot({ path: join(OUT, 'adapter.png') });
  });

  it('says what to enable in a browser that gives no WebGPU adapter', async () => {
    // Headless Chromium without --enable-unsafe-webgpu has navigator.gpu but no adapter.
    const plain = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const p = await plain.newPage();
      await p.goto(`${url}#adapter`);
      await p.waitForSelector('body[data-ready="1"]', { timeout: 60_000 });
      expect(await p.textContent('#no-webgpu')).toMatch(/gave no adapter: enable hardware acceleration .*--enable-unsafe-webgpu/);
      expect(await p.isDisabled('#run-checks')).toBe(true);
      expect(await p.textContent('#train-status')).toMatch(/no adapter/);
    } finally {
      await plain.close();
    }
  }, 120_000);

  it("passes the engine's kernel checks (GPU kernels against the CPU reference) on Chromium's adapter", async () => {
    await page.click('#run-checks');
    await page.waitForSelector('#checks[data-done]', { timeout: 280_000 });
    const rows = await page.$$eval('#checks tr', (trs) => trs.slice(1).map((tr) => Array.from(tr.children, (c) => c.textContent)));
    expect(rows.length).toBeGreaterThan(15);
    for (const r of rows) expect(r[3], `${r[0]}: error ${r[1]}`).toBe('pass');
    expect(await page.getAttribute('#checks', 'data-done')).toBe('pass');
    await page.screenshot({ path: join(OUT, 'adapter.png'), fullPage: true });
  }, 300_000);

  it("trains a network live whose first losses equal the Node engine's (CPU reference) for the same seed", async () => {
    await page.goto(`${url}#train`);
    await page.selectOption('#t-field', SPEC.field);
    await page.selectOption('#t-task', SPEC.task);
    await page.selectOption('#t-variant', SPEC.variant);
    await page.selectOption('#t-mode', SPEC.mode);
    await page.fill('#t-seed', String(SPEC.seed));
    for (const [k, v] of Object.entries(KNOBS)) await page.fill(`#t-${k}`, String(v));
    await page.click('#train-start');
    await page.waitForFunction(() => window.workbench.run?.done, null, { timeout: 280_000 });
    const run = (await page.evaluate(() => window.workbench.run))!;
    expect(run.error).toBeNull();
    expect(run.losses).toHaveLength(STEPS);
    const record = run.record as FinalRecord;
    pageRecord = record;
    expect(record.schema).toBe(RUN_SCHEMA);
    expect(record.id).toBe('corrected/5_3_4/gonogo/W*D*C/seed-1');
    expect(record.steps).toBe(STEPS);
    expect(record.status).toBe('ok');
    await page.screenshot({ path: join(OUT, 'train.png') });
    const browserSteady = (STEPS - 1) / (run.stepMs.slice(1).reduce((a, b) => a + b, 0) / 1000);

    // The downloads: the run as final.json (the CLI's encoder) and the trained W_rec as .npy.
    const saved = async (button: string) => {
      const [d] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
      return readFileSync((await d.path())!);
    };
    expect(JSON.parse((await saved('#dl-final')).toString('utf8'))).toEqual(JSON.parse(toJson(record)));
    const w = parseNpy(new Uint8Array(await saved('#dl-weights')));
    expect([w.dtype, w.shape]).toEqual(['<f4', [70, 70]]);

    await checkLiveCharts(page, run);
    await checkRunWeights(page, run);

    const cpu = await nodeLosses(new CpuBackend('f64'));
    for (let i = 0; i < STEPS; i++) expect(Math.abs(run.losses[i]! - cpu.losses[i]!) / Math.abs(cpu.losses[i]!), `step ${i + 1}`).toBeLessThan(1e-4);

    // The same workload on Node's WebGPU adapter (Dawn), for the record.
    const dawn = await createNodeBackend({ requireGpu: false });
    let node: { losses: number[]; stepsPerSecond: number };
    try {
      node = await nodeLosses(dawn);
    } finally {
      dawn.destroy();
    }
    const speed = {
      workload: `${SPEC.task} on ${SPEC.field} (N = 70), ${SPEC.variant}, batch ${PROTOCOL.batchSize}, ${STEPS} steps`,
      browser: { adapter: record.backend, stepsPerSecond: browserSteady },
      node: { adapter: dawn.describe(), stepsPerSecond: node.stepsPerSecond },
      note: 'steps per second over the steps after the first (which compiles the kernels)',
      nodeCpuReference: { stepsPerSecond: cpu.stepsPerSecond },
      losses: { browser: run.losses, nodeCpu: cpu.losses, nodeGpu: node.losses },
    };
    writeFileSync(join(OUT, 'speed.json'), JSON.stringify(speed, null, 2) + '\n');
    console.log(`[browser] ${JSON.stringify(speed)}`);
  }, 300_000);

  it('records the run as `cortical-rnn train` does: the same final.json fields, apart from timings and the commit', async () => {
    expect(pageRecord).not.toBeNull();
    const dir = join(OUT, 'cli-run');
    const cli = await runOne(SPEC, { dataDir: DATA, backend: new CpuBackend('f64'), protocol: PROTOCOL, dir, progress: { quiet: true } });
    const onDisk = JSON.parse(readFileSync(join(dir, 'final.json'), 'utf8')) as FinalRecord;
    expect(onDisk).toEqual(JSON.parse(toJson(cli)));
    // Every field of the record, recursively, is there in both (the metrics' module alignment and Q definitions included).
    const shape = (x: unknown): unknown =>
      Array.isArray(x)
        ? 'array'
        : x && typeof x === 'object'
          ? Object.fromEntries(
              Object.entries(x)
                .map(([k, v]) => [k, shape(v)])
                .sort(),
            )
          : typeof x;
    const apartFrom = (r: FinalRecord) => {
      const { timings: _t, code: _c, backend: _b, finishedAt: _f, ...rest } = r;
      return rest;
    };
    expect(shape(apartFrom(pageRecord!))).toEqual(shape(apartFrom(onDisk)));
    for (const k of ['schema', 'id', 'spec', 'n', 'protocol', 'status', 'epochs', 'steps'] as const) expect(pageRecord![k], k).toEqual(onDisk[k]);
    expect(pageRecord!.metrics!.module_alignment).toBeDefined();
  }, 240_000);

  it('pauses, resumes and stops a training run', async () => {
    await page.goto(`${url}#train`);
    await page.fill('#t-steps', '40');
    await page.click('#train-start');
    const steps = () => page.evaluate(() => window.workbench.run!.losses.length);
    await page.waitForFunction(() => (window.workbench.run?.losses.length ?? 0) >= 1, null, { timeout: 120_000 });
    await page.click('#train-pause');
    // The step in flight finishes; then nothing moves until Resume.
    await page.waitForFunction(() => /paused/.test(document.querySelector('#train-status')!.textContent!), null, { timeout: 60_000 });
    const held = await steps();
    await page.waitForTimeout(3000);
    expect(await steps()).toBe(held);
    expect(await page.textContent('#train-pause')).toBe('Resume');
    await page.click('#train-pause');
    await page.waitForFunction((n) => window.workbench.run!.losses.length > n, held, { timeout: 60_000 });
    await page.click('#train-stop');
    await page.waitForFunction(() => window.workbench.run!.done, null, { timeout: 60_000 });
    const run = (await page.evaluate(() => window.workbench.run))!;
    expect(run.error).toBe('stopped');
    expect(run.losses.length).toBeLessThan(40);
    expect(await page.textContent('#train-status')).toMatch(/^stopped after \d+ steps$/);
    expect(await page.isEnabled('#train-start')).toBe(true);
    // The stopped run's last W_rec stays downloadable, named by the run's key; there is no record.
    const last = run.epochs.at(-1);
    expect(await page.isEnabled('#dl-weights')).toBe(true);
    expect(await page.textContent('#dl-weights')).toBe(last ? `⤓ W_rec, epoch ${last.epoch} (.npy)` : '⤓ W_rec, initial (.npy)');
    const [d] = await Promise.all([page.waitForEvent('download'), page.click('#dl-weights')]);
    expect(d.suggestedFilename()).toBe(`${run.key}.${last ? `W_rec_epoch${String(last.epoch).padStart(2, '0')}.npy` : 'W_rec_init.npy'}`);
    const w = parseNpy(new Uint8Array(readFileSync((await d.path())!)));
    expect(w.shape[0]).toBe(w.shape[1]);
    expect(await page.isDisabled('#dl-final')).toBe(true);
  }, 240_000);

  it('renders the 3D connectome with WebGPU (a frame that is not blank)', async () => {
    await page.goto(`${url}#connectome`);
    await page.waitForFunction(() => /modules of its W_rec/.test(document.querySelector('#c3-status')?.textContent ?? ''), null, { timeout: 60_000 });
    const stats = await page.evaluate(() => window.workbench.frameStats!());
    expect(stats.width).toBeGreaterThan(100);
    // Mostly background, with coloured neurons and lines: the pixels vary.
    expect(stats.variance).toBeGreaterThan(20);
    expect(stats.mean).toBeLessThan(254);
    // The view starts facing the imaging plane (looking down the depth axis from the pia), with
    // a scale bar of a round length in µm, and a legend of the modules whose counts make up N.
    const overlay = () => page.$eval('#c3-overlay', (c) => ({ ...(c as HTMLCanvasElement).dataset }));
    const round = (um: number) => [1, 2, 5].some((m) => Math.abs(um / 10 ** Math.floor(Math.log10(um) + 1e-9) - m) < 1e-9);
    const plane = await overlay();
    expect(plane.view).toBe('imaging-plane');
    expect(plane.depthLabel).toMatch(/into the screen, seen from the pia/);
    expect(round(Number(plane.scaleUm)), plane.scaleUm).toBe(true);
    expect(Number(plane.scalePx)).toBeCloseTo(Number(plane.scaleUm) / Number(plane.umPerPx), 6);
    expect(Number(plane.scalePx)).toBeGreaterThan(60);
    expect(Number(plane.scalePx)).toBeLessThanOrEqual(150 + 1e-6);
    const counts = await page.$$eval('#c3-legend li', (lis) => lis.map((li) => Number((li as HTMLElement).dataset.count)));
    expect(counts.length).toBeGreaterThan(1);
    expect(counts.length).toBeLessThanOrEqual(9);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(70);
    expect(await page.getAttribute('#c3-legend', 'data-n')).toBe('70');
    expect(await page.textContent('#c3-legend')).toMatch(/module \d+: \d+ neurons/);
    // Drag to rotate, wheel to zoom: the frame changes and stays drawn.
    const box = (await page.locator('#c3-canvas').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 + 120, box.y + box.height / 2 + 40, { steps: 4 });
    await page.mouse.up();
    await page.mouse.wheel(0, -300);
    const after = await page.evaluate(() => window.workbench.frameStats!());
    expect(after.variance).toBeGreaterThan(20);
    expect(after.mean).not.toBe(stats.mean);
    // Zoomed in: fewer µm per pixel, and the scale bar a round length again.
    const zoomed = await overlay();
    expect(zoomed.view).toBe('orbit');
    expect(Number(zoomed.umPerPx)).toBeLessThan(Number(plane.umPerPx));
    expect(round(Number(zoomed.scaleUm)), zoomed.scaleUm).toBe(true);
    // The side view: depth down the screen, pia at the top, ticked in µm.
    await page.click('#c3-view-side');
    const side = await overlay();
    expect(side.view).toBe('side');
    expect(side.depthLabel).toBe('depth y (µm)');
    const depthTicks = niceTicks(side.depthTicks);
    const ys = await page.evaluate(async () => {
      const text = await (await fetch('data/microns-fields/5_3_4/neurons.csv')).text();
      return text
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => (Number(l.split(',')[5]) * 4) / 1000);
    });
    expect(depthTicks[0]).toBeGreaterThanOrEqual(Math.min(...ys) - 1e-9);
    expect(depthTicks.at(-1)).toBeLessThanOrEqual(Math.max(...ys) + 1e-9);
    await page.screenshot({ path: join(OUT, 'connectome-side.png') });
    await page.click('#c3-view-plane');
    expect((await overlay()).view).toBe('imaging-plane');
    await page.screenshot({ path: join(OUT, 'connectome.png') });
  }, 120_000);

  it("shows a committed run's test accuracy exactly as its final.json has it, and the report's Table 2", async () => {
    await page.goto(`${url}#results`);
    await page.waitForSelector('#res-list[data-ready="1"]', { timeout: 60_000 });
    const rel = 'runs/corrected/5_3_4/gonogo/WsDsC/seed-2';
    const final = JSON.parse(readFileSync(join(RESULTS, rel, 'final.json'), 'utf8')) as FinalRecord;
    await page.click(`#res-list li[data-run="${final.id}"]`);
    await page.waitForFunction((id) => document.querySelector('#res-run-title')?.textContent === id, final.id);
    await page.waitForSelector(`#res-wrec[data-shown*="${rel}/W_rec_"]`);
    expect(await page.textContent('#res-test-acc')).toBe(String(final.accuracy!.test));
    // the trained weights are shown first (the initial ones come first in the list), and only
    // they can be drawn by the recorded modules in 3D
    const options = await page.$$eval('#res-epoch option', (os) => os.map((o) => o.textContent));
    const epochs = readdirSync(join(RESULTS, rel))
      .filter((f) => /^W_rec_epoch\d+\.npy$/.test(f))
      .sort();
    expect(existsSync(join(RESULTS, rel, 'W_rec_init.npy'))).toBe(true);
    expect(options).toEqual(['W_rec_init', ...epochs.map((f) => f.slice(0, -4))]);
    expect(await page.$eval('#res-epoch', (s) => (s as HTMLSelectElement).value)).toMatch(new RegExp(`/${epochs.at(-1)}$`));
    expect(await page.$eval('#res-3d', (b) => (b as HTMLButtonElement).disabled)).toBe(false);
    await page.selectOption('#res-epoch', { label: 'W_rec_init' });
    await page.waitForSelector('#res-wrec[data-shown$="W_rec_init.npy"]');
    expect(await page.$eval('#res-3d', (b) => (b as HTMLButtonElement).disabled)).toBe(true);
    // Each epoch's map on the run's one colour scale: the initial W_rec's 99th percentile of off-diagonal |w|.
    const bar = () => page.$eval('#res-wrec-bar', (b) => [Number((b as HTMLElement).dataset.min), Number((b as HTMLElement).dataset.max)]);
    const initBar = await bar();
    const init = toFloat64(parseNpy(new Uint8Array(readFileSync(join(RESULTS, rel, 'W_rec_init.npy')))));
    expect(initBar).toEqual([-p99OffDiagonal(init, final.n), p99OffDiagonal(init, final.n)]);
    await page.selectOption('#res-epoch', { label: epochs.at(-1)!.slice(0, -4) });
    await page.waitForSelector(`#res-wrec[data-shown$="${epochs.at(-1)}"]`);
    expect(await page.$eval('#res-3d', (b) => (b as HTMLButtonElement).disabled)).toBe(false);
    expect(await bar()).toEqual(initBar);
    expect(await page.textContent('#res-wrec-scale')).toMatch(/the 99th percentile of the initial W_rec's off-diagonal \|w\|/);
    // The learning curves: labelled axes, whole epochs, Go/NoGo's chance level.
    const curve = await page.$eval('#res-curve', (c) => ({ ...(c as HTMLCanvasElement).dataset }));
    expect([curve.xLabel, curve.yLabel, curve.chance]).toEqual(['epoch', 'accuracy', '0.5']);
    expect(niceTicks(curve.xTicks, true)).toEqual([1, 2, 3]);
    // Table 2 and the metrics, cell by cell, as `cortical-rnn report` writes them.
    const report = buildReport(loadSweepDir(RESULTS));
    for (const id of ['table2-5_3_4-corrected', 'metrics-5_3_4-corrected-gonogo']) {
      const cells = (html: string) => [...html.matchAll(/<t[dh][^>]*>(.*?)<\/t[dh]>/g)].map((m) => m[1]);
      const inReport = new RegExp(`<table id="${id}"[^>]*>.*?</table>`).exec(report.html)![0];
      const inPage = await page.$eval(`[id="${id}"]`, (t) => t.outerHTML);
      expect(cells(inPage)).toEqual(cells(inReport));
    }
    // The folder's report.html is linked, and is there.
    expect(await page.isVisible('#res-report-link')).toBe(true);
    const reportHref = await page.getAttribute('#res-report-link', 'href');
    expect(reportHref).toBe('results/report.html');
    expect((await page.request.get(new URL(reportHref!, url).href)).status()).toBe(200);
    // Each table downloads as CSV: one header row, then the page's cells, row by row.
    for (const id of ['table2-5_3_4-corrected', 'metrics-5_3_4-corrected-gonogo']) {
      const [d] = await Promise.all([page.waitForEvent('download'), page.click(`button.csv[data-table="${id}"]`)]);
      expect(d.suggestedFilename()).toBe(`results.${id}.csv`);
      const csv = parseCsv(readFileSync((await d.path())!, 'utf8'), d.suggestedFilename());
      const shown = await page.$$eval(`[id="${id}"] tbody tr`, (trs) =>
        trs.map((tr) => Array.from(tr.children, (c) => c.textContent!.replace(/\s+/g, ' ').trim())),
      );
      expect(csv.rows).toEqual(shown);
      expect(csv.header[0]).toBe('variant');
      expect(csv.header).toHaveLength(shown[0]!.length);
      if (id.startsWith('table2')) expect(csv.header.slice(1)).toEqual(['gonogo · test accuracy', 'gonogo · paper accuracy', 'gonogo · runs (diverged)']);
    }
    // Ticked runs overlaid on one chart: a series each, named by run id, with the chance line.
    const ids = (await page.$$eval('#res-list li', (lis) => lis.map((li) => (li as HTMLElement).dataset.run!))).slice(0, 3);
    for (const id of ids) await page.check(`#res-list li[data-run="${id}"] input[type=checkbox]`);
    await page.waitForFunction(() => document.querySelector('#res-cmp')?.getAttribute('data-runs') === '3');
    const overlay = async () => page.$eval('#res-cmp', (c) => ({ ...(c as HTMLCanvasElement).dataset }));
    const cmp = await overlay();
    expect(JSON.parse(cmp.series!)).toEqual(ids);
    expect([cmp.xLabel, cmp.yLabel, cmp.chance]).toEqual(['epoch', 'validation accuracy', '0.5']);
    niceTicks(cmp.xTicks, true);
    await page.selectOption('#res-cmp-metric', 'loss');
    await page.waitForFunction(() => document.querySelector('#res-cmp')?.getAttribute('data-y-label') === 'training loss (epoch mean)');
    expect((await overlay()).chance).toBe('');
    niceTicks((await overlay()).yTicks);
    await page.selectOption('#res-cmp-metric', 'val');
    await page.waitForFunction(() => document.querySelector('#res-cmp')?.getAttribute('data-y-label') === 'validation accuracy');
    await page.screenshot({ path: join(OUT, 'results.png'), fullPage: true });
  }, 120_000);

  it('fits a laptop screen and a large monitor, and loads nothing from outside its server', async () => {
    for (const view of ['train', 'connectome', 'results', 'adapter']) {
      for (const [width, height] of [
        [1280, 720],
        [2560, 1440],
      ]) {
        await page.setViewportSize({ width: width!, height: height! });
        await page.goto(`${url}#${view}`);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        expect(overflow, `${view} at ${width}×${height}`).toBeLessThanOrEqual(0);
      }
    }
    await page.setViewportSize({ width: 1280, height: 820 });
    expect(requested.length).toBeGreaterThan(10);
    expect(requested.filter((u) => !u.startsWith(url) && !/^(data|blob):/.test(u))).toEqual([]);
  });
});

describe.skipIf(!haveChromium)('the workbench training on the server', () => {
  /** A served workbench with the API (on Node's adapter) into a fresh results folder, and a Chromium page on its Train view. */
  async function onServer(token: string | null) {
    const results = join(mkdtempSync(join(tmpdir(), 'crnn-browser-api-')), 'results');
    const server = await startApiServer({ dataDir: DATA, results, webDir: resolve('dist/web'), token });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1280, height: 820 } });
    const close = async () => {
      await browser.close();
      await server.close();
    };
    try {
      await page.goto(`${server.origin}/#train`);
      await page.waitForSelector('body[data-ready="1"]', { timeout: 120_000 });
    } catch (e) {
      await close();
      throw e;
    }
    return { results, server, page, close };
  }

  it("submits through the API, draws the live curves from the run's events, and keeps the record the server wrote", async () => {
    const { results, server, page, close } = await onServer(null);
    try {
      await page.waitForFunction(() => !(document.querySelector('#t-where') as HTMLSelectElement).options[1]!.disabled, null, { timeout: 60_000 });
      await page.selectOption('#t-field', SPEC.field);
      await page.selectOption('#t-task', SPEC.task);
      await page.selectOption('#t-variant', SPEC.variant);
      await page.selectOption('#t-mode', SPEC.mode);
      await page.fill('#t-seed', String(SPEC.seed));
      for (const [k, v] of Object.entries(KNOBS)) await page.fill(`#t-${k}`, String(v));
      await page.selectOption('#t-where', 'the server');
      await page.click('#train-start');
      await page.waitForFunction(() => window.workbench.run?.done, null, { timeout: 280_000 });
      const run = (await page.evaluate(() => window.workbench.run))!;
      expect(run.error).toBeNull();
      expect(run.losses).toHaveLength(STEPS);
      expect(run.ces).toHaveLength(STEPS);
      expect(run.regs).toHaveLength(STEPS);
      expect(run.epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
      expect(run.weights).toEqual(['initial', 'epoch 1', 'epoch 2', 'epoch 3', 'trained']);
      expect(await page.getAttribute('#plot-acc', 'data-chance')).toBe('0.5');
      expect(await page.getAttribute('#dl-final', 'data-file')).toBe(`${KEY}.final.json`);
      expect(await page.getAttribute('#dl-weights', 'data-file')).toBe(`${KEY}.params_final.W_rec.npy`);
      // the record the page shows is the one the server wrote, trained on Node's adapter, not the browser's
      const onDisk = JSON.parse(readFileSync(join(results, 'runs/corrected/5_3_4/gonogo/WsDsC/seed-1/final.json'), 'utf8'));
      expect(run.record).toEqual(onDisk);
      expect(onDisk.backend).toBe((await server.engine()).describe());
      expect(await page.textContent('#train-status')).toMatch(/^done: test accuracy .* on the server \(/);
      await page.screenshot({ path: join(OUT, 'train-server.png') });
    } finally {
      await close();
    }
  }, 300_000);

  it("asks for the API's bearer token, refuses a wrong one, and trains on the server with the right one", async () => {
    const token = 'browser-test-token-0123456789';
    const { page, close } = await onServer(token);
    try {
      await page.waitForSelector('#t-token-label:not([hidden])', { timeout: 60_000 });
      const serverOption = () => page.$eval('#t-where', (s) => (s as HTMLSelectElement).options[1]!.disabled);
      expect(await serverOption()).toBe(true);
      await page.fill('#t-token', 'wrong-token-0123456789');
      await page.dispatchEvent('#t-token', 'change');
      await page.waitForFunction(() => /refused this token/.test(document.querySelector('#train-status')!.textContent ?? ''));
      expect(await serverOption()).toBe(true);
      await page.fill('#t-token', token);
      await page.dispatchEvent('#t-token', 'change');
      await page.waitForFunction(() => !(document.querySelector('#t-where') as HTMLSelectElement).options[1]!.disabled);
      for (const [k, v] of Object.entries(KNOBS)) await page.fill(`#t-${k}`, String(v));
      await page.selectOption('#t-where', 'the server');
      await page.click('#train-start');
      await page.waitForFunction(() => window.workbench.run?.done, null, { timeout: 280_000 });
      const run = (await page.evaluate(() => window.workbench.run))!;
      expect(run.error).toBeNull();
      expect(run.record!.status).toBe('ok');
      expect(await page.evaluate(() => sessionStorage.getItem('cortical-rnn-token'))).toBe(token);
    } finally {
      await close();
    }
  }, 300_000);
});
