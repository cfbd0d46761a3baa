// The compose stack in a real Docker engine: runs scripts/compose-test.sh and turns each of its
// PASS/FAIL lines into an assertion, so the checks count in tap's summary.
//
// Not named *.test.ts on purpose: it takes minutes, builds images and binds host ports 8080/9090,
// so it must not run inside `npm test` (2 jobs in parallel, 300 s per file). .ci/run runs it on
// its own after npm test:  npx tap --timeout=2400 --jobs=1 test/deploy/compose.stack.ts
// (also `npm run test:compose:tap`). A missing engine is installed and started by the script;
// if that fails the checks fail, they are never skipped.
import t from 'tap';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = resolve(__dirname, '..', '..');
// Fewer checks than this means the script stopped early.
const MIN_CHECKS = 45;

t.test('scripts/compose-test.sh against a running stack', async (t) => {
  const child = spawn('bash', [join(ROOT, 'scripts/compose-test.sh')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let checks = 0;
  const tail: string[] = [];
  const remember = (line: string): void => {
    tail.push(line);
    if (tail.length > 40) tail.shift();
  };
  createInterface({ input: child.stdout }).on('line', (line) => {
    remember(line);
    const m = /^(PASS|FAIL) \d+ - (.*)$/.exec(line);
    if (m) {
      checks++;
      if (m[1] === 'PASS') t.pass(m[2]);
      else t.fail(m[2], { output: tail.slice(-15).join('\n') });
    } else if (line.trim() !== '') {
      t.comment(line.replace(/^# ?/, ''));
    }
  });
  createInterface({ input: child.stderr }).on('line', (line) => {
    remember(`stderr: ${line}`);
    t.comment(`stderr: ${line}`);
  });
  const code = await new Promise<number | null>((done) => child.once('close', (c) => done(c)));
  t.ok(checks >= MIN_CHECKS, `the script ran all its steps (${checks} checks, at least ${MIN_CHECKS})`);
  t.equal(code, 0, 'scripts/compose-test.sh exited 0', { output: tail.join('\n') });
});
