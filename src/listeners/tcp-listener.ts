// One listener per tcp service: accept → (PROXY header) → client IP → restriction chain → dial → access log.
import net, { type Socket } from 'node:net';
import type { Logger } from 'pino';
import { elapsedMs, metadataOrEmpty, type AccessLog } from '../telemetry/access-log';
import type { HostPort } from '../config/types';
import { forwardTcp } from '../forward/tcp';
import type { Metrics } from '../telemetry/metrics';
import { evaluate, type ChainContext, type IpMatcher } from '../restrictions/chain';
import type { TcpServiceRuntime } from '../services';
import { closeServer, listenOn } from './listen';
import { peerOf } from '../client-ip/peer';
import { acceptProxyHeader } from './proxy-header';

export interface TcpListenerOptions {
  chain: ChainContext;
  trusted: IpMatcher;
  proxyProtocol: boolean;
  connectTimeoutMs: number;
  log: Logger;
  accessLog: AccessLog;
  metrics: Metrics;
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
    const startNs = process.hrtime.bigint();
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    if (this.opts.proxyProtocol) {
      acceptProxyHeader(socket, this.opts.trusted, this.opts.log).then(
        () => this.admit(socket, startNs),
        () => socket.destroy(),
      );
    } else {
      this.admit(socket, startNs);
    }
  }

  private admit(socket: Socket, startNs: bigint): void {
    const service = this.service;
    const clientIp = peerOf(socket, this.opts.trusted).address;
    const verdict = evaluate(service.access, clientIp, this.opts.chain, Date.now());
    socket.once('close', () => {
      this.opts.accessLog.write({
        service: service.name,
        protocol: 'tcp',
        client_ip: clientIp,
        country: verdict.country,
        bytes_in: socket.bytesRead,
        bytes_out: socket.bytesWritten,
        duration_ms: elapsedMs(startNs),
        deny_reason: verdict.denyReason,
        metadata: metadataOrEmpty(verdict.metadata),
      });
    });
    if (!verdict.allowed) {
      this.opts.metrics.tcpConnection(service.name, 'denied', verdict.denyReason);
      socket.on('error', () => socket.destroy());
      socket.destroy();
      return;
    }
    this.opts.metrics.tcpConnection(service.name, 'allowed', '');
    forwardTcp(socket, service.config.target, this.opts.connectTimeoutMs, {
      onUpstreamError: (kind, err) => {
        this.opts.metrics.upstreamError(service.name, kind);
        this.opts.log.warn({ service: service.name, upstream: `${service.config.target.host}:${service.config.target.port}`, kind, err: err.message }, 'upstream error');
      },
    });
  }
}
