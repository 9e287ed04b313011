#!/usr/bin/env node
// Fails when the project's TypeScript modules import each other in a cycle, type-only imports
// included (ESLint's cycle rules skip those). Relative `import … from` / `export … from`
// specifiers only; packages cannot close a cycle with our files. Prints each cycle found.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const skip = new Set(['node_modules', 'dist', 'results', 'docs', '.git', 'out', 'runs']);
const files = [];
(function walk(d) {
  for (const e of readdirSync(d)) {
    if (skip.has(e) || e.startsWith('.')) continue;
    const p = join(d, e);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith('.ts')) files.push(p);
  }
})(root);

const importRe = /^\s*(?:import|export)\b[^;'"]*?\bfrom\s*['"](\.[^'"]+)['"]|^\s*import\s*['"](\.[^'"]+)['"]/gm;
const graph = new Map();
for (const f of files) {
  const src = readFileSync(f, 'utf8');
  const deps = new Set();
  for (const m of src.matchAll(importRe)) {
    const spec = m[1] ?? m[2];
    const target = resolve(dirname(f), spec);
    if (target.endsWith('.ts')) deps.add(target);
  }
  graph.set(
    f,
    [...deps].filter((d) => graph.has(d) || files.includes(d)),
  );
}

// Tarjan's strongly connected components: every component of more than one module is a cycle.
let index = 0;
const idx = new Map(),
  low = new Map(),
  onStack = new Set(),
  stack = [],
  cycles = [];
function strong(v) {
  idx.set(v, index);
  low.set(v, index);
  index++;
  stack.push(v);
  onStack.add(v);
  for (const w of graph.get(v) ?? []) {
    if (!idx.has(w)) {
      strong(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
  }
  if (low.get(v) === idx.get(v)) {
    const comp = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      comp.push(w);
    } while (w !== v);
    if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(comp.map((p) => relative(root, p)).sort());
  }
}
for (const f of graph.keys()) if (!idx.has(f)) strong(f);

if (cycles.length) {
  for (const c of cycles) console.error(`import cycle: ${c.join(' ↔ ')}`);
  console.error(`check-cycles: ${cycles.length} import cycle(s) among ${files.length} modules (type-only imports count)`);
  process.exit(1);
}
console.log(`check-cycles: no import cycle among ${files.length} modules`);
