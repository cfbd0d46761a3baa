// `netbird-proxy validate`: the real binary, against what a start of the same binary does.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, REPO_ROOT, runBinary } from '../harness/daemon';

const EXAMPLE = join(REPO_ROOT, 'config', 'services.yaml');
const dir = mkdtempSync(join(tmpdir(), 'nbp-validate-'));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const NO_ENV = ['--env-file', '/dev/null'];

/** A server on 127.0.0.1 that counts the connections it accepts. */
async function occupy(): Promise<{ server: Server; port: number; accepted: () => number }> {
  let accepted = 0;
  const server = createServer((s: Socket) => {
    accepted++;
    s.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no address');
  return { server, port: addr.port, accepted: () => accepted };
}

t.test('the example config is valid: exit 0 and a one-line summary', async (t) => {
  const res = await runBinary(['validate', '--config', EXAMPLE, ...NO_ENV]);
  t.equal(res.code, 0, res.stderr);
  t.equal(res.stderr, '');
  t.equal(res.stdout, `${EXAMPLE}: OK, 2 services (2 http, 0 tcp); http 0.0.0.0:8080, admin 127.0.0.1:9090; CrowdSec not configured\n`);
});

t.test('the same message and exit status as a start, for every kind of bad input', async (t) => {
  const badCidr = file(
    'bad-cidr.yaml',
    'services:\n  - name: web\n    protocol: http\n    domains: [a.example.com]\n    target: http://127.0.0.1:1\n    access:\n      cidr: { allow: [10.1.2.3/8] }\n',
  );
  const enforce = file(
    'enforce.yaml',
    'services:\n  - name: ssh\n    protocol: tcp\n    listen: 127.0.0.1:2222\n    target: 127.0.0.1:22\n    access: { crowdsec: enforce }\n',
  );
  const envFile = file('bad.env', 'NB_PROXY_UPSTREAM_TIMEOUT=soon\n');
  const cases: [string, string[], Record<string, string>?][] = [
    ['services.yaml error', ['--config', badCidr, ...NO_ENV]],
    ['YAML syntax error', ['--config', file('syntax.yaml', 'services: [\n'), ...NO_ENV]],
    ['missing file', ['--config', join(dir, 'missing.yaml'), ...NO_ENV]],
    ['enforce without CrowdSec', ['--config', enforce, ...NO_ENV]],
    ['bad --trusted-proxies flag', ['--config', EXAMPLE, '--trusted-proxies', '10.0.0.0/8,10.0.0.0/33', ...NO_ENV]],
    ['bad environment variable', ['--config', EXAMPLE, ...NO_ENV], { NB_PROXY_HTTP_ADDR: ':8080' }],
    ['bad value in the env file', ['--config', EXAMPLE, '--env-file', envFile]],
    // (No unreadable --env-file: Node 20 itself scans argv for --env-file and exits 9 first.)
    ['key without URL is fine, cert without key is not', ['--config', EXAMPLE, '--crowdsec-cert', '/x.pem', ...NO_ENV]],
    ['bad CrowdSec URL', ['--config', EXAMPLE, '--crowdsec-api-url', 'ftp://lapi', '--crowdsec-api-key', 'k', ...NO_ENV]],
  ];
  for (const [what, args, env] of cases) {
    const [start, check] = await Promise.all([runBinary(args, env), runBinary(['validate', ...args], env)]);
    t.equal(start.code, 2, `${what}: a start exits 2`);
    t.equal(check.code, 2, `${what}: validate exits 2`);
    t.match(check.stderr, /^netbird-proxy: .+\n$/, `${what}: one line`);
    t.equal(check.stderr, start.stderr, `${what}: same message (${check.stderr.trim()})`);
    t.equal(check.stdout, '', `${what}: nothing on stdout`);
  }
});

t.test('flags before or after "validate", environment and env file are all read', async (t) => {
  const enforce = file(
    'enforce2.yaml',
    'services:\n  - name: ssh\n    protocol: tcp\n    listen: 127.0.0.1:2222\n    target: 127.0.0.1:22\n    access: { crowdsec: enforce }\n',
  );
  const envFile = file('cs.env', `NB_PROXY_CROWDSEC_API_URL=http://127.0.0.1:1/\nNB_PROXY_CROWDSEC_API_KEY=secret-key-value\nNB_PROXY_CONFIG=${enforce}\n`);
  const viaFile = await runBinary(['validate', '--env-file', envFile]);
  t.equal(viaFile.code, 0, viaFile.stderr);
  t.match(viaFile.stdout, `${enforce}: OK, 1 service (0 http, 1 tcp); http 0.0.0.0:8080, admin 127.0.0.1:9090; CrowdSec http://127.0.0.1:1 used by 1`);
  t.notMatch(viaFile.stdout + viaFile.stderr, 'secret-key-value', 'the API key is never printed');

  const before = await runBinary(['--env-file', envFile, '--http-addr', '[::1]:81', 'validate', '--admin-addr', '127.0.0.1:1']);
  t.equal(before.code, 0, before.stderr);
  t.match(before.stdout, 'http [::1]:81, admin 127.0.0.1:1;', 'flags on both sides of the subcommand');

  const env = await runBinary(['validate', ...NO_ENV], { NB_PROXY_CONFIG: EXAMPLE, NB_PROXY_ADMIN_ADDR: '127.0.0.1:19090' });
  t.equal(env.code, 0, env.stderr);
  t.match(env.stdout, `${EXAMPLE}: OK`);
  t.match(env.stdout, 'admin 127.0.0.1:19090');

  const after = await runBinary(['validate', '--env-file', envFile, '--trusted-proxies', '10.0.0.0/33']);
  t.equal(after.code, 2, 'a flag after the subcommand is checked');
  t.match(after.stderr, '--trusted-proxies / NB_PROXY_TRUSTED_PROXIES: ');
});

t.test('binds nothing and connects nowhere: succeeds while every address is taken', async (t) => {
  const http = await occupy();
  const admin = await occupy();
  const tcp = await occupy();
  const lapi = await occupy();
  t.teardown(() => {
    for (const s of [http, admin, tcp, lapi]) s.server.close();
  });
  const cfg = file(
    'busy.yaml',
    `services:\n  - name: ssh\n    protocol: tcp\n    listen: 127.0.0.1:${tcp.port}\n    target: 127.0.0.1:${tcp.port}\n    access: { crowdsec: enforce }\n`,
  );
  const args = [
    '--config',
    cfg,
    '--http-addr',
    `127.0.0.1:${http.port}`,
    '--admin-addr',
    `127.0.0.1:${admin.port}`,
    '--crowdsec-api-url',
    `http://127.0.0.1:${lapi.port}`,
    '--crowdsec-api-key',
    'k',
    ...NO_ENV,
  ];
  const res = await runBinary(['validate', ...args]);
  t.equal(res.code, 0, res.stderr);
  t.equal(lapi.accepted() + tcp.accepted(), 0, 'no connection to the LAPI or the target');
  // A start with the same arguments does bind, and fails on the taken address.
  const start = await runBinary(args);
  t.not(start.code, 0, 'a start with the same addresses fails');
});

t.test('--json prints the normalised config, which validates to itself', async (t) => {
  const messy = file(
    'messy.yaml',
    `services:
  - name: web
    protocol: http
    domains: [App.Example.COM, "*.Example.org"]
    target: HTTP://Backend:80/
    access:
      cidr: { allow: ["::ffff:10.0.0.0/104", 1.2.3.4, "2001:DB8::/32"] }
      countries: { deny: [ru, Cn] }
  - name: ssh
    protocol: tcp
    listen: "[0:0::0]:2222"
    target: LocalHost:22
`,
  );
  const res = await runBinary(['validate', '--json', '--config', messy, ...NO_ENV]);
  t.equal(res.code, 0, res.stderr);
  const doc = JSON.parse(res.stdout) as unknown;
  const emptyAccess = { cidr: { allow: [], deny: [] }, countries: { allow: [], deny: [] }, crowdsec: 'off', appsec: 'off', challenge: 'off' };
  t.strictSame(doc, {
    services: [
      {
        name: 'web',
        protocol: 'http',
        domains: ['app.example.com', '*.example.org'],
        target: 'http://backend',
        access: {
          cidr: { allow: ['10.0.0.0/8', '1.2.3.4/32', '2001:db8::/32'], deny: [] },
          countries: { allow: [], deny: ['RU', 'CN'] },
          crowdsec: 'off',
          appsec: 'off',
          challenge: 'off',
        },
        tls: 'off',
        redirect_https: false,
        upstream_tls: null,
        deny: { status: 403, template: null, contact_url: null },
        forward_verdict: false,
      },
      { name: 'ssh', protocol: 'tcp', listen: '[::]:2222', target: 'localhost:22', access: emptyAccess },
    ],
  });
  const again = await runBinary(['validate', '--json', '--config', file('normalised.json', res.stdout), ...NO_ENV]);
  t.equal(again.code, 0, again.stderr);
  t.equal(again.stdout, res.stdout, 'the normalised form is a fixed point');
});

t.test('an explicit country database that cannot be read is an error, as at start', async (t) => {
  const res = await runBinary(['validate', '--config', EXAMPLE, '--geoip-db', join(dir, 'none.mmdb'), ...NO_ENV]);
  t.equal(res.code, 2);
  t.equal(
    res.stderr,
    `netbird-proxy: --geoip-db / NB_PROXY_GEOIP_DB ${join(dir, 'none.mmdb')}: cannot read it (ENOENT): fix the path, or leave it out to use the bundled database\n`,
  );
  t.equal(res.stdout, '');
});

t.test('every bad service is reported, one line each, exit 2; a start says the same', async (t) => {
  const bad = file(
    'several.yaml',
    [
      'services:',
      '  - { name: web, protocol: http, domains: [a.example.com], target: "http://127.0.0.1:3000", access: { cidr: { allow: [10.0.0.0/33] } } }',
      '  - { name: ok, protocol: http, domains: [b.example.com], target: "http://127.0.0.1:3000" }',
      '  - { name: Bad, protocol: http, domains: [c.example.com], target: "http://127.0.0.1:3000" }',
      '  - { name: ssh, protocol: tcp, listen: 2222, target: "127.0.0.1:22" }',
      '',
    ].join('\n'),
  );
  const expected =
    `netbird-proxy: ${bad}: service "web": field "access.cidr.allow[0]": "10.0.0.0/33" is not a valid CIDR: prefix length 33 is out of range 0-32 for IPv4\n` +
    `netbird-proxy: ${bad}: services[2]: field "name": "Bad" must match ^[a-z0-9-]+$ (lower-case letters, digits and "-")\n` +
    `netbird-proxy: ${bad}: service "ssh": field "listen": must be host:port, e.g. "0.0.0.0:2222"; got the bare number 2222\n`;
  const v = await runBinary(['validate', '--config', bad, ...NO_ENV]);
  t.equal(v.stderr, expected);
  t.equal(v.code, 2);
  const start = await runBinary(['--config', bad, ...NO_ENV]);
  t.equal(start.stderr, expected, 'a start prints the same lines');
  t.equal(start.code, 2);
});

t.test('rules that can never match: a warning per service, still exit 0', async (t) => {
  const never = file(
    'never.yaml',
    [
      'services:',
      '  - name: web',
      '    protocol: http',
      '    domains: [a.example.com]',
      '    target: http://127.0.0.1:3000',
      '    access:',
      '      cidr: { allow: [10.0.0.0/8], deny: [10.6.6.0/24] }',
      '      countries: { allow: [DE, FR] }',
      '  - name: shut',
      '    protocol: http',
      '    domains: [b.example.com]',
      '    target: http://127.0.0.1:3000',
      '    access: { cidr: { allow: [192.0.2.0/25], deny: [192.0.2.0/24] } }',
      '',
    ].join('\n'),
  );
  const r = await runBinary(['validate', '--config', never, ...NO_ENV]);
  t.equal(r.code, 0);
  t.equal(
    r.stderr,
    `netbird-proxy: warning: ${never}: service "web": field "access.countries.allow": access.cidr.allow admits only private or reserved addresses, which have no country, so no client can ever match both: every request is denied (drop one of the two allow lists)\n` +
      `netbird-proxy: warning: ${never}: service "shut": field "access.cidr.allow": every network in it is also inside access.cidr.deny, so no client can ever match: every request is denied\n`,
  );
  t.match(r.stdout, /: OK, 2 services/);
});

t.test('a missing services.yaml names --config and the example, ENOENT once', async (t) => {
  const empty = mkdtempSync(join(tmpdir(), 'nbp-noconfig-'));
  const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, 'validate', ...NO_ENV], {
      cwd: empty,
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.once('exit', (code) => resolve({ code, stderr }));
  });
  t.equal(
    r.stderr,
    `netbird-proxy: config/services.yaml: cannot read the file (ENOENT): it does not exist: name your services file with --config <path> (or NB_PROXY_CONFIG); a commented example of every field: ${EXAMPLE}\n`,
  );
  t.equal(r.code, 2);
});
