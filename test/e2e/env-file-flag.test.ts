// --proxy-env and its alias --env-file give the same one-line error and exit 2 for a missing
// file, whichever way the binary is started, except `node bin/netbird-proxy --env-file x`, which
// Node itself takes (documented). NODE_BINARIES (colon-separated) adds more Node versions.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import t from 'tap';
import { BIN, REPO_ROOT } from '../harness/daemon';

const missing = join(mkdtempSync(join(tmpdir(), 'nbp-envflag-')), 'missing.env');
const LINE = `netbird-proxy: env file ${missing} (--proxy-env / --env-file): cannot read it (ENOENT): create it (cp proxy.env.example proxy.env) or leave the flag out\n`;
const nodes = [process.execPath, ...(process.env.NODE_BINARIES ?? '').split(':').filter((p) => p !== '')];

for (const node of nodes) {
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  t.test(`Node ${version}`, async (t) => {
    const env = { PATH: `${dirname(node)}:${process.env.PATH ?? ''}`, HOME: process.env.HOME ?? '/' };
    const ways: Array<[string, string, string[]]> = [
      ['node bin --proxy-env', node, [BIN, '--proxy-env', missing]],
      ['node -- bin --env-file', node, ['--', BIN, '--env-file', missing]],
      ['./bin --env-file (shebang runs node --)', BIN, ['--env-file', missing]],
      ['npm start -- --env-file', 'npm', ['start', '--silent', '--', '--env-file', missing]],
    ];
    for (const [what, cmd, args] of ways) {
      const r = spawnSync(cmd, args, { cwd: REPO_ROOT, env, encoding: 'utf8', timeout: 60_000 });
      t.equal(r.stderr, LINE, `${what}: the one line`);
      t.equal(r.status, 2, `${what}: exit 2`);
    }
    // What the README warns about: Node reads the flag first.
    const taken = spawnSync(node, [BIN, '--env-file', missing], { cwd: REPO_ROOT, env, encoding: 'utf8' });
    t.equal(taken.status, 9, 'node bin/netbird-proxy --env-file <missing>: Node exits 9 itself (documented; use --proxy-env)');
  });
}
