// ACME against a real Pebble with http-01: the HTTP listener answers the challenge through
// answerHttp01(), the certificate is served over HTTPS, and no ClientHello is peeked.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpGet, until } from '../harness/clients';
import { freePort } from '../harness/ports';
import { startPebble } from '../harness/pebble';
import { FAST, acmeSettings, handshake, servicesYaml, startTlsServer } from '../harness/tls-server';

const D = 'http01.example.com';

t.test('http-01 against Pebble', async (t) => {
  const httpPort = await freePort();
  const httpsPort = await freePort();
  const pebble = await startPebble({ httpPort, tlsPort: await freePort() });
  t.teardown(() => pebble.stop());
  const certDir = mkdtempSync(join(tmpdir(), 'nbp-certs-'));
  t.teardown(() => rmSync(certDir, { recursive: true, force: true }));
  const acme = acmeSettings({ certDir, directoryUrl: pebble.directoryUrl, caCertPath: pebble.apiCaCertPath, challenge: 'http-01' });
  const server = await startTlsServer({ acme, ...FAST, httpPort, httpsPort });
  t.teardown(() => server.close());

  // Record what the CA asked the HTTP listener while validating.
  const asked: string[] = [];
  const answer = server.tls.answerHttp01.bind(server.tls);
  server.tls.answerHttp01 = (path: string) => {
    const a = answer(path);
    asked.push(`${path} -> ${a === undefined ? 'none' : 'answered'}`);
    return a;
  };

  const t0 = Date.now();
  await server.tls.apply(servicesYaml([{ name: 'web', domains: [D], tls: 'acme' }]));
  await until('issued', () => server.tls.status()[0]?.state === 'valid', 30_000);
  t.comment(`http-01 issuance took ${Date.now() - t0} ms`);
  t.ok(
    asked.some((a) => /^\/\.well-known\/acme-challenge\/[A-Za-z0-9_-]+ -> answered$/.test(a)),
    `the CA fetched the token over HTTP (${asked.join('; ')})`,
  );

  const root = await pebble.rootPem();
  const hs = await handshake(httpsPort, D, { ca: root, rejectUnauthorized: true });
  t.ok(hs.authorized, "trusted via Pebble's root");
  t.match(hs.cert.subjectaltname, `DNS:${D}`);

  t.equal(server.tls.answerHttp01('/.well-known/acme-challenge/unknown-token'), undefined, 'unknown token: no answer');
  t.equal(server.tls.answerHttp01('/.well-known/acme-challenge/../../account.key'), undefined, 'no path traversal');
  const r = await httpGet(`http://127.0.0.1:${httpPort}/.well-known/acme-challenge/gone`);
  t.equal(r.status, 404, 'a finished challenge is no longer answered');
});
