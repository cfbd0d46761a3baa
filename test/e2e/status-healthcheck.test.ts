// `netbird-proxy status` and `netbird-proxy healthcheck` against a running bin/netbird-proxy
// (with a real CrowdSec LAPI where the bouncer matters).
import t from 'tap';
import { freePort } from '../harness/ports';
import { runBinary, startDaemon } from '../harness/daemon';
import { startLapi } from '../harness/lapi';
import { startTcpEcho } from '../harness/upstreams';

const POLL = '500ms';

const config = (tcpPort: number, tcpTarget: number) => `
services:
  - name: shop
    protocol: http
    domains: [shop.test]
    target: http://127.0.0.1:1
    access: { crowdsec: enforce, cidr: { allow: [127.0.0.0/8], deny: [127.0.0.9] } }
  - name: blog
    protocol: http
    domains: [blog.test, "*.blog.test"]
    target: http://127.0.0.1:2
    access: { crowdsec: observe, countries: { deny: [KP] } }
  - name: plain
    protocol: http
    domains: [plain.test]
    target: http://127.0.0.1:3
  - name: ssh
    protocol: tcp
    listen: 127.0.0.1:${tcpPort}
    target: 127.0.0.1:${tcpTarget}
`;

t.test('status shows the synced bouncer, decision counts, services, listeners and readiness', async (t) => {
  const lapi = await startLapi({ logLevel: 'warning' });
  t.teardown(() => lapi.close());
  await lapi.addDecision({ ip: '203.0.113.7', reason: 'status test' });
  await lapi.addDecision({ range: '198.51.100.0/24', type: 'captcha' });
  const upstream = await startTcpEcho();
  t.teardown(() => upstream.close());
  const tcpPort = await freePort();
  const d = await startDaemon({
    config: config(tcpPort, upstream.port),
    args: ['--crowdsec-api-url', lapi.url, '--crowdsec-api-key', lapi.apiKey, '--crowdsec-poll-interval', POLL],
  });
  t.teardown(() => d.stop());
  await d.waitFor((l) => l.msg === 'CrowdSec bouncer synced initial decisions', 15_000);
  const admin = `127.0.0.1:${d.adminPort}`;

  const json = await runBinary(['status', '--admin-addr', admin, '--json']);
  t.equal(json.code, 0, 'status --json exits 0');
  const s = JSON.parse(json.stdout) as {
    ready: boolean;
    readyz: { status: number; body: string };
    crowdsec: {
      synced: boolean;
      state: string;
      url: string;
      decisions: { total: number; by_type: Record<string, number>; by_origin: Record<string, number> };
      last_successful_pull: string | null;
    };
    services: Array<{ name: string; protocol: string; crowdsec: string; match: string[]; target: string }>;
    listeners: Array<{ kind: string; address: string; service: string | null; bound: boolean }>;
  };
  t.equal(s.ready, true, 'ready');
  t.same(s.readyz, { status: 200, body: 'ready' }, 'carries the /readyz answer');
  t.equal(s.crowdsec.synced, true, 'bouncer synced');
  t.equal(s.crowdsec.state, 'synced');
  t.equal(s.crowdsec.url, lapi.url, 'LAPI url');
  t.equal(s.crowdsec.decisions.total, 2);
  t.same(s.crowdsec.decisions.by_type, { ban: 1, captcha: 1 }, 'decisions by type');
  t.same(s.crowdsec.decisions.by_origin, { cscli: 2 }, 'decisions by origin');
  t.ok(s.crowdsec.last_successful_pull, 'last pull time');
  t.same(
    s.services.map((x) => [x.name, x.protocol, x.crowdsec]),
    [
      ['shop', 'http', 'enforce'],
      ['blog', 'http', 'observe'],
      ['plain', 'http', 'off'],
      ['ssh', 'tcp', 'off'],
    ],
    'every service with its CrowdSec mode',
  );
  t.same(s.services.find((x) => x.name === 'blog')?.match, ['blog.test', '*.blog.test']);
  t.same(
    s.listeners.map((l) => [l.kind, l.address, l.service, l.bound]),
    [
      ['http', `127.0.0.1:${d.httpPort}`, null, true],
      ['admin', admin, null, true],
      ['tcp', `127.0.0.1:${tcpPort}`, 'ssh', true],
    ],
    'listeners, all bound',
  );

  const human = await runBinary(['status', '--admin-addr', admin]);
  t.equal(human.code, 0, 'status exits 0');
  const out = human.stdout;
  t.match(out, /^Readiness: ready$/m);
  t.match(out, /^ State\s+synced$/m);
  t.match(out, /^ Synced\s+yes$/m);
  t.match(out, new RegExp(`^ LAPI\\s+${lapi.url.replace(/[.]/g, '\\.')}$`, 'm'));
  t.match(out, /^ Last pull\s+\d{4}-\d\d-\d\dT[^ ]+ \(\d+s ago\)$/m, 'last pull with its age');
  t.match(out, /^ Used by\s+shop \(enforce\), blog \(observe\)$/m);
  t.match(out, /^Decisions: 2$/m);
  t.match(out, /^ Type\s+Count\n-+\n ban\s+1\n captcha\s+1$/m, 'decisions by type table');
  t.match(out, /^ Origin\s+Count\n-+\n cscli\s+2$/m, 'decisions by origin table');
  t.match(out, /^ shop\s+http\s+shop\.test\s+http:\/\/127\.0\.0\.1:1\s+enforce\s+cidr 1 allow\/1 deny$/m, 'services table row');
  t.match(out, /^ blog\s+http\s+blog\.test, \*\.blog\.test\s+http:\/\/127\.0\.0\.1:2\s+observe\s+not KP$/m);
  t.match(out, new RegExp(`^ tcp\\s+127\\.0\\.0\\.1:${tcpPort}\\s+ssh\\s+yes$`, 'm'), 'tcp listener row');
  t.notMatch(out, new RegExp(lapi.apiKey), 'the API key is not shown');

  // The admin address from the environment; a wildcard host is asked on loopback.
  const viaEnv = await runBinary(['status'], { NB_PROXY_ADMIN_ADDR: `0.0.0.0:${d.adminPort}` });
  t.equal(viaEnv.code, 0, 'NB_PROXY_ADMIN_ADDR=0.0.0.0:PORT works');
  t.match(viaEnv.stdout, /^ Synced\s+yes$/m);
});

t.test('not ready: status says why, healthcheck passes, healthcheck --ready fails', async (t) => {
  const dead = await freePort();
  const d = await startDaemon({
    config: 'services:\n  - name: shop\n    protocol: http\n    domains: [shop.test]\n    target: http://127.0.0.1:1\n    access: { crowdsec: enforce }\n',
    args: ['--crowdsec-api-url', `http://127.0.0.1:${dead}`, '--crowdsec-api-key', 'k', '--crowdsec-poll-interval', POLL],
  });
  t.teardown(() => d.stop());
  const admin = `127.0.0.1:${d.adminPort}`;
  const st = await runBinary(['status', '--admin-addr', admin]);
  t.equal(st.code, 0);
  t.match(st.stdout, /^Readiness: NOT READY \(\/readyz 503\)\n {2}- CrowdSec bouncer has not completed its initial sync \(enforce: shop\)$/m);
  t.match(st.stdout, /^ Synced\s+no$/m);
  t.match(st.stdout, /^ Last pull\s+never$/m);
  t.match(st.stdout, /^ Last error\s+CrowdSec LAPI unreachable/m, 'the last error');

  const hc = await runBinary(['healthcheck', '--admin-addr', admin]);
  t.equal(hc.code, 0, 'healthcheck (/healthz): the process is up');
  t.match(hc.stdout, new RegExp(`^healthy: http://${admin}/healthz: 200 ok$`, 'm'));
  const ready = await runBinary(['healthcheck', '--ready', '--admin-addr', admin]);
  t.equal(ready.code, 1, 'healthcheck --ready (/readyz): not ready');
  t.match(ready.stderr, /^unhealthy: http:\/\/127\.0\.0\.1:\d+\/readyz: 503 not ready: CrowdSec bouncer/m);
  const viaEnv = await runBinary(['healthcheck'], { NB_PROXY_ADMIN_ADDR: `0.0.0.0:${d.adminPort}` });
  t.equal(viaEnv.code, 0, 'NB_PROXY_ADMIN_ADDR with a wildcard host is probed on loopback');
});

t.test('nothing listening: both exit 1 with a one-line reason', async (t) => {
  const port = await freePort();
  const hc = await runBinary(['healthcheck', '--admin-addr', `127.0.0.1:${port}`]);
  t.equal(hc.code, 1);
  t.equal(
    hc.stderr,
    `unhealthy: cannot reach the admin listener at http://127.0.0.1:${port}/healthz (ECONNREFUSED); is netbird-proxy running? Set --admin-addr or NB_PROXY_ADMIN_ADDR\n`,
  );
  const st = await runBinary(['status', '--admin-addr', `127.0.0.1:${port}`]);
  t.equal(st.code, 1);
  t.match(st.stderr, new RegExp(`^netbird-proxy status: cannot reach the admin listener at http://127\\.0\\.0\\.1:${port}/(status|readyz) \\(ECONNREFUSED\\)`));
  t.equal(st.stdout, '');
  const bad = await runBinary(['status', '--admin-addr', 'nonsense']);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /--admin-addr: "nonsense" is not host:port/);
});
