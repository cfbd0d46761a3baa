#!/usr/bin/env node
// Mutation testing of the pure cores (issue 30): StrykerJS mutates one core folder at a time and
// runs that folder's unit tests against each mutant, then prints the score per folder.
//
//   npm run mutate                      every core below
//   npm run mutate -- net restrictions  only these (the names of CORES)
//
// NB_MUTATE_FILES=src/net/ip.ts,src/net/port.ts narrows the mutants to those files, and
// NB_MUTATE_TESTS=ip.test narrows the tests to those files of the core's test folder (a quick
// look at one file; the score printed is then for that part only, and the part keeps its own
// incremental record, .stryker-tmp/incremental/<folder>-part-<hash>.json).
// The checker plugin type-checks every mutant first (those that do not compile are "invalid").
// Incremental: each folder keeps its last result in .stryker-tmp/incremental/<folder>.json, so
// a re-run only tests mutants in code or tests that changed since. Delete it to start over.
// Concurrency 1 by default (NB_MUTATE_CONCURRENCY to change): the tests bind no ports, but the
// machine is shared. Not run in CI: a full run takes minutes per folder.
'use strict';
const { createHash } = require('node:crypto');
const { resolve } = require('node:path');

/** Core (a folder under src/, or named files) → what it mutates and the unit test folder that covers it. */
const CORES = {
  restrictions: { mutate: ['src/restrictions/**/*.ts'], tests: 'test/unit/restrictions' },
  // accept.ts and proxy-header.ts are the folder's socket edge, exercised end to end (test/e2e)
  // rather than by these unit tests: left out, they would only count as "no coverage".
  'client-ip': {
    mutate: ['src/client-ip/**/*.ts', '!src/client-ip/accept.ts', '!src/client-ip/proxy-header.ts'],
    tests: 'test/unit/client-ip',
  },
  net: { mutate: ['src/net/**/*.ts'], tests: 'test/unit/net' },
  'crowdsec/core': { mutate: ['src/crowdsec/core/**/*.ts'], tests: 'test/unit/crowdsec/core' },
  // The admin listener's pure parts: sessions and request-target rules.
  'admin-core': { mutate: ['src/admin/sessions.ts', 'src/admin/request-path.ts'], tests: 'test/unit/admin' },
  // The cores that landed with issues 21-25; their I/O files (the prober, the engine client, the
  // gates, OIDC, pages, the secret file) are left out, as client-ip's socket edge is.
  request: { mutate: ['src/request/**/*.ts'], tests: 'test/unit/request' },
  routing: { mutate: ['src/routing/**/*.ts', '!src/routing/prober.ts'], tests: 'test/unit/routing' },
  'appsec-core': { mutate: ['src/appsec/core.ts', 'src/appsec/settings.ts'], tests: 'test/unit/appsec' },
  'auth-core': {
    mutate: ['src/auth/token.ts', 'src/auth/secret-hash.ts', 'src/auth/limiter.ts', 'src/auth/request.ts', 'src/auth/revocations.ts'],
    tests: 'test/unit/auth',
  },
  'challenge-core': { mutate: ['src/challenge/core.ts', 'src/challenge/settings.ts'], tests: 'test/unit/challenge' },
};
/** Where tsconfig.mutate.json compiles the sandbox (mutants included, all switched by Stryker at run time). */
const BUILD = '.stryker-build';

/** A comma-separated list from the environment, or undefined when unset or empty. */
function list(value) {
  const items = (value ?? '').split(',').filter((s) => s.trim() !== '');
  return items.length > 0 ? items.map((s) => s.trim()) : undefined;
}

async function main() {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((name) => !(name in CORES));
  if (unknown.length > 0) {
    console.error(`unknown core folder(s): ${unknown.join(', ')} (known: ${Object.keys(CORES).join(', ')})`);
    process.exit(2);
  }
  const folders = wanted.length > 0 ? wanted : Object.keys(CORES);
  const { Stryker } = await import('@stryker-mutator/core');
  const rows = [];
  for (const folder of folders) {
    const started = Date.now();
    const files = list(process.env.NB_MUTATE_FILES);
    const tests = list(process.env.NB_MUTATE_TESTS);
    // A narrowed run keeps its own incremental record and report, so that it neither overwrites the
    // full run's nor is compared with it.
    const part = files === undefined && tests === undefined ? '' : `-part-${createHash('sha256').update(`${files}|${tests}`).digest('hex').slice(0, 8)}`;
    const slug = folder.replace(/\//g, '-') + part;
    const mutate = files ?? CORES[folder].mutate;
    const stryker = new Stryker({
      mutate,
      // The sandbox is compiled once (tsc, all mutants in it), and the tests run as JavaScript:
      // loading them through a TypeScript loader cost ~2 s per test file per mutant.
      buildCommand: 'npx tsc -p tsconfig.mutate.json',
      testRunner: 'tap',
      tap: {
        testFiles: (tests ?? ['*.test']).map((name) => `${BUILD}/${CORES[folder].tests}/${name}.js`),
        nodeArgs: ['-r', '{{hookFile}}', '{{testFile}}'],
      },
      checkers: ['typescript'],
      tsconfigFile: 'tsconfig.json',
      coverageAnalysis: 'perTest',
      concurrency: Number(process.env.NB_MUTATE_CONCURRENCY ?? 1),
      incremental: true,
      incrementalFile: `.stryker-tmp/incremental/${slug}.json`,
      tempDirName: `.stryker-tmp/sandbox-${slug}`,
      ignorePatterns: ['bench', 'docs', 'docker', 'reports', 'dist', '.build', '.cache', '.tap', BUILD],
      reporters: ['clear-text', 'progress-append-only', 'html'],
      htmlReporter: { fileName: `reports/mutation/${slug}.html` },
      timeoutMS: 3_000,
      cleanTempDir: 'always',
    });
    // An incremental report can still hold files since left out of `mutate`: count only the files in it.
    const excluded = new Set(mutate.filter((g) => g.startsWith('!')).map((g) => resolve(g.slice(1))));
    const results = (await stryker.runMutationTest()).filter((r) => !excluded.has(resolve(r.fileName)));
    const count = (...statuses) => results.filter((r) => statuses.includes(r.status)).length;
    const killed = count('Killed', 'Timeout');
    const survived = count('Survived');
    const noCoverage = count('NoCoverage');
    const valid = killed + survived + noCoverage;
    rows.push({
      folder,
      score: valid === 0 ? 100 : (100 * killed) / valid,
      killed,
      survived,
      noCoverage,
      invalid: count('CompileError', 'RuntimeError'),
      seconds: Math.round((Date.now() - started) / 1000),
    });
  }
  console.log('\nmutation score per core folder (killed + timed out) / (killed + survived + no coverage):');
  for (const r of rows) {
    console.log(
      `  ${r.folder.padEnd(14)} ${r.score.toFixed(1).padStart(5)} %   killed ${r.killed}, survived ${r.survived}, no coverage ${r.noCoverage}, invalid ${r.invalid}   ${r.seconds} s`,
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
