// An upstream's HTTP/1.1 response made fit for an HTTP/2 stream, before http-proxy copies it.
// Node's HTTP/2 side throws on connection-specific headers (RFC 9113 section 8.2.2) and on a status
// outside 200-599, and warns on a reason phrase: any of them from an upstream would reset the
// stream or crash the process. Connection-specific means the fixed list and whatever the upstream's
// Connection header names.
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

const CONNECTION_SPECIFIC = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host', 'http2-settings'];

export interface UpstreamHead {
  statusCode?: number;
  statusMessage?: string;
  headers: IncomingHttpHeaders;
}

/** Cleans `res` in place; returns false when its status cannot be sent over HTTP/2 (the caller answers 502). */
export function fitForHttp2(res: UpstreamHead): boolean {
  const headers = res.headers;
  const connection = headers.connection;
  if (connection !== undefined) {
    for (const token of connection.split(',')) {
      const name = token.trim().toLowerCase();
      if (name !== '') delete headers[name];
    }
  }
  for (const name of CONNECTION_SPECIFIC) delete headers[name];
  res.statusMessage = '';
  const status = res.statusCode ?? 0;
  return status >= 200 && status <= 599;
}

/**
 * A request that came over HTTP/2 (an Http2ServerRequest, which has its stream). Not the request
 * line's version: an HTTP/1 connection may claim "HTTP/2.0" in its request line.
 */
export function isHttp2Request(req: IncomingMessage): boolean {
  return (req as IncomingMessage & { stream?: unknown }).stream !== undefined;
}
