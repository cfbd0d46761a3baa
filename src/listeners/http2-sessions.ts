// Re-judgement of HTTP/2 sessions. A session is one connection carrying many requests, possibly of
// several clients when its peer is a trusted proxy: each (service, client) that an admitted request
// showed on a session is tracked as one open connection. Cutting it closes the session (GOAWAY)
// when the client is the peer itself, or resets that client's in-flight streams when it came
// through a trusted proxy, whose other clients keep their streams.
import type { IncomingMessage } from 'node:http';
import http2, { type Http2Session, type ServerHttp2Stream } from 'node:http2';
import { peerOf } from '../client-ip/peer';
import type { Admission } from './admission';
import type { H2Request } from './http2-request';
import { OpenConnection, type Closable, type OpenConnections } from './open-connections';

const kClients = Symbol('netbird-proxy.h2clients');
const kClient = Symbol('netbird-proxy.h2client');
type TrackedSession = Http2Session & { [kClients]?: Map<string, SessionClient> };
type TrackedRequest = IncomingMessage & { [kClient]?: SessionClient };

class SessionClient implements Closable {
  readonly streams = new Set<ServerHttp2Stream>();
  conn: OpenConnection | undefined;

  constructor(
    private readonly session: Http2Session,
    private readonly wholeSession: boolean,
  ) {}

  destroy(): void {
    if (this.wholeSession) this.session.destroy();
    else for (const stream of this.streams) stream.close(http2.constants.NGHTTP2_CANCEL);
  }

  once(event: 'close', listener: () => void): void {
    this.session.once(event, listener);
  }
}

/** An admitted HTTP/2 request: its (service, client) on this session is tracked until the session closes. */
export function trackHttp2Request(open: OpenConnections, req: IncomingMessage, admission: Admission): void {
  if (admission.service === undefined || !admission.verdict.allowed) return;
  const stream = (req as unknown as H2Request).stream;
  const session = stream.session as TrackedSession | undefined;
  if (session === undefined || session.destroyed) return;
  let clients = session[kClients];
  if (clients === undefined) {
    clients = new Map();
    session[kClients] = clients;
  }
  const key = `${admission.service.name}|${admission.clientIp}`;
  let client = clients.get(key);
  if (client === undefined) {
    const peer = session.socket === undefined ? undefined : peerOf(session.socket as never);
    client = new SessionClient(session, peer?.address === admission.clientIp);
    client.conn = new OpenConnection('http', admission.service.name, admission.clientIp, admission.verdict, client);
    clients.set(key, client);
    open.track(client.conn, client);
  }
  client.streams.add(stream);
  (req as TrackedRequest)[kClient] = client;
}

/** An HTTP/2 response closed: its stream leaves the tracking, and a cut shows in its access entry. */
export function http2RequestClosed(req: IncomingMessage, admission: Admission): void {
  const client = (req as TrackedRequest)[kClient];
  if (client === undefined || !client.streams.delete((req as unknown as H2Request).stream)) return;
  const conn = client.conn as OpenConnection;
  if (conn.verdict !== admission.verdict && !conn.verdict.allowed) admission.verdict = conn.verdict;
}
