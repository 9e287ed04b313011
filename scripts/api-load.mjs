#!/usr/bin/env node
// Measures the HTTP API on this machine, loopback only: the time from submitting a run to its
// first event, events per second delivered to 16 clients each watching its own run, and the
// API's overhead per run against `cortical-rnn train` of the same tiny run.
//
//   node scripts/api-load.mjs [--clients 16] [--steps 20] [--out FILE.json]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values: a } = parseArgs({ options: { clients: { type: 'string', default: '16' }, steps: { type: 'string', default: '20' }, out: { type: 'string' } } });
const clients = Number(a.clients);
const steps = Number(a.steps);
const data = resolve(process.env.CORTICAL_RNN_DATA ?? '../shared/data');
const root = mkdtempSync(join(tmpdir(), 'crnn-api-load-'));
const token = `load-${Date.now()}-0123456789`;
// Two steps an epoch (128 trials, batches of 64): `steps` steps take steps / 2 epochs.
const epochs = Math.ceil(steps / 2);
const protocol = { epochs, steps, trainTrials: 128, testTrials: 64, valTrials: 64, batchSize: 64, nNull: 2, nMatched: 2 };
const flags = [
  '--quick',
  '--epochs',
  String(epochs),
  '--steps',
  String(steps),
  '--train-trials',
  '128',
  '--test-trials',
  '64',
  '--val-trials',
  '64',
  '--batch-size',
  '64',
  '--n-null',
  '2',
  '--n-matched',
  '2',
];
const spec = (seed) => ({ field: '5_3_4', task: 'gonogo', variant: 'W*D*C', seed, mode: 'corrected' });

const server = spawn(
  process.execPath,
  ['bin/cortical-rnn.js', 'serve', '--port', '0', '--data', data, '--results', join(root, 'api'), '--token', token, '--max-per-client', String(clients + 2)],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
spawnSync('mkdir', ['-p', join(root, 'api')]);
const base = await new Promise((ok, fail) => {
  let out = '';
  server.stdout.on('data', (d) => {
    out += d;
    const m = /api: (http:\/\/\S+)/.exec(out);
    if (m) ok(m[1].replace(/\/$/, ''));
  });
  server.on('exit', (c) => fail(new Error(`serve exited with ${c}: ${out}`)));
});
const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
const submit = async (seed) =>
  (await fetch(`${base}/runs`, { method: 'POST', headers, body: JSON.stringify({ spec: spec(seed), preset: 'quick', protocol }) })).json();

/** Reads a submission's stream to its end: the time of each event (ms since `t0`). */
async function watch(id, t0) {
  const res = await fetch(`${base}/submissions/${id}/events`, { headers });
  const reader = res.body.getReader();
  const times = [];
  let buf = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buf += Buffer.from(value).toString('utf8');
    const parts = buf.split('\n\n');
    buf = parts.pop();
    for (const p of parts) if (p.startsWith('id:')) times.push({ at: performance.now() - t0, event: /\nevent: (\S+)/.exec(p)[1] });
  }
  return times;
}

const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
try {
  await (await fetch(`${base}/info`, { headers })).json(); // the engine starts here, not in the timings
  // 1. submit → first event, and a run's wall time through the API (5 runs, one at a time)
  const first = [];
  const apiWall = [];
  for (let seed = 1; seed <= 5; seed++) {
    const t0 = performance.now();
    const sub = await submit(seed);
    const times = await watch(sub.submission, t0);
    first.push(times[0].at);
    apiWall.push(times.at(-1).at);
  }
  // 2. 16 clients, each submitting a run and watching it to its end
  const t0 = performance.now();
  const all = await Promise.all(Array.from({ length: clients }, async (_, i) => watch((await submit(100 + i)).submission, t0)));
  const wall = (performance.now() - t0) / 1000;
  const events = all.reduce((s, t) => s + t.length, 0);
  // 2b. delivery alone: 16 clients replaying the finished streams of all 16 submissions at once
  const ids = (await (await fetch(`${base}/runs`, { headers })).json()).runs.filter((r) => r.submission).map((r) => r.submission);
  const t1 = performance.now();
  const replayed = await Promise.all(Array.from({ length: clients }, () => Promise.all(ids.map((id) => watch(id, t1)))));
  const replayWall = (performance.now() - t1) / 1000;
  const replayEvents = replayed.flat().reduce((s, t) => s + t.length, 0);
  // 3. the same tiny run through `train`, a fresh process each (its start-up included)
  const trainWall = [];
  for (let seed = 1; seed <= 5; seed++) {
    const t = performance.now();
    const r = spawnSync(
      process.execPath,
      [
        'bin/cortical-rnn.js',
        'train',
        '--data',
        data,
        '--field',
        '5_3_4',
        '--task',
        'gonogo',
        '--variant',
        'W*D*C',
        '--seed',
        String(seed),
        '--mode',
        'corrected',
        ...flags,
        '--out',
        join(root, 'cli'),
      ],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(r.stderr);
    trainWall.push(performance.now() - t);
  }
  const inRun = (dir, seed) =>
    JSON.parse(readFileSync(join(root, dir, `runs/corrected/5_3_4/gonogo/WsDsC/seed-${seed}/final.json`), 'utf8')).timings.total_s * 1000;
  const apiInRun = [1, 2, 3, 4, 5].map((s) => inRun('api', s));
  const cliInRun = [1, 2, 3, 4, 5].map((s) => inRun('cli', s));
  const result = {
    machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
    steps,
    submitToFirstEventMs: { median: median(first), all: first },
    load: { clients, events, wallS: wall, eventsPerS: events / wall, lastFirstEventMs: Math.max(...all.map((t) => t[0].at)) },
    replay: { clients, streams: clients * ids.length, events: replayEvents, wallS: replayWall, eventsPerS: replayEvents / replayWall },
    perRunMs: {
      api: { wallMedian: median(apiWall), inRunMedian: median(apiInRun), overheadMedian: median(apiWall.map((w, i) => w - apiInRun[i])) },
      train: { wallMedian: median(trainWall), inRunMedian: median(cliInRun), overheadMedian: median(trainWall.map((w, i) => w - cliInRun[i])) },
    },
  };
  const text = JSON.stringify(result, null, 2) + '\n';
  process.stdout.write(text);
  if (a.out) writeFileSync(a.out, text);
} finally {
  server.kill('SIGTERM');
  rmSync(root, { recursive: true, force: true });
}
