// ACME with --workers 2 against a real Pebble: the primary orders, both workers serve what it hands
// them and both learn every pending challenge (the validator reaches whichever worker the kernel
// picks); short-lived certificates (30 s) are renewed and swapped in both workers while a
// keep-alive connection made with the old one goes on; a worker killed during a renewal is
// replaced by one that serves the current certificate from its start and then the renewed one.
import t from 'tap';
import https from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { httpGet, until } from '../harness/clients';
import { startDaemon, type Daemon, type LogLine } from '../harness/daemon';
import { httpsRequest } from '../harness/https-client';
import { startPebble, type Pebble } from '../harness/pebble';
import { freePort } from '../harness/ports';
import { startHttpUpstream, type HttpUpstream } from '../harness/upstreams';

interface CertRow {
  name: string;
  state: string;
  serial: string | null;
}

interface Status {
  certificates: CertRow[];
  workers: Array<{ worker: number; pid?: number; certificates?: CertRow[] }>;
}

const VALIDITY_S = 30;

async function status(d: Daemon): Promise<Status> {
  return JSON.parse((await httpGet(`${d.adminUrl}/status`)).body) as Status;
}

/** The serial each worker serves for `name` (undefined: none yet, or the worker is not running). */
async function workerSerials(d: Daemon, name: string): Promise<Array<string | undefined>> {
  const s = await status(d);
  return s.workers.map((w) => {
    const row = w.certificates?.find((c) => c.name === name);
    return row?.state === 'valid' ? (row.serial ?? undefined) : undefined;
  });
}

/** Waits until both workers serve one same certificate that `accept` takes; returns its serial. */
async function allServe(d: Daemon, name: string, accept: (serial: string) => boolean, what: string): Promise<string> {
  let serial = '';
  await until(
    what,
    async () => {
      const serials = await workerSerials(d, name);
      const first = serials[0];
      if (serials.length !== 2 || first === undefined || !serials.every((s) => s === first) || !accept(first)) return false;
      serial = first;
      return true;
    },
    60_000,
    100,
  );
  return serial;
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
    '--workers',
    '2',
    '--log-level',
    'debug',
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

/** Workers that logged a pending challenge of `kind` handed over by the primary. */
function workersTold(d: Daemon, kind: string): Set<unknown> {
  const told = d.lines.filter((l: LogLine) => l.msg === 'ACME state from the primary' && Array.isArray(l.challenges) && l.challenges.includes(kind));
  return new Set(told.map((l) => l.worker));
}

/** GET over one kept-alive connection; resolves with the socket it went over and the serial that socket was served. */
function keptAliveGet(agent: https.Agent, port: number, servername: string, ca: string): Promise<{ status: number; socket: TLSSocket; serial: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, servername, headers: { host: servername }, path: '/kept', agent, ca }, (res) => {
      res.resume();
      res.on('end', () => {
        const socket = req.socket as TLSSocket;
        resolve({ status: res.statusCode ?? 0, socket, serial: socket.getPeerCertificate().serialNumber });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

t.test('ACME with --workers 2 against Pebble', async (t) => {
  const httpsPort = await freePort();
  const http01Port = await freePort();
  const pebble = await startPebble({ httpPort: http01Port, tlsPort: httpsPort, certValiditySeconds: VALIDITY_S });
  t.teardown(() => pebble.stop());
  const root = await pebble.rootPem();

  await t.test('tls-alpn-01: issued once, served by both workers, renewed in both without dropping a connection, a worker killed mid-renewal', async (t) => {
    const certDir = mkdtempSync(join(tmpdir(), 'nbp-e2e-certs-'));
    const upstream = await startHttpUpstream();
    const daemon = await startDaemon({ config: `services:\n${service('one', 'one.example.com', upstream)}`, args: acmeArgs(pebble, certDir, httpsPort) });
    t.teardown(async () => {
      await daemon.stop();
      await upstream.close();
      rmSync(certDir, { recursive: true, force: true });
    });
    t.notMatch(daemon.output(), /does not support ACME/);

    const first = await allServe(daemon, 'one.example.com', () => true, 'both workers serve the first certificate');
    t.same(workersTold(daemon, 'tls-alpn-01'), new Set([1, 2]), 'both workers were handed the tls-alpn-01 challenge');
    t.equal((await status(daemon)).certificates.find((c) => c.name === 'one.example.com')?.serial, first, "the primary's /status shows the same certificate");
    t.equal(daemon.lines.filter((l) => l.msg === 'requesting an ACME certificate').length, 1, 'one order for the group');
    const r = await httpsRequest({ port: httpsPort, servername: 'one.example.com', path: '/acme', ca: root });
    t.ok(r.authorized, `the served certificate chains to Pebble's root (${r.authorizationError ?? ''})`);
    t.equal(r.status, 200);

    // A keep-alive connection made with the first certificate, used every 300 ms while the renewal happens.
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    t.teardown(() => agent.destroy());
    const opened = await keptAliveGet(agent, httpsPort, 'one.example.com', root);
    t.equal(opened.serial, first);
    let kept = true;
    let keeping = true;
    const keepBusy = (async () => {
      while (keeping) {
        const again = await keptAliveGet(agent, httpsPort, 'one.example.com', root);
        if (again.socket !== opened.socket || again.status !== 200) kept = false;
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    })();
    const second = await allServe(daemon, 'one.example.com', (s) => s !== first, 'both workers serve the renewed certificate');
    keeping = false;
    await keepBusy;
    t.ok(kept, 'the connection made with the old certificate kept working through the swap');
    t.ok(
      daemon.lines.some((l) => l.msg === 'renewing the ACME certificate'),
      'logged as a renewal',
    );
    const fresh = await httpsRequest({ port: httpsPort, servername: 'one.example.com', path: '/fresh', ca: root });
    t.equal(fresh.cert.serialNumber, second, 'a new connection gets the renewed certificate');
    t.ok(fresh.authorized);

    // The next renewal: kill -9 worker 1 as soon as the primary starts it.
    const renewalsSoFar = daemon.lines.filter((l) => l.msg === 'renewing the ACME certificate').length;
    await until('the next renewal starts', () => daemon.lines.filter((l) => l.msg === 'renewing the ACME certificate').length > renewalsSoFar, 60_000, 5);
    const victim = (await status(daemon)).workers[0];
    process.kill(victim.pid as number, 'SIGKILL');
    await daemon.waitFor((l) => l.msg === 'replacement worker serving' && l.worker === 1, 20_000, 'replacement');
    const atStart = (await workerSerials(daemon, 'one.example.com'))[0];
    t.ok(atStart !== undefined, `the replacement serves a certificate from its start (${atStart ?? 'none'})`);
    await allServe(daemon, 'one.example.com', (s) => s !== first && s !== second, 'both workers, the replacement too, serve the next certificate');
    t.notOk(
      daemon.lines.some((l) => l.msg === 'ACME renewal failed; the current certificate keeps serving'),
      'no renewal failed, the one under way when the worker died included',
    );
    const last = await httpsRequest({ port: httpsPort, servername: 'one.example.com', path: '/last', ca: root });
    t.ok(last.authorized);
  });

  await t.test('http-01: answered by the workers for the primary, served by both', async (t) => {
    const certDir = mkdtempSync(join(tmpdir(), 'nbp-e2e-certs-'));
    const upstream = await startHttpUpstream();
    const ownHttps = await freePort();
    const daemon = await startDaemon({
      config: `services:\n${service('web', 'web.example.com', upstream)}`,
      args: [...acmeArgs(pebble, certDir, ownHttps), '--acme-challenge', 'http-01', '--http-addr', `127.0.0.1:${http01Port}`],
    });
    t.teardown(async () => {
      await daemon.stop();
      await upstream.close();
      rmSync(certDir, { recursive: true, force: true });
    });
    const serial = await allServe(daemon, 'web.example.com', () => true, 'both workers serve the certificate');
    t.same(workersTold(daemon, 'http-01'), new Set([1, 2]), 'both workers were handed the http-01 token');
    const challenge = await daemon.waitFor(
      (l) => l.msg === 'access' && typeof l.path === 'string' && l.path.startsWith('/.well-known/acme-challenge/'),
      5000,
      'challenge access entry',
    );
    t.match(challenge, { scheme: 'http', status: 200, service: '' }, 'a worker answered the validation request');
    t.equal(upstream.requests.length, 0, 'the challenge never reached the upstream');
    const r = await httpsRequest({ port: ownHttps, servername: 'web.example.com', path: '/', ca: root });
    t.ok(r.authorized, `served with a certificate chaining to Pebble's root (first serial ${serial})`);
  });
});
