// The grammar-based differential fuzzer against the HTTP entrypoint of the real binary
// (docs/request-hygiene.md). First the corpus of inputs that once failed (test/fuzz-corpus/), then
// FUZZ_CASES generated inputs (default 100,000, seed fixed: a failure replays), several per
// connection and many connections at once, from an ordinary client, a client the admin service
// denies, and a trusted balancer sending PROXY headers. Oracles, for every input: the process is
// alive and a clean client is served; every request the recording upstream receives matches the
// proxy's access entry for it (same Host, same target, an allowed service that serves that name),
// is canonical, reads the same under WHATWG URL, and carries no hop-by-hop header; the upstream's
// parser accepts every byte forwarded (no body read there as a further request); no refused
// request ever reaches it. `npm run fuzz -- --minutes N` runs the same test for N minutes with a
// random seed (scripts/fuzz.js).
import t from 'tap';
import net from 'node:net';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { httpGet, until } from '../harness/clients';
import { REPO_ROOT, startDaemon, type LogLine } from '../harness/daemon';
import { Gen, seededRandom } from '../harness/fuzz';
import { fuzzRequest, proxyHeader } from '../harness/fuzz-grammar';
import { checkReceived, startRecordingUpstream, type Received } from '../harness/fuzz-oracle';

const SEED = Number(process.env.FUZZ_SEED ?? 20261207);
const MINUTES = Number(process.env.FUZZ_MINUTES ?? 0);
const CASES = MINUTES > 0 ? Number.MAX_SAFE_INTEGER : Number(process.env.FUZZ_CASES ?? 100_000);
const PARALLEL = 48;
const DENIED = '127.0.0.2';
const CLIENT = '127.0.0.3';
const BALANCER = '127.0.0.9';
const CLEAN = '127.0.0.4';

interface CorpusCase {
  name: string;
  from: string;
  data: string;
}

function loadCorpus(): CorpusCase[] {
  const dir = join(REPO_ROOT, 'test', 'fuzz-corpus');
  const cases: CorpusCase[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) if (line.trim() !== '') cases.push(JSON.parse(line) as CorpusCase);
  }
  return cases;
}

/** Writes `data`, half-closes, and waits for the close (or 3 s). */
function send(port: number, from: string, data: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress: from }, () => s.end(data));
    s.on('data', () => undefined);
    s.on('error', () => undefined);
    s.setTimeout(3000, () => s.destroy());
    s.on('close', () => resolve());
  });
}

const ROUTES: Record<string, (name: string) => boolean> = {
  web: (n) => n === 'app.example.com',
  admin: (n) => n === 'admin.example.com',
  wild: (n) => n.endsWith('.wild.example.com') && !n.slice(0, -'.wild.example.com'.length).includes('.'),
};

t.test(`differential fuzz of the HTTP entrypoint (seed ${SEED})`, async (t) => {
  const upstream = await startRecordingUpstream();
  const daemon = await startDaemon({
    config: `services:
  - name: web
    protocol: http
    domains: [app.example.com]
    target: ${upstream.url}
  - name: admin
    protocol: http
    domains: [admin.example.com]
    target: ${upstream.url}
    access:
      cidr: { deny: [${DENIED}/32, 198.51.100.0/24] }
  - name: wild
    protocol: http
    domains: ['*.wild.example.com']
    target: ${upstream.url}
`,
    args: ['--proxy-protocol', '--trusted-proxies', `${BALANCER}/32`, '--header-timeout', '2s'],
  });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
  });

  const corpus = loadCorpus();
  for (const c of corpus) await send(daemon.httpPort, c.from, Buffer.from(c.data, 'latin1'));
  t.equal(daemon.child.exitCode, null, `the proxy survived the corpus (${corpus.length} inputs that once failed)`);

  const gen = new Gen(seededRandom(SEED));
  const deadline = MINUTES > 0 ? Date.now() + MINUTES * 60_000 : Infinity;
  const t0 = Date.now();
  let inputs = 0;
  let connections = 0;
  let cleanChecks = 0;
  let cleanOk = 0;
  let nextClean = 0;
  while (inputs < CASES && Date.now() < deadline && daemon.child.exitCode === null) {
    const batch: Promise<void>[] = [];
    for (let i = 0; i < PARALLEL && inputs < CASES; i++) {
      const who = gen.int(10);
      const from = who < 3 ? DENIED : who < 8 ? CLIENT : BALANCER;
      const parts: Buffer[] = from === BALANCER ? [proxyHeader(gen)] : [];
      for (let k = 1 + gen.int(6); k > 0 && inputs < CASES; k--) {
        const input = fuzzRequest(gen);
        parts.push(input.bytes);
        inputs++;
        if (!input.framed) break;
      }
      connections++;
      batch.push(send(daemon.httpPort, from, Buffer.concat(parts)));
    }
    await Promise.all(batch);
    if (inputs >= nextClean) {
      nextClean += 5000;
      cleanChecks++;
      const r = await httpGet(`${daemon.httpUrl}/clean`, { host: 'app.example.com', from: CLEAN }).catch(() => ({ status: 0 }));
      if (r.status === 200) cleanOk++;
    }
  }
  const seconds = (Date.now() - t0) / 1000;
  t.equal(daemon.child.exitCode, null, 'the proxy is still running');
  t.equal(cleanOk, cleanChecks, `a clean client was served at every check (${cleanChecks} checks)`);
  t.equal((await httpGet(`${daemon.httpUrl}/after`, { host: 'app.example.com', from: CLEAN })).status, 200, 'and after the run');

  // Every forwarded request has its access entry once the batched access log is flushed.
  const received: Received[] = upstream.received.filter((r) => r.headers['x-request-id'] !== undefined);
  const byId = new Map<string, LogLine>();
  const index = (): void => {
    for (const l of daemon.lines) if (l.msg === 'access' && typeof l.request_id === 'string') byId.set(l.request_id, l);
  };
  await until(
    'an access entry for every forwarded request',
    () => {
      index();
      return received.every((r) => byId.has(r.headers['x-request-id'] as string));
    },
    20_000,
    200,
  ).catch(() => undefined);
  const failures: string[] = [];
  for (const r of received) {
    const entry = byId.get(r.headers['x-request-id'] as string);
    for (const v of checkReceived(r, entry, (service, name) => ROUTES[service]?.(name) ?? false)) {
      if (failures.length < 20) failures.push(`${v}: ${r.method} ${JSON.stringify(r.url)} ${JSON.stringify(r.headers)}`);
      else break;
    }
  }
  // FUZZ_DUMP=<file>: the proxy's whole output, to look into a failure.
  if (process.env.FUZZ_DUMP !== undefined) writeFileSync(process.env.FUZZ_DUMP, daemon.output());
  t.same(failures, [], 'every request the upstream received is what the proxy routed on, canonical, from an admitted client');
  t.equal(received.length, upstream.received.length, 'every request the upstream received came through the proxy');
  // A request cut short (its client left mid-body) ends in an early EOF upstream: that is not a parse disagreement.
  const disagreements = upstream.parseErrors.filter((e) => !e.startsWith('HPE_INVALID_EOF_STATE'));
  t.same(disagreements.slice(0, 5), [], "the upstream's parser accepted everything the proxy forwarded (no leftover body read as a request)");
  const handlerErrors = daemon.lines.filter((l) => l.msg === 'request handler failed' || l.msg === 'connection handler failed');
  t.same(
    handlerErrors.slice(0, 3).map((l) => l.err),
    [],
    'no handler threw',
  );
  t.notOk(
    daemon.lines.some((l) => typeof l.msg === 'string' && l.msg.includes('crashed')),
    'nothing crashed',
  );
  const statuses = new Map<number, number>();
  for (const l of byId.values()) statuses.set(l.status as number, (statuses.get(l.status as number) ?? 0) + 1);
  t.comment(
    `${inputs} inputs on ${connections} connections in ${seconds.toFixed(1)} s (${Math.round(inputs / seconds)}/s); ` +
      `${received.length} reached the upstream; access entries by status: ${[...statuses]
        .sort((a, b) => a[0] - b[0])
        .map(([s, n]) => `${s}:${n}`)
        .join(' ')}`,
  );
  if (MINUTES === 0) t.ok(inputs >= CASES, `${inputs} inputs tried`);
});
