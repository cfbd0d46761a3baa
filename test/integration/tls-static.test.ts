// Certificates from files: chains, SNI across two certificates, a wildcard certificate, hot
// replacement on change, a bad replacement refused (old one kept, error logged and in status),
// and a bad pair at apply() reported as a config error naming file, service and field.
import t from 'tap';
import { copyFileSync, mkdtempSync, renameSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/errors';
import { until } from '../harness/clients';
import { issueLeaf, makeCa } from '../harness/certs';
import { acmeSettings, handshake, servicesYaml, startTlsServer } from '../harness/tls-server';

t.test('static certificate files', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nbp-static-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ca = await makeCa(dir);
  const app = await issueLeaf(ca, 'app', ['app.example.org']);
  const wild = await issueLeaf(ca, 'wild', ['*.example.net', 'example.net']);
  const server = await startTlsServer({ acme: acmeSettings({ certDir: join(dir, 'certs') }), staticPollMs: 300 });
  t.teardown(() => server.close());
  const yaml = servicesYaml([
    { name: 'app', domains: ['app.example.org'], tls: `{ cert: ${app.cert}, key: ${app.key} }` },
    { name: 'wild', domains: ['*.example.net', 'example.net'], tls: `{ cert: ${wild.cert}, key: ${wild.key} }` },
  ]);
  await server.tls.apply(yaml);
  const trust = { ca: ca.rootPem, rejectUnauthorized: true };

  await t.test('served with the chain; SNI picks the certificate; wildcard matches one label', async (t) => {
    const a = await handshake(server.httpsPort, 'app.example.org', trust);
    t.ok(a.authorized, 'verified through the intermediate in the file');
    t.equal(a.cert.subjectaltname, 'DNS:app.example.org');
    const w = await handshake(server.httpsPort, 'shop.example.net', trust);
    t.ok(w.authorized, 'wildcard certificate verifies for shop.example.net');
    t.match(w.cert.subjectaltname, 'DNS:*.example.net');
    const apex = await handshake(server.httpsPort, 'example.net', trust);
    t.ok(apex.authorized, 'apex via its own domain entry');
    await t.rejects(handshake(server.httpsPort, 'a.b.example.net'), 'two labels deep is not covered by *.example.net');
    await t.rejects(handshake(server.httpsPort, 'other.example.com'), 'unknown name: handshake fails');
    const st = server.tls.status().find((s) => s.name === '*.example.net');
    t.equal(st?.source, 'file');
    t.equal(st?.issuer, 'nbp test intermediate');
    t.equal(st?.next_renewal, null);
  });

  await t.test('hot replacement on change, by rename like certbot and Kubernetes do', async (t) => {
    const before = (await handshake(server.httpsPort, 'app.example.org')).cert.serialNumber;
    const next = await issueLeaf(ca, 'app2', ['app.example.org']);
    copyFileSync(next.key, `${app.key}.new`);
    copyFileSync(next.cert, `${app.cert}.new`);
    renameSync(`${app.key}.new`, app.key);
    renameSync(`${app.cert}.new`, app.cert);
    const t0 = Date.now();
    let now = before;
    await until(
      'condition holds',
      async () => {
        now = (await handshake(server.httpsPort, 'app.example.org')).cert.serialNumber;
        return now !== before;
      },
      10_000,
      50,
    );
    t.comment(`replacement served after ${Date.now() - t0} ms`);
    t.not(now, before, 'new serial served');
    t.ok(
      server.logs.lines.some((l) => l['msg'] === 'certificate files reloaded'),
      'reload logged',
    );
    t.equal(server.tls.status().find((s) => s.name === 'app.example.org')?.last_error, null);
  });

  await t.test('a mismatched replacement keeps the old certificate and logs an error', async (t) => {
    const serving = (await handshake(server.httpsPort, 'app.example.org')).cert.serialNumber;
    const other = await issueLeaf(ca, 'other', ['app.example.org']);
    copyFileSync(other.cert, app.cert); // new certificate, old key
    await until('error recorded', () => (server.tls.status().find((s) => s.name === 'app.example.org')?.last_error ?? null) !== null, 10_000);
    const st = server.tls.status().find((s) => s.name === 'app.example.org');
    t.equal(st?.last_error, `${app.cert}: the private key does not match the certificate`);
    const line = server.logs.lines.find((l) => l['msg'] === 'certificate files changed but cannot be used; keeping the previous certificate');
    t.equal(line?.['level'], 50, 'logged at error level');
    const h = await handshake(server.httpsPort, 'app.example.org', trust);
    t.equal(h.cert.serialNumber, serving, 'old certificate still served');
    t.ok(h.authorized);
    writeFileSync(app.cert, 'garbage');
    await until(
      'garbage refused',
      () => (server.tls.status().find((s) => s.name === 'app.example.org')?.last_error ?? '').includes('no PEM certificate'),
      10_000,
    );
    t.equal((await handshake(server.httpsPort, 'app.example.org')).cert.serialNumber, serving, 'still the old one');
  });

  await t.test('a bad pair at apply() is a config error and changes nothing', async (t) => {
    const bad = servicesYaml([
      { name: 'app', domains: ['app.example.org'], tls: `{ cert: ${app.cert}, key: ${app.key} }` },
      { name: 'broken', domains: ['b.example.org'], tls: `{ cert: ${wild.cert}, key: ${join(dir, 'missing.key')} }` },
    ]);
    const err = await server.tls.apply(bad).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.ok(err instanceof ConfigError);
    t.equal((err as Error).message, `/tmp/services.yaml: service "broken": field "tls.key": ${join(dir, 'missing.key')}: cannot read (ENOENT)`);
    t.ok((await handshake(server.httpsPort, 'shop.example.net')).cert.subjectaltname, 'previous config still served');
    await t.rejects(handshake(server.httpsPort, 'b.example.org'), 'the rejected service got nothing');
    const mismatched = servicesYaml([{ name: 'mm', domains: ['mm.example.org'], tls: `{ cert: ${wild.cert}, key: ${join(dir, 'int.key')} }` }]);
    const err2 = await server.tls.apply(mismatched).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.equal((err2 as Error).message, `/tmp/services.yaml: service "mm": field "tls.cert": ${wild.cert}: the private key does not match the certificate`);
  });

  await t.test('removing a service stops serving its names', async (t) => {
    await server.tls.apply(servicesYaml([{ name: 'app', domains: ['app.example.org'], tls: `{ cert: ${app.cert}, key: ${app.key} }` }]));
    await t.rejects(handshake(server.httpsPort, 'shop.example.net'));
    t.strictSame(
      server.tls.status().map((s) => s.name),
      ['app.example.org'],
    );
    t.equal(server.tls.enabled, true);
    await server.tls.apply(servicesYaml([]));
    t.equal(server.tls.enabled, false, 'no HTTPS entrypoint needed');
  });
});
