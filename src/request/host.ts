// The canonical Host: RFC 3986 host (reg-name or IP-literal) with an optional numeric port,
// lower-cased, without a trailing dot and with the port written without leading zeros.
// Stricter than RFC 3986 in one way: no percent-encoding in a reg-name, because WHATWG URL parsers
// decode it ("a%2eb" is "a.b" to them) and the upstream would then see another name than the one
// routed on. Pure, no allocation beyond the result string.
import { isIPv6 } from 'node:net';

export interface CanonicalHost {
  /** name[:port], what the upstream receives. */
  host: string;
  /** The name alone (IP-literal with its brackets), what routing uses. */
  name: string;
}

/** The canonical form of a Host header value or an absolute-form authority; undefined: invalid (400). */
export function canonicalHost(raw: string): CanonicalHost | undefined {
  const len = raw.length;
  if (len === 0 || len > 1024) return undefined;
  let nameEnd: number;
  let lower = false;
  if (raw.charCodeAt(0) === 91 /* [ */) {
    nameEnd = raw.indexOf(']');
    if (nameEnd < 2) return undefined;
    const literal = raw.slice(1, nameEnd);
    // IPvFuture and zone identifiers are refused: no upstream needs them in a Host.
    if (!isIPv6(literal) || literal.includes('%')) return undefined;
    nameEnd++;
    lower = true;
  } else {
    nameEnd = len;
    for (let i = 0; i < len; i++) {
      const c = raw.charCodeAt(i);
      if (c === 58 /* : */) {
        nameEnd = i;
        break;
      }
      if (c >= 65 && c <= 90) lower = true;
      else if (!isRegNameChar(c)) return undefined;
    }
  }
  let port = '';
  if (nameEnd < len) {
    if (raw.charCodeAt(nameEnd) !== 58) return undefined;
    const digits = raw.slice(nameEnd + 1);
    if (digits.length > 0) {
      if (digits.length > 5 || !/^[0-9]+$/.test(digits)) return undefined;
      const n = Number(digits);
      if (n > 65535) return undefined;
      port = `:${n}`;
    }
  }
  let name = raw.slice(0, nameEnd);
  if (name.charCodeAt(name.length - 1) === 46 /* . */) name = name.slice(0, -1);
  if (name.length === 0 || name.charCodeAt(name.length - 1) === 46) return undefined;
  if (lower) name = name.toLowerCase();
  return { host: port === '' ? name : name + port, name };
}

/** unreserved / sub-delims of RFC 3986, without "%" (see the file comment). Upper case is handled by the caller. */
function isRegNameChar(c: number): boolean {
  if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) return true;
  switch (c) {
    case 45: // -
    case 46: // .
    case 95: // _
    case 126: // ~
    case 33: // !
    case 36: // $
    case 38: // &
    case 39: // '
    case 40: // (
    case 41: // )
    case 42: // *
    case 43: // +
    case 44: // ,
    case 59: // ;
    case 61: // =
      return true;
    default:
      return false;
  }
}
