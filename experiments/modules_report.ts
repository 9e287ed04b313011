/**
 * The report's section on what the modules follow: per group the variant × labelling table
 * (tables.ts, shared with the workbench) and, per mode, one W*D*C run's neurons in 3D coloured
 * by module beside the same neurons coloured by the labelling its modules follow most.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseNpy, toFloat64 } from '../connectome/npy.ts';
import { depthBins, indexResidue, spatialClusters } from '../analysis/labellings.ts';
import { LABELLINGS, type LabellingName, type ModuleAlignment } from '../analysis/module_alignment.ts';
import { scatter3d } from './svg.ts';
import { ALIGNMENT_P, LABELLING_NAMES, modulesTable, type Group, type RunRow } from './tables.ts';
import { esc } from './style.ts';

/** The labellings a figure can redraw from positions_um.npy alone (the others need the field's data). */
const FROM_POSITIONS: LabellingName[] = ['index_mod3', 'depth', 'spatial'];

const INTRO = `<p>A modular partition is a finding only if it follows something real. Each finished run's CNM modules are compared with five labellings of the same neurons: (a) the neuron index mod 3, which paper mode's coordinate construction imposes (the (N, 3) coordinates reshaped to (3, N) without a transpose give pseudo-neuron j the axes j mod 3, (N + j) mod 3 and (2N + j) mod 3 of three different neurons); (b) cortical depth (y in µm) in three equal-count bins; (c) k-means of the positions in µm; (d) average-linkage clusters of the activity correlation (distance 1 − r); (e) the EM connectome's own CNM modules (neurons without a synapse in the field form one class). (c) and (d) ask for k clusters, k the number of modules with at least two neurons; only those neurons are compared, since a singleton is a neuron without edges in the thresholded graph. Each cell is the normalised mutual information (arithmetic normalisation; 0 for independence, 1 for the same partition): the mean over seeds of each seed's mean over tasks, with a 95% t-interval over seeds clipped to [0, 1] and left out below 3 seeds, and how many runs follow the labelling at p &lt; ${ALIGNMENT_P} (permutation test, 1,000 shuffles of the labels). Values come from <code>metrics.module_alignment</code> in each run's final.json (<code>cortical-rnn analyze DIR</code> fills it in from the recorded modules).</p>`;

export function modulesSection(groups: Group[], json: Record<string, unknown>): string {
  const tag = (g: Group) => `${g.field}-${g.mode}${g.positive ? '-positive' : ''}`;
  const parts = [INTRO];
  const figJson: unknown[] = [];
  for (const g of groups) {
    parts.push(`<h3>Field ${esc(g.field)}, ${esc(g.mode)} mode${g.positive ? ', positive-only' : ''}</h3>`);
    parts.push(modulesTable(g, `modules-${tag(g)}`, json));
  }
  const figures: string[] = [];
  for (const g of groups.filter((x) => !x.positive)) {
    const fig = alignmentFigures(g);
    figJson.push({ group: tag(g), run: fig.run, labelling: fig.labelling, ...(fig.missing ? { missing: fig.missing } : {}) });
    if (fig.missing) figures.push(`<p class="missing">${esc(g.mode)} mode: figure not drawn: ${esc(fig.missing)}</p>`);
    else figures.push(`<div class="pair">${fig.svgs.map((s) => `<figure class="network">${s}</figure>`).join('')}</div>${fig.note}`);
  }
  json.moduleFigures = figJson;
  if (figures.length) parts.push(`<h3>Modules beside the labelling they follow most</h3>`, ...figures);
  return parts.join('\n');
}

interface AlignmentFigures {
  svgs: string[];
  run: string | null;
  labelling: LabellingName | null;
  note: string;
  missing?: string;
}

/** One W*D*C run of the group (lowest seed with positions and an alignment): modules and the labelling they follow most. */
function alignmentFigures(g: Group): AlignmentFigures {
  const candidates = g.rows
    .filter((r) => r.variant === 'W*D*C' && r.rec.status === 'ok' && r.rec.metrics?.module_alignment && existsSync(join(r.dir, 'positions_um.npy')))
    .sort((a, b) => a.seed - b.seed || a.task.localeCompare(b.task));
  const pick = candidates[0];
  if (!pick) return { svgs: [], run: null, labelling: null, note: '', missing: 'no finished W*D*C run with positions_um.npy and a module alignment' };
  try {
    return drawAlignment(pick);
  } catch (e) {
    return { svgs: [], run: relative('.', pick.dir), labelling: null, note: '', missing: (e as Error).message };
  }
}

function drawAlignment(pick: RunRow): AlignmentFigures {
  const n = pick.rec.n;
  const posFile = join(pick.dir, 'positions_um.npy');
  const pos = toFloat64(parseNpy(new Uint8Array(readFileSync(posFile)), posFile));
  if (pos.length !== n * 3) throw new Error(`${posFile}: expected ${n}×3 positions, got ${pos.length} values`);
  const alignment = pick.rec.metrics!.module_alignment!.cnm;
  const best = bestLabelling(alignment, LABELLINGS);
  const drawable = bestLabelling(alignment, FROM_POSITIONS);
  if (!drawable) throw new Error(`${join(pick.dir, 'final.json')}: module_alignment has none of ${FROM_POSITIONS.join(', ')}`);
  const labels = labellingFromPositions(drawable, pos, n, alignment.k, pick.seed);
  const run = `${pick.variant}, ${pick.task}, seed ${pick.seed}`;
  const a = alignment.labellings[drawable]!;
  const modules = pick.rec.metrics!.communities;
  const svgs = [
    scatter3d({ title: `${pick.mode} mode: CNM modules of ${run}`, positions: pos, groups: modules, axisLabels: ['x µm', 'depth (y) µm', 'z µm'] }),
    scatter3d({
      title: `${LABELLING_NAMES[drawable]}: NMI with the modules ${a.nmi.toFixed(2)} (p ${a.p_nmi.toFixed(3)})`,
      positions: pos,
      groups: Array.from(labels),
      axisLabels: ['x µm', 'depth (y) µm', 'z µm'],
      groupNames: Array.from({ length: Math.max(...labels) + 1 }, (_, i) => `${drawable === 'index_mod3' ? 'residue' : 'cluster'} ${i}`),
    }),
  ];
  const note =
    best && best !== drawable
      ? `<p class="note">The modules of this run follow ${esc(LABELLING_NAMES[best])} most (NMI ${alignment.labellings[best]!.nmi.toFixed(2)}); it needs the field's data to draw, so the figure shows the closest labelling drawn from positions alone.</p>`
      : '';
  return { svgs, run: relative('.', pick.dir), labelling: drawable, note };
}

/** The labelling among `names` with the highest NMI, or null. */
function bestLabelling(a: ModuleAlignment, names: readonly LabellingName[]): LabellingName | null {
  let best: LabellingName | null = null;
  for (const name of names) if (a.labellings[name] && (!best || a.labellings[name]!.nmi > a.labellings[best]!.nmi)) best = name;
  return best;
}

/** The labelling as module_alignment computed it (same k, same seed), from the positions alone. */
function labellingFromPositions(name: LabellingName, pos: Float64Array, n: number, k: number, seed: number): Int32Array {
  if (name === 'index_mod3') return indexResidue(n, 3);
  if (name === 'depth') return depthBins(pos, n, 3);
  return spatialClusters(pos, n, k, seed);
}
