/**
 * Once, before any test file: names the adapter the tests run on, and starts the services the
 * suite needs wherever they are installed, so that `npm test` alone runs everything the machine
 * can run. Redis and the one-node Slurm come from scripts/services.sh (stopped again at the end);
 * Chromium is launched by the browser suite itself. What is missing is named in one line with the
 * command that installs it, and its tests skip (or fail, under the CORTICAL_RNN_REQUIRE_* flags).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGpuContext } from '../../engine/engine.ts';
import { nodePlatform } from '../../engine/node.ts';

const say = (line: string) => console.log(`[cortical-rnn tests] ${line}`);
const installed = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;

async function nameAdapter(): Promise<void> {
  const required = process.env.CORTICAL_RNN_REQUIRE_GPU === '1';
  const ctx = await createGpuContext(nodePlatform, { requireGpu: required });
  if (!ctx) {
    if (required) throw new Error('CORTICAL_RNN_REQUIRE_GPU=1 but no WebGPU adapter was found');
    say('no WebGPU adapter: GPU tests will be skipped (set CORTICAL_RNN_REQUIRE_GPU=1 to fail instead)');
    return;
  }
  say(`WebGPU adapter: ${ctx.describe()}`);
  say(`features: ${ctx.summary.features.join(', ')}`);
  ctx.destroy();
}

/** `export KEY=value` lines of the services' env file, into this process (the test workers inherit it). */
function loadServiceEnv(file: string): void {
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^export ([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) process.env[m[1]!] = m[2]!;
  }
}

/**
 * Redis and Slurm through scripts/services.sh, unless the caller started them already
 * (CORTICAL_RNN_TEST_REDIS set). Returns how to stop what it started, or null.
 */
function startServices(): (() => void) | null {
  if (process.env.CORTICAL_RNN_TEST_REDIS) {
    say(`services: using Redis at ${process.env.CORTICAL_RNN_TEST_REDIS} and SLURM_CONF=${process.env.SLURM_CONF ?? '(unset)'} as given`);
    return null;
  }
  const missing = ['redis-server', 'munged', 'slurmctld', 'slurmd', 'sbatch'].filter((b) => !installed(b));
  if (missing.length) {
    say(`services: ${missing.join(', ')} not installed: the queue and Slurm tests skip (install: sudo bash scripts/install-system.sh --services)`);
    return null;
  }
  if (process.getuid?.() !== 0) {
    say(
      'services: starting munge and Slurm needs root: the queue and Slurm tests skip (run the tests as root, or start them: sudo bash scripts/services.sh start, then . /tmp/cortical-rnn-services/env)',
    );
    return null;
  }
  const root = process.env.CORTICAL_RNN_SERVICES ?? '/tmp/cortical-rnn-services';
  // Services another run started (a second `npm test` at the same time) are used, and left to it.
  const port = process.env.CORTICAL_RNN_REDIS_PORT ?? '6390';
  const running = spawnSync('redis-cli', ['-p', port, 'ping'], { encoding: 'utf8' }).stdout?.trim() === 'PONG' && existsSync(join(root, 'env'));
  if (running) {
    loadServiceEnv(join(root, 'env'));
    say(`services: using the Redis and Slurm already running (${root}/env), left running at the end`);
    return null;
  }
  const start = spawnSync('bash', ['scripts/services.sh', 'start'], { encoding: 'utf8', env: { ...process.env, CORTICAL_RNN_SERVICES: root } });
  if (start.status !== 0 || !existsSync(join(root, 'env'))) {
    const why = (start.stderr || start.stdout).trim().split('\n').at(-1) ?? `exit ${start.status}`;
    say(`services: scripts/services.sh start failed (${why}): the queue and Slurm tests skip`);
    return null;
  }
  loadServiceEnv(join(root, 'env'));
  say(`services: started Redis at ${process.env.CORTICAL_RNN_TEST_REDIS} and Slurm (${process.env.SLURM_CONF})`);
  return () => {
    spawnSync('bash', ['scripts/services.sh', 'stop'], { stdio: 'ignore', env: { ...process.env, CORTICAL_RNN_SERVICES: root } });
  };
}

function nameBrowser(): void {
  const chromium = process.env.CORTICAL_RNN_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(chromium)) say(`browser: no Chromium at ${chromium}: the browser tests skip (install: sudo bash scripts/install-system.sh --browser)`);
}

export default async function setup(): Promise<() => void> {
  await nameAdapter();
  nameBrowser();
  const stop = startServices();
  return () => stop?.();
}
