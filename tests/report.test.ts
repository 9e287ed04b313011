/**
 * The report: a tiny sweep in both modes (plus positive-only runs and one forced divergence),
 * then `report`: sections, Table 2 / Table 3, metrics, tests, well-formed SVG figures, the
 * paper-vs-corrected section, and numbers that agree with the runs' final.json files.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../engine/cpu/backend.ts';
import type { Backend } from '../engine/tensor.ts';
import { PAPER_PROTOCOL, type Protocol } from '../experiments/protocol.ts';
import { sweep } from '../experiments/sweep.ts';
import { runOne, readRunRecord } from '../experiments/run.ts';
import { buildReport, loadSweepDir, writeReport } from '../experiments/report.ts';
import { parseVariantList } from '../experiments/variants.ts';
import { encodePng } from '../experiments/svg.ts';
import { hasAdapter, useGpu } from './helpers/gpu.ts';

const DATA = '../shared/data';
const haveData = existsSync(join(DATA, 'microns-fields', '5_3_4'));
const tmp = mkdtempSync(join(tmpdir(), 'cortical-rnn-report-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const cpu = new CpuBackend('f64');
const gpu = useGpu();
const backend = (): Backend => (hasAdapter ? gpu.get() : cpu);
const TINY: Protocol = { ...PAPER_PROTOCOL, epochs: 3, splits: { train: 256, test: 128, val: 128 }, nNull: 20, nMatched: 3 };

/**
 * A small XML well-formedness check: every tag closes in order, attributes are quoted, no raw
 * '<' or '&' outside entities. Returns the first problem, or null.
 */
function xmlProblem(xml: string): string | null {
  const stack: string[] = [];
  const re = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!\[CDATA\[[\s\S]*?\]\]>/g;
  let last = 0;
  let m: RegExpExecArray | null;
  const text = (s: string) => {
    if (s.includes('<')) return `raw '<' in text: ${s.slice(0, 60)}`;
    if (/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(s)) return `bare '&' in text: ${s.slice(0, 60)}`;
    return null;
  };
  while ((m = re.exec(xml))) {
    const t = text(xml.slice(last, m.index));
    if (t) return t;
    last = re.lastIndex;
    if (!m[2]) continue; // comment, PI, CDATA
    const [, close, name, , self] = m;
    if (close) {
      const open = stack.pop();
      if (open !== name) return `</${name}> closes <${open}>`;
    } else if (!self) stack.push(name!);
  }
  const t = text(xml.slice(last));
  if (t) return t;
  if (stack.length) return `unclosed <${stack.join('>, <')}>`;
  return null;
}

describe('xml checker', () => {
  it('accepts well-formed and rejects broken markup (so the report checks can fail)', () => {
    expect(xmlProblem('<svg a="1"><g><circle r="2"/></g><text>a &amp; b</text></svg>')).toBeNull();
    expect(xmlProblem('<svg><g></svg>')).toMatch(/closes/);
    expect(xmlProblem('<svg><text>a & b</text></svg>')).toMatch(/bare '&'/);
    expect(xmlProblem('<svg><rect x=1/></svg>')).not.toBeNull();
  });
  it('PNG encoder writes a valid signature and IHDR', () => {
    const png = encodePng(2, 1, Uint8Array.of(255, 0, 0, 0, 0, 255));
    expect(Array.from(png.subarray(0, 8))).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    expect(String.fromCharCode(...png.subarray(12, 16))).toBe('IHDR');
    expect(new DataView(png.buffer).getUint32(16)).toBe(2);
  });
});

describe('report of a tiny sweep', { skip: !haveData }, () => {
  const out = join(tmp, 'sweep');
  beforeAll(async () => {
    const base = { out, dataDir: DATA, backend: backend(), protocol: TINY, field: '5_3_4', tasks: ['gonogo'], seeds: [1, 2], quiet: true };
    await sweep({ ...base, variants: parseVariantList('W,W*D*C,W*D*C*'), modes: ['paper', 'corrected'], positive: false });
    await sweep({ ...base, variants: parseVariantList('W*D*C'), seeds: [1], modes: ['corrected'], positive: true });
    // one diverging run in the positive-only table (forced with a huge learning rate)
    await runOne(
      { field: '5_3_4', task: 'gonogo', variant: 'W', seed: 1, mode: 'corrected', positive: true },
      {
        dataDir: DATA,
        backend: backend(),
        protocol: { ...TINY, lr: 1e30 },
        dir: join(out, 'runs', 'corrected-positive', '5_3_4', 'gonogo', 'W', 'seed-1'),
        progress: { quiet: true },
      },
    );
  }, 600_000);

  it('has every section, Table 2 per mode, Table 3, metrics, tests, figures and the mode comparison', async () => {
    const r = await writeReport(out);
    const html = readFileSync(r.html, 'utf8');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    for (const id of ['settings', 'table2', 'table3', 'metrics', 'significance', 'figures', 'claims', 'mode-comparison']) {
      expect(html, id).toContain(`<section id="${id}">`);
    }
    expect(html).toMatch(/Modes: corrected and paper\./);
    // the claims, paper and corrected mode side by side, each row with its seeds and verdict
    expect(html).toMatch(/<th colspan="5">5_3_4, paper mode<\/th><th colspan="5">5_3_4, corrected mode<\/th>/);
    expect(html).toMatch(/Fully constrained networks beat the baseline W \(gonogo\)/);
    expect(html).toMatch(/class="verdict (holds|consistent-not-decided|undecided|against-not-decided|does-not-hold)"/);
    const claims = (r.report.json as { claims: Record<string, { id: string; seeds: number; leftOut: unknown[] }[]> }).claims;
    expect(Object.keys(claims).sort()).toEqual(['5_3_4-corrected', '5_3_4-paper']);
    // positive-only ran W*D*C but not W*D*C*: the claim names its seed as left out, and why
    expect(claims['5_3_4-corrected']!.find((c) => c.id === 'positive-retained')!.leftOut).toEqual([{ seed: 1, why: 'run missing' }]);
    expect(html).toContain('left out: seed 1 (run missing)');
    expect(claims['5_3_4-paper']!.find((c) => c.id === 'full-vs-W-gonogo')!.seeds).toBe(2);
    for (const id of [
      'table2-5_3_4-corrected',
      'table2-5_3_4-paper',
      'table3-5_3_4-corrected-positive',
      'mode-comparison-5_3_4',
      'metrics-5_3_4-corrected-gonogo',
      'significance-5_3_4-corrected-mannwhitney',
    ]) {
      expect(html, id).toContain(`id="${id}"`);
    }
    for (const h of [
      'Q (CNM)',
      'σ (paper null)',
      'σ (degree-matched null)',
      'entropy (KDE, bits)',
      'test accuracy',
      'paper accuracy',
      'p (Holm)',
      'Kruskal–Wallis',
    ])
      expect(html).toContain(h);
    // Table 2 rows: one per variant
    const t2 = html.slice(html.indexOf('id="table2-5_3_4-corrected"'), html.indexOf('</table>', html.indexOf('id="table2-5_3_4-corrected"')));
    expect(t2.match(/<th scope="row">/g)).toHaveLength(3);
    expect(t2).toContain('W*D*C');
    // Table 3 counts the diverged positive-only run
    const t3 = html.slice(html.indexOf('id="table3-5_3_4-corrected-positive"'), html.indexOf('</table>', html.indexOf('id="table3-5_3_4-corrected-positive"')));
    expect(t3).toMatch(/1 diverged, steps \d+/);
    // SVG figures: learning curves, a heat map (with an embedded PNG), a 3D scatter; all well-formed
    const svgs = html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    expect(svgs.length).toBeGreaterThanOrEqual(3 * 3); // 3 groups × (curves + heat map + scatter)
    for (const s of svgs) expect(xmlProblem(s)).toBeNull();
    expect(svgs.some((s) => s.includes('data:image/png;base64,') && s.includes('units sorted by CNM module'))).toBe(true);
    const scatter = svgs.find((s) => s.includes('coloured by module'))!;
    expect(scatter).toBeDefined();
    expect(scatter.match(/<circle /g)!.length).toBeGreaterThanOrEqual(70);
    expect(svgs.some((s) => s.includes('Learning curves'))).toBe(true);
    // the whole document is well-formed too (modulo the doctype and void meta tag)
    expect(
      xmlProblem(
        html
          .replace('<!DOCTYPE html>', '')
          .replace(/<meta charset="utf-8">/, '')
          .replace(/<br>/g, '<br/>'),
      ),
    ).toBeNull();
  });

  it("report.json's numbers agree with the runs' final.json files", () => {
    const data = loadSweepDir(out);
    expect(data.runs).toHaveLength(3 * 2 * 2 + 1 + 1);
    const built = buildReport(data);
    type Cell = { n: number; diverged: number; test: { mean: number } | null; paper: { mean: number } | null };
    const j = built.json as { summary: unknown; modeComparison: unknown[] } & Record<string, Record<string, Record<string, Cell>>>;
    expect(j.summary).toMatchObject({ runs: 14, diverged: 1, modes: ['corrected', 'paper'] });
    const cell = j['table2-5_3_4-paper']['W*D*C']['gonogo'];
    const finals = [1, 2].map((s) => readRunRecord(join(out, 'runs', 'paper', '5_3_4', 'gonogo', 'WsDsC', `seed-${s}`))!);
    const mean = (finals[0]!.accuracy!.test + finals[1]!.accuracy!.test) / 2;
    expect(cell.test!.mean).toBeCloseTo(mean, 12);
    expect(cell.n).toBe(2);
    expect(j['table3-5_3_4-corrected-positive']['W']['gonogo'].diverged).toBe(1);
    expect(j['table3-5_3_4-corrected-positive']['W']['gonogo'].test).toBeNull();
    expect(j.modeComparison.length).toBe(3);
  });

  it('the CLI writes the report and fails clearly on a directory without runs', async () => {
    const run = promisify(execFile);
    const r = await run('node', ['bin/cortical-rnn.js', 'report', out, '--out', join(tmp, 'cli.html')], { env: { ...process.env } });
    expect(r.stdout).toMatch(/report: 14 runs \(13 ok, 1 diverged; mode corrected, paper\)/);
    expect(existsSync(join(tmp, 'cli.html'))).toBe(true);
    expect(existsSync(join(tmp, 'cli.json'))).toBe(true);
    await expect(run('node', ['bin/cortical-rnn.js', 'report', tmp])).rejects.toMatchObject({
      stderr: expect.stringMatching(/expected finished runs \(runs\/\*\*\/final\.json\), found none/),
    });
  });
});

describe.skipIf(!haveData)('a report never averages runs of different protocols', () => {
  it('refuses a directory holding two protocols, naming how the groups differ', async () => {
    const out = join(tmp, 'mixed');
    const spec = { field: '5_3_4', task: 'gonogo', variant: 'W', mode: 'corrected' as const, positive: false };
    const tiny: Protocol = { ...TINY, epochs: 1, splits: { train: 128, test: 64, val: 64 }, nNull: 4, nMatched: 2 };
    await runOne({ ...spec, seed: 1 }, { dataDir: DATA, backend: cpu, protocol: tiny, dir: join(out, 'runs', 'a', 'seed-1'), progress: { quiet: true } });
    await runOne({ ...spec, seed: 2 }, { dataDir: DATA, backend: cpu, protocol: tiny, dir: join(out, 'runs', 'a', 'seed-2'), progress: { quiet: true } });
    await runOne(
      { ...spec, seed: 1 },
      { dataDir: DATA, backend: cpu, protocol: { ...tiny, epochs: 2, lr: 2e-3 }, dir: join(out, 'runs', 'b', 'seed-1'), progress: { quiet: true } },
    );
    expect(() => loadSweepDir(out)).toThrow(
      /mixed: expected runs of one protocol \(a report averages within it\), got 2 protocols: 2 runs with epochs 1, lr 0\.001; 1 runs with epochs 2, lr 0\.002; report each group from its own directory/,
    );
  });
});

describe.skipIf(!haveData)('one bad file does not sink a report', () => {
  it('a truncated weight file leaves its figures out, says why, and the tables are still written', async () => {
    const out = join(tmp, 'truncated');
    const tiny: Protocol = { ...TINY, epochs: 1, splits: { train: 128, test: 64, val: 64 }, nNull: 4, nMatched: 2 };
    const spec = { field: '5_3_4', task: 'gonogo', variant: 'W*D*C', mode: 'corrected' as const, positive: false };
    for (const seed of [1, 2]) {
      await runOne({ ...spec, seed }, { dataDir: DATA, backend: cpu, protocol: tiny, dir: join(out, 'runs', `seed-${seed}`), progress: { quiet: true } });
    }
    const bad = join(out, 'runs', 'seed-1', 'W_rec_epoch01.npy');
    writeFileSync(bad, readFileSync(bad).subarray(0, 100));
    const r = await writeReport(out);
    const j = JSON.parse(readFileSync(r.json, 'utf8')) as { figures: { missing?: string; networkRun: string | null }[] };
    expect(j.figures[0]!.missing).toMatch(/W_rec_epoch01\.npy/);
    const html = readFileSync(r.html, 'utf8');
    expect(html).toMatch(/W_rec figures not drawn: .*W_rec_epoch01\.npy/);
    expect(html).toMatch(/W\*D\*C/); // the tables are there
    // without seed 1's weights, seed 2 (which has them) is drawn instead
    rmSync(bad);
    const again = await writeReport(out);
    const j2 = JSON.parse(readFileSync(again.json, 'utf8')) as { figures: { missing?: string; networkRun: string | null }[] };
    expect(j2.figures[0]!.missing).toBeUndefined();
    expect(j2.figures[0]!.networkRun).toMatch(/seed-2$/);
  });
});
