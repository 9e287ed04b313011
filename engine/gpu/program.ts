/**
 * Dispatching a kernel through its contract (shaders/kernels.ts): bindings by name, the
 * uniform by field, override constants by name and named value. The contract fixes the
 * order; call sites never build positional arrays.
 */
import { KERNELS, type ConstantKind, type KernelContract, type KernelName } from '../../shaders/kernels.ts';
import type { GpuContext } from './context.ts';

type Contract<K extends KernelName> = (typeof KERNELS)[K];
type Fields<L> = L extends readonly (infer F)[] ? F & string : never;
type U32Fields<K extends KernelName> = Contract<K> extends { uniform: { u32: infer L } } ? Fields<L> : never;
type F32Fields<K extends KernelName> = Contract<K> extends { uniform: { f32: infer L } } ? Fields<L> : never;
type UniformFields<K extends KernelName> = U32Fields<K> | F32Fields<K>;
type ConstantValue<C> = C extends 'bool' ? boolean : C extends 'u32' ? number : keyof C;
type Constants<K extends KernelName> = Contract<K> extends { constants: infer C } ? { [N in keyof C]?: ConstantValue<C[N]> } : Record<string, never>;

export interface KernelDispatch<K extends KernelName> {
  /** Which program of the contract's family (default: the first). */
  shader?: Contract<K>['shaders'][number];
  /** Every storage binding; null for one this specialisation never reads (bound to a dummy). */
  bind: { [B in Contract<K>['bindings'][number]]: GPUBuffer | null };
  /** Every uniform field except the padding (`pad…`, always 0). */
  uniform: { [F in Exclude<UniformFields<K>, `pad${string}`>]: number };
  constants?: Constants<K>;
  groups: [number, number?, number?];
  /** Work of this dispatch, for profiles (GFLOP/s, GB/s). */
  cost?: { flops: number; bytes: number };
}

function constantValue(kind: ConstantKind, value: unknown, kernel: string, name: string): number {
  if (kind === 'bool') return Number(Boolean(value));
  if (kind === 'u32') return value as number;
  const v = kind[value as string];
  if (v === undefined) throw new Error(`kernel ${kernel}: constant ${name} has no value '${String(value)}' (expected one of ${Object.keys(kind).join(', ')})`);
  return v;
}

/** Encodes one dispatch of `kernel` as its contract lays it out. */
export function runKernel<K extends KernelName>(ctx: GpuContext, kernel: K, d: KernelDispatch<K>): void {
  const c: KernelContract = KERNELS[kernel];
  const bind = d.bind as Record<string, GPUBuffer | null>;
  const storage = c.bindings.map((b) => ({ buffer: bind[b] ?? ctx.dummyBuffer() }));
  let uniform: GPUBuffer | null = null;
  if (c.uniform) {
    const u = d.uniform as Record<string, number>;
    const field = (f: string) => (f.startsWith('pad') ? 0 : u[f]!);
    const words = c.uniform.u32.map(field);
    const floats = c.uniform.f32?.map(field);
    uniform = floats ? ctx.uniform(words, 'f32mix', floats) : ctx.uniform(words);
  }
  let constants: Record<string, number> | undefined;
  if (d.constants && c.constants) {
    constants = {};
    for (const [name, value] of Object.entries(d.constants)) {
      if (value === undefined) continue;
      constants[name] = constantValue(c.constants[name]!, value, kernel, name);
    }
  }
  ctx.dispatch({ shader: d.shader ?? c.shaders[0]!, constants, cost: d.cost }, storage, uniform, d.groups);
}
