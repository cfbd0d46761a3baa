// One listener per tcp service: accept (peer, PROXY header) → restriction chain → dial → access log.
import net, { type Socket } from 'node:net';
import type { Logger } from 'pino';
import { acceptConnection, type AcceptOptions } from '../client-ip/accept';
import type { Peer } from '../client-ip/peer';
import type { HostPort } from '../config/types';
import { forwardTcp, type TcpForwardHooks } from '../forward/tcp';
import type { UpstreamErrorKind } from '../forward/errors';
import { NO_HEALTHY_TARGET } from '../forward/http';
import { recordSuccess } from '../routing/health';
import type { Member, Pool } from '../routing/pool';
import { DEFAULT_ROUTE } from '../service-routes';
import type { IpSet } from '../net/ip-set';
import { evaluate, type ChainContext } from '../restrictions/chain';
import type { TcpServiceRuntime } from '../services';
import { elapsedMs, metadataOrEmpty, startClock, type AccessLog } from '../telemetry/access-log';
import type { Metrics } from '../telemetry/metrics';
import { countAdmission, type UsageRecorder } from '../crowdsec/usage/counters';
import { closeServer, listenOn } from './listen';
import { OpenConnection, type OpenConnections } from './open-connections';

export interface TcpListenerOptions {
  chain: ChainContext;
  trusted: IpSet;
  proxyProtocol: boolean;
  connectTimeoutMs: number;
  log: Logger;
  accessLog: AccessLog;
  metrics: Metrics;
  open: OpenConnections;
  /** CrowdSec usage metrics; undefined when they are not pushed. */
  usage?: UsageRecorder;
}

export class TcpListener {
  private readonly server: net.Server;
  private readonly sockets = new Set<Socket>();
  private readonly acceptOptions: AcceptOptions;
  private bound = false;

  /** Replaced in place on reload when only the rules or target change: the listener and its connections stay. */
  constructor(
    public service: TcpServiceRuntime,
    private readonly opts: TcpListenerOptions,
  ) {
    const { trusted, proxyProtocol, log, metrics } = opts;
    this.acceptOptions = { trusted, proxyProtocol, log, onDrop: (reason) => metrics.connectionDropped('tcp', reason) };
    this.server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => this.guard(socket, () => this.onConnection(socket)));
  }

  get listening(): boolean {
    return this.bound;
  }

  get address(): HostPort {
    return this.service.config.listen;
  }

  async listen(): Promise<void> {
    await listenOn(this.server, this.service.config.listen);
    this.bound = true;
  }

  /** Stop accepting; existing connections go on (reload) unless `destroyConnections`. */
  async close(destroyConnections: boolean): Promise<void> {
    this.bound = false;
    const closing = closeServer(this.server);
    if (destroyConnections) for (const socket of this.sockets) socket.destroy();
    await closing;
  }

  private onConnection(socket: Socket): void {
    const session: TcpSession = { socket, startMs: startClock(), conn: undefined };
    this.sockets.add(socket);
    // One listener per connection for the set and the access line ('close' is emitted once).
    socket.on('close', () => this.closed(session));
    acceptConnection(socket, this.acceptOptions, (accepted, peer) => this.guard(socket, () => this.admit(session, peer)));
  }

  /** The boundary: an exception ends this connection only, counted and logged. */
  private guard(socket: Socket, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.opts.metrics.requestError('tcp');
      this.opts.log.error({ where: 'tcp', service: this.service.name, err: err instanceof Error ? err.stack : String(err) }, 'connection handler failed');
      socket.destroy();
    }
  }

  private closed(session: TcpSession): void {
    const { socket, conn } = session;
    this.sockets.delete(socket);
    if (conn === undefined) return; // closed before it was judged
    const verdict = conn.verdict;
    this.opts.accessLog.write({
      service: conn.serviceName,
      protocol: 'tcp',
      client_ip: conn.clientIp,
      country: verdict.country,
      bytes_in: socket.bytesRead,
      bytes_out: socket.bytesWritten,
      duration_ms: elapsedMs(session.startMs),
      deny_reason: verdict.denyReason,
      upstream_error: session.pooled?.error,
      route: session.pooled === undefined ? undefined : DEFAULT_ROUTE,
      upstream: session.pooled?.member?.key,
      metadata: metadataOrEmpty(verdict.metadata),
    });
  }

  private forwardPooled(session: TcpSession, name: string, pool: Pool<HostPort, HostPort>, client: string): void {
    const pooled = new PooledConnection(name, pool, this.opts.log, (kind) => this.opts.metrics.upstreamError(name, kind));
    session.pooled = pooled;
    const member = pool.pick(client, Date.now());
    if (member === undefined) {
      pooled.error = NO_HEALTHY_TARGET;
      session.socket.destroy();
      return;
    }
    pooled.take(member);
    session.socket.once('close', () => pooled.release());
    forwardTcp(session.socket, member.address, this.opts.connectTimeoutMs, pooled);
  }

  private admit(session: TcpSession, peer: Peer): void {
    const socket = session.socket;
    const service = this.service;
    const admitted = evaluate(service.access, peer.address, this.opts.chain, Date.now());
    if (this.opts.usage !== undefined && service.access.crowdsec !== 'off') countAdmission(this.opts.usage, 'connection', admitted);
    const conn = new OpenConnection('tcp', service.name, peer.address, admitted, socket);
    session.conn = conn;
    if (!admitted.allowed) {
      this.opts.metrics.tcpConnection(service.name, 'denied', admitted.denyReason);
      socket.on('error', () => socket.destroy());
      socket.destroy();
      return;
    }
    this.opts.metrics.tcpConnection(service.name, 'allowed', '');
    this.opts.open.track(conn, socket);
    if (service.pool !== undefined) {
      this.forwardPooled(session, service.name, service.pool, peer.address);
      return;
    }
    forwardTcp(socket, service.config.target, this.opts.connectTimeoutMs, {
      onUpstreamError: (kind, err) => {
        this.opts.metrics.upstreamError(service.name, kind);
        this.opts.log.warn(
          { service: service.name, upstream: `${service.config.target.host}:${service.config.target.port}`, kind, err: err.message },
          'upstream error',
        );
      },
    });
  }
}

/** One accepted connection: judged once `conn` is set. */
interface TcpSession {
  readonly socket: Socket;
  readonly startMs: number;
  conn: OpenConnection | undefined;
  /** Services with several targets: the one dialled last, and why none was left. */
  pooled?: PooledConnection;
}

type TcpMember = Member<HostPort, HostPort>;

/** A connection of a service with several targets: one retry on another target when the connect fails, passive health. */
class PooledConnection implements TcpForwardHooks {
  member: TcpMember | undefined;
  error: string | undefined;
  private retried = false;

  constructor(
    private readonly service: string,
    private readonly pool: Pool<HostPort, HostPort>,
    private readonly log: Logger,
    private readonly onError: (kind: UpstreamErrorKind) => void,
  ) {}

  take(member: TcpMember): void {
    this.member = member;
    member.state.active++;
    member.state.requests++;
  }

  release(): void {
    if (this.member !== undefined) this.member.state.active--;
  }

  onUpstreamError(kind: UpstreamErrorKind, err: Error): void {
    const member = this.member as TcpMember;
    this.error = kind;
    this.onError(kind);
    this.log.warn({ service: this.service, upstream: member.key, kind, err: err.message }, 'upstream error');
    if (this.pool.failed(member, Date.now()))
      this.log.warn({ service: this.service, route: DEFAULT_ROUTE, upstream: member.key, kind }, 'upstream target marked down');
  }

  redial(): HostPort | undefined {
    if (this.retried) return undefined;
    this.retried = true;
    const failed = this.member as TcpMember;
    const next = this.pool.pick('', Date.now(), failed);
    if (next === undefined) return undefined;
    failed.state.active--;
    this.take(next);
    this.error = undefined;
    return next.address;
  }

  onConnected(): void {
    if (this.member !== undefined) recordSuccess(this.member.state);
  }
}
