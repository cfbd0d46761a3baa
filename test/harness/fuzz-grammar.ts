// Grammar-based HTTP/1 request generator for the differential fuzzer (test/e2e/fuzz-http.test.ts):
// request lines of every form (origin, absolute with valid and broken authorities, IPv6 literals,
// userinfo, percent-encoding, "*", authority-form), Host variants, header names and values at the
// grammar's edges, Transfer-Encoding/Content-Length combinations, Expect, Upgrade, and PROXY
// headers. Seeded: the same seed gives the same inputs. A fraction is then mutated bytewise.
import type { Gen } from './fuzz';

/** The services of the fuzz fixture, as the generator aims at them. */
export const FUZZ_DOMAINS = ['app.example.com', 'admin.example.com', 'x.wild.example.com'] as const;

const METHODS = ['GET', 'GET', 'GET', 'POST', 'POST', 'PUT', 'HEAD', 'OPTIONS', 'DELETE', 'PATCH'];
const ODD_METHODS = ['CONNECT', 'TRACE', 'get', 'G\tET', 'PRI', 'M-SEARCH', 'PROPFIND'];
const ODD_VERSIONS = ['1.2', '2.0', '0.9', '1.01', '1.1 ', '1.1x'];
const SAFE_SEGMENTS = ['a', 'b', 'index.html', 'api', 'v1', '%20', 'x.y', '~user', '-_.', '.well-known'];
const SEGMENTS = [
  'a',
  'index.html',
  '..',
  '.',
  '%2e%2e',
  '%2E.',
  '%00',
  '%zz',
  '%',
  '',
  '\\',
  '%5c',
  '%2f',
  ';x=1',
  '@evil.com',
  'http:',
  '.well-known',
  'acme-challenge',
  '\u00e9',
  '\u00ff',
  '<script>',
  '"q"',
  '{x}',
  '|',
  '^',
  '`',
  '~user',
  'x'.repeat(300),
];
const QUERIES = ['', '', '?a=b', '?', '?a=b&c', '?x=%00', '?u=http://evil.com/', '?#', '??', '?a=\u00e9'];
const SCHEMES = ['http', 'http', 'https', 'HTTP', 'HtTpS', 'ws', 'ftp', 'file', '', 'http:', 'h\u00e9'];
const USERINFO = ['', '', '', 'user@', 'user:pass@', ':@', '@', 'app.example.com@', 'a%40b@'];
const PORTS = ['', '', '', ':80', ':8080', ':', ':0', ':080', ':65535', ':65536', ':99999', ':x', ':-1', ':80:80', ': 80'];
const TE_VALUES = [
  'chunked',
  'chunked',
  'chunked',
  'chunked',
  'Chunked',
  ' chunked',
  'chunked ',
  'identity, chunked',
  'chunked, identity',
  'gzip, chunked',
  'chunked, chunked',
  'gzip',
  'identity',
  'x',
  '',
];
const EXPECTS = ['100-continue', '100-Continue', '100-continue, foo', 'foo', '', '200-ok'];
const CONNECTION_TOKENS = [
  'close',
  'keep-alive',
  'Upgrade',
  'X-Forwarded-For',
  'X-Request-Id',
  'X-Real-IP',
  'Host',
  'Content-Length',
  'Transfer-Encoding',
  'X-Private',
  'TE',
  'Keep-Alive',
];
const NAME_EDGES = ['X-A_b', "X-!#$%&'*+-.^_`|~", 'X-\u00e9', 'X A', 'X:A', '', ' X-Lead', 'X-Trail ', 'x-' + 'n'.repeat(200)];
const VALUE_EDGES = ['', ' ', '\t', 'a\tb', '\u0080\u00ff', 'v'.repeat(2000), 'a\u0000b', 'a\u007fb', 'a\rb', ' lead', 'trail '];
const XFF = ['1.2.3.4', '198.51.100.7', '203.0.113.5, 10.0.0.1', 'garbage', '::1', '', 'unknown, 1.2.3.4'];

/** One request's bytes; `framed` is false when what follows it on the connection cannot be parsed as a next request. */
export interface FuzzInput {
  bytes: Buffer;
  framed: boolean;
}

export function hostVariant(gen: Gen): string {
  const name = gen.chance(0.8)
    ? gen.pick([...FUZZ_DOMAINS, 'y.wild.example.com', 'a.b.wild.example.com', 'wild.example.com'])
    : gen.pick(['nope.example.com', '127.0.0.1', '[::1]', '[::ffff:127.0.0.1]', '[::1', '::1', '[v1.x]', '[fe80::1%25eth0]', '']);
  let host = name;
  switch (gen.int(24)) {
    case 0:
      host = host.toUpperCase();
      break;
    case 1:
      host = `${host}.`;
      break;
    case 2:
      host = `${host}:x@${gen.pick(FUZZ_DOMAINS)}`;
      break;
    case 3:
      host = `${gen.pick(FUZZ_DOMAINS)}@${host}`;
      break;
    case 4:
      host = `${host} ${gen.pick(FUZZ_DOMAINS)}`;
      break;
    case 5:
      host = `${host}, ${gen.pick(FUZZ_DOMAINS)}`;
      break;
    case 6:
      host = host.replace('.', gen.pick(['%2e', '\u00e4', '..', '/', '\\', '_', '\t']));
      break;
    default:
      break;
  }
  return gen.chance(0.7) ? host : host + gen.pick(PORTS);
}

function path(gen: Gen): string {
  let p = '';
  for (let i = 1 + gen.int(4); i > 0; i--) p += `/${gen.chance(0.8) ? gen.pick(SAFE_SEGMENTS) : gen.pick(SEGMENTS)}`;
  if (gen.chance(0.05)) p = gen.pick(['//evil.com/x', '/\\evil.com/x', '/.well-known/acme-challenge/tok', '/.well-known/acme-challenge/../x']);
  if (gen.chance(0.03)) p += '#frag';
  return p + (gen.chance(0.85) ? gen.pick(['', '?a=b', '?q=1&r=2']) : gen.pick(QUERIES));
}

export function requestTarget(gen: Gen, method: string): string {
  switch (gen.int(16)) {
    case 0:
    case 1:
    case 2: {
      const scheme = gen.pick(SCHEMES);
      const sep = gen.pick(['://', '://', '://', ':/', ':', ':///']);
      if (gen.chance(0.6)) return `${gen.pick(['http', 'https', 'HTTP'])}://${hostVariant(gen)}${gen.chance(0.2) ? '' : path(gen)}`;
      return `${scheme}${sep}${gen.pick(USERINFO)}${hostVariant(gen)}${gen.chance(0.2) ? '' : path(gen)}`;
    }
    case 3:
      return gen.chance(0.5) || method === 'OPTIONS' ? '*' : `*${path(gen)}`;
    case 4:
      if (gen.chance(0.7)) return path(gen);
      return `${gen.pick(FUZZ_DOMAINS)}${gen.pick([':443', ':80', ''])}`;
    default:
      return path(gen);
  }
}

function body(gen: Gen): Buffer {
  const n = gen.pick([0, 0, 1, 5, 64, 300, 2000]);
  return Buffer.from('b'.repeat(n));
}

function chunked(gen: Gen, payload: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let off = 0; off < payload.length;) {
    const n = 1 + gen.int(128);
    const part = payload.subarray(off, off + n);
    parts.push(Buffer.from(`${part.length.toString(16)}${gen.chance(0.05) ? ';ext=1' : ''}\r\n`), part, Buffer.from('\r\n'));
    off += n;
  }
  parts.push(Buffer.from(gen.chance(0.05) ? '0\r\nX-Trailer: 1\r\n\r\n' : '0\r\n\r\n'));
  return Buffer.concat(parts);
}

/** One generated request. */
export function fuzzRequest(gen: Gen): FuzzInput {
  const method = gen.chance(0.95) ? gen.pick(METHODS) : gen.pick(ODD_METHODS);
  const version = gen.chance(0.85) ? '1.1' : gen.chance(0.7) ? '1.0' : gen.pick(ODD_VERSIONS);
  const headers: string[] = [];
  const hostLines = gen.chance(0.95) ? 1 : gen.pick([0, 2]);
  for (let i = 0; i < hostLines; i++)
    headers.push(`${gen.chance(0.97) ? gen.pick(['Host', 'host', 'HOST']) : gen.pick(['Host ', ' Host'])}: ${hostVariant(gen)}`);
  for (let i = gen.int(5); i > 0; i--) {
    switch (gen.int(gen.chance(0.85) ? 7 : 12)) {
      case 0: {
        const tokens: string[] = [];
        for (let k = 1 + gen.int(3); k > 0; k--) tokens.push(gen.pick(CONNECTION_TOKENS));
        headers.push(`Connection: ${tokens.join(gen.pick([', ', ',', ' , ']))}`);
        break;
      }
      case 1:
        headers.push(gen.pick(['Keep-Alive: timeout=5', 'Proxy-Connection: keep-alive', 'Trailer: X-T', 'X-Private: secret']));
        break;
      case 2:
        headers.push(`TE: ${gen.pick(['trailers', 'gzip', 'trailers, deflate', ''])}`);
        break;
      case 3:
        headers.push(`Upgrade: ${gen.pick(['websocket', 'WebSocket', 'h2c', 'foo/1, websocket', ''])}`);
        if (gen.chance(0.5)) headers.push('Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==');
        break;
      case 4:
        headers.push(`Expect: ${gen.pick(EXPECTS)}`);
        break;
      case 5:
        headers.push(`X-Forwarded-For: ${gen.pick(XFF)}`);
        break;
      case 6:
        headers.push(`X-Request-Id: ${gen.pick(['abc', 'a b', 'x'.repeat(200), '../../etc'])}`);
        break;
      case 7:
        headers.push(`${gen.pick(NAME_EDGES)}: ${gen.pick(VALUE_EDGES)}`);
        break;
      case 8:
        headers.push(`X-Folded: a\r\n ${gen.pick(['b', '\tb'])}`);
        break;
      default:
        headers.push(`X-Fuzz: ${gen.int(1_000_000)}`);
    }
  }
  const payload = body(gen);
  let framed = true;
  let tail: Buffer = Buffer.alloc(0);
  switch (gen.int(16)) {
    case 0:
    case 1:
    case 2:
    case 3:
    case 4:
    case 5:
      if (payload.length > 0 || gen.chance(0.3)) headers.push(`Content-Length: ${payload.length}`);
      tail = payload.length > 0 && headers.some((h) => h.startsWith('Content-Length')) ? payload : Buffer.alloc(0);
      framed = tail.length === payload.length;
      break;
    case 6:
    case 7:
    case 8:
    case 9:
      headers.push(`Transfer-Encoding: ${gen.chance(0.7) ? 'chunked' : gen.pick(TE_VALUES)}`);
      tail = chunked(gen, payload);
      break;
    case 10:
      headers.push(`Content-Length: ${payload.length}`, 'Transfer-Encoding: chunked');
      tail = chunked(gen, payload);
      framed = false;
      break;
    case 11:
      headers.push(`Content-Length: ${payload.length}`, `Content-Length: ${payload.length + gen.int(3)}`);
      tail = payload;
      framed = false;
      break;
    default:
      break;
  }
  if (gen.chance(0.1)) gen.shuffle(headers);
  const head = `${method} ${requestTarget(gen, method)} HTTP/${version}\r\n${headers.join('\r\n')}${headers.length > 0 ? '\r\n' : ''}\r\n`;
  let bytes: Buffer = Buffer.concat([Buffer.from(head, 'latin1'), tail]);
  if (gen.chance(0.08)) {
    bytes = gen.mutate(bytes);
    framed = false;
  }
  return { bytes, framed };
}

/** A PROXY v1 header as a trusted balancer would send it, sometimes damaged. */
export function proxyHeader(gen: Gen): Buffer {
  const line = Buffer.from(
    gen.pick([
      'PROXY TCP4 198.51.100.7 127.0.0.1 1234 80\r\n',
      'PROXY TCP4 203.0.113.5 127.0.0.1 1234 80\r\n',
      'PROXY UNKNOWN\r\n',
      'PROXY TCP6 2001:db8::1 ::1 1 2\r\n',
    ]),
  );
  return gen.chance(0.2) ? gen.mutate(line) : line;
}
