// Auth on an HTTPS service: the session cookie is Secure, and plain HTTP is redirected to
// https:// before any login page.
import t from 'tap';
import https from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashSecret } from '../../src/auth/secret-hash';
import { issueLeaf, makeCa } from '../harness/certs';
import { httpGet } from '../harness/clients';
import { startDaemon } from '../harness/daemon';
import { freePort } from '../harness/ports';
import { startHttpUpstream } from '../harness/upstreams';

function post(port: number, ca: string, path: string, body: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        servername: 'secure.example.com',
        ca,
        agent: false,
        headers: { host: 'secure.example.com', 'content-type': 'application/x-www-form-urlencoded' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

t.test('auth over HTTPS', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nbp-auth-https-'));
  const ca = await makeCa(dir);
  const leaf = await issueLeaf(ca, 'secure', ['secure.example.com']);
  const upstream = await startHttpUpstream();
  const httpsPort = await freePort();
  const daemon = await startDaemon({
    config: `services:
  - name: secure
    protocol: http
    domains: [secure.example.com]
    target: ${upstream.url}
    tls: { cert: ${leaf.cert}, key: ${leaf.key} }
    auth: { password: { hash: "${await hashSecret('pw')}" }, session: 30m }
`,
    args: ['--https-addr', `127.0.0.1:${httpsPort}`],
    env: { NB_PROXY_SESSION_SECRET: 'https-test-session-secret-0123456789abcdef' },
  });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const plain = await httpGet(`${daemon.httpUrl}/.netbird-proxy/auth/login`, { host: 'secure.example.com', headers: { accept: 'text/html' } });
  t.equal(plain.status, 308, 'plain HTTP goes to https:// first');
  t.equal(plain.headers.location, 'https://secure.example.com/.netbird-proxy/auth/login');
  const res = await post(httpsPort, ca.rootPem, '/.netbird-proxy/auth/login', 'password=pw&rd=%2F');
  t.equal(res.status, 303);
  t.match((res.headers['set-cookie'] as string[] | undefined)?.[0] ?? '', /^nbp_session=v1\.[^;]+; Path=\/; Max-Age=1800; HttpOnly; SameSite=Lax; Secure$/);
});
