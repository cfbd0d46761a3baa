// Pure parser for the PROXY protocol header, versions 1 (text) and 2 (binary).
// Reference: https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt
//
// The parser never throws and never reads past the header: it looks at the
// bytes received so far and answers
//   - 'incomplete' : the bytes are a valid prefix of a header, read more;
//   - 'invalid'    : the bytes can never become a valid header;
//   - 'ok'         : a complete header of `headerLength` bytes; the rest is payload.
//
// Addresses are returned as written in the header (v1) or formatted from the
// raw bytes (v2: IPv6 in RFC 5952 compressed form, IPv4-mapped as ::ffff:a.b.c.d).
// Normalising them (e.g. ::ffff:1.2.3.4 -> 1.2.3.4) is the caller's job.

import * as net from 'net';
import { formatIpv6, isV4Mapped } from '../net/ip';
import { parsePort } from '../net/port';

export type ProxyHeaderResult =
  | { kind: 'incomplete' }
  | { kind: 'invalid'; reason: string }
  | {
      kind: 'ok';
      headerLength: number;
      /** The original client, absent for v1 UNKNOWN, v2 LOCAL, v2 AF_UNSPEC / AF_UNIX. */
      source?: { address: string; port: number };
      /** v2 LOCAL command: the connection was made by the proxy itself (health check). */
      local: boolean;
    };

/** "PROXY " — every v1 header starts with it. */
const V1_PREFIX = Buffer.from('PROXY ', 'ascii');
/** A v1 header, CRLF included, is at most 107 bytes long. */
export const V1_MAX_LENGTH = 107;

/** The 12-byte v2 signature. */
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
/** Signature + ver/cmd + fam/proto + 2-byte length. */
const V2_FIXED_LENGTH = 16;

const CR = 0x0d;
const LF = 0x0a;

function invalid(reason: string): ProxyHeaderResult {
  return { kind: 'invalid', reason };
}

/** True when `buf` (possibly shorter than `prefix`) agrees with `prefix` on their common length. */
function matchesPrefix(buf: Buffer, prefix: Buffer): boolean {
  const n = Math.min(buf.length, prefix.length);
  return buf.subarray(0, n).equals(prefix.subarray(0, n));
}

export function parseProxyHeader(buf: Buffer): ProxyHeaderResult {
  if (buf.length === 0) return { kind: 'incomplete' };
  if (buf[0] === V1_PREFIX[0]) {
    if (!matchesPrefix(buf, V1_PREFIX)) return invalid('not a PROXY protocol header');
    return parseV1(buf);
  }
  if (buf[0] === V2_SIGNATURE[0]) {
    if (!matchesPrefix(buf, V2_SIGNATURE)) return invalid('bad PROXY v2 signature');
    return parseV2(buf);
  }
  return invalid('not a PROXY protocol header');
}

// ---------------------------------------------------------------------------
// v1: "PROXY" SP ("TCP4" | "TCP6") SP src SP dst SP sport SP dport CRLF
//     "PROXY" SP "UNKNOWN" [anything] CRLF

function parseV1(buf: Buffer): ProxyHeaderResult {
  const limit = Math.min(buf.length, V1_MAX_LENGTH);
  let end = -1;
  for (let i = 0; i < limit; i++) {
    const b = buf[i];
    if (b === LF) return invalid('PROXY v1 line ends with a bare LF');
    if (b === CR) {
      // The LF would be byte 108: too long.
      if (i + 1 >= V1_MAX_LENGTH) return invalid('PROXY v1 header longer than 107 bytes');
      // CR is the last byte received; the LF may still come.
      if (i + 1 >= buf.length) return { kind: 'incomplete' };
      if (buf[i + 1] !== LF) return invalid('PROXY v1 line has a CR not followed by LF');
      end = i;
      break;
    }
    // Only printable US-ASCII (and spaces) may appear in the line.
    if (b < 0x20 || b > 0x7e) return invalid('PROXY v1 header contains a non-printable byte');
  }
  if (end < 0) {
    if (buf.length >= V1_MAX_LENGTH) return invalid('PROXY v1 header longer than 107 bytes');
    return { kind: 'incomplete' };
  }
  const headerLength = end + 2;
  const line = buf.toString('ascii', 0, end);
  const fields = line.split(' ');
  // fields[0] === 'PROXY' (checked by the caller through the prefix).
  const proto = fields[1];
  if (proto === 'UNKNOWN') {
    // The receiver must ignore everything after UNKNOWN and use the connection's own addresses.
    return { kind: 'ok', headerLength, local: false };
  }
  if (proto !== 'TCP4' && proto !== 'TCP6') return invalid(`PROXY v1 unsupported protocol "${proto ?? ''}"`);
  if (fields.length !== 6) return invalid('PROXY v1 header must have exactly 6 space-separated fields');
  const [, , src, dst, sport, dport] = fields as [string, string, string, string, string, string];
  const family = proto === 'TCP4' ? 4 : 6;
  if (!isV1Address(src, family)) return invalid(`PROXY v1 bad source address "${src}"`);
  if (!isV1Address(dst, family)) return invalid(`PROXY v1 bad destination address "${dst}"`);
  const sp = parsePort(sport);
  if (sp < 0) return invalid(`PROXY v1 bad source port "${sport}"`);
  if (parsePort(dport) < 0) return invalid(`PROXY v1 bad destination port "${dport}"`);
  return { kind: 'ok', headerLength, source: { address: src, port: sp }, local: false };
}

function isV1Address(s: string, family: 4 | 6): boolean {
  // No zone ids (fe80::1%eth0): they mean nothing on the receiving host.
  if (s.includes('%')) return false;
  return net.isIP(s) === family;
}

// ---------------------------------------------------------------------------
// v2: 12-byte signature, ver_cmd, fam, len (big endian), address block, TLVs.

const CMD_LOCAL = 0x0;
const CMD_PROXY = 0x1;

const AF_UNSPEC = 0x0;
const AF_INET = 0x1;
const AF_INET6 = 0x2;
const AF_UNIX = 0x3;

const PROTO_UNSPEC = 0x0;
const PROTO_STREAM = 0x1;
const PROTO_DGRAM = 0x2;

function parseV2(buf: Buffer): ProxyHeaderResult {
  // Validate what we have as early as possible so garbage is refused without waiting.
  if (buf.length <= V2_SIGNATURE.length) return { kind: 'incomplete' };
  const verCmd = buf[12] as number;
  const version = verCmd >> 4;
  const command = verCmd & 0x0f;
  if (version !== 2) return invalid(`PROXY v2 unsupported version ${version}`);
  if (command !== CMD_LOCAL && command !== CMD_PROXY) return invalid(`PROXY v2 unknown command ${command}`);
  if (buf.length < 14) return { kind: 'incomplete' };
  const famByte = buf[13] as number;
  const family = famByte >> 4;
  const transport = famByte & 0x0f;
  if (family > AF_UNIX) return invalid(`PROXY v2 unknown address family ${family}`);
  if (transport > PROTO_DGRAM) return invalid(`PROXY v2 unknown transport protocol ${transport}`);
  if (buf.length < V2_FIXED_LENGTH) return { kind: 'incomplete' };
  const len = buf.readUInt16BE(14);
  const headerLength = V2_FIXED_LENGTH + len;

  // Minimum address-block sizes, checked before waiting for the whole header.
  let addrLen = 0;
  if (command === CMD_PROXY) {
    if (family === AF_INET) addrLen = 12;
    else if (family === AF_INET6) addrLen = 36;
    else if (family === AF_UNIX) addrLen = 216;
  }
  if (len < addrLen) return invalid(`PROXY v2 address block too short (${len} < ${addrLen})`);
  if (buf.length < headerLength) return { kind: 'incomplete' };

  // LOCAL: the proxy's own connection (e.g. a health check); address block is ignored.
  if (command === CMD_LOCAL) return { kind: 'ok', headerLength, local: true };

  // PROXY with UNSPEC family or transport: unknown origin, keep the connection's own address.
  if (family === AF_UNSPEC || transport === PROTO_UNSPEC) return { kind: 'ok', headerLength, local: false };
  if (transport !== PROTO_STREAM) return invalid('PROXY v2 DGRAM transport on a stream connection');
  // AF_UNIX: no IP to report.
  if (family === AF_UNIX) return { kind: 'ok', headerLength, local: false };

  const body = buf.subarray(V2_FIXED_LENGTH, headerLength);
  if (family === AF_INET) {
    const address = formatIpv4(body, 0);
    const port = body.readUInt16BE(8);
    return { kind: 'ok', headerLength, source: { address, port }, local: false };
  }
  // AF_INET6
  const address = formatIpv6Bytes(body.subarray(0, 16));
  const port = body.readUInt16BE(32);
  return { kind: 'ok', headerLength, source: { address, port }, local: false };
}

function formatIpv4(b: Buffer, offset: number): string {
  return `${b[offset]}.${b[offset + 1]}.${b[offset + 2]}.${b[offset + 3]}`;
}

/** RFC 5952 text of a 16-byte IPv6 address; IPv4-mapped addresses as ::ffff:a.b.c.d. */
function formatIpv6Bytes(b: Buffer): string {
  const h = new Uint16Array(8);
  for (let i = 0; i < 8; i++) h[i] = b.readUInt16BE(i * 2);
  if (isV4Mapped(h)) return `::ffff:${formatIpv4(b, 12)}`;
  return formatIpv6(h);
}
