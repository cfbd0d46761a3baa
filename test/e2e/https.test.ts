// The HTTPS entrypoint of the real binary with certificate files: SNI across two certificates,
// the 308 from http://, restrictions and client IP (PROXY protocol) through TLS, upstream_tls,
// a bad certificate at reload, and /status and /metrics.
import t from 'tap';
import https from 'node:https';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { makeCa, issueLeaf } from '../harness/certs';
import { startDaemon, type Daemon, type LogLine } from '../harness/daemon';
import { httpGet } from '../harness/clients';
import { httpsRequest } from '../harness/https-client';
import { freePort } from '../harness/ports';
import { startHttpUpstream } from '../harness/upstreams';

async function accessFor(daemon: Daemon, path: string): Promise<LogLine> {
  return daemon.waitFor((l) => l.msg === 'access' && l.path === path, 5000, `access entry for ${path}`);
}

t.test('HTTPS with certificate files', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nbp-https-'));
  const ca = await makeCa(dir);
  const a = await issueLeaf(ca, 'a', ['a.example.com']);
  const b = await issueLeaf(ca, 'b', ['b.example.com', 'c.example.com']);
  const internal = await issueLeaf(ca, 'internal', ['internal.test']);
  const upstream = await startHttpUpstream();
  // An https upstream whose certificate names internal.test, trusted only through upstream_tls.ca.
  const secureUpstream = https.createServer({ cert: readFileSync(internal.cert), key: readFileSync(internal.key) }, (req, res) => {
    res.end(`secure upstream saw ${req.headers['x-forwarded-proto'] as string}`);
  });
  await new Promise<void>((r) => secureUpstream.listen(0, '127.0.0.1', r));
  const securePort = (secureUpstream.address() as AddressInfo).port;
  const httpsPort = await freePort();
  const caFile = join(dir, 'root.crt');
  const services = (extra = ''): string => `services:
  - name: a
    protocol: http
    domains: [a.example.com]
    target: ${upstream.url}
    tls: { cert: ${a.cert}, key: ${a.key} }
  - name: b
    protocol: http
    domains: [b.example.com]
    target: ${upstream.url}
    tls: { cert: ${b.cert}, key: ${b.key} }
    redirect_https: false
  - name: c
    protocol: http
    domains: [c.example.com]
    target: ${upstream.url}
    tls: { cert: ${b.cert}, key: ${b.key} }
    access:
      cidr: { deny: [127.0.0.2/32, 203.0.113.66/32] }
  - name: plain
    protocol: http
    domains: [plain.example.com]
    target: ${upstream.url}
  - name: internal
    protocol: http
    domains: [internal.example.com]
    target: https://127.0.0.1:${securePort}
    tls: { cert: ${b.cert}, key: ${b.key} }
    upstream_tls: { ca: ${caFile}, server_name: internal.test }
${extra}`;
  const daemon = await startDaemon({
    config: services(),
    args: ['--https-addr', `127.0.0.1:${httpsPort}`, '--proxy-protocol', '--trusted-proxies', '127.0.0.9/32'],
  });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
    secureUpstream.closeAllConnections();
    secureUpstream.close();
  });
  const listening = await daemon.waitFor((l) => l.msg === 'netbird-proxy listening');
  t.equal(listening.https_addr, `127.0.0.1:${httpsPort}`, 'the HTTPS entrypoint is bound because services have tls');

  await t.test('SNI picks the certificate; the request is proxied with X-Forwarded-Proto https and logged with scheme and sni', async (t) => {
    const ra = await httpsRequest({ port: httpsPort, servername: 'a.example.com', path: '/one', ca: ca.rootPem });
    t.ok(ra.authorized, `a.example.com verifies against the root (${ra.authorizationError ?? ''})`);
    t.equal(ra.cert.subject.CN, 'a.example.com');
    t.equal(ra.status, 200);
    const seen = JSON.parse(ra.body) as { headers: Record<string, string> };
    t.equal(seen.headers['x-forwarded-proto'], 'https');
    t.match(await accessFor(daemon, '/one'), { service: 'a', protocol: 'http', scheme: 'https', sni: 'a.example.com', status: 200, client_ip: '127.0.0.1' });

    const rb = await httpsRequest({ port: httpsPort, servername: 'b.example.com', path: '/two', ca: ca.rootPem });
    t.ok(rb.authorized);
    t.match(rb.cert.subjectaltname, /DNS:b\.example\.com/);
    t.equal(rb.status, 200);
    await t.rejects(httpsRequest({ port: httpsPort, servername: 'nothing.example.com' }), 'no certificate for an unknown name: the handshake fails');
    const plain = await httpsRequest({ port: httpsPort, servername: 'a.example.com', host: 'plain.example.com', path: '/plain' });
    t.equal(plain.status, 404, 'a tls: off service is not served on the HTTPS entrypoint, whatever the Host');
  });

  await t.test('http:// gets 308 to https:// except challenge paths, services without redirect, and denied clients', async (t) => {
    const r = await httpGet(`${daemon.httpUrl}/path?q=1`, { host: 'a.example.com:8080' });
    t.equal(r.status, 308);
    t.equal(r.headers.location, `https://a.example.com:${httpsPort}/path?q=1`, "Host with a port (no 80 mapping): to the HTTPS entrypoint's own port");
    const mapped = await httpGet(`${daemon.httpUrl}/path?q=2`, { host: 'a.example.com' });
    t.equal(mapped.headers.location, 'https://a.example.com/path?q=2', 'Host without a port (port 80 outside): to 443');
    t.match(await accessFor(daemon, '/path?q=1'), { service: 'a', scheme: 'http', status: 308, deny_reason: '' });
    const challenge = await httpGet(`${daemon.httpUrl}/.well-known/acme-challenge/tok`, { host: 'a.example.com' });
    t.equal(challenge.status, 404, 'an http-01 path with no pending token is answered 404 by the proxy: never redirected, never forwarded');
    t.equal((await httpGet(`${daemon.httpUrl}/b`, { host: 'b.example.com' })).status, 200, 'redirect_https: false serves http');
    const denied = await httpGet(`${daemon.httpUrl}/denied`, { host: 'c.example.com', from: '127.0.0.2' });
    t.equal(denied.status, 403, 'a denied client is refused on http:// rather than redirected');
    t.equal((await httpGet(`${daemon.httpUrl}/ok`, { host: 'c.example.com' })).status, 308);
  });

  await t.test('CIDR rules and the client IP from a trusted PROXY header apply through TLS', async (t) => {
    const denied = await httpsRequest({ port: httpsPort, servername: 'c.example.com', path: '/cidr', from: '127.0.0.2' });
    t.equal(denied.status, 403);
    t.match(await accessFor(daemon, '/cidr'), { service: 'c', scheme: 'https', sni: 'c.example.com', client_ip: '127.0.0.2', deny_reason: 'ip_restricted' });

    const proxied = await httpsRequest({
      port: httpsPort,
      servername: 'a.example.com',
      path: '/via-lb',
      from: '127.0.0.9',
      proxyHeader: `PROXY TCP4 203.0.113.7 127.0.0.1 40000 ${httpsPort}\r\n`,
    });
    t.equal(proxied.status, 200);
    const seen = JSON.parse(proxied.body) as { headers: Record<string, string> };
    t.equal(seen.headers['x-forwarded-for'], '203.0.113.7', 'the announced client reaches the upstream');
    t.match(await accessFor(daemon, '/via-lb'), { client_ip: '203.0.113.7', scheme: 'https', sni: 'a.example.com' });
    const announcedDenied = await httpsRequest({
      port: httpsPort,
      servername: 'c.example.com',
      path: '/lb-denied',
      from: '127.0.0.9',
      proxyHeader: `PROXY TCP4 203.0.113.66 127.0.0.1 40001 ${httpsPort}\r\n`,
    });
    t.equal(announcedDenied.status, 403, 'the rules judge the announced address');
    await t.rejects(
      httpsRequest({ port: httpsPort, servername: 'a.example.com', from: '127.0.0.9' }),
      'a trusted peer without a PROXY header is dropped before TLS',
    );
  });

  await t.test('upstream_tls: the service CA and server_name verify an https upstream', async (t) => {
    const r = await httpsRequest({ port: httpsPort, servername: 'b.example.com', host: 'internal.example.com', path: '/internal' });
    t.equal(r.status, 200, r.body);
    t.equal(r.body, 'secure upstream saw https');
  });

  await t.test('/status lists the certificates, /metrics their expiry, /readyz is ready', async (t) => {
    const status = JSON.parse((await httpGet(`${daemon.adminUrl}/status`)).body) as { certificates: Record<string, unknown>[] };
    t.match(
      status.certificates.find((c) => c.name === 'a.example.com'),
      { service: 'a', source: 'file', state: 'valid', names: ['a.example.com'], last_error: null },
    );
    const metrics = (await httpGet(`${daemon.adminUrl}/metrics`)).body;
    t.match(metrics, /netbird_proxy_certificate_expiry_timestamp_seconds\{name="a\.example\.com"\} \d+/);
    t.equal((await httpGet(`${daemon.adminUrl}/readyz`)).status, 200);
  });

  await t.test('a bad certificate file at reload keeps the running config', async (t) => {
    const bad = join(dir, 'bad.crt');
    writeFileSync(bad, '-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n');
    daemon.writeConfig(
      services(`  - name: d
    protocol: http
    domains: [d.example.com]
    target: ${upstream.url}
    tls: { cert: ${bad}, key: ${a.key} }
`),
    );
    const err = await daemon.waitFor((l) => l.msg === 'config reload failed; keeping the running config', 10_000, 'reload failure');
    t.match(err.err, /service "d": field "tls\.cert"/);
    const r = await httpsRequest({ port: httpsPort, servername: 'a.example.com', path: '/after-bad-reload', ca: ca.rootPem });
    t.equal(r.status, 200, 'the running services still answer');
  });
});

t.test('--https-addr is bound only once a service has tls, on reload without a restart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nbp-https-'));
  const ca = await makeCa(dir);
  const leaf = await issueLeaf(ca, 'late', ['late.example.com']);
  const upstream = await startHttpUpstream();
  const httpsPort = await freePort();
  const plain = `services:
  - name: late
    protocol: http
    domains: [late.example.com]
    target: ${upstream.url}
`;
  const daemon = await startDaemon({ config: plain, args: ['--https-addr', `127.0.0.1:${httpsPort}`] });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
  });
  t.equal((await daemon.waitFor((l) => l.msg === 'netbird-proxy listening')).https_addr, undefined);
  await t.rejects(httpsRequest({ port: httpsPort, servername: 'late.example.com' }), { code: 'ECONNREFUSED' });
  daemon.writeConfig(`${plain}    tls: { cert: ${leaf.cert}, key: ${leaf.key} }\n`);
  await daemon.waitFor((l) => l.msg === 'https listener bound', 10_000, 'https listener bound');
  const r = await httpsRequest({ port: httpsPort, servername: 'late.example.com', path: '/late', ca: ca.rootPem });
  t.ok(r.authorized);
  t.equal(r.status, 200);
  t.equal((await httpGet(`${daemon.httpUrl}/x`, { host: 'late.example.com' })).status, 308, 'redirect_https defaults to true with tls');
});

t.test('--https-redirect-port fixes the port of the https:// URL whatever the Host says', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nbp-redirect-'));
  const ca = await makeCa(dir);
  const a = await issueLeaf(ca, 'a', ['a.example.com']);
  const config = `services:\n  - { name: a, protocol: http, domains: [a.example.com], target: "http://127.0.0.1:9", tls: { cert: ${a.cert}, key: ${a.key} } }\n`;
  const https443 = await startDaemon({ config, args: ['--https-addr', `127.0.0.1:${await freePort()}`, '--https-redirect-port', '443'] });
  t.teardown(() => https443.stop());
  const r1 = await httpGet(`${https443.httpUrl}/x?y=1`, { host: 'a.example.com:8080' });
  t.equal(r1.headers.location, 'https://a.example.com/x?y=1', '443: no port in the URL');
  const other = await startDaemon({ config, args: ['--https-addr', `127.0.0.1:${await freePort()}`], env: { NB_PROXY_HTTPS_REDIRECT_PORT: '8443' } });
  t.teardown(() => other.stop());
  const r2 = await httpGet(`${other.httpUrl}/x`, { host: 'a.example.com' });
  t.equal(r2.headers.location, 'https://a.example.com:8443/x', 'NB_PROXY_HTTPS_REDIRECT_PORT=8443');
});
