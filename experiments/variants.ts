/**
 * The reproduced paper's model variants: each is an initialisation of W_rec, a geometry D and a
 * regulariser (arXiv 2606.14975, Table 1), plus two extra controls of ours.
 *
 *   name      W_rec init         D      regulariser
 *   W         orthogonal         –      L1 (paper mode: λ omitted)
 *   WD        orthogonal         grid   WD
 *   WD*       orthogonal         real   WD
 *   WDC       orthogonal         grid   WDC
 *   WD*C      orthogonal         real   WDC
 *   W*D*C     W*                 real   WDC
 *   W*D*C*    W*                 real   EMD
 *   WD*C*     orthogonal         real   EMD
 *   W*DC*     W*                 grid   EMD
 *   W!D*C     W! (permuted W*)   real   WDC
 *   W!D*C*    W! (permuted W*)   real   EMD
 *   extras:
 *   Wctrl-D*C spectrum-matched random control of W*, real D, WDC
 *   Wanat-D*C anatomical (EM synapse counts), real D, WDC
 */
import { OptionError } from '../engine/errors.ts';

type InitKind = 'orthogonal' | 'wstar' | 'wbang' | 'control' | 'anatomical';
export type GeometryKind = 'none' | 'grid' | 'real';
export type RegularizerKind = 'L1' | 'WD' | 'WDC' | 'EMD';

export interface Variant {
  /** The paper's name (with * and !). */
  name: string;
  /** File-system and shell-safe name: * → s, ! → b (W*D*C → WsDsC). */
  slug: string;
  init: InitKind;
  geometry: GeometryKind;
  regularizer: RegularizerKind;
  /** true for our extra controls (not in the paper's table). */
  extra: boolean;
  description: string;
}

function v(name: string, init: InitKind, geometry: GeometryKind, regularizer: RegularizerKind, description: string, extra = false): Variant {
  return { name, slug: variantSlug(name), init, geometry, regularizer, extra, description };
}

/** `*` → `s`, `!` → `b`; the variant names use neither letter, so slugs are unique. */
export function variantSlug(name: string): string {
  return name.replace(/\*/g, 's').replace(/!/g, 'b');
}

export const PAPER_VARIANTS: readonly Variant[] = [
  v('W', 'orthogonal', 'none', 'L1', 'baseline: orthogonal init, L1 on W_rec'),
  v('WD', 'orthogonal', 'grid', 'WD', 'weight × grid distance'),
  v('WD*', 'orthogonal', 'real', 'WD', 'weight × real (neuron) distance'),
  v('WDC', 'orthogonal', 'grid', 'WDC', 'weight × communicability × grid distance (seRNN)'),
  v('WD*C', 'orthogonal', 'real', 'WDC', 'weight × communicability × real distance'),
  v('W*D*C', 'wstar', 'real', 'WDC', 'functional init W*, real distance, WDC'),
  v('W*D*C*', 'wstar', 'real', 'EMD', 'functional init W*, real distance, communicability matched to the EM connectome (EMD)'),
  v('WD*C*', 'orthogonal', 'real', 'EMD', 'orthogonal init, real distance, EMD to the EM connectome'),
  v('W*DC*', 'wstar', 'grid', 'EMD', 'functional init W*, grid distance, EMD'),
  v('W!D*C', 'wbang', 'real', 'WDC', 'W* with rows and columns permuted (W!), real distance, WDC'),
  v('W!D*C*', 'wbang', 'real', 'EMD', 'permuted W* (W!), real distance, EMD'),
];

export const EXTRA_VARIANTS: readonly Variant[] = [
  v(
    'Wctrl-D*C',
    'control',
    'real',
    'WDC',
    "spectrum-matched random control of W* (W*'s mean, diagonal share and spectral radius, no structure), real distance, WDC",
    true,
  ),
  v('Wanat-D*C', 'anatomical', 'real', 'WDC', 'anatomical init from EM synapse counts (scaled like W*), real distance, WDC', true),
];

export const ALL_VARIANTS: readonly Variant[] = [...PAPER_VARIANTS, ...EXTRA_VARIANTS];

/** A variant by its name or slug (case-sensitive: W*D*C and W*DC* differ only in letters). */
/** A variant by name or slug; `option` names the flag in the error (e.g. '--variants'). */
export function getVariant(name: string, option = '--variant'): Variant {
  const key = name.trim();
  const found = ALL_VARIANTS.find((x) => x.name === key || x.slug === key);
  if (!found) {
    throw new OptionError(
      option,
      `one of ${ALL_VARIANTS.map((x) => x.name).join(', ')} (or their slugs ${ALL_VARIANTS.map((x) => x.slug).join(', ')})`,
      `"${name}"`,
    );
  }
  return found;
}

/**
 * A variant list: 'paper' (the paper's 11), 'extra' (our 2 controls), 'all' (both), or a
 * comma-separated list of names/slugs (duplicates removed, order kept).
 */
export function parseVariantList(spec: string): Variant[] {
  const s = spec.trim();
  if (s === 'paper') return [...PAPER_VARIANTS];
  if (s === 'extra') return [...EXTRA_VARIANTS];
  if (s === 'all') return [...ALL_VARIANTS];
  const out: Variant[] = [];
  for (const part of s
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const x = getVariant(part, '--variants');
    if (!out.includes(x)) out.push(x);
  }
  if (!out.length) throw new OptionError('--variants', "'paper', 'extra', 'all' or a comma-separated list of variant names", `"${spec}"`);
  return out;
}

/** Whether a variant needs the functional matrices (corr, STTC) for W*. */
export function needsWStar(v: Variant): boolean {
  return v.init === 'wstar' || v.init === 'wbang' || v.init === 'control';
}
