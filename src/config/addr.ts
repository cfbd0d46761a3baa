// Strict address syntax shared by the services.yaml loader and the CLI:
// host:port, host names, domains (with "*." wildcards) and CIDRs.

import { isIP, isIPv4 } from 'node:net';
import ipaddr from 'ipaddr.js';
import { parsePort } from '../net/port';
import type { CanonicalCidr, HostPort } from './types';

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

const ok = <T>(value: T): Checked<T> => ({ ok: true, value });
const bad = <T>(reason: string): Checked<T> => ({ ok: false, reason });

const LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const LABEL_UNDERSCORE = /^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?$/;

/**
 * A DNS host name (already lower-cased): labels of 1-63 letters, digits and hyphens, not starting or
 * ending with a hyphen, at most 253 characters, no trailing dot. The last label must not be all
 * digits (that is an IPv4 address, or a short/octal form of one, which we refuse).
 * `underscore` also allows "_" (Docker/Compose service names), for hosts we connect to.
 */
export function isHostName(s: string, underscore = false): boolean {
  if (s.length === 0 || s.length > 253) return false;
  const labels = s.split('.');
  const re = underscore ? LABEL_UNDERSCORE : LABEL;
  for (const l of labels) {
    if (l.length > 63 || !re.test(l)) return false;
  }
  return !/^[0-9]+$/.test(labels[labels.length - 1] ?? '');
}

/** Canonical text of an IPv6 address: RFC 5952 (lower-case, compressed); IPv4-mapped as ::ffff:a.b.c.d. */
function canonicalIPv6(s: string): string {
  const a = ipaddr.IPv6.parse(s);
  if (a.isIPv4MappedAddress()) return `::ffff:${a.toIPv4Address().toString()}`;
  return a.toString();
}

/** A host without port: IPv4 dotted quad, [IPv6] (returned without brackets), or a host name (lower-cased). */
export function checkHost(raw: string, what = 'host'): Checked<string> {
  if (raw.length === 0) return bad(`the ${what} is empty`);
  if (raw.startsWith('[')) {
    if (!raw.endsWith(']')) return bad(`unterminated "[" in the ${what}`);
    const inner = raw.slice(1, -1);
    if (isIP(inner) !== 6) return bad(`"${inner}" is not a valid IPv6 address`);
    return ok(canonicalIPv6(inner));
  }
  if (raw.includes(':')) {
    return bad(`IPv6 addresses must be written in brackets, as in "[::1]:8080"`);
  }
  if (isIPv4(raw)) return ok(raw);
  const lower = raw.toLowerCase();
  if (/^[0-9.]+$/.test(lower)) {
    return bad(`"${raw}" is not a valid IPv4 address (write all four decimal octets, without leading zeros)`);
  }
  if (!isHostName(lower, true)) return bad(`"${raw}" is not a valid ${what}`);
  return ok(lower);
}

/** Port: decimal 1-65535 without sign or leading zeros. */
export function checkPort(raw: string): Checked<number> {
  if (raw.length === 0) return bad('the port is missing');
  if (!/^[0-9]+$/.test(raw) || (raw.length > 1 && raw.startsWith('0'))) {
    return bad(`port "${raw}" is not a decimal number`);
  }
  const n = parsePort(raw);
  if (n < 1) return bad(`port ${raw} is out of range 1-65535`);
  return ok(n);
}

/** Like parseHostPort, with a reason when it fails. */
export function checkHostPort(s: string): Checked<HostPort> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) return bad('expected host:port, not a URL');
  let hostPart: string;
  let portPart: string;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) return bad('unterminated "["');
    hostPart = s.slice(0, close + 1);
    const rest = s.slice(close + 1);
    if (!rest.startsWith(':')) return bad('expected host:port, as in "[::1]:8080"');
    portPart = rest.slice(1);
  } else {
    const colon = s.lastIndexOf(':');
    if (colon < 0) return bad('expected host:port, as in "127.0.0.1:8080"');
    hostPart = s.slice(0, colon);
    portPart = s.slice(colon + 1);
    if (hostPart.includes(':')) {
      return bad('IPv6 addresses must be written in brackets, as in "[::1]:8080"');
    }
  }
  if (hostPart.length === 0) return bad('the host is missing');
  const host = checkHost(hostPart);
  if (!host.ok) return host;
  const port = checkPort(portPart);
  if (!port.ok) return port;
  return ok({ host: host.value, port: port.value });
}

/**
 * "0.0.0.0:2222", "[::]:8080", "localhost:80" → { host, port }; undefined when invalid.
 * IPv6 hosts come back without brackets, RFC 5952 canonical; host names lower-cased.
 * An empty host (":8080") is refused: say 0.0.0.0 or [::].
 */
export function parseHostPort(s: string): HostPort | undefined {
  if (typeof s !== 'string') return undefined;
  const r = checkHostPort(s);
  return r.ok ? r.value : undefined;
}

/** "host:port" text of a HostPort, with brackets for IPv6. */
export function formatHostPort(hp: HostPort): string {
  return hp.host.includes(':') ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}

export function isUnspecifiedHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

/**
 * A domain served by an http service, lower-cased: a host name, optionally with "*." as the
 * whole first label (matches exactly one label), or an IPv4 literal. No port, no trailing dot.
 */
export function checkDomain(raw: string): Checked<string> {
  const s = raw.toLowerCase();
  const q = JSON.stringify(raw);
  if (/^[a-z][a-z0-9+.-]*:\/\//.test(s)) return bad(`${q} is a URL; write only the host name`);
  if (s.includes('/')) return bad(`${q} must not contain a path; write only the host name`);
  if (s.startsWith('[') || isIP(s) === 6) return bad(`${q}: IPv6 literals are not supported as domains`);
  if (s.includes(':')) return bad(`${q} must not include a port; domains are matched against the Host header without its port`);
  if (s === '*') return bad(`${q}: a catch-all domain is not supported; use a wildcard such as "*.example.com"`);
  if (s.endsWith('.')) return bad(`${q} must not end with a dot`);
  const wildcard = s.startsWith('*.');
  const rest = wildcard ? s.slice(2) : s;
  if (rest.includes('*')) return bad(`${q}: "*" is only allowed as the whole first label, as in "*.example.com"`);
  if (isIPv4(rest)) {
    return wildcard ? bad(`${q}: a wildcard cannot be combined with an IP address`) : ok(s);
  }
  if (!isHostName(rest)) return bad(`${q} is not a valid host name`);
  return ok(s);
}

/**
 * A CIDR or bare address → canonical CIDR. IPv4 must be a dotted quad (net.isIP: no octal, no short
 * forms); IPv6 any RFC 4291 text form, no zone. Bare addresses become /32 or /128. Host bits set is an
 * error (with the network it probably meant). IPv4-mapped IPv6 (::ffff:a.b.c.d/96+n) becomes IPv4
 * a.b.c.d/n, since client addresses are compared in their IPv4 form.
 */
export function checkCidr(raw: string): Checked<CanonicalCidr> {
  const q = JSON.stringify(raw);
  const slash = raw.indexOf('/');
  const addrText = slash < 0 ? raw : raw.slice(0, slash);
  const prefixText = slash < 0 ? undefined : raw.slice(slash + 1);
  if (addrText.includes('%')) return bad(`${q} is not a valid CIDR: zone indexes ("%eth0") are not allowed`);
  const family = isIP(addrText);
  if (family === 0) {
    return bad(`${q} is not a valid CIDR: "${addrText}" is not an IPv4 or IPv6 address (IPv4 needs four decimal octets, without leading zeros)`);
  }
  const bits = family === 4 ? 32 : 128;
  let prefix = bits;
  if (prefixText !== undefined) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText)) {
      return bad(`${q} is not a valid CIDR: prefix length "${prefixText}" is not a number`);
    }
    prefix = Number(prefixText);
    if (prefix > bits) {
      return bad(`${q} is not a valid CIDR: prefix length ${prefix} is out of range 0-${bits} for IPv${family}`);
    }
  }
  let addr: ipaddr.IPv4 | ipaddr.IPv6 = family === 4 ? ipaddr.IPv4.parse(addrText) : ipaddr.IPv6.parse(addrText);
  if (addr.kind() === 'ipv6' && prefix >= 96) {
    const v6 = addr as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) {
      addr = v6.toIPv4Address();
      prefix -= 96;
    }
  }
  const bytes = addr.toByteArray();
  const masked = bytes.map((b, i) => {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    return keep === 0 ? 0 : b & ((0xff << (8 - keep)) & 0xff);
  });
  const network = ipaddr.fromByteArray(masked).toString();
  const canonical = `${network}/${prefix}`;
  if (masked.some((b, i) => b !== bytes[i])) {
    return bad(`${q} is not a valid CIDR: it has host bits set; did you mean "${canonical}"?`);
  }
  return ok(canonical);
}
