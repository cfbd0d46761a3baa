/*
 * A scripted stand-in for the CrowdSec LAPI bouncer endpoints, for faults the real one cannot
 * produce on demand (errors, garbage, hangs, resets, huge startup payloads).
 *
 * GET /v1/decisions/stream: 403 on a wrong X-Api-Key; startup=true returns every current decision
 * in "new"; later pulls return what changed since the last successful pull (added → "new",
 * removed → "deleted"). Empty lists are null, as with the real LAPI. `scopes=` filters by scope.
 * GET /v1/decisions?ip=X returns current decisions whose value is X, or null.
 * Anything else (POST /v1/usage-metrics included) gets 404 like the 1.4.x LAPI, unless a handler answers.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';

export interface FakeDecision {
  id: number;
  duration: string;
  origin: string;
  scenario: string;
  scope: string;
  type: string;
  value: string;
}

export type FakeDecisionInput = Partial<FakeDecision> & { value: string };

export type FakeMode =
  | 'ok'
  | '403'
  | '500'
  | 'malformed' // 200 with a body that is not JSON
  | 'badshape' // 200 with JSON of the wrong shape
  | 'truncated' // 200, Content-Length promises more than is sent, then the socket is destroyed
  | 'hang' // request read, never answered
  | 'destroy'; // socket destroyed without a response

export interface FakeReply {
  status?: number;
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** Wait this long before answering (or before applying mode/default). */
  delayMs?: number;
  hang?: boolean;
  destroy?: boolean;
}

export interface FakeRequest {
  method: string;
  url: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  at: number;
  /** The request body as text ('' for GET). */
  body: string;
}

type Chunks = AsyncIterable<string | Buffer> | Iterable<string | Buffer>;

export interface FakeLapi {
  readonly url: string;
  readonly port: number;
  readonly apiKey: string;
  readonly requests: FakeRequest[];
  setMode(mode: FakeMode): void;
  /** Replies used once each, in order, before the handler and the mode. */
  enqueue(...replies: FakeReply[]): void;
  /** Called for every request not served by the queue; return undefined to fall through. */
  respond(handler: ((req: FakeRequest) => FakeReply | undefined) | null): void;
  addDecision(d: FakeDecisionInput): FakeDecision;
  removeDecision(value: string, type?: string): void;
  setDecisions(ds: FakeDecisionInput[]): void;
  decisions(): FakeDecision[];
  /** Serve startup=true from this generator instead of the decision set (for benchmarks). */
  setStartupStream(gen: (() => Chunks) | null): void;
  /** Resolves with the first request (from index `since`, default: the next one) matching pred. */
  waitForRequest(pred?: (r: FakeRequest) => boolean, timeoutMs?: number, since?: number): Promise<FakeRequest>;
  close(): Promise<void>;
}

export async function startFakeLapi(opts: { apiKey?: string; host?: string } = {}): Promise<FakeLapi> {
  const apiKey = opts.apiKey ?? randomBytes(16).toString('hex');
  const host = opts.host ?? '127.0.0.1';
  const requests: FakeRequest[] = [];
  const queue: FakeReply[] = [];
  const sockets = new Set<Socket>();
  const current = new Map<number, FakeDecision>();
  let known = new Map<number, FakeDecision>(); // what the client got as of its last pull
  let nextId = 1;
  let mode: FakeMode = 'ok';
  let handler: ((req: FakeRequest) => FakeReply | undefined) | null = null;
  let startupStream: (() => Chunks) | null = null;
  const waiters: Array<{ pred: (r: FakeRequest) => boolean; since: number; resolve: (r: FakeRequest) => void }> = [];

  const toDecision = (d: FakeDecisionInput): FakeDecision => ({
    duration: '3h59m59.5s',
    origin: 'cscli',
    scenario: 'fake',
    scope: d.value.includes('/') ? 'Range' : 'Ip',
    type: 'ban',
    ...d,
    id: d.id ?? nextId++,
  });

  const sendJson = (res: ServerResponse, status: number, value: unknown): void => {
    const body = JSON.stringify(value);
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  };

  const streamChunks = async (res: ServerResponse, chunks: Chunks): Promise<void> => {
    res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
    for await (const chunk of chunks) {
      if (res.destroyed) return;
      if (!res.write(chunk)) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            res.off('drain', done).off('close', done);
            resolve();
          };
          res.on('drain', done).on('close', done);
        });
      }
    }
    res.end();
  };

  const scopeFilter = (q: URLSearchParams): ((d: FakeDecision) => boolean) => {
    const scopes = q.get('scopes')?.toLowerCase().split(',').filter(Boolean);
    return scopes ? (d) => scopes.includes(d.scope.toLowerCase()) : () => true;
  };
  const orNull = <T>(xs: T[]): T[] | null => (xs.length ? xs : null);

  const serveDefault = async (req: FakeRequest, res: ServerResponse): Promise<void> => {
    if (mode === 'hang') return;
    if (mode === 'destroy') return void res.destroy();
    if (req.headers['x-api-key'] !== apiKey) return sendJson(res, 403, { message: 'access forbidden' });
    switch (mode) {
      case '403':
        return sendJson(res, 403, { message: 'access forbidden' });
      case '500':
        return sendJson(res, 500, { message: 'internal server error' });
      case 'malformed':
        res.writeHead(200, { 'Content-Type': 'application/json' });
        return void res.end('{"new":[{"value":"1.2.3.4"');
      case 'badshape':
        return sendJson(res, 200, { new: 'nope', deleted: 42 });
      case 'truncated': {
        const body = JSON.stringify({ deleted: null, new: [toDecision({ value: '192.0.2.1', id: 0 })] });
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length * 2 });
        res.write(body.slice(0, body.length >> 1), () => res.destroy());
        return;
      }
      default:
        break;
    }
    if (req.path === '/v1/decisions/stream') {
      const keep = scopeFilter(req.query);
      if (req.query.get('startup') === 'true') {
        known = new Map(current);
        if (startupStream) return streamChunks(res, startupStream());
        return sendJson(res, 200, { deleted: null, new: orNull([...current.values()].filter(keep)) });
      }
      const added = [...current.values()].filter((d) => !known.has(d.id));
      const removed = [...known.values()].filter((d) => !current.has(d.id)).map((d) => ({ ...d, duration: '-1s' }));
      known = new Map(current);
      return sendJson(res, 200, { deleted: orNull(removed.filter(keep)), new: orNull(added.filter(keep)) });
    }
    if (req.path === '/v1/decisions') {
      const ip = req.query.get('ip');
      return sendJson(res, 200, orNull([...current.values()].filter((d) => d.value === ip)));
    }
    sendJson(res, 404, { message: 'not found' });
  };

  const serve = async (req: FakeRequest, res: ServerResponse): Promise<void> => {
    const reply = queue.shift() ?? handler?.(req);
    if (reply?.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
    if (reply?.hang || res.destroyed) return;
    if (reply?.destroy) return void res.destroy();
    if (reply && (reply.status !== undefined || reply.body !== undefined)) {
      res.writeHead(reply.status ?? 200, { 'Content-Type': 'application/json', ...reply.headers });
      return void res.end(reply.body ?? '');
    }
    await serveDefault(req, res);
  };

  const onRequest = (msg: IncomingMessage, res: ServerResponse, body: string): void => {
    const u = new URL(msg.url ?? '/', 'http://fake');
    const req: FakeRequest = {
      method: msg.method ?? 'GET',
      url: msg.url ?? '/',
      path: u.pathname,
      query: u.searchParams,
      headers: msg.headers,
      at: Date.now(),
      body,
    };
    requests.push(req);
    for (const w of [...waiters]) {
      if (requests.length - 1 >= w.since && w.pred(req)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(req);
      }
    }
    serve(req, res).catch(() => res.destroy());
  };
  const server = createServer((msg: IncomingMessage, res: ServerResponse) => {
    // The request is recorded once its body is in (empty for GET), so that handlers see it.
    const chunks: Buffer[] = [];
    msg.on('data', (c: Buffer) => chunks.push(c));
    msg.on('end', () => onRequest(msg, res, Buffer.concat(chunks).toString()));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.listen(0, host);
  await once(server, 'listening');
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('fake LAPI: no address');

  return {
    url: `http://${host}:${addr.port}`,
    port: addr.port,
    apiKey,
    requests,
    setMode: (m) => void (mode = m),
    enqueue: (...r) => void queue.push(...r),
    respond: (h) => void (handler = h),
    addDecision(d) {
      const dec = toDecision(d);
      current.set(dec.id, dec);
      return dec;
    },
    removeDecision(value, type) {
      for (const [id, d] of current) if (d.value === value && (!type || d.type === type)) current.delete(id);
    },
    setDecisions(ds) {
      current.clear();
      for (const d of ds) {
        const dec = toDecision(d);
        current.set(dec.id, dec);
      }
    },
    decisions: () => [...current.values()],
    setStartupStream: (g) => void (startupStream = g),
    waitForRequest(pred = () => true, timeoutMs = 5000, since = requests.length) {
      const hit = requests.slice(since).find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const w = {
          pred,
          since,
          resolve: (r: FakeRequest) => {
            clearTimeout(t);
            resolve(r);
          },
        };
        const t = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`fake LAPI: no matching request within ${timeoutMs} ms (${requests.length} seen)`));
        }, timeoutMs);
        waiters.push(w);
      });
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/**
 * Chunks of a startup response with `count` ban decisions on distinct IPv4 addresses from
 * 1.0.0.0 upward (every `rangeEvery`-th one a /24 Range instead), for setStartupStream().
 */
export function* bigStartupBody(count: number, opts: { batch?: number; rangeEvery?: number } = {}): Generator<string> {
  const batch = opts.batch ?? 2000;
  yield '{"deleted":null,"new":[';
  let buf: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = 0x01000000 + i;
    const ip = `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
    const range = opts.rangeEvery !== undefined && i % opts.rangeEvery === 0;
    buf.push(
      JSON.stringify({
        duration: '3h59m59.5s',
        id: i + 1,
        origin: 'cscli-import',
        scenario: 'manual',
        scope: range ? 'Range' : 'Ip',
        type: 'ban',
        value: range ? `${ip.slice(0, ip.lastIndexOf('.'))}.0/24` : ip,
      }),
    );
    if (buf.length === batch) {
      yield (i + 1 > batch ? ',' : '') + buf.join(',');
      buf = [];
    }
  }
  if (buf.length) yield (count > buf.length ? ',' : '') + buf.join(',');
  yield ']}';
}
