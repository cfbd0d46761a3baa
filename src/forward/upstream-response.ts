// What an upstream's response may carry to the client. Node's client parser is strict, but
// http-proxy copies status, reason and headers with setHeader/writeHead, which throw on what they
// refuse (a DEL in a value, a status below 100): thrown there, outside any request handler, it
// would take the process down. Such values are dropped here first, and hop-by-hop headers removed.
import type { IncomingMessage } from 'node:http';
import { stripResponseHopByHop } from '../request/hop-by-hop';

/** What Node's OutgoingMessage refuses in a header value or reason phrase. */
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/** Cleans `res` in place; false when its status cannot be relayed at all. */
export function sanitizeUpstreamResponse(res: IncomingMessage): boolean {
  const status = res.statusCode ?? 0;
  if (status < 100 || status > 999) return false;
  if (res.statusMessage !== undefined && INVALID_VALUE.test(res.statusMessage)) res.statusMessage = '';
  const headers = res.headers;
  stripResponseHopByHop(headers);
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (typeof value === 'string' ? INVALID_VALUE.test(value) : value.some((v) => INVALID_VALUE.test(v))) delete headers[name];
  }
  return true;
}
