// Answers tls-alpn-01 validation connections (ALPN "acme-tls/1"): the handshake presents the
// acmeIdentifier certificate for the name, then the connection is closed (RFC 8737 section 3).
import type { Socket } from 'node:net';
import { createServer, type SecureContext, type Server } from 'node:tls';

export const ACME_TLS_ALPN = 'acme-tls/1';

export class AlpnResponder {
  private readonly server: Server;

  constructor(lookup: (serverName: string) => SecureContext | undefined) {
    this.server = createServer(
      {
        minVersion: 'TLSv1.2',
        ALPNProtocols: [ACME_TLS_ALPN],
        SNICallback(name, cb) {
          const ctx = lookup(name);
          if (ctx === undefined) cb(new Error(`no tls-alpn-01 challenge pending for ${name}`), undefined);
          else cb(null, ctx);
        },
      },
      (tlsSocket) => {
        tlsSocket.on('error', () => tlsSocket.destroy());
        tlsSocket.end();
      },
    );
    this.server.on('tlsClientError', (_err, s) => s.destroy());
  }

  /** Completes the handshake on `socket` (the ClientHello not yet consumed) and closes it. */
  answer(socket: Socket): void {
    this.server.emit('connection', socket);
  }
}
