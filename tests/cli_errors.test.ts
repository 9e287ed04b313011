/**
 * The command line as a user meets it when something is wrong: every failure is one line on
 * stderr naming the flag or file and what was expected (no stack trace, no driver warnings),
 * exit status 2 for usage errors and 1 for the rest; a stack trace only under --verbose.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const tmp = mkdtempSync(join(tmpdir(), 'cortical-rnn-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['bin/cortical-rnn.js', ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, lines: r.stderr.split('\n').filter((l) => l.length > 0) };
}

/** `cli` without blocking the test worker (a long spawnSync starves vitest's own messages). */
function cliAsync(args: string[]): Promise<ReturnType<typeof cli>> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/cortical-rnn.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, lines: stderr.split('\n').filter((l) => l.length > 0) });
    });
  });
}

/** [args, exit status, what the one line must say] */
const cases: [string[], number, RegExp][] = [
  [['frobnicate'], 2, /^cortical-rnn: Unknown command: frobnicate$/],
  [['train', '--task', 'gonogo'], 2, /^cortical-rnn: Missing required argument: variant$/],
  [['sweep', '--seeds', '-3', '--out', tmp], 2, /^cortical-rnn: --seeds: expected .*integer seeds ≥ 0, got "-3"$/],
  [['sweep', '--seeds', '1.5', '--out', tmp], 2, /^cortical-rnn: --seeds: expected .*, got "1\.5"$/],
  [['sweep', '--seeds', '2', '--seed-start', '-1', '--out', tmp], 2, /^cortical-rnn: --seed-start: expected an integer seed ≥ 0, got -1$/],
  [['train', '--task', 'gonogo', '--variant', 'W', '--seed', '-1', '--out', tmp], 2, /^cortical-rnn: --seed: expected an integer ≥ 0, got -1$/],
  [['train', '--task', 'gonogo', '--variant', 'W', '--out', ''], 2, /^cortical-rnn: --out: expected a path, got an empty string/],
  [['train', '--task', 'gonogo', '--variant', 'W', '--data', '', '--out', tmp], 2, /^cortical-rnn: --data: expected a path, got an empty string/],
  [['sweep', '--quick', '--train-trials', '5000000', '--out', tmp], 2, /^cortical-rnn: --train-trials: expected at most 1,000,000, got 5000000$/],
  [['sweep', '--quick', '--batch-size', '2000', '--out', tmp], 2, /^cortical-rnn: --batch-size: expected at most the training trials \(1280\), got 2000$/],
  [['train', '--task', 'gonogo', '--variant', 'W*X', '--out', tmp], 2, /^cortical-rnn: --variant: expected one of W, .*, got "W\*X"$/],
  [['sweep', '--tasks', 'gonogo,maze', '--out', tmp], 2, /^cortical-rnn: --tasks: expected one of .*, got "maze"$/],
  [['sweep', '--mode', 'both-ish', '--out', tmp], 2, /^cortical-rnn: --mode: expected 'paper', 'corrected' or 'both', got "both-ish"$/],
  [
    ['train', '--field', 'nope', '--task', 'gonogo', '--variant', 'W', '--out', tmp],
    1,
    /^cortical-rnn: \S*fields\.csv: field "nope": expected one of the 56 listed fields .*, got an unknown field$/,
  ],
  [['report', join(tmp, 'nothing-here')], 1, /^cortical-rnn: \S*nothing-here: expected a sweep directory .*, got no such directory$/],
  [['verify', join(tmp, 'missing.json')], 1, /^cortical-rnn: \S*missing\.json: expected a fixture JSON file, got no such file or directory$/],
  [['analyze', join(tmp, 'no-run')], 1, /^cortical-rnn: \S*config\.json: expected the run's config\.json, got no such file$/],
];

describe('every failure is one line, with the right exit status', () => {
  for (const [args, code, line] of cases) {
    it(`cortical-rnn ${args.map((a) => (a === '' ? "''" : a.replace(tmp, 'TMP'))).join(' ')}`, { timeout: 120_000 }, () => {
      const r = cli(args);
      expect(r.code, r.stderr).toBe(code);
      expect(r.lines, r.stderr).toHaveLength(1);
      expect(r.lines[0]).toMatch(line);
      expect(r.stderr).not.toMatch(/^\s+at /m); // no stack frames
    });
  }

  it('--verbose adds the stack trace (and the driver warnings reach stderr)', { timeout: 120_000 }, () => {
    const r = cli(['verify', join(tmp, 'missing.json'), '--verbose']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^cortical-rnn: .*missing\.json: expected a fixture JSON file/m);
    expect(r.stderr).toMatch(/^\s+at /m);
  });

  it('a successful command prints no driver warnings', { timeout: 120_000 }, () => {
    const r = cli(['info']);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/artificially reduced/);
    expect(r.stdout).toMatch(/adapter|backend/i);
  });
});

describe('results are never silently replaced', () => {
  it('train refuses to overwrite a finished run unless --overwrite, naming the run', { timeout: 300_000 }, () => {
    const out = join(tmp, 'overwrite');
    const args = ['train', '--quick', '--task', 'gonogo', '--variant', 'W', '--seed', '3', '--out', out, '--backend', 'cpu'];
    const tiny = ['--train-trials', '128', '--test-trials', '64', '--val-trials', '64', '--epochs', '1', '--n-null', '4', '--n-matched', '2'];
    const first = cli([...args, ...tiny]);
    expect(first.code, first.stderr).toBe(0);
    const again = cli([...args, ...tiny]);
    expect(again.code).toBe(1);
    expect(again.lines).toHaveLength(1);
    expect(again.lines[0]).toMatch(/final\.json: expected no finished run here, got run corrected\/5_3_4\/gonogo\/W\/seed-3 \(finished .*\); pass --overwrite/);
    const forced = cli([...args, ...tiny, '--overwrite']);
    expect(forced.code, forced.stderr).toBe(0);
  });

  it(
    'train and sweep refuse a corrupt final.json, naming it and --redo-corrupt; with --redo-corrupt they retrain it, keeping it aside',
    { timeout: 300_000 },
    async () => {
      const out = join(tmp, 'corrupt');
      const common = ['--quick', '--out', out, '--backend', 'cpu', '--train-trials', '128', '--test-trials', '64', '--val-trials', '64', '--epochs', '1'];
      const train = ['train', ...common, '--task', 'gonogo', '--variant', 'W', '--seed', '3', '--n-null', '4', '--n-matched', '2'];
      const sweep = ['sweep', ...common, '--tasks', 'gonogo', '--variants', 'W', '--seeds', '1', '--seed-start', '3', '--n-null', '4', '--n-matched', '2'];
      const first = await cliAsync(train);
      expect(first.code, first.stderr).toBe(0);
      const dir = join(out, 'runs', 'corrected', '5_3_4', 'gonogo', 'W', 'seed-3');
      const file = join(dir, 'final.json');
      const corrupt = readFileSync(file, 'utf8').slice(0, 30);
      writeFileSync(file, corrupt);
      const files = readdirSync(dir).sort();
      const refusal = `cortical-rnn: ${file}: expected a run's final record as JSON, got unparseable text (`;
      // --overwrite replaces a finished run; a corrupt one is not, and still asks for --redo-corrupt
      for (const args of [train, [...train, '--overwrite'], sweep]) {
        const r = await cliAsync(args);
        expect(r.code, r.stderr).toBe(1);
        expect(r.lines.filter((l) => l.startsWith('cortical-rnn:'))).toHaveLength(1);
        expect(r.lines.at(-1)!.startsWith(refusal), r.stderr).toBe(true);
        expect(r.lines.at(-1)).toMatch(/\); rerun with --redo-corrupt to retrain it$/);
        expect(readdirSync(dir).sort()).toEqual(files);
        expect(readFileSync(file, 'utf8')).toBe(corrupt);
      }
      const kept = () => readdirSync(dir).filter((e) => e.startsWith('final.json.corrupt-'));
      for (const [k, args] of [train, sweep].entries()) {
        writeFileSync(file, corrupt);
        const r = await cliAsync([...args, '--redo-corrupt']);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).toMatch(
          /: expected a run's final record as JSON, got unparseable text \(.*\); retraining it \(--redo-corrupt\), the corrupt file kept as \S+final\.json\.corrupt-\d{8}T\d{6}\.\d{3}Z\n/,
        );
        expect(kept()).toHaveLength(k + 1);
        for (const f of kept()) expect(readFileSync(join(dir, f), 'utf8')).toBe(corrupt);
        expect(JSON.parse(readFileSync(file, 'utf8')).status).toBe('ok');
      }
    },
  );
});
