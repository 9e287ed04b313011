/**
 * What a network's modules follow: the agreement (NMI, ARI, permutation p) of one partition of
 * its neurons with each labelling of `labellings.ts`.
 */
import { Rng } from '../engine/rng.ts';
import { connectomeModules, depthBins, functionalClusters, indexResidue, moduleCount, spatialClusters } from './labellings.ts';
import { partitionAgreement, type PartitionAgreement } from './partition.ts';

/** The labellings, in report order: (a) construction, (b, c) anatomy, (d) function, (e) connectome. */
export const LABELLINGS = ['index_mod3', 'depth', 'spatial', 'functional', 'connectome'] as const;
export type LabellingName = (typeof LABELLINGS)[number];

/** What the labellings are computed from; a field without functional data or synapses passes null. */
export interface LabellingInputs {
  /** [n, 3] positions in µm, y = cortical depth. */
  positionsUm: ArrayLike<number>;
  /** n × n activity correlation, or null. */
  corr: ArrayLike<number> | null;
  /** n × n synapse counts, or null. */
  K: ArrayLike<number> | null;
  /** Categories the neurons come with (the V1 set: layer, cell_type, orientation), one index per neuron. */
  classes?: Record<string, ArrayLike<number>>;
}

export interface ModuleAlignment {
  /** Neurons in modules of at least two (the only ones compared: a singleton is a neuron without edges). */
  members: number;
  /** Clusters asked of the spatial and functional labellings (`moduleCount`). */
  k: number;
  /**
   * Agreement with each labelling; null where the field lacks its input or fewer than 2 neurons
   * are members. A field with `classes` adds one entry per class (null when its members all
   * share one category, which no partition can agree with).
   */
  labellings: Record<LabellingName, PartitionAgreement | null> & Record<string, PartitionAgreement | null>;
}

/** Every labelling of the field's n neurons, with k clusters where a clustering is asked for. */
export function fieldLabellings(inputs: LabellingInputs, n: number, k: number, seed: number): Record<LabellingName, Int32Array | null> {
  return {
    index_mod3: indexResidue(n, 3),
    depth: depthBins(inputs.positionsUm, n, 3),
    spatial: spatialClusters(inputs.positionsUm, n, k, seed),
    functional: inputs.corr ? functionalClusters(inputs.corr, n, k) : null,
    connectome: inputs.K ? connectomeModules(inputs.K, n) : null,
  };
}

/**
 * The modules (one label per neuron) against each labelling, over the neurons that belong to a
 * module of at least two. Seeded: the k-means start and each labelling's shuffles.
 */
export function moduleAlignment(modules: ArrayLike<number>, inputs: LabellingInputs, seed: number, shuffles = 1000): ModuleAlignment {
  const n = modules.length;
  const size = new Map<number, number>();
  for (let i = 0; i < n; i++) size.set(modules[i]!, (size.get(modules[i]!) ?? 0) + 1);
  const members = Array.from({ length: n }, (_, i) => i).filter((i) => size.get(modules[i]!)! >= 2);
  const k = moduleCount(modules);
  const labels = fieldLabellings(inputs, n, k, seed);
  const pick = (a: ArrayLike<number>) => Int32Array.from(members, (i) => a[i]!);
  const moduleLabels = pick(modules);
  const labellings = {} as ModuleAlignment['labellings'];
  for (const name of LABELLINGS) {
    const l = labels[name];
    labellings[name] = l && members.length >= 2 ? partitionAgreement(moduleLabels, pick(l), new Rng(seed, `alignment:${name}`), shuffles) : null;
  }
  for (const [name, index] of Object.entries(inputs.classes ?? {})) {
    const l = pick(index);
    labellings[name] = members.length >= 2 && new Set(l).size >= 2 ? partitionAgreement(moduleLabels, l, new Rng(seed, `alignment:${name}`), shuffles) : null;
  }
  return { members: members.length, k, labellings };
}
