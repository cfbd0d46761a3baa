// SNI lookup order, certificate name coverage, the TLS settings, and upstream_tls client options
// against a real HTTPS upstream.
import t from 'tap';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certCovers, nameCovers } from '../../../src/tls/pem';
import { SniTable } from '../../../src/tls/sni-table';
import { LETS_ENCRYPT_PRODUCTION } from '../../../src/settings/options';
import { resolveSettings } from '../../../src/settings/resolve';
import { SettingsError } from '../../../src/settings/types';
import { upstreamTlsOptions, type UpstreamTlsOptions } from '../../../src/tls/upstream';
import { issueLeaf, makeCa } from '../../harness/certs';

t.test('SNI table: exact name first, then the wildcard one label up', async (t) => {
  const table = new SniTable<string>();
  table.set('*.example.org', 'wild');
  table.set('app.example.org', 'exact');
  t.equal(table.lookup('app.example.org'), 'exact');
  t.equal(table.lookup('APP.Example.org.'), 'exact', 'case and trailing dot');
  t.equal(table.lookup('shop.example.org'), 'wild');
  t.equal(table.lookup('a.b.example.org'), undefined, 'one label only');
  t.equal(table.lookup('example.org'), undefined, 'the apex is not covered by the wildcard');
});

t.test('certificate name coverage', async (t) => {
  t.ok(nameCovers('*.example.org', 'a.example.org'));
  t.notOk(nameCovers('*.example.org', 'a.b.example.org'));
  t.notOk(nameCovers('*.example.org', 'example.org'));
  t.ok(certCovers(['*.example.org'], '*.example.org'), 'a wildcard domain needs a wildcard certificate');
  t.notOk(certCovers(['a.example.org'], '*.example.org'));
  t.ok(certCovers(['*.example.org'], 'x.example.org'));
});

t.test('TLS settings: defaults, environment, errors', async (t) => {
  const s = resolveSettings({}, {}, undefined);
  t.strictSame(s.httpsAddr, { host: '0.0.0.0', port: 8443 });
  t.strictSame(s.acme, {
    email: undefined,
    directoryUrl: LETS_ENCRYPT_PRODUCTION,
    caCertPath: undefined,
    challenge: 'tls-alpn-01',
    renewBeforeMs: undefined,
    certDir: './certs',
  });
  const e = resolveSettings(
    { acmeChallenge: 'http-01' },
    {
      NB_PROXY_HTTPS_ADDR: '127.0.0.1:9443',
      NB_PROXY_ACME_EMAIL: 'a@b.c',
      NB_PROXY_ACME_DIRECTORY: 'https://127.0.0.1:14000/dir',
      NB_PROXY_ACME_CA_CERT: '/ca.pem',
      NB_PROXY_ACME_CHALLENGE: 'tls-alpn-01',
      NB_PROXY_ACME_RENEW_BEFORE: '2160h',
      NB_PROXY_CERT_DIR: '/var/lib/x',
    },
    undefined,
  );
  t.strictSame(e.httpsAddr, { host: '127.0.0.1', port: 9443 });
  t.strictSame(
    e.acme,
    {
      email: 'a@b.c',
      directoryUrl: 'https://127.0.0.1:14000/dir',
      caCertPath: '/ca.pem',
      challenge: 'http-01',
      renewBeforeMs: 90 * 86400_000,
      certDir: '/var/lib/x',
    },
    'the flag beats the environment',
  );
  t.throws(
    () => resolveSettings({ acmeChallenge: 'dns-01' }, {}, undefined),
    new SettingsError('--acme-challenge / NB_PROXY_ACME_CHALLENGE: "dns-01" is not tls-alpn-01 or http-01'),
  );
  t.throws(
    () => resolveSettings({ acmeDirectory: 'letsencrypt' }, {}, undefined),
    new SettingsError('--acme-directory / NB_PROXY_ACME_DIRECTORY: "letsencrypt" is not an http(s) URL'),
  );
  t.throws(() => resolveSettings({ httpsAddr: '8443' }, {}, undefined), new SettingsError('--https-addr / NB_PROXY_HTTPS_ADDR: "8443" is not host:port'));
});

t.test('upstream_tls options against a real HTTPS upstream', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nbp-up-'));
  const ca = await makeCa(dir);
  const leaf = await issueLeaf(ca, 'up', ['internal.example']);
  const server = createServer({ cert: readFileSync(leaf.cert), key: readFileSync(leaf.key) }, (_req, res) => res.end('upstream'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const port = (server.address() as AddressInfo).port;
  const get = (o: UpstreamTlsOptions): Promise<string> =>
    new Promise((resolve) => {
      const req = request({ host: '127.0.0.1', port, agent: false, ...o }, (res) => {
        res.resume();
        res.on('end', () => resolve(`ok ${res.statusCode ?? 0}`));
      });
      req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      req.end();
    });
  t.equal(await get(await upstreamTlsOptions(undefined)), 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'default: system roots, so a private CA fails as today');
  t.equal(await get(await upstreamTlsOptions({ insecureSkipVerify: true })), 'ok 200', 'insecure_skip_verify');
  t.equal(
    await get(await upstreamTlsOptions({ insecureSkipVerify: false, ca: join(dir, 'root.crt') })),
    'ERR_TLS_CERT_ALTNAME_INVALID',
    'ca alone: the IP is not in the certificate',
  );
  t.equal(
    await get(await upstreamTlsOptions({ insecureSkipVerify: false, ca: join(dir, 'root.crt'), serverName: 'internal.example' })),
    'ok 200',
    'ca + server_name',
  );
  await t.rejects(upstreamTlsOptions({ insecureSkipVerify: false, ca: join(dir, 'nope.pem') }), { message: `${join(dir, 'nope.pem')}: cannot read (ENOENT)` });
});
