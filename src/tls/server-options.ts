// TLS settings of the HTTPS entrypoint: TLS 1.2 and 1.3 with Mozilla's "intermediate" cipher list,
// ALPN http/1.1 (with --http2 the HTTP/2 server offers h2 first: src/listeners/http2-server.ts),
// session resumption by tickets and a session cache.
import { randomBytes } from 'node:crypto';
import type { SecureContext, TlsOptions } from 'node:tls';

/** Mozilla Server Side TLS "intermediate" (v5.7), TLS 1.2 suites; TLS 1.3 suites are OpenSSL's defaults, the same three. */
export const INTERMEDIATE_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'DHE-RSA-AES128-GCM-SHA256',
  'DHE-RSA-AES256-GCM-SHA384',
  'DHE-RSA-CHACHA20-POLY1305',
].join(':');

export const TLS13_CIPHERSUITES = 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256';

/** Resolves a server name to the context holding its certificate, or to the reason there is none. */
export type ContextLookup = (serverName: string) => SecureContext | Error;

export function buildServerOptions(lookup: ContextLookup): TlsOptions {
  return {
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.3',
    ciphers: `${TLS13_CIPHERSUITES}:${INTERMEDIATE_CIPHERS}`,
    // Mozilla intermediate: let the client pick (all listed suites are strong; clients know whether they have AES hardware).
    honorCipherOrder: false,
    ecdhCurve: 'X25519:prime256v1:secp384r1',
    ALPNProtocols: ['http/1.1'],
    // Tickets encrypted with per-process keys (rotated on restart); resumption works for 5 minutes.
    ticketKeys: randomBytes(48),
    sessionTimeout: 300,
    SNICallback(serverName, cb) {
      const found = lookup(serverName);
      if (found instanceof Error) cb(found, undefined);
      else cb(null, found);
    },
  };
}
