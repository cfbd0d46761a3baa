// A small real HTTPS + HTTP server built from src/tls (not the proxy binary), wired the way the
// entrypoints will be: HTTPS connections go through routeConnection() then to an https.Server with
// serverOptions(); HTTP requests answer http-01 challenges via answerHttp01().
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer as createNetServer, type Server as NetServer, type AddressInfo } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type PeerCertificate, type TLSSocket } from 'node:tls';
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { Registry } from 'prom-client';
import { TlsManager, type TlsManagerOptions } from '../../src/tls/manager';
import { TlsMetrics } from '../../src/tls/metrics';
import type { AcmeSettings } from '../../src/tls/settings';
import { parseServicesConfig } from '../../src/config/load';
import type { ServicesConfig } from '../../src/config/types';

export interface LogCollector {
  log: Logger;
  lines: Record<string, unknown>[];
  text(): string;
}

export function collectLogs(): LogCollector {
  const lines: Record<string, unknown>[] = [];
  let raw = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      const s = chunk.toString('utf8');
      raw += s;
      for (const l of s.split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { log: pino({ level: 'debug', base: undefined }, sink), lines, text: () => raw };
}

export interface TestTlsServer {
  tls: TlsManager;
  metrics: Registry;
  logs: LogCollector;
  httpsPort: number;
  httpPort: number;
  close(): Promise<void>;
}

export async function listen(server: NetServer | HttpServer, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

export function acmeSettings(over: Partial<AcmeSettings> & { certDir: string }): AcmeSettings {
  return {
    email: 'ops@example.com',
    directoryUrl: 'https://127.0.0.1:1/dir',
    caCertPath: undefined,
    challenge: 'tls-alpn-01',
    renewBeforeMs: undefined,
    ...over,
  };
}

/** Fast timing for tests: quick polling, short backoff, checks every few seconds. */
export const FAST: Pick<TlsManagerOptions, 'timing' | 'issuer' | 'staticPollMs'> = {
  timing: { checkIntervalMs: 3000, jitterMs: 50, backoffBaseMs: 300, backoffCapMs: 1200, orderTimeoutMs: 20_000 },
  issuer: { pollMinMs: 100, pollMaxMs: 500, requestRetries: 0, requestTimeoutMs: 5000 },
  staticPollMs: 300,
};

export async function startTlsServer(opts: Omit<TlsManagerOptions, 'log' | 'metrics'> & { httpsPort?: number; httpPort?: number }): Promise<TestTlsServer> {
  const logs = collectLogs();
  const registry = new Registry();
  // eslint-disable-next-line prefer-const -- the metrics callback needs the binding before the manager exists
  let manager: TlsManager | undefined;
  const metrics = new TlsMetrics(registry, () => manager?.status() ?? []);
  manager = new TlsManager({ ...opts, log: logs.log, metrics });
  const tls = manager;

  const https: HttpsServer = createHttpsServer(tls.serverOptions(), (req, res) => {
    const servername = (req.socket as TLSSocket).servername;
    res.end(`https ${String(servername)} ${req.url ?? ''}`);
  });
  https.on('tlsClientError', (err) => logs.log.info({ err: err.message }, 'tls client error'));
  const raw = createNetServer((socket) => {
    socket.on('error', () => socket.destroy());
    void tls.routeConnection(socket).then((goOn) => {
      if (goOn) https.emit('connection', socket);
    });
  });
  const http = createHttpServer((req, res) => {
    const answer = tls.answerHttp01(req.url ?? '/');
    if (answer !== undefined) {
      res.writeHead(200, { 'content-type': 'text/plain' }).end(answer);
      return;
    }
    res.writeHead(404).end('not a challenge');
  });
  const httpsPort = await listen(raw, opts.httpsPort);
  const httpPort = await listen(http, opts.httpPort);
  return {
    tls,
    metrics: registry,
    logs,
    httpsPort,
    httpPort,
    async close() {
      await tls.close();
      raw.close();
      http.close();
      http.closeAllConnections();
    },
  };
}

export function servicesYaml(services: { name: string; domains: string[]; tls: string }[]): ServicesConfig {
  const text =
    (services.length === 0 ? 'services: []\n' : 'services:\n') +
    services
      .map(
        (s) =>
          `  - name: ${s.name}\n    protocol: http\n    domains: [${s.domains.map((d) => JSON.stringify(d)).join(', ')}]\n    target: http://127.0.0.1:9\n    tls: ${s.tls}\n`,
      )
      .join('');
  return parseServicesConfig(text, '/tmp/services.yaml', { crowdsecAvailable: false });
}

export interface Handshake {
  authorized: boolean;
  authorizationError: string | undefined;
  cert: PeerCertificate;
  alpn: string | false | null;
  protocol: string | null;
  reused: boolean;
  session: Buffer | undefined;
}

/** A TLS handshake with 127.0.0.1:port as `servername`; rejects when the handshake fails. */
export function handshake(port: number, servername: string, extra: ConnectionOptions = {}): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    let session: Buffer | undefined;
    const s = tlsConnect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'], ...extra });
    s.on('session', (sess: Buffer) => {
      session = sess;
    });
    s.once('secureConnect', () => {
      const result = {
        authorized: s.authorized,
        authorizationError: s.authorizationError === null ? undefined : String(s.authorizationError),
        cert: s.getPeerCertificate(),
        alpn: s.alpnProtocol,
        protocol: s.getProtocol(),
        reused: s.isSessionReused(),
      };
      // TLS 1.3 tickets arrive after the handshake; give them a moment by reading the close.
      s.end();
      s.once('close', () => resolve({ ...result, session }));
    });
    s.once('error', reject);
    s.setTimeout(10_000, () => s.destroy(new Error('handshake timeout')));
  });
}
