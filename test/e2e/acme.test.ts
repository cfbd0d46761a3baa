// ACME through the real binary against a real Pebble: tls-alpn-01 on the HTTPS entrypoint, the
// certificate trusted via Pebble's root and serving requests, a second service's certificate
// obtained on reload without a restart; http-01 answered on the HTTP entrypoint ahead of the 308.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpGet, until } from '../harness/clients';
import { startDaemon, type Daemon } from '../harness/daemon';
import { httpsRequest } from '../harness/https-client';
import { startPebble, type Pebble } from '../harness/pebble';
import { freePort } from '../harness/ports';
import { startHttpUpstream, type HttpUpstream } from '../harness/upstreams';

interface CertRow {
  name: string;
  state: string;
  source: string;
  serial: string | null;
  issuer: string | null;
  last_error: string | null;
}

async function certificates(daemon: Daemon): Promise<CertRow[]> {
  return (JSON.parse((await httpGet(`${daemon.adminUrl}/status`)).body) as { certificates: CertRow[] }).certificates;
}

async function issued(daemon: Daemon, name: string): Promise<CertRow> {
  let row: CertRow | undefined;
  await until(
    `a valid certificate for ${name}`,
    async () => {
      row = (await certificates(daemon)).find((c) => c.name === name);
      return row?.state === 'valid';
    },
    60_000,
    200,
  );
  return row as CertRow;
}

function service(name: string, domain: string, upstream: HttpUpstream): string {
  return `  - name: ${name}
    protocol: http
    domains: [${domain}]
    target: ${upstream.url}
    tls: acme
`;
}

function acmeArgs(pebble: Pebble, certDir: string, httpsPort: number): string[] {
  return [
    '--https-addr',
    `127.0.0.1:${httpsPort}`,
    '--acme-directory',
    pebble.directoryUrl,
    '--acme-ca-cert',
    pebble.apiCaCertPath,
    '--acme-email',
    'ops@example.com',
    '--cert-dir',
    certDir,
  ];
}

t.test('ACME through the binary against Pebble', async (t) => {
  // Pebble validates tls-alpn-01 on httpsPort (the first daemon) and http-01 on http01Port (the second).
  const httpsPort = await freePort();
  const http01Port = await freePort();
  const pebble = await startPebble({ httpPort: http01Port, tlsPort: httpsPort });
  t.teardown(() => pebble.stop());
  const root = await pebble.rootPem();

  await t.test('tls-alpn-01: issuance, trust, a second service on reload', async (t) => {
    const certDir = mkdtempSync(join(tmpdir(), 'nbp-e2e-certs-'));
    const upstream = await startHttpUpstream();
    const daemon = await startDaemon({
      config: `services:\n${service('one', 'one.example.com', upstream)}`,
      args: acmeArgs(pebble, certDir, httpsPort),
    });
    t.teardown(async () => {
      await daemon.stop();
      await upstream.close();
      rmSync(certDir, { recursive: true, force: true });
    });

    const t0 = Date.now();
    const one = await issued(daemon, 'one.example.com');
    t.comment(`issuance through the binary took ${Date.now() - t0} ms`);
    t.match(one, { source: 'acme', last_error: null });
    const r = await httpsRequest({ port: httpsPort, servername: 'one.example.com', path: '/acme', ca: root });
    t.ok(r.authorized, `the served certificate chains to Pebble's root (${r.authorizationError ?? ''})`);
    t.equal(r.status, 200);
    t.match(await daemon.waitFor((l) => l.msg === 'access' && l.path === '/acme'), { service: 'one', scheme: 'https', sni: 'one.example.com' });
    t.equal((await httpGet(`${daemon.adminUrl}/readyz`)).status, 200);

    daemon.writeConfig(`services:\n${service('one', 'one.example.com', upstream)}${service('two', 'two.example.com', upstream)}`);
    await daemon.waitFor((l) => l.msg === 'config reloaded', 10_000, 'reload');
    const two = await issued(daemon, 'two.example.com');
    t.not(two.serial, one.serial);
    const r2 = await httpsRequest({ port: httpsPort, servername: 'two.example.com', path: '/second', ca: root });
    t.ok(r2.authorized, 'the second service is served with its own certificate');
    t.match(r2.cert.subjectaltname, 'DNS:two.example.com');
    t.equal((await certificates(daemon)).find((c) => c.name === 'one.example.com')?.serial, one.serial, 'the first certificate was not ordered again');
    t.equal(daemon.lines.filter((l) => l.msg === 'netbird-proxy starting').length, 1, 'no restart');
    t.match((await httpGet(`${daemon.adminUrl}/metrics`)).body, /netbird_proxy_acme_orders_total\{result="success"\} 2/);
  });

  await t.test('http-01: the challenge is answered on the HTTP entrypoint before the redirect', async (t) => {
    const certDir = mkdtempSync(join(tmpdir(), 'nbp-e2e-certs-'));
    const upstream = await startHttpUpstream();
    const ownHttps = await freePort();
    const daemon = await startDaemon({
      config: `services:\n${service('web', 'web.example.com', upstream)}`,
      // The later --http-addr wins: Pebble's http-01 validation connects to http01Port.
      args: [...acmeArgs(pebble, certDir, ownHttps), '--acme-challenge', 'http-01', '--http-addr', `127.0.0.1:${http01Port}`],
    });
    t.teardown(async () => {
      await daemon.stop();
      await upstream.close();
      rmSync(certDir, { recursive: true, force: true });
    });
    await issued(daemon, 'web.example.com');
    const challenge = await daemon.waitFor(
      (l) => l.msg === 'access' && typeof l.path === 'string' && l.path.startsWith('/.well-known/acme-challenge/'),
      5000,
      'challenge access entry',
    );
    t.match(challenge, { scheme: 'http', status: 200, service: '' }, 'the validation request got its answer, not a 308');
    t.equal(upstream.requests.length, 0, 'the challenge never reached the upstream');
    const r = await httpsRequest({ port: ownHttps, servername: 'web.example.com', path: '/', ca: root });
    t.ok(r.authorized);
    const redirected = await httpGet(`http://127.0.0.1:${http01Port}/page`, { host: 'web.example.com' });
    t.equal(redirected.status, 308);
  });
});
