// scripts/check-docs.js (run by npm run lint) finds what the issue found by hand.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { check } = require('../../../scripts/check-docs.js') as { check: (root?: string, known?: Set<string>) => string[] };

t.test('the repository passes', async (t) => {
  t.same(check(), []);
});

t.test('a broken link, a missing anchor, an unknown flag and stale benchmarks are reported', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'nbp-check-docs-'));
  mkdirSync(join(root, 'docs'));
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  writeFileSync(join(root, 'bench', 'results', '2026-11-25.json'), '{}');
  writeFileSync(join(root, 'bench', 'results', '2026-12-01-quick.json'), '{}');
  writeFileSync(
    join(root, 'README.md'),
    [
      '# Title',
      'See [ops](docs/ops.md#metrics-table), [gone](docs/gone.md), [self](#title), [web](https://example.com/x).',
      'Run with `--http-addr x` and `--no-such-flag`; cscli takes --ip.',
      '```sh',
      'echo "[not a link](nowhere.md)"',
      '```',
      '',
    ].join('\n'),
  );
  writeFileSync(join(root, 'docs', 'ops.md'), '# Operations\n\n## Metrics\n');
  writeFileSync(join(root, 'docs', 'benchmarks.md'), 'The run in `bench/results/2026-11-25.json`.\n');
  t.same(check(root, new Set(['--http-addr'])), [
    'README.md: link docs/ops.md#metrics-table: docs/ops.md has no heading #metrics-table',
    'README.md: link docs/gone.md: docs/gone.md does not exist',
    'README.md:3: --no-such-flag is not a netbird-proxy flag (netbird-proxy [validate|status|healthcheck] --help) nor listed in scripts/check-docs.js OTHER_TOOLS',
    'docs/benchmarks.md: does not show the newest committed run, bench/results/2026-12-01-quick.json',
  ]);
});
