// A real HTTPS client for end-to-end tests: chooses SNI, Host and source address, can send a
// PROXY v1 header before the handshake (posing as a trusted load balancer), and reports the
// certificate it was served.
import net from 'node:net';
import tls, { type PeerCertificate } from 'node:tls';

export interface HttpsResult {
  status: number;
  headers: Record<string, string>;
  body: string;
  cert: PeerCertificate;
  authorized: boolean;
  authorizationError: string | undefined;
}

export interface HttpsRequest {
  port: number;
  servername: string;
  host?: string;
  path?: string;
  /** Source address (127.x.y.z). */
  from?: string;
  /** Trusted root; without it the certificate is not verified (authorized reports the outcome). */
  ca?: string;
  /** Written in clear before the TLS handshake, e.g. "PROXY TCP4 203.0.113.7 127.0.0.1 5555 443\r\n". */
  proxyHeader?: string;
  headers?: Record<string, string>;
}

/** One request per connection (Connection: close); resolves with the whole response. */
export function httpsRequest(r: HttpsRequest): Promise<HttpsResult> {
  return new Promise((resolve, reject) => {
    const raw = net.connect({ host: '127.0.0.1', port: r.port, localAddress: r.from });
    raw.once('error', reject);
    raw.once('connect', () => {
      if (r.proxyHeader !== undefined) raw.write(r.proxyHeader);
      const s = tls.connect({ socket: raw, servername: r.servername, ca: r.ca, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
      let data = '';
      let cert: PeerCertificate | undefined;
      let authorized = false;
      let authorizationError: string | undefined;
      s.setEncoding('utf8');
      s.on('data', (c: string) => (data += c));
      s.once('error', reject);
      s.setTimeout(10_000, () => s.destroy(new Error('https request timed out')));
      s.once('secureConnect', () => {
        cert = s.getPeerCertificate();
        authorized = s.authorized;
        authorizationError = s.authorizationError === null ? undefined : String(s.authorizationError);
        const extra = Object.entries(r.headers ?? {})
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('');
        s.write(`GET ${r.path ?? '/'} HTTP/1.1\r\nHost: ${r.host ?? r.servername}\r\n${extra}Connection: close\r\n\r\n`);
      });
      s.once('close', () => {
        if (cert === undefined) return reject(new Error('closed before the TLS handshake completed'));
        const head = data.slice(0, data.indexOf('\r\n\r\n'));
        const [statusLine = '', ...lines] = head.split('\r\n');
        const headers: Record<string, string> = {};
        for (const l of lines) {
          const i = l.indexOf(':');
          headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
        }
        resolve({
          status: Number(statusLine.split(' ')[1] ?? 0),
          headers,
          body: headers['transfer-encoding'] === 'chunked' ? dechunk(data.slice(head.length + 4)) : data.slice(head.length + 4),
          cert,
          authorized,
          authorizationError,
        });
      });
    });
  });
}

function dechunk(text: string): string {
  let out = '';
  let rest = text;
  for (;;) {
    const nl = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, nl), 16);
    if (!(size > 0)) return out;
    out += rest.slice(nl + 2, nl + 2 + size);
    rest = rest.slice(nl + 2 + size + 2);
  }
}
