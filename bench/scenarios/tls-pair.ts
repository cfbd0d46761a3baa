// nginx and netbird-proxy terminating TLS with the same certificate (a fresh CA and leaf), both
// proxying to the shared upstream with keep-alive: the set-up of the HTTPS and HTTP/2 scenarios.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { makeCa, issueLeaf } from '../../test/harness/certs';
import { freePort } from '../../test/harness/ports';
import { startNetbird } from '../lib/netbird';
import { startNginxTlsProxy } from '../lib/servers';
import type { BenchContext } from '../runner/context';

/** The name the certificate covers and clients send as SNI ("localhost" is in /etc/hosts). */
export const SNI = 'localhost';

export interface TlsPair {
  nginx: { pid: number; port: number };
  netbird: { pid: number; port: number };
}

/** `name` tells the pair's folders apart (e.g. "tls", "h2"); `http2` offers ALPN h2 on nginx too. */
export async function startTlsPair(ctx: BenchContext, name: string, http2: boolean): Promise<TlsPair> {
  const { tools, pin, fleet, dir } = ctx;
  const certDir = join(dir, `${name}-certs`);
  mkdirSync(certDir, { recursive: true });
  const leaf = await issueLeaf(await makeCa(certDir), 'bench', ['bench.local', SNI]);
  const nginxPort = await freePort();
  const nginx = await startNginxTlsProxy({
    nginx: tools.nginx,
    dir: join(dir, `nginx-${name}`),
    cpu: pin.server,
    port: nginxPort,
    upstream: fleet.upstreamPort,
    http2,
    ...leaf,
  });
  ctx.defer(() => nginx.stop());
  const nbPort = await freePort();
  const nb = await startNetbird({
    name: `netbird-${name}`,
    dir: join(dir, `netbird-${name}`),
    cpu: pin.server,
    services: `services:
  - name: web
    protocol: http
    domains: [bench.local, ${SNI}]
    target: http://127.0.0.1:${fleet.upstreamPort}
    tls: { cert: ${leaf.cert}, key: ${leaf.key} }
`,
    httpPort: await freePort(),
    adminPort: await freePort(),
    args: ['--https-addr', `127.0.0.1:${nbPort}`],
  });
  ctx.defer(() => nb.stop());
  return { nginx: { pid: nginx.pid, port: nginxPort }, netbird: { pid: nb.pid, port: nbPort } };
}
