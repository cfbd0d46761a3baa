// One listener per tcp service: accept (peer, PROXY header) → restriction chain → dial → access log.
import net, { type Socket } from 'node:net';
import type { Logger } from 'pino';
import { acceptConnection } from '../client-ip/accept';
import type { Peer } from '../client-ip/peer';
import type { HostPort } from '../config/types';
import { forwardTcp } from '../forward/tcp';
import type { IpSet } from '../net/ip-set';
import { evaluate, type ChainContext } from '../restrictions/chain';
import type { TcpServiceRuntime } from '../services';
import { elapsedMs, metadataOrEmpty, startClock, type AccessLog } from '../telemetry/access-log';
import type { Metrics } from '../telemetry/metrics';
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
}

export class TcpListener {
  private readonly server: net.Server;
  private readonly sockets = new Set<Socket>();
  private bound = false;

  /** Replaced in place on reload when only the rules or target change: the listener and its connections stay. */
  constructor(
    public service: TcpServiceRuntime,
    private readonly opts: TcpListenerOptions,
  ) {
    this.server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => this.onConnection(socket));
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
    const startMs = startClock();
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    const { trusted, proxyProtocol, log, metrics } = this.opts;
    acceptConnection(socket, { trusted, proxyProtocol, log, onDrop: (reason) => metrics.connectionDropped('tcp', reason) }, (accepted, peer) =>
      this.admit(accepted, peer, startMs),
    );
  }

  private admit(socket: Socket, peer: Peer, startMs: number): void {
    const service = this.service;
    const admitted = evaluate(service.access, peer.address, this.opts.chain, Date.now());
    const conn = new OpenConnection('tcp', service.name, peer.address, admitted, socket);
    socket.once('close', () => {
      const verdict = conn.verdict;
      this.opts.accessLog.write({
        service: service.name,
        protocol: 'tcp',
        client_ip: peer.address,
        country: verdict.country,
        bytes_in: socket.bytesRead,
        bytes_out: socket.bytesWritten,
        duration_ms: elapsedMs(startMs),
        deny_reason: verdict.denyReason,
        metadata: metadataOrEmpty(verdict.metadata),
      });
    });
    if (!admitted.allowed) {
      this.opts.metrics.tcpConnection(service.name, 'denied', admitted.denyReason);
      socket.on('error', () => socket.destroy());
      socket.destroy();
      return;
    }
    this.opts.metrics.tcpConnection(service.name, 'allowed', '');
    this.opts.open.track(conn, socket);
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
