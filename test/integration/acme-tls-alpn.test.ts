// ACME against a real Pebble with tls-alpn-01: issuance, trust, a later second name, the CA going
// away (backoff, the old certificate keeps serving, other names unaffected), shared --cert-dir reuse
// and forced renewal.
import t from 'tap';
import { mkdtempSync, readdirSync, statSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:https';
import { until } from '../harness/clients';
import { freePort } from '../harness/ports';
import { startPebble, type Pebble } from '../harness/pebble';
import { FAST, acmeSettings, handshake, servicesYaml, startTlsServer, type TestTlsServer } from '../harness/tls-server';

const A = 'alpha.example.com';
const B = 'bravo.example.com';
const C = 'charlie.example.com';

function httpsGet(port: number, servername: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/hi', servername, ca, agent: false, headers: { host: servername } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

async function metric(server: TestTlsServer, name: string, labels: string): Promise<number | undefined> {
  const text = await server.metrics.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

function state(server: TestTlsServer, name: string) {
  return server.tls.status().find((s) => s.name === name);
}

t.test('tls-alpn-01 against Pebble', async (t) => {
  const httpsPort = await freePort();
  const pebble: Pebble = await startPebble({ httpPort: await freePort(), tlsPort: httpsPort });
  t.teardown(() => pebble.stop());
  const certDir = mkdtempSync(join(tmpdir(), 'nbp-certs-'));
  t.teardown(() => rmSync(certDir, { recursive: true, force: true }));
  const acme = acmeSettings({ certDir, directoryUrl: pebble.directoryUrl, caCertPath: pebble.apiCaCertPath, challenge: 'tls-alpn-01' });
  const server = await startTlsServer({ acme, ...FAST, httpsPort });
  t.teardown(() => server.close());
  const root = await pebble.rootPem();

  await t.test("a certificate is obtained and trusted via Pebble's root", async (t) => {
    const t0 = Date.now();
    await server.tls.apply(servicesYaml([{ name: 'a', domains: [A], tls: 'acme' }]));
    await until('alpha issued', () => state(server, A)?.state === 'valid', 30_000);
    t.comment(`tls-alpn-01 issuance took ${Date.now() - t0} ms`);
    const hs = await handshake(httpsPort, A, { ca: root, rejectUnauthorized: true });
    t.ok(hs.authorized, "verified against Pebble's root");
    t.match(hs.cert.subjectaltname, `DNS:${A}`);
    t.equal(hs.alpn, 'http/1.1', 'ALPN http/1.1');
    t.equal(await httpsGet(httpsPort, A, root), `https ${A} /hi`, 'HTTPS request served');
    const st = state(server, A);
    t.equal(st?.source, 'acme');
    t.match(st?.issuer ?? '', /Pebble Intermediate/);
    t.ok(st?.next_renewal !== null && Date.parse(st?.next_renewal ?? '') > Date.now(), 'next renewal in the future');
    t.equal(await metric(server, 'netbird_proxy_acme_orders_total', 'result="success"'), 1);
    const expiry = await metric(server, 'netbird_proxy_certificate_expiry_timestamp_seconds', `name="${A}"`);
    t.equal(expiry, Date.parse(st?.not_after ?? '') / 1000, 'expiry metric');
    // Files in --cert-dir are private and keys never reach the logs.
    const caDir = join(certDir, readdirSync(certDir)[0] ?? '');
    for (const f of ['account.key', `certs/${A}.crt`, `certs/${A}.key`]) {
      t.equal(statSync(join(caDir, f)).mode & 0o777, 0o600, `${f} is 0600`);
    }
    for (const dir of ['', 'certs', 'locks', 'challenges']) {
      t.equal(statSync(join(caDir, dir)).mode & 0o777, 0o700, `${dir === '' ? 'the CA folder' : dir} is 0700`);
    }
    t.notMatch(server.logs.text(), /PRIVATE KEY/, 'no key in the logs');
  });

  await t.test('TLS versions and session resumption', async (t) => {
    await t.rejects(handshake(httpsPort, A, { maxVersion: 'TLSv1.1', minVersion: 'TLSv1' }), 'TLS 1.1 refused');
    const v12 = await handshake(httpsPort, A, { maxVersion: 'TLSv1.2' });
    t.equal(v12.protocol, 'TLSv1.2');
    t.ok(v12.session, 'TLS 1.2 session ticket');
    const again = await handshake(httpsPort, A, { maxVersion: 'TLSv1.2', session: v12.session });
    t.ok(again.reused, 'TLS 1.2 session resumed');
    const v13 = await handshake(httpsPort, A);
    t.equal(v13.protocol, 'TLSv1.3');
    const again13 = await handshake(httpsPort, A, { session: v13.session });
    t.ok(again13.reused, 'TLS 1.3 session resumed');
  });

  await t.test('a second name is obtained on reload, without a restart', async (t) => {
    await server.tls.apply(
      servicesYaml([
        { name: 'a', domains: [A], tls: 'acme' },
        { name: 'b', domains: [B], tls: 'acme' },
      ]),
    );
    await until('bravo issued', () => state(server, B)?.state === 'valid', 30_000);
    const hsB = await handshake(httpsPort, B, { ca: root, rejectUnauthorized: true });
    t.match(hsB.cert.subjectaltname, `DNS:${B}`);
    const hsA = await handshake(httpsPort, A, { ca: root, rejectUnauthorized: true });
    t.match(hsA.cert.subjectaltname, `DNS:${A}`, "SNI picks each name's certificate");
    t.equal(await metric(server, 'netbird_proxy_acme_orders_total', 'result="success"'), 2, 'alpha was not ordered again');
  });

  await t.test('CA unreachable: backoff, served names keep serving, the new name fails cleanly', async (t) => {
    await pebble.stopCa();
    const failuresBefore = (await metric(server, 'netbird_proxy_acme_orders_total', 'result="failure"')) ?? 0;
    await server.tls.apply(
      servicesYaml([
        { name: 'a', domains: [A], tls: 'acme' },
        { name: 'b', domains: [B], tls: 'acme' },
        { name: 'c', domains: [C], tls: 'acme' },
      ]),
    );
    await until('charlie failed', () => (state(server, C)?.last_error ?? null) !== null, 15_000);
    const st = state(server, C);
    t.equal(st?.state, 'pending');
    t.match(st?.last_error ?? '', /ECONNREFUSED|connect/i, 'status says why');
    const err = await handshake(httpsPort, C).then(
      () => undefined,
      (e: Error) => e,
    );
    t.ok(err, 'the handshake for a name without a certificate fails');
    t.ok(
      server.logs.lines.some((l) => l['msg'] === 'tls client error' && String(l['err']).includes(`no certificate yet for ${C}`)),
      'the server sees why',
    );
    // Backoff doubles from 300 ms up to the 1200 ms cap: in 4 s at most 300+600+1200+1200 fit (4-5 attempts).
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, 4000));
    const attempts = ((await metric(server, 'netbird_proxy_acme_orders_total', 'result="failure"')) ?? 0) - failuresBefore;
    t.comment(`${attempts} failed orders in ${Date.now() - t0 + 300} ms with the CA down`);
    t.ok(attempts >= 2 && attempts <= 6, `backoff limits attempts (${attempts})`);
    const hsA = await handshake(httpsPort, A, { ca: root, rejectUnauthorized: true });
    t.ok(hsA.authorized, 'alpha still served with its valid certificate');
    t.equal(state(server, A)?.last_error, null, "alpha is not affected by charlie's failures");

    await pebble.startCa();
    const newRoot = await pebble.rootPem();
    await until('charlie issued after the CA came back', () => state(server, C)?.state === 'valid', 30_000);
    const hsC = await handshake(httpsPort, C, { ca: newRoot, rejectUnauthorized: true });
    t.ok(hsC.authorized, 'charlie served once the CA is back');
    t.equal(state(server, C)?.last_error, null, 'error cleared');
  });

  await t.test('one domain failing validation does not hold up another', async (t) => {
    const FAIL = 'unreachable.example.com';
    const OK = 'delta.example.com';
    await pebble.setDnsA(FAIL, '127.0.0.2'); // nothing listens there: validation is refused
    const base = [
      { name: 'a', domains: [A], tls: 'acme' },
      { name: 'b', domains: [B], tls: 'acme' },
      { name: 'c', domains: [C], tls: 'acme' },
    ];
    await server.tls.apply(servicesYaml([...base, { name: 'f', domains: [FAIL], tls: 'acme' }, { name: 'd', domains: [OK], tls: 'acme' }]));
    await until('delta issued', () => state(server, OK)?.state === 'valid', 30_000);
    await until('unreachable failed', () => (state(server, FAIL)?.last_error ?? null) !== null, 30_000);
    t.equal(state(server, FAIL)?.state, 'pending');
    t.match(state(server, FAIL)?.last_error ?? '', /127\.0\.0\.2|refused|connect/i, `the CA's reason is kept: ${state(server, FAIL)?.last_error ?? ''}`);
    t.equal(state(server, OK)?.last_error, null, 'delta has no error');
    t.ok(Number.isFinite(Date.parse(state(server, FAIL)?.next_check ?? '')), 'status shows the next attempt');
    await server.tls.apply(servicesYaml(base));
    t.equal(state(server, FAIL), undefined, 'removed from status with its service');
  });

  await t.test('a second instance on the same --cert-dir reuses the stored certificates', async (t) => {
    const other = await startTlsServer({ acme, ...FAST });
    t.teardown(() => other.close());
    await other.tls.apply(servicesYaml([{ name: 'a', domains: [A], tls: 'acme' }]));
    await until('alpha loaded from disk', () => state(other, A)?.state === 'valid', 10_000);
    t.equal(state(other, A)?.serial, state(server, A)?.serial, 'same certificate');
    t.equal(await metric(other, 'netbird_proxy_acme_orders_total', 'result="success"'), 0, 'no new order');
  });

  await t.test('renewal forced by a large renew-before threshold', async (t) => {
    const before = state(server, A)?.serial;
    const renewing = await startTlsServer({ acme: { ...acme, renewBeforeMs: 100 * 365 * 86400_000 }, ...FAST });
    t.teardown(() => renewing.close());
    await renewing.tls.apply(servicesYaml([{ name: 'a', domains: [A], tls: 'acme' }]));
    await until(
      'alpha renewed',
      () => {
        const s = state(renewing, A);
        return s?.serial !== undefined && s.serial !== null && s.serial !== before;
      },
      30_000,
    );
    t.equal(await metric(renewing, 'netbird_proxy_acme_orders_total', 'result="success"'), 1, 'one renewal order');
    // Still "due" under the forced threshold, but the next look is a full check interval (3 s in FAST) away: no loop.
    const wait = Date.parse(state(renewing, A)?.next_check ?? '') - Date.now();
    t.ok(wait > 2000, `next check ${wait} ms after a renewal, not at once`);
    t.ok(
      renewing.logs.lines.some((l) => l['msg'] === 'renewing the ACME certificate'),
      'logged as a renewal',
    );
    const hs = await handshake(renewing.httpsPort, A);
    t.equal(hs.cert.serialNumber, state(renewing, A)?.serial, 'the renewed certificate is served');
    t.not(hs.cert.serialNumber, before);
  });
});
