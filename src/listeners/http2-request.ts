// An HTTP/2 request as the HTTP/1.1 path sees it: `:authority` is the Host (a Host header the
// client sent wins, as RFC 9113 section 8.3.1 lets it), `:path` the target, `:method` the method,
// and no pseudo-header is left in `headers` or `rawHeaders` (http-proxy copies `headers` upstream,
// where a name starting with ':' throws). Cookie crumbs are already joined by Node.
import http2 from 'node:http2';
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';

type RequestOptions = ConstructorParameters<typeof http2.Http2ServerRequest>[2];

export class H2Request extends http2.Http2ServerRequest {
  h2Method: string;
  h2Url: string;
  /** Header fields as HTTP/1.1 would write them (`name: value\r\n`), pseudo-headers included, plus body bytes. */
  bytesIn = 0;
  /** The TLS server name of the session (read at hand-over: a closed stream no longer reaches its socket). */
  servername: string | undefined = undefined;

  constructor(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, options: RequestOptions, rawHeaders: string[]) {
    super(stream, headers, options, rawHeaders);
    this.h2Method = headers[':method'] ?? 'GET';
    this.h2Url = headers[':path'] ?? '';
  }

  /**
   * Called when the request is handed over (Node's CONNECT and Expect checks read the
   * pseudo-headers first): from here on the request looks like an HTTP/1.1 one.
   */
  adopt(): void {
    this.servername = (this.stream.session?.socket as { servername?: string | false } | undefined)?.servername || undefined;
    this.bytesIn += stripPseudo(this.headers, this.rawHeaders, this.headers[':authority']);
  }

  override push(chunk: Buffer | null, encoding?: BufferEncoding): boolean {
    if (chunk !== null) this.bytesIn += chunk.length;
    return super.push(chunk, encoding);
  }

  /** The HTTP/2 stream id, for the access line. */
  get streamId(): number {
    return this.stream.id ?? 0;
  }
}

// Node's `method` and `url` read and write the pseudo-headers; here they are the values taken at construction.
Object.defineProperties(H2Request.prototype, {
  method: {
    get(this: H2Request): string {
      return this.h2Method;
    },
    set(this: H2Request, value: string) {
      this.h2Method = value;
    },
  },
  url: {
    get(this: H2Request): string {
      return this.h2Url;
    },
    set(this: H2Request, value: string) {
      this.h2Url = value;
    },
  },
});

/**
 * Removes the pseudo-headers in place; `host` from `:authority` when the client sent no Host.
 * Returns the size of the header fields as `name: value\r\n` lines.
 */
export function stripPseudo(headers: IncomingHttpHeaders, rawHeaders: string[], authority: string | undefined): number {
  for (const name of PSEUDO) delete headers[name];
  const hasHost = headers.host !== undefined;
  let size = 0;
  let w = 0;
  for (let r = 0; r + 1 < rawHeaders.length; r += 2) {
    const name = rawHeaders[r] as string;
    const value = rawHeaders[r + 1] as string;
    size += name.length + value.length + 4;
    if (name.charCodeAt(0) === 58) continue;
    rawHeaders[w++] = name;
    rawHeaders[w++] = value;
  }
  rawHeaders.length = w;
  if (!hasHost && authority !== undefined) {
    headers.host = authority;
    rawHeaders.push('host', authority);
  }
  return size;
}

const PSEUDO = [':method', ':path', ':authority', ':scheme', ':protocol'] as const;
