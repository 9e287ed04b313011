/**
 * What both backends use lives outside both: no backend module imports another backend's
 * modules, and the backend-neutral engine modules import neither (only the entry points that
 * construct backends do).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ENGINE = fileURLToPath(new URL('../engine', import.meta.url));
/** Modules that construct or re-export the backends. */
const ENTRY_POINTS = new Set(['index.ts', 'engine.ts']);

type Owner = 'cpu' | 'gpu' | 'neutral';

function ownerOf(file: string): Owner {
  // regularizers/probe.ts: the probe estimator's float64 reference, built on regularizers/cpu.ts
  if (file.startsWith('cpu/') || file === 'regularizers/cpu.ts' || file === 'regularizers/probe.ts') return 'cpu';
  if (file.startsWith('gpu/') || file === 'regularizers/gpu.ts' || file === 'expm/gpu.ts') return 'gpu';
  return 'neutral';
}

function engineModules(dir = ENGINE): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? engineModules(join(dir, e.name)) : e.name.endsWith('.ts') ? [relative(ENGINE, join(dir, e.name))] : [],
  );
}

/** The engine modules `file` imports (relative specifiers, type-only imports included). */
function importsOf(file: string): string[] {
  const src = readFileSync(join(ENGINE, file), 'utf8');
  const specs = [...src.matchAll(/^\s*(?:import|export)\b[^;'"]*?\bfrom\s*['"](\.[^'"]+)['"]/gm)].map((m) => m[1]!);
  return specs.map((s) => relative(ENGINE, resolve(dirname(join(ENGINE, file)), s)));
}

describe('engine layering', () => {
  it('no module imports a backend it does not belong to', () => {
    const crossings: string[] = [];
    for (const file of engineModules()) {
      if (ENTRY_POINTS.has(file)) continue;
      const owner = ownerOf(file);
      for (const dep of importsOf(file)) {
        const depOwner = ownerOf(dep);
        if (depOwner !== 'neutral' && depOwner !== owner) crossings.push(`${file} → ${dep}`);
      }
    }
    expect(crossings).toEqual([]);
  });

  it('both backends take checkCrossEntropy from the shared checks module', () => {
    for (const file of ['cpu/backend.ts', 'gpu/backend.ts']) {
      expect(importsOf(file)).toContain('checks.ts');
      expect(readFileSync(join(ENGINE, file), 'utf8')).not.toMatch(/function checkCrossEntropy/);
    }
  });
});
