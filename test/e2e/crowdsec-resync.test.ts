// A full resync replaces the decision cache (issue 30): a decision the LAPI no longer has, and
// will never report as deleted, stops being enforced once the bouncer resyncs. Real LAPI, real
// binary. The LAPI "forgets" the decision the way a database restore does: its row is removed
// with sqlite3 while the LAPI is frozen (SIGSTOP), which also makes the proxy's pull time out, and
// a pull after a timeout is a full one (startup=true).
import t from 'tap';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startLapi } from '../harness/lapi';
import { startDaemon } from '../harness/daemon';
import { httpGet } from '../harness/clients';
import { startHttpUpstream } from '../harness/upstreams';

const run = promisify(execFile);

t.test('a full resync drops decisions the LAPI no longer holds, keeps the others', { timeout: 120_000 }, async (t) => {
  const lapi = await startLapi();
  const upstream = await startHttpUpstream();
  await lapi.addDecision({ ip: '127.0.0.2', type: 'ban', duration: '1h' });
  await lapi.addDecision({ ip: '127.0.0.3', type: 'ban', duration: '1h' });
  const daemon = await startDaemon({
    config: `services:\n  - name: shop\n    protocol: http\n    domains: [shop.example.com]\n    target: ${upstream.url}\n    access: { crowdsec: enforce }\n`,
    // poll 500 ms: a pull that gets no answer times out after 1 s
    args: ['--crowdsec-api-url', lapi.url, '--crowdsec-api-key', lapi.apiKey, '--crowdsec-poll-interval', '500ms'],
  });
  const pid = lapi.pid;
  if (pid === undefined) throw new Error('LAPI not running');
  let frozen = false;
  const thaw = (): void => {
    if (frozen) process.kill(pid, 'SIGCONT');
    frozen = false;
  };
  t.teardown(async () => {
    thaw();
    await daemon.stop();
    await upstream.close();
    await lapi.close();
  });
  const status = async (from: string) => (await httpGet(`${daemon.httpUrl}/`, { host: 'shop.example.com', from })).status;

  await daemon.waitFor((l) => l.msg === 'CrowdSec bouncer synced initial decisions', 15_000, 'initial sync');
  t.equal(await status('127.0.0.2'), 403, 'banned');
  t.equal(await status('127.0.0.3'), 403, 'banned');

  process.kill(pid, 'SIGSTOP');
  frozen = true;
  await daemon.waitFor((l) => l.msg?.startsWith('CrowdSec LAPI pull failed, serving 2 cached decisions') === true, 15_000, 'a pull timed out');
  await run('sqlite3', ['-cmd', '.timeout 5000', join(lapi.dir, 'crowdsec.db'), "DELETE FROM decisions WHERE value = '127.0.0.2';"]);
  t.equal(await status('127.0.0.2'), 403, 'the cache still holds it while the LAPI is away');
  thaw();

  const resync = await daemon.waitFor((l) => l.msg === 'CrowdSec bouncer resynced all decisions', 15_000, 'the full resync');
  t.equal(resync.decisions, 1, 'one decision held after the resync');
  t.equal(await status('127.0.0.2'), 200, 'the decision the LAPI forgot is no longer enforced');
  t.equal(await status('127.0.0.3'), 403, 'the other one still is');
});
