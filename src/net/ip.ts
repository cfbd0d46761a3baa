// IP address primitives: validation, IPv4-mapped stripping, IPv4 as uint32, IPv6 as 8 hextets,
// canonical text, and compact masked keys for prefix maps. The parsers are strict in the same way
// as node:net isIP (no octal "010.8.8.8", no short "10.8", no leading/trailing junk) and the
// lookup-path ones work on char codes without allocating.

import { isIP } from 'node:net';

/**
 * Masks for IPv4 prefix lengths 0..32 as signed int32 (`addr & MASK4[len]` yields the int32 key).
 */
export const MASK4: Int32Array = (() => {
  const m = new Int32Array(33);
  for (let len = 1; len <= 32; len++) m[len] = (0xffffffff << (32 - len)) | 0;
  return m;
})();

/**
 * Dotted-quad IPv4 (in s[start, end)) to an unsigned 32-bit number; -1 when it is not exactly four
 * decimal octets 0..255 without leading zeros. No allocation.
 */
export function ipv4ToUint32(s: string, start = 0, end = s.length): number {
  const n = end - start;
  if (n < 7 || n > 15) return -1;
  let acc = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      acc = acc * 256 + part;
      dots++;
      part = 0;
      digits = 0;
    } else {
      const d = c - 48;
      if (d < 0 || d > 9) return -1;
      if (digits === 1 && part === 0) return -1; // leading zero: "01", "00"
      part = part * 10 + d;
      if (part > 255) return -1;
      digits++;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return acc * 256 + part;
}

/** uint32 (or int32 key) to dotted quad. */
export function uint32ToIpv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** Hex digit values by char code, -1 for non-hex. */
const HEX = (() => {
  const t = new Int8Array(128).fill(-1);
  for (let c = 48; c <= 57; c++) t[c] = c - 48;
  for (let c = 97; c <= 102; c++) t[c] = c - 87;
  for (let c = 65; c <= 70; c++) t[c] = c - 55;
  return t;
})();

/**
 * Parses IPv6 text (in s[start, end)) into 8 hextets written to `out`. Accepts "::" compression, an
 * embedded dotted-quad tail ("::ffff:1.2.3.4") and a zone suffix ("%eth0", ignored). Returns false
 * (and leaves `out` in an unspecified state) when the text is not a valid IPv6 address.
 * One pass over the characters, no allocation.
 */
export function parseIpv6Into(s: string, out: Uint16Array, start = 0, end = s.length): boolean {
  if (end - start < 2) return false;
  let n = 0;
  let gap = -1;
  let i = start;
  let c = s.charCodeAt(i);
  if (c === 58) {
    if (s.charCodeAt(i + 1) !== 58) return false;
    gap = 0;
    i += 2;
    if (i < end) {
      c = s.charCodeAt(i);
      if (c === 37) {
        if (i === end - 1) return false;
        end = i;
      }
    }
  }
  while (i < end) {
    const gs = i;
    let v = 0;
    while (i < end) {
      c = s.charCodeAt(i);
      const x = c < 128 ? HEX[c] : -1;
      if (x < 0) break;
      v = v * 16 + x;
      i++;
    }
    const d = i - gs;
    if (d === 0) return false;
    if (i < end && c === 46 /* . */) {
      if (n > 6) return false;
      let v4end = i;
      while (v4end < end && s.charCodeAt(v4end) !== 37) v4end++;
      if (v4end === end - 1) return false;
      const a = ipv4ToUint32(s, gs, v4end);
      if (a < 0) return false;
      out[n++] = a >>> 16;
      out[n++] = a & 0xffff;
      break;
    }
    if (d > 4 || n === 8) return false;
    out[n++] = v;
    if (i === end) break;
    if (c === 37 /* % */) {
      if (i === end - 1) return false;
      break;
    }
    if (c !== 58) return false;
    i++;
    if (i === end) return false; // single trailing colon
    c = s.charCodeAt(i);
    if (c === 58) {
      if (gap >= 0) return false;
      gap = n;
      i++;
      if (i < end && s.charCodeAt(i) === 37) {
        if (i === end - 1) return false;
        break;
      }
    }
  }
  if (gap >= 0) {
    if (n === 8) return false;
    const move = n - gap;
    for (let k = 1; k <= move; k++) out[8 - k] = out[n - k];
    for (let k = gap; k < 8 - move; k++) out[k] = 0;
  } else if (n !== 8) {
    return false;
  }
  return true;
}

/** True when the hextets are an IPv4-mapped address ::ffff:a.b.c.d. */
export function isV4Mapped(h: ArrayLike<number>): boolean {
  return h[0] === 0 && h[1] === 0 && h[2] === 0 && h[3] === 0 && h[4] === 0 && h[5] === 0xffff;
}

/** The IPv4 address (uint32) inside hextets 6 and 7. */
export function mappedV4(h: ArrayLike<number>): number {
  return h[6] * 65536 + h[7];
}

/** RFC 5952 text for 8 hextets: lower case, no leading zeros, the longest run of 2+ zero groups as "::". */
export function formatIpv6(h: ArrayLike<number>): string {
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (h[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && h[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += '::';
      i += bestLen - 1;
      continue;
    }
    if (out !== '' && !out.endsWith(':')) out += ':';
    out += h[i].toString(16);
  }
  return out;
}

/** Mask for `bits` (clamped to 0..32) leading bits of a 32-bit word, as int32. */
export function wordMask(bits: number): number {
  return bits >= 32 ? -1 : bits <= 0 ? 0 : MASK4[bits];
}

/**
 * An IPv6 prefix as four int32 words (hextets 0-1, 2-3, 4-5, 6-7), bits beyond `prefix` zeroed,
 * written to `out`. This is the key prefix maps hash (no strings, no BigInt).
 */
export function ipv6Words(h: ArrayLike<number>, prefix: number, out: Int32Array): Int32Array {
  out[0] = ((h[0] << 16) | h[1]) & wordMask(prefix);
  out[1] = ((h[2] << 16) | h[3]) & wordMask(prefix - 32);
  out[2] = ((h[4] << 16) | h[5]) & wordMask(prefix - 64);
  out[3] = ((h[6] << 16) | h[7]) & wordMask(prefix - 96);
  return out;
}

/** Inverse of ipv6Words: the 8 hextets of four words. */
export function wordsToHextets(w: ArrayLike<number>, out: Uint16Array): Uint16Array {
  for (let i = 0; i < 4; i++) {
    out[2 * i] = w[i] >>> 16;
    out[2 * i + 1] = w[i] & 0xffff;
  }
  return out;
}

const scratch = new Uint16Array(8);

/**
 * Validates and normalises a client address: IPv4 stays as it is, IPv4-mapped IPv6 ("::ffff:1.2.3.4",
 * any case, also "::ffff:102:304") becomes the IPv4, other IPv6 becomes RFC 5952 text without zone.
 * Undefined when it is not an address (node:net isIP rules: "010.8.8.8" and "10.8" are rejected).
 */
export function normalizeIp(s: string): string | undefined {
  if (ipv4ToUint32(s) >= 0) return s;
  if (isIP(s) !== 6 || !parseIpv6Into(s, scratch)) return undefined;
  if (isV4Mapped(scratch)) return uint32ToIpv4(mappedV4(scratch));
  return formatIpv6(scratch);
}

/** A parsed prefix in the form prefix maps key it. */
export type PrefixKey =
  | {
      readonly family: 4;
      readonly prefix: number;
      /** Network address as int32 (`uint32 | 0`), host bits zero. */
      readonly key: number;
      /** The input had bits set beyond the prefix (they were zeroed). */
      readonly hostBits: boolean;
    }
  | {
      readonly family: 6;
      readonly prefix: number;
      /** ipv6Words() of the network address (4 int32 words, host bits zero). */
      readonly key: Int32Array;
      readonly hostBits: boolean;
    };

export interface ParseCidrOptions {
  /** "mask" (default, CrowdSec ranges such as 1.2.3.4/24 mean 1.2.3.0/24) or "reject". */
  hostBits?: 'mask' | 'reject';
}

function parsePrefixLen(s: string, start: number, max: number): number {
  const n = s.length - start;
  if (n < 1 || n > 3) return -1;
  let v = 0;
  for (let i = start; i < s.length; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    if (i > start && v === 0) return -1; // leading zero
    v = v * 10 + d;
  }
  return v > max ? -1 : v;
}

/**
 * Parses "addr/len" or a bare address (/32, /128) to its map key, without building display strings.
 * IPv4-mapped IPv6 becomes IPv4 (a /96+ mapped prefix becomes an IPv4 prefix of len-96). Zones and
 * leading zeros in the length are rejected. Undefined when invalid, or when host bits are set and
 * options.hostBits is "reject".
 */
export function parsePrefixKey(s: string, options?: ParseCidrOptions): PrefixKey | undefined {
  const slash = s.indexOf('/');
  const addrEnd = slash < 0 ? s.length : slash;
  const reject = options?.hostBits === 'reject';
  const a = ipv4ToUint32(s, 0, addrEnd);
  if (a >= 0) {
    const prefix = slash < 0 ? 32 : parsePrefixLen(s, slash + 1, 32);
    if (prefix < 0) return undefined;
    const key = a & MASK4[prefix];
    const hostBits = key !== (a | 0);
    if (hostBits && reject) return undefined;
    return { family: 4, prefix, key, hostBits };
  }
  const addr = slash < 0 ? s : s.slice(0, slash);
  if (addr.indexOf('%') >= 0 || isIP(addr) !== 6) return undefined;
  const h = new Uint16Array(8);
  if (!parseIpv6Into(addr, h)) return undefined;
  let prefix = slash < 0 ? 128 : parsePrefixLen(s, slash + 1, 128);
  if (prefix < 0) return undefined;
  if (prefix >= 96 && isV4Mapped(h)) {
    prefix -= 96;
    const v4 = mappedV4(h);
    const key = v4 & MASK4[prefix];
    const hostBits = key !== (v4 | 0);
    if (hostBits && reject) return undefined;
    return { family: 4, prefix, key, hostBits };
  }
  const key = ipv6Words(h, prefix, new Int32Array(4));
  let hostBits = false;
  for (let i = 0; i < 4; i++) {
    if (key[i] !== ((h[2 * i] << 16) | h[2 * i + 1])) hostBits = true;
  }
  if (hostBits && reject) return undefined;
  return { family: 6, prefix, key, hostBits };
}

/** Network address text of a prefix key. */
export function prefixKeyAddress(family: 4 | 6, key: number | ArrayLike<number>): string {
  if (typeof key === 'number') return uint32ToIpv4(key);
  if (family === 4) return uint32ToIpv4(key[0]);
  return formatIpv6(wordsToHextets(key, new Uint16Array(8)));
}

/**
 * Display text of a prefix key: "addr/len", or just "addr" for a /32 or /128 when `bareHost`.
 */
export function formatPrefixKey(family: 4 | 6, prefix: number, key: number | ArrayLike<number>, bareHost = false): string {
  const address = prefixKeyAddress(family, key);
  if (bareHost && prefix === (family === 4 ? 32 : 128)) return address;
  return `${address}/${prefix}`;
}
