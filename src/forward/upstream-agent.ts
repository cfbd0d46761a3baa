// Keep-alive agents to the upstreams that arm one timer per socket themselves, so that a request
// arms none: ClientRequest.setTimeout() cost two closures, three listeners and a once() wrapper
// per request. A socket's timer is the upstream timeout while a request uses it (an idle timer:
// each read or write restarts it), the keep-alive timeout while it waits in the free list.
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

// Idle upstream sockets are dropped after 4 s: below the 5 s keep-alive of Node servers and
// far below nginx's 75 s, so the proxy never reuses a socket the upstream is about to close.
// A shorter "Keep-Alive: timeout=N" hint from the upstream wins.
export const IDLE_TIMEOUT_MS = 4000;
// A new connection may take this long to connect, as before: the request's own timer used to
// start only once connected, and until then the agent's 4 s socket timeout applied.
const CONNECT_TIMEOUT_MS = IDLE_TIMEOUT_MS;

/** No `timeout`: with one, Node listens for the socket's timeout on every request. */
const BASE_OPTIONS = { keepAlive: true, maxFreeSockets: 256, scheduling: 'lifo' as const };

/** What a timed-out upstream request is destroyed with, so that its error is named 'timeout'. */
export class UpstreamTimeoutError extends Error {
  /** `connecting`: the connection was never made, so nothing was sent. */
  constructor(readonly connecting: boolean) {
    super(connecting ? 'upstream connect timed out' : 'upstream timed out');
  }
}

type AgentSocket = Socket & {
  /** Node's: the request using the socket (with its response once it came), null while it is free. */
  _httpMessage?: (http.ClientRequest & { res?: http.IncomingMessage | null }) | null;
  [kBusyMs]?: number;
};
const kBusyMs = Symbol('netbird-proxy.busyTimeoutMs');

/** The socket's one 'timeout' listener: a free socket is Node's to close, a busy one fails its request. */
function onSocketTimeout(this: AgentSocket): void {
  const req = this._httpMessage;
  if (req !== null && req !== undefined && !req.destroyed) req.destroy(new UpstreamTimeoutError(this.connecting));
}

function onConnected(this: AgentSocket): void {
  this.setTimeout(this[kBusyMs] ?? 0);
}

function prepared<S extends Duplex | null | undefined>(socket: S, busyMs: number): S {
  if (socket === null || socket === undefined) return socket;
  const s = socket as unknown as AgentSocket;
  s[kBusyMs] = busyMs;
  s.on('timeout', onSocketTimeout);
  s.once('connect', onConnected);
  return socket;
}

function armBusy(socket: Duplex): void {
  const s = socket as AgentSocket;
  const busyMs = s[kBusyMs] ?? 0;
  if (s.timeout !== busyMs) s.setTimeout(busyMs);
}

/** The keep-alive timeout for a socket going back to the free list; 0: the upstream allows no reuse. */
function idleTimeoutMs(socket: AgentSocket): number {
  const hint = keepAliveHint(socket._httpMessage?.res?.rawHeaders);
  if (hint === undefined) return IDLE_TIMEOUT_MS;
  const m = /^timeout=(\d+)/.exec(hint);
  if (m === null) return IDLE_TIMEOUT_MS;
  // A second early, so that the proxy never sends on a socket the upstream is closing.
  return Math.min(IDLE_TIMEOUT_MS, Math.max(0, Number(m[1]) * 1000 - 1000));
}

/** From the raw headers: the parsed ones lose Keep-Alive to the hop-by-hop strip before the socket is freed. */
function keepAliveHint(raw: string[] | undefined): string | undefined {
  if (raw === undefined) return undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (name.length === 10 && name.toLowerCase() === 'keep-alive') return raw[i + 1];
  }
  return undefined;
}

/** Node's default TCP keep-alive probe delay for agent sockets. */
const KEEPALIVE_PROBE_MS = 1000;

function keepAlive(socket: Duplex): boolean {
  const s = socket as AgentSocket;
  s.setKeepAlive(true, KEEPALIVE_PROBE_MS);
  s.unref();
  const idleMs = idleTimeoutMs(s);
  if (idleMs === 0) return false;
  if (s.timeout !== idleMs) s.setTimeout(idleMs);
  return true;
}

type Callback = (err: Error | null, socket: Duplex) => void;

export class UpstreamHttpAgent extends http.Agent {
  constructor(private readonly busyMs: number) {
    super(BASE_OPTIONS);
  }

  override createConnection(options: object, callback?: Callback): Duplex | null | undefined {
    return prepared(super.createConnection({ ...options, timeout: CONNECT_TIMEOUT_MS }, callback), this.busyMs);
  }

  override reuseSocket(socket: Duplex, req: http.ClientRequest): void {
    super.reuseSocket(socket, req);
    armBusy(socket);
  }

  override keepSocketAlive(socket: Duplex): boolean {
    return keepAlive(socket);
  }
}

export class UpstreamHttpsAgent extends https.Agent {
  constructor(
    private readonly busyMs: number,
    tls: https.AgentOptions = {},
  ) {
    super({ ...BASE_OPTIONS, ...tls });
  }

  override createConnection(options: object, callback?: Callback): Duplex | null | undefined {
    return prepared(super.createConnection({ ...options, timeout: CONNECT_TIMEOUT_MS }, callback), this.busyMs);
  }

  override reuseSocket(socket: Duplex, req: http.ClientRequest): void {
    super.reuseSocket(socket, req);
    armBusy(socket);
  }

  override keepSocketAlive(socket: Duplex): boolean {
    return keepAlive(socket);
  }
}
