// Brute force against a password-protected service feeds CrowdSec: the proxy's real access log
// (failed logins with auth_success: false, then 429s) replayed by a real CrowdSec 1.4.6 agent
// with docker/'s parser and scenario raises an alert and a ban in the real LAPI; the proxy pulls
// it and refuses the address before any login page. Follows the agent set-up of
// test/deploy/files.test.ts (the parser's own detection test).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { hashSecret } from '../../src/auth/secret-hash';
import { httpGet, until } from '../harness/clients';
import { REPO_ROOT, startDaemon } from '../harness/daemon';
import { CROWDSEC_BIN, CROWDSEC_ROOT, ensureCrowdsec, startLapi } from '../harness/lapi';
import { startHttpUpstream } from '../harness/upstreams';

const LOGIN = '/.netbird-proxy/auth/login';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const BROWSER = 'text/html,application/xhtml+xml';

t.test('failed logins become a CrowdSec ban through the detection loop', async (t) => {
  ensureCrowdsec();
  const lapi = await startLapi({ logLevel: 'warning' });
  const upstream = await startHttpUpstream();
  const hash = await hashSecret('right one');
  const daemon = await startDaemon({
    config: `services:
  - name: web
    protocol: http
    domains: [web.example.com]
    target: ${upstream.url}
    access: { crowdsec: enforce }
    auth: { password: { hash: "${hash}" } }
`,
    args: ['--crowdsec-api-url', lapi.url, '--crowdsec-api-key', lapi.apiKey, '--crowdsec-poll-interval', '300ms', '--access-log', 'access.log'],
    env: { NB_PROXY_SESSION_SECRET: 'crowdsec-loop-session-secret-0123456789' },
  });
  const dir = mkdtempSync(join(tmpdir(), 'nbp-auth-agent-'));
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
    await lapi.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const post = (from: string, password: string) =>
    httpGet(`${daemon.httpUrl}${LOGIN}`, { host: 'web.example.com', method: 'POST', from, headers: FORM, body: `password=${encodeURIComponent(password)}` });

  const attacker = '127.0.0.5';
  const statuses: number[] = [];
  for (let i = 0; i < 8; i++) statuses.push((await post(attacker, `guess-${i}`)).status);
  t.same(statuses, [401, 401, 401, 401, 429, 429, 429, 429], 'the proxy limits the address by itself first');
  t.equal((await post('127.0.0.6', 'typo')).status, 401, 'a user with one typo');
  t.equal((await post('127.0.0.6', 'right one')).status, 303);

  const logPath = join(daemon.dir, 'access.log');
  const failures = (): string[] =>
    readFileSync(logPath, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"auth_success":false'));
  await until('nine failed logins in the access log file', () => failures().length === 9);
  t.match(JSON.parse(failures()[0] ?? '{}'), { client_ip: attacker, auth_mechanism: 'password', auth_success: false, status: 401, method: 'POST' });

  // The agent: stock s00 parser and dateparse from the package's hub, the proxy's parser and scenario from docker/.
  const hub = join(CROWDSEC_ROOT, 'usr/share/crowdsec/hub');
  const put = (from: string, to: string): void => {
    mkdirSync(join(dir, to, '..'), { recursive: true });
    copyFileSync(from, join(dir, to));
  };
  cpSync(join(CROWDSEC_ROOT, 'etc/crowdsec/patterns'), join(dir, 'patterns'), { recursive: true });
  put(join(hub, 'parsers/s00-raw/crowdsecurity/syslog-logs.yaml'), 'parsers/s00-raw/syslog-logs.yaml');
  put(join(REPO_ROOT, 'docker/parsers/netbird-proxy-logs.yaml'), 'parsers/s01-parse/netbird-proxy-logs.yaml');
  put(join(hub, 'parsers/s02-enrich/crowdsecurity/dateparse-enrich.yaml'), 'parsers/s02-enrich/dateparse-enrich.yaml');
  put(join(REPO_ROOT, 'docker/scenarios/netbird-proxy-auth-bf.yaml'), 'scenarios/netbird-proxy-auth-bf.yaml');
  mkdirSync(join(dir, 'data'));
  mkdirSync(join(dir, 'hub'));
  copyFileSync(join(hub, '.index.json'), join(dir, 'hub/.index.json'));
  writeFileSync(join(dir, 'simulation.yaml'), 'simulation: false\n');
  writeFileSync(join(dir, 'acquis.yaml'), readFileSync(join(REPO_ROOT, 'docker/acquis-netbird-proxy.yaml'), 'utf8'));
  const lapiCfg = parseYaml(readFileSync(lapi.cfgPath, 'utf8')) as { api: { client: { credentials_path: string } } };
  const cfg = join(dir, 'config.yaml');
  writeFileSync(
    cfg,
    JSON.stringify({
      common: { daemonize: false, log_media: 'stdout', log_level: 'info' },
      config_paths: {
        config_dir: dir,
        data_dir: join(dir, 'data'),
        simulation_path: join(dir, 'simulation.yaml'),
        hub_dir: join(dir, 'hub'),
        index_path: join(dir, 'hub/.index.json'),
      },
      crowdsec_service: { acquisition_path: join(dir, 'acquis.yaml'), parser_routines: 1 },
      api: { client: { credentials_path: lapiCfg.api.client.credentials_path } },
      prometheus: { enabled: false },
    }),
  );
  const acquis = parseYaml(readFileSync(join(REPO_ROOT, 'docker/acquis-netbird-proxy.yaml'), 'utf8')) as { labels: { type: string } };
  const r = spawnSync(CROWDSEC_BIN, ['-c', cfg, '-dsn', `file://${logPath}`, '-type', acquis.labels.type, '-no-api'], { encoding: 'utf8', timeout: 120_000 });
  t.equal(r.status, 0, 'crowdsec replayed the access log', { output: (r.stdout + r.stderr).split('\n').slice(-15).join('\n') });
  t.match(r.stdout + r.stderr, /Ip 127\.0\.0\.5 performed 'netbird-proxy\/auth-bf'/, 'the attacker overflowed the scenario');

  const alerts = JSON.parse((await lapi.cscli(['alerts', 'list', '-o', 'json'])) || '[]') as Array<{ scenario: string; source: { value: string } }> | null;
  t.same(
    (alerts ?? []).map((a) => `${a.source.value} ${a.scenario}`),
    [`${attacker} netbird-proxy/auth-bf`],
    'one alert: the attacker, not the user with a typo',
  );

  // The proxy pulls the ban: the attacker now gets the deny page, never the login page.
  await until(
    'the ban reaches the proxy',
    async () => (await httpGet(`${daemon.httpUrl}/`, { host: 'web.example.com', from: attacker })).status === 403,
    20_000,
    100,
  );
  const page = await httpGet(`${daemon.httpUrl}${LOGIN}`, { host: 'web.example.com', from: attacker, headers: { accept: BROWSER } });
  t.equal(page.status, 403);
  t.notMatch(page.body, /<form/);
  const refused = (): Record<string, unknown> | undefined =>
    readFileSync(logPath, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.client_ip === attacker && l.path === LOGIN && l.status === 403);
  await until('the refused login page in the access log', () => refused() !== undefined);
  const entry = refused() ?? {};
  t.equal(entry.deny_reason, 'crowdsec_ban');
  t.notOk('auth_mechanism' in entry, 'refused before the auth layer');
  t.equal((await httpGet(`${daemon.httpUrl}${LOGIN}`, { host: 'web.example.com', from: '127.0.0.6' })).status, 200, 'the other user is unaffected');
});
