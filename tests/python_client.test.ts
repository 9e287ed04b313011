/**
 * The Python client (clients/python): installed offline into a fresh venv, then its unittest
 * suite run against a real `cortical-rnn serve`. Without a Python that has venv, pip and
 * setuptools the suite is skipped, unless CORTICAL_RNN_REQUIRE_SERVICES=1 (CI), which fails it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const PYTHON = '/usr/bin/python3';
const INSTALL = 'bash scripts/install-system.sh --services';
const DATA = resolve(process.env.CORTICAL_RNN_DATA ?? '../shared/data');
const required = process.env.CORTICAL_RNN_REQUIRE_SERVICES === '1';

// `python3 -m venv` puts pip into the venv through ensurepip and its wheel (Debian's python3-venv).
const havePython = spawnSync(PYTHON, ['-c', 'import venv, setuptools, ensurepip; assert ensurepip.version()'], { timeout: 30_000 }).status === 0;
if (!havePython && required)
  throw new Error(`CORTICAL_RNN_REQUIRE_SERVICES=1 but ${PYTHON} lacks venv, pip or setuptools for the Python client tests (${INSTALL})`);
if (!havePython) console.warn(`[python_client.test] ${PYTHON} lacks venv, pip or setuptools: Python client tests skipped (${INSTALL})`);

/** Runs a command to its end without blocking the worker: exit status and stdout + stderr together. */
function run(cmd: string, args: string[], env: Record<string, string> = {}, timeoutMs = 300_000): Promise<{ code: number | null; out: string }> {
  return new Promise((ok) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      ok({ code, out });
    });
  });
}

describe.skipIf(!havePython)('the Python client', () => {
  const dir = mkdtempSync(join(tmpdir(), 'crnn-pyclient-venv-'));
  const venv = join(dir, 'venv');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('installs offline into a venv and passes its tests against a real server', { timeout: 600_000 }, async () => {
    const made = await run(PYTHON, ['-m', 'venv', '--system-site-packages', venv]);
    expect(made.code, made.out).toBe(0);
    const pip = await run(join(venv, 'bin', 'pip'), ['install', '--no-index', '--no-build-isolation', './clients/python'], {
      PIP_DISABLE_PIP_VERSION_CHECK: '1',
    });
    expect(pip.code, pip.out).toBe(0);
    const env = { CORTICAL_RNN_DATA: DATA, CORTICAL_RNN_ROOT: resolve('.'), NODE: process.execPath, PYTHONDONTWRITEBYTECODE: '1' };
    const tests = await run(join(venv, 'bin', 'python'), ['-m', 'unittest', 'discover', '-s', 'clients/python/tests', '-v'], env, 540_000);
    expect(tests.code, tests.out).toBe(0);
    expect(tests.out).toMatch(/Ran \d+ tests/);
    expect(tests.out).toMatch(/\nOK/);
  });
});
