/**
 * What the modules follow, for runs already on disk: each finished run's recorded modules
 * (`metrics.communities`, `metrics.communities_louvain`) against the labellings of its field,
 * written into its final.json as `metrics.module_alignment`. Nothing is retrained, and no weight
 * file is read: the modules were recorded when the run was analysed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { moduleAlignment, type LabellingInputs } from '../analysis/module_alignment.ts';
import { writeFileAtomic } from './files.ts';
import { prepareField } from './prepare.ts';
import { labellingInputs } from './setup.ts';
import { toJson } from './record.ts';
import { readFinalStrict } from './run.ts';
import { findRunDirs } from './sweep.ts';

export interface ModuleAlignmentFill {
  /** Runs whose final.json gained (or changed) its module alignment. */
  written: number;
  /** Runs whose recorded alignment was already the one computed. */
  unchanged: number;
  /** Runs left as they are, with why (a diverged run has no modules). */
  skipped: { dir: string; why: string }[];
}

/** The data digest recorded in a run's config.json (written by every trained run). */
function recordedDigest(dir: string): string {
  const p = join(dir, 'config.json');
  let cfg: { data?: { digest?: unknown } };
  try {
    cfg = JSON.parse(readFileSync(p, 'utf8')) as typeof cfg;
  } catch (e) {
    throw new Error(`${p}: expected the run's configuration as JSON, got ${(e as Error).message}`, { cause: e });
  }
  const d = cfg.data?.digest;
  if (typeof d !== 'string') throw new Error(`${p}: field "data.digest": expected the digest of the field's files, got ${JSON.stringify(d)}`);
  return d;
}

/**
 * The labellings' inputs of the field a run directory was trained on, read from `dataDir` after
 * checking that its files are the ones the run recorded (config.json `data.digest`; a synthetic
 * grid field's is its name).
 */
export function recordedFieldLabellings(dir: string, field: string, dataDir: string): LabellingInputs {
  const ctx = prepareField(dataDir, field);
  const inputs = labellingInputs(ctx);
  const digest = recordedDigest(dir);
  if (digest !== ctx.source.digest)
    throw new Error(
      `${join(dir, 'config.json')}: field "data.digest": expected the digest of field ${field} in ${dataDir} (${ctx.source.digest}), got ${digest}; pass --data with the data the run was trained on`,
    );
  return inputs;
}

/**
 * Fills `metrics.module_alignment` in every finished run under `out` from its recorded modules.
 * The field is read from `dataDir` and must be the data the run was trained on (same digest).
 */
export async function fillModuleAlignment(out: string, dataDir: string, log: (line: string) => void = () => {}): Promise<ModuleAlignmentFill> {
  const dirs = findRunDirs(out);
  if (!dirs.length) throw new Error(`${out}: expected finished runs (runs/**/final.json), found none`);
  const result: ModuleAlignmentFill = { written: 0, unchanged: 0, skipped: [] };
  for (const dir of dirs) {
    const rec = readFinalStrict(dir);
    if (rec.status !== 'ok') {
      result.skipped.push({ dir, why: 'diverged: no modules' });
      continue;
    }
    const m = rec.metrics!;
    if (!Array.isArray(m.communities) || !Array.isArray(m.communities_louvain) || m.communities.length !== rec.n)
      throw new Error(
        `${join(dir, 'final.json')}: field "metrics.communities": expected ${rec.n} module labels per partition (CNM and Louvain), got none or another count`,
      );
    const inputs = recordedFieldLabellings(dir, rec.spec.field, dataDir);
    const alignment = { cnm: moduleAlignment(m.communities, inputs, rec.spec.seed), louvain: moduleAlignment(m.communities_louvain, inputs, rec.spec.seed) };
    if (JSON.stringify(m.module_alignment) === JSON.stringify(alignment)) {
      result.unchanged++;
      continue;
    }
    await writeFileAtomic(join(dir, 'final.json'), toJson({ ...rec, metrics: { ...m, module_alignment: alignment } }));
    result.written++;
    log(`${dir}: closest labelling ${describeBest(alignment.cnm.labellings)}`);
  }
  return result;
}

/** The labelling with the highest NMI, e.g. "spatial (NMI 0.69, p 0.001)". */
function describeBest(labellings: Record<string, { nmi: number; p_nmi: number } | null>): string {
  const best = Object.entries(labellings)
    .filter((e): e is [string, { nmi: number; p_nmi: number }] => e[1] !== null)
    .sort((a, b) => b[1].nmi - a[1].nmi)[0];
  return best ? `${best[0]} (NMI ${best[1].nmi.toFixed(2)}, p ${best[1].p_nmi.toFixed(3)})` : 'no labelling';
}
