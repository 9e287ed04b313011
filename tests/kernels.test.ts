/**
 * Every kernel contract (shaders/kernels.ts) against the WGSL it describes: the storage
 * bindings' names in binding order, then the uniform; the uniform struct's fields in order
 * (u32 words, then f32); and the override constants. Every shader has exactly one contract.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KERNELS } from '../shaders/kernels.ts';
import { SHADER_NAMES } from '../shaders/names.ts';

/** A shader's source with its `//!include` fragments spliced in. */
function source(name: string, dir = 'shaders'): string {
  const code = readFileSync(`${dir}/${name}.wgsl`, 'utf8');
  return code.replace(/^\/\/!include (\w+)\s*$/gm, (_, f: string) => source(f, 'shaders/lib'));
}

function layout(code: string) {
  const bindings = [...code.matchAll(/@binding\((\d+)\)\s*var<(\w+)[^>]*>\s*(\w+)\s*:\s*(\w+)/g)].map((m) => ({
    index: Number(m[1]),
    kind: m[2]!,
    name: m[3]!,
    type: m[4]!,
  }));
  bindings.sort((a, b) => a.index - b.index);
  const uniform = bindings.find((b) => b.kind === 'uniform');
  const struct = uniform ? new RegExp(`struct\\s+${uniform.type}\\s*\\{([^}]*)\\}`).exec(code) : null;
  const fields = struct ? [...struct[1]!.replace(/\/\/.*$/gm, '').matchAll(/(\w+)\s*:\s*(\w+)/g)].map((m) => ({ name: m[1]!, type: m[2]! })) : [];
  const overrides = [...code.matchAll(/override\s+(\w+)\s*:\s*(\w+)/g)].map((m) => ({ name: m[1]!, type: m[2]! }));
  return { bindings, uniform, fields, overrides };
}

describe('kernel contracts', () => {
  it('cover every shader exactly once', () => {
    const covered = Object.values(KERNELS).flatMap((k) => [...k.shaders]);
    expect([...covered].sort()).toEqual([...SHADER_NAMES].sort());
  });

  for (const [name, k] of Object.entries(KERNELS)) {
    for (const shader of k.shaders) {
      it(`${name}: ${shader}.wgsl has the contract's bindings, uniform fields and constants`, () => {
        const l = layout(source(shader));
        const storage = l.bindings.filter((b) => b.kind === 'storage');
        expect(storage.map((b) => b.name)).toEqual([...k.bindings]);
        expect(storage.map((b) => b.index)).toEqual(k.bindings.map((_, i) => i));
        const u = (k as { uniform?: { u32: readonly string[]; f32?: readonly string[] } }).uniform;
        if (u) {
          expect(l.uniform?.index).toBe(k.bindings.length);
          expect(l.fields).toEqual([...u.u32.map((f) => ({ name: f, type: 'u32' })), ...(u.f32 ?? []).map((f) => ({ name: f, type: 'f32' }))]);
        } else {
          expect(l.uniform).toBeUndefined();
        }
        // Every override of the program is declared; a declared one may belong to another program of the family.
        const declared = (k as { constants?: Record<string, unknown> }).constants ?? {};
        for (const o of l.overrides) {
          expect(Object.keys(declared), `override ${o.name} of ${shader}`).toContain(o.name);
          expect(o.type).toBe(declared[o.name] === 'bool' ? 'bool' : 'u32');
        }
        const family = k.shaders.flatMap((s) => layout(source(s)).overrides.map((o) => o.name));
        for (const c of Object.keys(declared)) expect(family, `constant ${c} of ${name}`).toContain(c);
      });
    }
  }
});
