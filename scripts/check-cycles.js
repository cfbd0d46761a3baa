#!/usr/bin/env node
// Fails when src/ has an import cycle (type-only imports included: a cycle of types is still a
// tangle of concepts). Reads relative imports, static and dynamic (`import('./x')`), from the
// TypeScript sources. Two levels: files, and folders (src/<folder>, a top-level file counting as
// its own node), so that two folders cannot lean on each other through files that happen not to
// form a file cycle.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

// The folder to check: src/ of this repository, or the one given (tests).
const root = path.resolve(process.argv[2] ?? path.join(__dirname, '..', 'src'));
const files = [];
(function walk(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith('.ts')) files.push(p);
  }
})(root);

const STATIC = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]/g;
const DYNAMIC = /\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/g;
const edges = new Map();
for (const file of files) {
  const text = fs.readFileSync(file, 'utf8');
  const deps = new Set();
  for (const m of [...text.matchAll(STATIC), ...text.matchAll(DYNAMIC)]) {
    const base = path.resolve(path.dirname(file), m[1]);
    const target = [`${base}.ts`, path.join(base, 'index.ts')].find((f) => fs.existsSync(f));
    if (target) deps.add(target);
  }
  edges.set(file, deps);
}

/** Every cycle met by a depth-first walk of `graph` (node → set of nodes). */
function cyclesOf(graph) {
  const state = new Map(); // 1 = on the stack, 2 = done
  const stack = [];
  const found = [];
  const visit = (node) => {
    state.set(node, 1);
    stack.push(node);
    for (const dep of graph.get(node) ?? []) {
      if (state.get(dep) === 1) found.push(stack.slice(stack.indexOf(dep)).concat(dep));
      else if (!state.has(dep)) visit(dep);
    }
    stack.pop();
    state.set(node, 2);
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return found;
}

/** src/a/b/c.ts → "a/", src/services.ts → "services.ts". */
const folderOf = (file) => {
  const [head, ...rest] = path.relative(root, file).split(path.sep);
  return rest.length > 0 ? `${head}/` : head;
};
const folders = new Map();
const why = new Map(); // "a/ -> b/" → one file import that makes the edge
for (const [file, deps] of edges) {
  const from = folderOf(file);
  if (!folders.has(from)) folders.set(from, new Set());
  for (const dep of deps) {
    const to = folderOf(dep);
    if (to === from) continue;
    folders.get(from).add(to);
    if (!why.has(`${from} -> ${to}`)) why.set(`${from} -> ${to}`, `${path.relative(root, file)} imports ${path.relative(root, dep)}`);
  }
}

const fileCycles = cyclesOf(edges);
const folderCycles = cyclesOf(folders);
for (const c of fileCycles) console.error(`import cycle: ${c.map((f) => path.relative(root, f)).join(' -> ')}`);
for (const c of folderCycles) {
  const steps = c.slice(1).map((to, i) => `  ${why.get(`${c[i]} -> ${to}`)}`);
  console.error(`folder cycle: ${c.join(' -> ')}\n${steps.join('\n')}`);
}
if (fileCycles.length + folderCycles.length > 0) process.exit(1);
console.log(`no import cycles in src/ (${files.length} files, ${folders.size} folders)`);
