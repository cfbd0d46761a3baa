// Message framing and expectations a proxy must settle before it forwards anything (RFC 9112 §6,
// RFC 9110 §10.1.1). Node's parser already refuses Content-Length with Transfer-Encoding and
// conflicting lengths; what it accepts and an upstream could read differently is refused here. Pure.

/**
 * Transfer-Encoding: only a lone "chunked" is forwarded (re-framed by the proxy); any other coding
 * list is 501 (nginx does the same), and any Transfer-Encoding in an HTTP/1.0 request is 400.
 */
export function transferEncodingStatus(te: string | undefined, httpVersion: string): 400 | 501 | undefined {
  if (te === undefined) return undefined;
  if (httpVersion === '1.0') return 400;
  return te.trim().toLowerCase() === 'chunked' ? undefined : 501;
}

/** Expect: only "100-continue" is known; anything else is 417. */
export function expectStatus(expect: string | undefined): 417 | undefined {
  if (expect === undefined) return undefined;
  return expect.trim().toLowerCase() === '100-continue' ? undefined : 417;
}
