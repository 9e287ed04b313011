#!/usr/bin/env node
// Runs the TypeScript sources through tsx in a development checkout (tsx is a dev dependency),
// else the compiled CLI of an installed package (dist/).
//
// Dawn prints two warnings about its own binding limits to stderr when it creates an adapter,
// from native code, on every command. They say nothing to a user, so unless --verbose (or
// DEBUG=cortical-rnn) the CLI runs in a child process whose stderr passes through a filter
// that drops exactly those lines; everything else, progress bars included, passes unchanged.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const DAWN_NOISE =
  /^Warning: maxDynamic(Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.\r?\n/gm;
const verbose = process.argv.includes('--verbose') || /(^|,)cortical-rnn(,|$)/.test(process.env.DEBUG ?? '');

if (!verbose && process.env.CORTICAL_RNN_FILTERED !== '1') {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: ['inherit', 'inherit', 'pipe'],
    env: {
      ...process.env,
      CORTICAL_RNN_FILTERED: '1',
      CORTICAL_RNN_FILTER_PID: String(process.pid),
      CORTICAL_RNN_STDERR_TTY: process.stderr.isTTY ? '1' : '0',
    },
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    const rest = chunk.replace(DAWN_NOISE, '');
    if (rest) process.stderr.write(rest);
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('close', (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
} else {
  if (process.env.CORTICAL_RNN_FILTER_PID && process.env.CORTICAL_RNN_FILTER_PID === String(process.ppid)) {
    // The filtering parent forwards signals; if it dies without one (kill -9), end as it did
    // rather than run on orphaned (a queue worker's jobs then go back to the queue).
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL');
    }, 500).unref();
  }
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const source = join(root, 'cli', 'main.ts');
  let tsx = null;
  try {
    tsx = createRequire(import.meta.url).resolve('tsx/esm/api');
  } catch {
    // not a development checkout
  }
  if (tsx && existsSync(source)) {
    const { register } = await import(pathToFileURL(tsx).href);
    register();
    await import(pathToFileURL(source).href);
  } else {
    await import(pathToFileURL(join(root, 'dist', 'cli', 'main.js')).href);
  }
}
