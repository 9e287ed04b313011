/**
 * `analyze RUN_DIR`: recomputes a saved network's metrics from its files alone (config.json,
 * W_rec_*.npy, positions_um.npy; with `accuracy`, params_final/*.npy and the regenerated test
 * split) and compares them with final.json.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseNpy, toFloat64 } from '../connectome/npy.ts';
import { analyzeNetwork, type NetworkMetrics } from '../analysis/metrics.ts';
import { RnnTrainer } from '../engine/rnn/trainer.ts';
import { evaluate } from '../engine/rnn/train.ts';
import { activeParams, paramShape, type HostParams } from '../engine/rnn/params.ts';
import type { Backend } from '../engine/tensor.ts';
import { getTask, makeSplits } from '../tasks/index.ts';
import { writeFileAtomic } from './files.ts';
import { OptionError } from '../engine/errors.ts';
import { epochWeightFiles, toJson, type RunSpec } from './record.ts';
import { rnnConfigFor } from './setup.ts';
import type { Protocol } from './protocol.ts';
import { recordedFieldLabellings } from './modules_follow.ts';

interface RunConfig {
  spec: RunSpec & { canonicalTask?: string };
  protocol: Protocol;
  field: { n: number };
}

function readJson<T>(file: string, what: string): T {
  if (!existsSync(file)) throw new Error(`${file}: expected ${what}, got no such file`);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (e) {
    throw new Error(`${file}: expected ${what} as JSON, got unparseable text (${(e as Error).message})`, { cause: e });
  }
}

function readMatrix(file: string, shape: number[]): Float64Array {
  if (!existsSync(file)) throw new Error(`${file}: expected an .npy array of shape (${shape.join(', ')}), got no such file`);
  const a = parseNpy(new Uint8Array(readFileSync(file)), file);
  if (a.shape.length !== shape.length || a.shape.some((s, i) => s !== shape[i]))
    throw new Error(`${file}: shape: expected (${shape.join(', ')}), got (${a.shape.join(', ')})`);
  return toFloat64(a);
}

export interface ReanalyzeOptions {
  /** Which W_rec: 'final' (default: the last epoch), 'init', or an epoch number (1-based). */
  epoch?: 'final' | 'init' | number;
  nNull?: number;
  nMatched?: number;
  /** Re-evaluate the test accuracy from params_final on this backend. */
  backend?: Backend;
  write?: boolean;
  /** The data directory of the run's field: adds what the modules follow (`module_alignment`). */
  dataDir?: string;
}

export interface ReanalyzeResult {
  dir: string;
  file: string;
  metrics: NetworkMetrics;
  accuracy: { test: number; loss: number } | null;
  /** |recomputed − final.json| of the scalar metrics and the test accuracy (when final.json is ok). */
  differences: Record<string, number> | null;
}

export async function reanalyzeRunDir(dir: string, o: ReanalyzeOptions = {}): Promise<ReanalyzeResult> {
  const cfg = readJson<RunConfig>(join(dir, 'config.json'), "the run's config.json");
  if (!cfg.spec || !cfg.protocol || !cfg.field || !Number.isInteger(cfg.field.n))
    throw new Error(
      `${join(dir, 'config.json')}: fields "spec", "protocol", "field.n": expected a run configuration written by \`cortical-rnn train\`/\`sweep\`, got ${Object.keys(cfg).join(', ')}`,
    );
  const n = cfg.field.n;
  let file: string;
  const ep = o.epoch ?? 'final';
  if (ep === 'init') file = 'W_rec_init.npy';
  else if (ep === 'final') {
    const files = epochWeightFiles(readdirSync(dir));
    if (!files.length) throw new Error(`${dir}: expected W_rec_epochNN.npy files (a run that finished an epoch), found none`);
    file = files[files.length - 1]!;
  } else {
    if (!Number.isInteger(ep) || ep < 1) throw new OptionError('--epoch', "'final', 'init' or an epoch number ≥ 1", `${ep}`);
    file = `W_rec_epoch${String(ep).padStart(2, '0')}.npy`;
  }
  const W = readMatrix(join(dir, file), [n, n]);
  const posFile = join(dir, 'positions_um.npy');
  const positions = existsSync(posFile) ? readMatrix(posFile, [n, 3]) : undefined;
  const labellings = o.dataDir ? recordedFieldLabellings(dir, cfg.spec.field, o.dataDir) : undefined;
  const metrics = analyzeNetwork(W, n, {
    seed: cfg.spec.seed,
    nNull: o.nNull ?? cfg.protocol.nNull,
    nMatched: o.nMatched ?? cfg.protocol.nMatched,
    positions,
    labellings,
  });

  let accuracy: ReanalyzeResult['accuracy'] = null;
  if (o.backend) {
    const task = getTask(cfg.spec.task);
    const rc = rnnConfigFor(task, n);
    const p = {} as HostParams;
    for (const k of activeParams(rc)) p[k] = readMatrix(join(dir, 'params_final', `${k}.npy`), paramShape(rc, k));
    const splits = makeSplits(task, cfg.spec.seed, cfg.protocol.splits);
    const trainer = new RnnTrainer(o.backend, rc, [{ params: p }]);
    try {
      const [ev] = (await evaluate(trainer, [splits.test], cfg.protocol.batchSize)) as [{ accuracy: number; loss: number }];
      accuracy = { test: ev.accuracy, loss: ev.loss };
    } finally {
      trainer.dispose();
    }
  }

  let differences: Record<string, number> | null = null;
  const finalFile = join(dir, 'final.json');
  if (existsSync(finalFile) && ep === 'final') {
    const fin = readJson<{ status: string; metrics: Record<string, unknown> | null; accuracy: { test: number } | null }>(finalFile, "the run's final.json");
    if (fin.status === 'ok' && fin.metrics) {
      differences = {};
      for (const [k, v] of Object.entries(metrics)) {
        const old = fin.metrics[k];
        if (typeof v === 'number' && typeof old === 'number') differences[k] = Math.abs(v - old);
      }
      if (accuracy && fin.accuracy) differences.test_accuracy = Math.abs(accuracy.test - fin.accuracy.test);
    }
  }
  const result: ReanalyzeResult = { dir, file, metrics, accuracy, differences };
  if (o.write !== false) await writeFileAtomic(join(dir, 'analysis.json'), toJson({ schema: 'cortical-rnn/analysis/1', ...result }));
  return result;
}
