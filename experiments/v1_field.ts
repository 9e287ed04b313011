/**
 * The V1 L2/3–4 population (microns-v1l234) as a field, `v1l234`: an order of magnitude more
 * neurons than an imaging field, with function measured as direction tuning instead of spikes.
 *
 * - Neurons: the 2,115 with an EM position, in id order. The 742 without one are left out: the
 *   wiring cost and the spatial variants need every neuron's distance to every other, and an
 *   invented position would be a distance the data never measured.
 * - Positions: voxels at (4, 4, 40) nm, as the imaging fields', to µm (y is cortical depth).
 * - Anatomy: K[post][pre] = the pair's summed EM synapse size (per-pair counts were not
 *   released), which the anatomical initialisation scales like W*.
 * - Function: W* = L ∘ corr_n ∘ S_n as for a field, with corr the signal correlation of the
 *   16-direction tuning curves and S, in STTC's place, their response cosine
 *   (connectome/functional.ts): STTC needs spike times, which this set lacks; the cosine keeps
 *   STTC's role of a rate-independent measure of being active together.
 * - Corrected mode only: paper mode's voxel-unit distances and index geometry were the released
 *   code's handling of an imaging field and have no meaning here.
 * - The EMD target floors a neuron's strength at one synapse. Here that is the smallest summed
 *   size of a connected pair: such a pair has at least one synapse, so no single synapse is
 *   larger, and the floor stays of the order of one synapse.
 */
import { responseCosine, signalCorrelation } from '../connectome/functional.ts';
import { distanceMatrix, gridDistances, voxelsToUm } from '../connectome/geometry.ts';
import { v1SizeMatrix, V1_DIRECTIONS, type V1Set } from '../connectome/v1.ts';
import { OptionError } from '../engine/errors.ts';
import { modeSettings, type Mode } from './protocol.ts';
import type { FieldContext, FieldSource, NeuronClasses } from './setup.ts';

export const V1_FIELD = 'v1l234';

function categories(values: string[]): { index: Int32Array; names: string[] } {
  const names = [...new Set(values)].sort();
  return { index: Int32Array.from(values, (v) => names.indexOf(v)), names };
}

/** The V1 population's context: what the variants need, with each neuron's layer, cell type and orientation. */
export function v1FieldContext(v1: V1Set, source: FieldSource): FieldContext {
  const ids = Int32Array.from({ length: v1.n }, (_, i) => i).filter((i) => v1.hasPosition[i] === 1);
  const n = ids.length;
  const positionsVox = new Float64Array(n * 3);
  ids.forEach((id, k) => positionsVox.set(v1.positionsVox.subarray(id * 3, id * 3 + 3), k * 3));
  const positionsUm = voxelsToUm(positionsVox);
  const pick = <T>(a: ArrayLike<T>) => Array.from(ids, (id) => a[id]!);
  const classes: NeuronClasses = {
    layer: categories(pick(v1.layer)),
    cell_type: categories(pick(v1.cellType)),
    orientation: categories(pick(v1.prefOri).map(String)),
  };
  const K = v1SizeMatrix(v1, ids).K;
  let D: Float64Array | null = null;
  const g = gridDistances(n);
  return {
    name: V1_FIELD,
    n,
    field: null,
    positionsUm,
    K,
    anatomy: 'summed synapse size',
    synapseUnit: smallestPair(K),
    functional: { corr: signalCorrelation(v1.responses, V1_DIRECTIONS, ids), sttc: responseCosine(v1.responses, V1_DIRECTIONS, ids), source: 'tuning' },
    grid: { dims: g.dims, D: g.D },
    modes: ['corrected'],
    classes,
    source,
    realD(mode: Mode) {
      if (mode !== 'corrected') throw new OptionError('--mode', `corrected for field ${V1_FIELD}`, mode);
      return (D ??= distanceMatrix(positionsUm, modeSettings(mode).distanceMode));
    },
  };
}

/** The smallest nonzero entry of K: the summed size of the weakest connected pair. */
function smallestPair(K: Float64Array): number {
  let m = Infinity;
  for (const v of K) if (v > 0 && v < m) m = v;
  return Number.isFinite(m) ? m : 1;
}
