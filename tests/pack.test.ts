/**
 * The package as a new user gets it: built, packed with `npm pack`, installed offline into a
 * fresh folder, and the README's library example, taken from the README as written,
 * type-checked under `strict` without `skipLibCheck` and run with node. It must train, write
 * W_rec.npy, and leave Dawn's start-up notices off stderr.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNpy } from '../connectome/npy.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const DATA = resolve(process.env.CORTICAL_RNN_DATA ?? join(REPO, '../shared/data'));
const haveData = existsSync(join(DATA, 'microns-fields', '5_3_4'));
const DAWN_NOTICE = /artificially reduced|maxDynamic\w*BuffersPerPipelineLayout/;

/** Runs a command to its end without blocking the test worker; stderr goes to `stderrFd` when given. */
function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}, stderrFd?: number) {
  const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', stderrFd ?? 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => child.on('close', (code) => done({ code, stdout, stderr })));
}

/**
 * The app's package.json and lockfile: the tarball, and the repository's locked production
 * packages with their registry URLs. `npm install <tarball>` would need the registry's package
 * metadata, which `npm ci` never caches; with the URLs and integrities, npm takes every tarball
 * from its cache, offline.
 */
function writeApp(app: string, tarball: string): void {
  const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, Record<string, unknown>> };
  const root = lock.packages['']!;
  const dep = { 'cortical-rnn': `file:${tarball}` };
  const packages: Record<string, unknown> = {
    '': { name: 'app', dependencies: dep },
    'node_modules/cortical-rnn': { version: root.version, resolved: `file:${tarball}`, dependencies: root.dependencies, bin: root.bin },
  };
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (!path || entry.dev) continue;
    const name = (entry.name as string | undefined) ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    packages[path] = { resolved: `https://registry.npmjs.org/${name}/-/${name.split('/').pop()}-${entry.version}.tgz`, ...entry };
  }
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module', dependencies: dep }, null, 2));
  writeFileSync(join(app, 'package-lock.json'), JSON.stringify({ name: 'app', lockfileVersion: 3, requires: true, packages }, null, 2));
}

/** The README's library example: the ```ts block after its marker. */
function readmeExample(): string {
  const m = /<!-- library-example[^>]*-->\n```ts\n([\s\S]*?)```/.exec(readFileSync(join(REPO, 'README.md'), 'utf8'));
  if (!m) throw new Error('README.md: expected a ```ts block after <!-- library-example … -->');
  return m[1]!;
}

describe('the packed library, installed as a new user would', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'cortical-rnn-pack-'));
  const app = join(tmp, 'app');
  let packed: string[] = [];

  beforeAll(async () => {
    const build = await run('npm', ['run', 'build'], REPO);
    expect(build.code, build.stderr + build.stdout).toBe(0);
    // Scripts off: prepack would build the library again and the workbench too.
    const pack = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], REPO);
    expect(pack.code, pack.stderr).toBe(0);
    const info = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
    packed = info[0]!.files.map((f) => f.path);
    mkdirSync(app);
    writeApp(app, join(tmp, info[0]!.filename));
    // Install scripts off: offline, and neither of the two does anything on Linux.
    const install = await run('npm', ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], app);
    expect(install.code, `npm ci --offline (every dependency must be in npm's cache): ${install.stderr}`).toBe(0);
  }, 300_000);

  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('ships the compiled entry points and their declarations', () => {
    for (const entry of ['engine/index', 'engine/node', 'tasks/index', 'connectome/index', 'analysis/index', 'experiments/index']) {
      expect(packed).toContain(`dist/${entry}.js`);
      expect(packed).toContain(`dist/${entry}.d.ts`);
    }
    expect(packed).toContain('dist/experiments/trained_analysis_worker.js');
    expect(existsSync(join(app, 'node_modules', '@webgpu', 'types', 'package.json'))).toBe(true);
  });

  it.skipIf(!haveData)('the README example type-checks strictly, trains W*D*C and writes W_rec.npy, with no Dawn notices', { timeout: 300_000 }, async () => {
    writeFileSync(join(app, 'example.ts'), readmeExample());
    const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
    const flags = ['--strict', '--skipLibCheck', 'false', '--module', 'nodenext', '--noEmitOnError'];
    // TypeScript and Node's types from the repository's node_modules: nothing is downloaded.
    const check = await run(process.execPath, [tsc, ...flags, '--typeRoots', join(REPO, 'node_modules', '@types'), '--types', 'node', 'example.ts'], app);
    expect(check.code, check.stdout + check.stderr).toBe(0);

    // stderr opened for appending, as `2>>stderr.log` does: one of the streams the library can mute.
    const errFile = join(app, 'stderr.log');
    const errFd = openSync(errFile, 'a');
    const ex = await run(process.execPath, ['example.js'], app, { CORTICAL_RNN_DATA: DATA }, errFd);
    closeSync(errFd);
    const stderr = readFileSync(errFile, 'utf8');
    expect(ex.code, stderr).toBe(0);
    expect(ex.stdout).toMatch(/^test accuracy [\d.]+, modularity Q [\d.-]+$/m);
    expect(stderr).not.toMatch(DAWN_NOTICE);

    const W = parseNpy(new Uint8Array(readFileSync(join(app, 'W_rec.npy'))), 'W_rec.npy');
    expect(W.shape).toEqual([70, 70]);
    expect(W.dtype).toBe('<f8');
    const values = Array.from(W.data as Float64Array);
    expect(values.every(Number.isFinite)).toBe(true);
    const init = parseNpy(new Uint8Array(readFileSync(join(app, 'runs', 'WsDsC', 'W_rec_init.npy'))));
    expect(values.some((v, i) => Math.abs(v - (init.data as Float32Array)[i]!) > 1e-6)).toBe(true);
  });

  it("keeps Dawn's notices off a piped stderr unless verbose", { timeout: 120_000 }, async () => {
    const probe = [
      "import { createNodeBackend } from 'cortical-rnn/node';",
      "const backend = await createNodeBackend({ verbose: process.argv[2] === 'verbose' });",
      'console.log(`backend: ${backend.describe()}`);',
      'backend.destroy();',
    ];
    writeFileSync(join(app, 'probe.mjs'), probe.join('\n') + '\n');
    const quiet = await run('sh', ['-c', 'node probe.mjs 2>&1 | cat'], app);
    expect(quiet.code, quiet.stdout).toBe(0);
    expect(quiet.stdout).toMatch(/^backend: /m);
    expect(quiet.stdout).not.toMatch(DAWN_NOTICE);
    const verbose = await run('sh', ['-c', 'node probe.mjs verbose 2>&1 | cat'], app);
    expect(verbose.code, verbose.stdout).toBe(0);
    // Dawn's Vulkan adapters (llvmpipe among them) print the notices, so there the check above means something.
    if (/backend vulkan/.test(verbose.stdout)) expect(verbose.stdout).toMatch(DAWN_NOTICE);
  });
});
