// --workers 2: a proof-of-work solution is single-use across the group. The primary holds the one
// store (src/cluster/claims.ts); a replay refused by one worker is refused by the other too.
import t from 'tap';
import { createRequire } from 'node:module';
import { httpGet, until } from '../harness/clients';
import { startDaemon, type LogLine } from '../harness/daemon';
import { startHttpUpstream } from '../harness/upstreams';

const PREFIX = '/.netbird-proxy/challenge/';
const load = createRequire(__filename);
const altcha = load('altcha-lib') as { solveChallenge(o: { challenge: unknown; deriveKey: unknown }): Promise<unknown> };
const { deriveKey } = load('altcha-lib/algorithms/pbkdf2') as { deriveKey: unknown };

t.test('--workers 2: a solution gives one pass in the whole group', async (t) => {
  const upstream = await startHttpUpstream();
  const daemon = await startDaemon({
    config: `services:
  - name: shop
    protocol: http
    domains: [shop.example.com]
    target: ${upstream.url}
    access: { challenge: pow }
`,
    args: ['--workers', '2', '--challenge-pow-difficulty', '2000'],
    env: { NB_PROXY_SESSION_SECRET: 'challenge-workers-session-secret-0123456789' },
  });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
  });
  const challenge = JSON.parse((await httpGet(`${daemon.httpUrl}${PREFIX}new`, { host: 'shop.example.com' })).body) as unknown;
  const solution = await altcha.solveChallenge({ challenge, deriveKey });
  const payload = encodeURIComponent(Buffer.from(JSON.stringify({ challenge, solution })).toString('base64'));
  const verify = () =>
    httpGet(`${daemon.httpUrl}${PREFIX}verify`, {
      host: 'shop.example.com',
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', connection: 'close' },
      body: `altcha=${payload}&rd=%2F`,
    });
  const first = await verify();
  t.equal(first.status, 303);
  t.match(String(first.headers['set-cookie']), /^nbp_challenge=v1\./, 'the first use gives a pass');

  // Replays on new connections until each worker has refused one (the kernel picks the worker).
  const refusedBy = new Set<unknown>();
  let passes = 0;
  let replays = 0;
  const isVerify = (l: LogLine): boolean => l.msg === 'access' && l.path === `${PREFIX}verify`;
  const isRefusal = (l: LogLine): boolean => isVerify(l) && l.challenge === 'failed';
  await until('the first verification logged', () => daemon.lines.some(isVerify));
  while (refusedBy.size < 2 && replays < 60) {
    const logged = daemon.lines.filter(isVerify).length;
    const replay = await verify();
    replays++;
    if (replay.headers['set-cookie'] !== undefined) passes++;
    await until('the replay logged', () => daemon.lines.filter(isVerify).length > logged);
    for (const l of daemon.lines.filter(isRefusal)) refusedBy.add(l.worker);
  }
  t.equal(passes, 0, `no replay got a pass (${replays} replays)`);
  t.equal(refusedBy.size, 2, 'both workers refused a replay');
  t.match(daemon.lines.find(isRefusal), { metadata: { challenge: 'failed', challenge_failure: 'solution already used' } });
});
