/**
 * Stacks of networks through one wiring cost: which costs may share one (Backend.wiringCosts
 * runs a stack as one dispatch per stage on a GPU), and the checks of a stack's inputs.
 */
import { checkDistances } from '../checks.ts';
import type { Backend, Tensor } from '../tensor.ts';
import type { WdCost, WdcCost, WiringCost } from './cost.ts';

/** A WD or WDC cost, the kinds that run as stacks of networks (EMD sorts each network's C alone). */
export type StackableCost = WdCost | WdcCost;

/** Whether a regulariser is a cost that can join a stack, and which. */
export function stackableCost(r: unknown): StackableCost | null {
  const kind = (r as { kind?: unknown } | null)?.kind;
  return kind === 'WD' || kind === 'WDC' ? (r as StackableCost) : null;
}

/**
 * Whether two costs differ only in the W they are applied to and their λ, so that their networks
 * can run as one stack (Backend.wiringCosts): the same kind, floors, squaring policy and distances.
 */
export function sameStack(a: WiringCost, b: WiringCost): boolean {
  if (a === b || sameAs.get(b) === a) return true;
  if (a.kind !== b.kind || a.kind === 'EMD' || a.D.length !== b.D.length) return false;
  if (a.kind === 'WDC') {
    const c = b as WdcCost;
    if (a.sMin !== c.sMin || a.eps !== c.eps || a.squarings !== c.squarings || a.maxSquarings !== c.maxSquarings) return false;
  }
  for (let i = 0; i < a.D.length; i++) if (!Object.is(a.D[i], b.D[i])) return false;
  sameAs.set(b, a);
  return true;
}

/**
 * The cost each cost was last found to stack with: a trainer checks its stacks at every step,
 * and comparing N² distances each time would cost more than the stack saves. Costs are
 * immutable, so a pair found equal stays equal.
 */
const sameAs = new WeakMap<WiringCost, WiringCost>();

/** Refuses a stack that Backend.wiringCosts cannot run: costs that differ in more than W, or blocks outside W. */
export function checkStack(costs: readonly WiringCost[], at: readonly number[], n: number, size: number): void {
  if (!costs.length || costs.length !== at.length)
    throw new Error(`wiringCosts: ${costs.length} costs for ${at.length} W blocks (expected as many, at least one)`);
  for (let m = 0; m < costs.length; m++) {
    checkDistances(costs[m]!.kind, costs[m]!.D, n);
    if (!sameStack(costs[0]!, costs[m]!))
      throw new Error(`wiringCosts: cost ${m} (${costs[m]!.kind}) differs from cost 0 (${costs[0]!.kind}) in more than W and λ`);
    if (at[m]! < 0 || at[m]! + n * n > size) throw new Error(`wiringCosts: W block ${m} at ${at[m]} overruns the ${size} values of W`);
  }
}

/** A stack run network by network (wiringCost on each block), its values [G] and gradients [G, n, n] put together. */
export function stackOneByOne(be: Backend, costs: readonly WiringCost[], W: Tensor, at: readonly number[], n: number): { values: Tensor; grads: Tensor } {
  const each = costs.map((c, m) => be.wiringCost(c, be.slice(W, at[m]!, [n, n]), n));
  const grads = be.assemble(
    costs.length * n * n,
    each.map((r, m) => ({ tensor: r.grad, offset: m * n * n })),
  );
  return {
    values: be.assemble(
      costs.length,
      each.map((r, m) => ({ tensor: r.value, offset: m })),
    ),
    grads: be.reshape(grads, [costs.length, n, n]),
  };
}
