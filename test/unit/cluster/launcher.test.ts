// The launcher's Node flags: bin/netbird-proxy's shebang gives exactly util/launcher.ts's young
// generation to the process it starts, and workers of --workers > 1 do not inherit it.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { workerExecArgv } from '../../../src/cluster/fork';
import { LAUNCHER_NODE_FLAGS } from '../../../src/util/launcher';

t.test('the shebang starts node with the launcher flags, then "--"', async (t) => {
  const first = readFileSync(join(__dirname, '..', '..', '..', 'bin', 'netbird-proxy'), 'utf8').split('\n')[0];
  t.equal(first, `#!/usr/bin/env -S node ${LAUNCHER_NODE_FLAGS.join(' ')} --`);
});

t.test("workers keep their own young generation, not the launcher's", async (t) => {
  t.same(workerExecArgv([...LAUNCHER_NODE_FLAGS], ''), ['--max-semi-space-size=4']);
  t.same(workerExecArgv(['--enable-source-maps', ...LAUNCHER_NODE_FLAGS], ''), ['--enable-source-maps', '--max-semi-space-size=4']);
  t.same(workerExecArgv(['--max-semi-space-size=8'], ''), ['--max-semi-space-size=8'], 'an explicit node flag is left alone');
  t.same(workerExecArgv([...LAUNCHER_NODE_FLAGS], '--max-semi-space-size=2'), [], 'so is NODE_OPTIONS');
});
