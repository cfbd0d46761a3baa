// The upstream agents' own timers (src/forward/upstream-agent.ts): an idle keep-alive connection
// is closed by the proxy after 4 s, or a second before the upstream's "Keep-Alive: timeout=N"
// when that is sooner, so the proxy never sends on a connection the upstream is closing. Who
// closed is seen on the upstream's side: the proxy's FIN arrives as 'end' before 'close'; an
// upstream that closes the connection itself sees no 'end'.
import t from 'tap';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { startDaemon } from '../harness/daemon';
import { httpGet, until } from '../harness/clients';

interface Upstream {
  url: string;
  /** Per connection: closed yet, and whether the proxy's FIN came first. */
  conns: Array<{ closed: boolean; byProxy: boolean }>;
  close(): Promise<void>;
}

async function upstream(keepAliveTimeoutMs: number): Promise<Upstream> {
  const conns: Upstream['conns'] = [];
  const server = http.createServer((_req, res) => res.end('ok'));
  // Node sends "Keep-Alive: timeout=<this in seconds>" with every keep-alive response.
  server.keepAliveTimeout = keepAliveTimeoutMs;
  server.on('connection', (socket: Socket) => {
    const c = { closed: false, byProxy: false };
    conns.push(c);
    socket.on('end', () => (c.byProxy = !c.closed));
    socket.on('close', () => (c.closed = true));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    conns,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

t.test('idle upstream connections are closed by the proxy: after 4 s, or before the upstream’s keep-alive hint', async (t) => {
  const hinted = await upstream(2000);
  const patient = await upstream(60_000);
  const daemon = await startDaemon({
    config: `services:
  - name: hinted
    protocol: http
    domains: [hinted.example.com]
    target: ${hinted.url}
  - name: patient
    protocol: http
    domains: [patient.example.com]
    target: ${patient.url}
`,
  });
  t.teardown(async () => {
    await daemon.stop();
    await hinted.close();
    await patient.close();
  });
  const [a, b] = await Promise.all([
    httpGet(`${daemon.httpUrl}/`, { host: 'hinted.example.com' }),
    httpGet(`${daemon.httpUrl}/`, { host: 'patient.example.com' }),
  ]);
  t.equal(a.status, 200);
  t.equal(b.status, 200);
  await until('both upstream connections closed', () => [...hinted.conns, ...patient.conns].every((c) => c.closed), 15_000, 50);
  t.equal(hinted.conns.length, 1);
  t.equal(patient.conns.length, 1);
  // "timeout=2": the proxy lets go after 1 s, before the upstream's own 2 s.
  t.ok(hinted.conns[0].byProxy, 'the proxy closed the connection the upstream would close at 2 s');
  // "timeout=60": the proxy's own 4 s idle limit closes it.
  t.ok(patient.conns[0].byProxy, 'the proxy closed the idle connection the upstream would keep for 60 s');
});
