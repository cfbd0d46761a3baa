// scripts/check-cycles.js (run by npm run lint): file cycles, and folder cycles that no file cycle
// shows (daemon/ -> cluster/ -> daemon/ through different files), dynamic import() included.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import t, { type Test } from 'tap';
import { REPO_ROOT } from '../../harness/repo-root';

const SCRIPT = join(REPO_ROOT, 'scripts', 'check-cycles.js');

function run(root?: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, root === undefined ? [SCRIPT] : [SCRIPT, root], (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, out: stdout + stderr });
    });
  });
}

function tree(t: Test, files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'nbp-cycles-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
  return root;
}

t.test("the repository's src/ passes", async (t) => {
  const r = await run();
  t.equal(r.code, 0, r.out);
  t.match(r.out, /no import cycles in src\/ \(\d+ files, \d+ folders\)/);
});

t.test('two folders that import each other through different files fail, with the imports that make the circle', async (t) => {
  const root = tree(t, {
    'daemon/daemon.ts': "import { runCluster } from '../cluster/start';\nexport const a = runCluster;\n",
    'daemon/types.ts': 'export interface Runner { n: number }\n',
    'cluster/start.ts': "import type { Runner } from '../daemon/types';\nexport const runCluster = (r: Runner): number => r.n;\n",
  });
  const r = await run(root);
  t.equal(r.code, 1);
  t.notMatch(r.out, /import cycle:/, 'no file cycle');
  t.match(r.out, /folder cycle: (daemon\/ -> cluster\/ -> daemon\/|cluster\/ -> daemon\/ -> cluster\/)/);
  t.match(r.out, /daemon\/daemon\.ts imports cluster\/start\.ts/);
  t.match(r.out, /cluster\/start\.ts imports daemon\/types\.ts/);
});

t.test('a dynamic import() counts; a top-level file is a node of its own', async (t) => {
  const root = tree(t, {
    'cli.ts': "export async function main(): Promise<void> { await import('./daemon/run'); }\n",
    'daemon/run.ts': "import { main } from '../cli';\nexport const m = main;\n",
  });
  const r = await run(root);
  t.equal(r.code, 1);
  t.match(r.out, /import cycle: (cli\.ts -> daemon\/run\.ts -> cli\.ts|daemon\/run\.ts -> cli\.ts -> daemon\/run\.ts)/);
  t.match(r.out, /folder cycle: /);
});

t.test('a one-way folder graph passes', async (t) => {
  const root = tree(t, {
    'assembly/daemon.ts': "import { Daemon } from '../daemon/daemon';\nexport const d = Daemon;\n",
    'cluster/worker.ts': "import { d } from '../assembly/daemon';\nimport type { Daemon } from '../daemon/daemon';\nexport const w: typeof Daemon = d;\n",
    'daemon/daemon.ts': 'export class Daemon {}\n',
  });
  const r = await run(root);
  t.equal(r.code, 0, r.out);
  t.match(r.out, /\(3 files, 3 folders\)/);
});
