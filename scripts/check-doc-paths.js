#!/usr/bin/env node
// Fails when docs/architecture.md names a file or folder that does not exist, so the map of the
// source cannot go stale (issue 30). What counts as a path, in backticks:
//   - anywhere: `src/...`, `test/...`, `scripts/...`, `bench/...`, `docker/...`, `config/...`
//     (from the repository root; globs are skipped);
//   - in a table row: the first cell is a folder or file (under src/ in the "## src/" section,
//     from the root elsewhere), and names with an extension or a trailing "/" in the other cells
//     must exist in that row's folder (`peer.ts` in the client-ip/ row is src/client-ip/peer.ts),
//     or (src/ section) under src/ (`listeners/listen.ts`), or from the root (`package.json`).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const doc = 'docs/architecture.md';
const ROOTED = /^(src|test|scripts|bench|docker|config)\//;
const FILE_LIKE = /^[\w.@-]+(\/[\w.@-]+)*(\.(ts|js|sh|yaml|yml|json|md)|\/)$/;

const missing = [];
let section = '';
const lines = fs.readFileSync(path.join(root, doc), 'utf8').split('\n');
lines.forEach((line, i) => {
  const where = `${doc}:${i + 1}`;
  if (line.startsWith('## ')) section = line.slice(3).trim();
  /** Passes when `token` exists under one of `bases` (folders from the root). */
  const check = (token, bases = ['.']) => {
    if (bases.some((b) => fs.existsSync(path.join(root, b, token)))) return;
    missing.push(`${where}: \`${token}\` (looked in ${bases.map((b) => `${b.replace(/\/$/, '')}/`).join(', ')}) does not exist`);
  };
  const tokens = (text) => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1].trim());
  const cells = line.startsWith('|') ? line.split('|').slice(1, -1) : [];
  const isRow = cells.length >= 2 && !/^\s*-+\s*$/.test(cells[0]) && !/^\s*(path|what)\s*$/.test(cells[0]);
  let folder;
  if (isRow) {
    const first = tokens(cells[0])[0];
    if (first !== undefined && !first.includes('*')) {
      const rel = section === 'src/' && !first.startsWith('src/') ? `src/${first}` : first;
      check(rel);
      folder = first.endsWith('/') ? rel : path.posix.dirname(rel);
    }
  }
  const rest = isRow ? cells.slice(1).join('|') : line;
  for (const token of tokens(rest)) {
    if (token.includes('*') || token.includes(' ')) continue;
    if (isRow && FILE_LIKE.test(token) && !token.startsWith('src/')) {
      check(token, [folder ?? '.', ...(section === 'src/' ? ['src'] : []), '.']);
    } else if (ROOTED.test(token)) check(token.replace(/[:#].*$/, ''));
  }
});

if (missing.length > 0) {
  console.error(`${doc} names paths that do not exist (update the map):\n  ${missing.join('\n  ')}`);
  process.exit(1);
}
console.log(`${doc}: every path it names exists`);
