// Hop-by-hop headers (RFC 9110 §7.6.1): meaningful for one connection only, so removed before a
// request goes upstream and before a response goes back. Connection itself names more of them.
import type { IncomingHttpHeaders } from 'node:http';

/** Always hop-by-hop, whatever Connection says. Expect is answered by the proxy itself. */
const REQUEST_HOP = ['keep-alive', 'proxy-connection', 'trailer', 'transfer-encoding', 'upgrade', 'expect'] as const;
const RESPONSE_HOP = ['connection', 'keep-alive', 'proxy-connection', 'trailer', 'upgrade', 'te'] as const;

/** The lower-cased tokens of a Connection value (several lines arrive joined with ", "). */
export function connectionTokens(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  const text = Array.isArray(value) ? value.join(',') : value;
  const out: string[] = [];
  for (const part of text.split(',')) {
    const token = part.trim().toLowerCase();
    if (token !== '') out.push(token);
  }
  return out;
}

/**
 * Strips a request's hop-by-hop headers in place, before the proxy sets its own (X-Forwarded-*,
 * X-Request-Id): a client naming them in Connection cannot make the next hop drop them.
 * What stays: Connection reduced to what this hop needs ("upgrade" for a WebSocket, else "close"
 * or "keep-alive" as the client asked, read by the response path), TE only as "trailers",
 * Upgrade only for a WebSocket, and Transfer-Encoding only as the canonical "chunked" (a chunked
 * body is re-framed by the proxy; without it Node would send the body unframed).
 */
export function stripRequestHopByHop(headers: IncomingHttpHeaders, websocket: boolean): void {
  // Read before Connection may name it: a chunked body must stay framed whatever the client says.
  const chunked = headers['transfer-encoding'] !== undefined;
  const connection = headers.connection;
  let close = false;
  let keepAlive = false;
  if (connection !== undefined) {
    // The usual values need no parsing (this runs on every request).
    if (connection === 'keep-alive' || connection === 'Keep-Alive') keepAlive = true;
    else if (connection === 'close' || connection === 'Close') close = true;
    else {
      for (const name of connectionTokens(connection)) {
        if (name === 'close') close = true;
        else if (name === 'keep-alive') keepAlive = true;
        else if (name !== 'host' && name !== 'content-length' && headers[name] !== undefined) delete headers[name];
      }
    }
  }
  for (const name of REQUEST_HOP) if (headers[name] !== undefined) delete headers[name];
  const te = headers.te;
  if (te !== undefined) {
    if (connectionTokens(te).includes('trailers')) headers.te = 'trailers';
    else delete headers.te;
  }
  if (websocket) {
    headers.connection = 'upgrade';
    headers.upgrade = 'websocket';
  } else if (close) {
    if (connection !== 'close') headers.connection = 'close';
  } else if (keepAlive) {
    if (connection !== 'keep-alive') headers.connection = 'keep-alive';
  } else if (connection !== undefined) delete headers.connection;
  if (chunked) headers['transfer-encoding'] = 'chunked';
}

/** Strips a response's hop-by-hop headers in place (Transfer-Encoding is left to Node's framing). */
export function stripResponseHopByHop(headers: IncomingHttpHeaders): void {
  const connection = headers.connection;
  // The usual values need no parsing (this runs on every response); "keep-alive" is removed below.
  if (connection === 'close' || connection === 'Close') {
    if (headers.close !== undefined) delete headers.close;
  } else if (connection !== undefined && connection !== 'keep-alive' && connection !== 'Keep-Alive') {
    for (const name of connectionTokens(connection)) {
      if (name !== 'content-length' && name !== 'transfer-encoding') delete headers[name];
    }
  }
  for (const name of RESPONSE_HOP) if (headers[name] !== undefined) delete headers[name];
}

/** A WebSocket opening handshake (RFC 6455 §4.1): GET with Upgrade: websocket. */
export function isWebSocketUpgrade(method: string, upgrade: string | undefined): boolean {
  return method === 'GET' && upgrade !== undefined && upgrade.trim().toLowerCase() === 'websocket';
}
