#!/usr/bin/env node
'use strict';
// The long run of the differential HTTP fuzzer (test/e2e/fuzz-http.test.ts), for releases:
//
//   npm run fuzz -- --minutes 30              # 30 minutes, a random seed (printed)
//   npm run fuzz -- --minutes 5 --seed 42     # replay a seed
//
// The CI run is the same test with its fixed seed and 100,000 inputs (npm test). A failure prints
// the offending requests; add them to test/fuzz-corpus/*.jsonl so that every later run replays them.

const { spawnSync } = require('node:child_process');
const path = require('node:path');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

const minutes = Number(arg('minutes', '10'));
const seed = Number(arg('seed', String(Math.floor(Math.random() * 2 ** 31))));
if (!Number.isFinite(minutes) || minutes <= 0 || !Number.isInteger(seed)) {
  console.error('usage: npm run fuzz -- --minutes N [--seed S]');
  process.exit(2);
}
console.log(`fuzzing the HTTP entrypoint for ${minutes} min, seed ${seed}`);
const root = path.join(__dirname, '..');
const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
const run = spawnSync('npx', ['tap', '--jobs=1', '--reporter=tap', `--timeout=${Math.ceil(minutes * 60 + 300)}`, 'test/e2e/fuzz-http.test.ts'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, FUZZ_MINUTES: String(minutes), FUZZ_SEED: String(seed) },
});
process.exit(run.status ?? 1);
