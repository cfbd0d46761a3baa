// Go time.ParseDuration syntax, in milliseconds: [-+]? then one or more <number><unit>, number is
// digits with an optional fraction ("1.5", ".5", "1."), unit one of h m s ms us µs μs ns; "0" alone
// needs no unit. CrowdSec sends remaining durations such as "3h59m58.123456789s" or "-24.57ms".

/** Largest time.Duration, in nanoseconds (2^63 - 1). */
// 9223372036854775807 as a double (2^63): the comparison only needs the bound, not its last digits.
const MAX_NS = 2 ** 63;

function unitNs(s: string, start: number, end: number): number {
  const n = end - start;
  const c0 = s.charCodeAt(start);
  if (n === 1) {
    if (c0 === 115 /* s */) return 1e9;
    if (c0 === 109 /* m */) return 60e9;
    if (c0 === 104 /* h */) return 3600e9;
    return -1;
  }
  if (n === 2 && s.charCodeAt(start + 1) === 115 /* s */) {
    if (c0 === 109 /* m */) return 1e6;
    if (c0 === 117 /* u */ || c0 === 0xb5 || c0 === 0x3bc) return 1e3;
    if (c0 === 110 /* n */) return 1;
  }
  return -1;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Parses a Go duration; NaN when invalid. No allocation on success. */
export function tryParseGoDuration(s: string): number {
  const len = s.length;
  let i = 0;
  let neg = false;
  if (len > 0) {
    const c = s.charCodeAt(0);
    if (c === 45 || c === 43) {
      neg = c === 45;
      i = 1;
    }
  }
  if (len - i === 1 && s.charCodeAt(i) === 48) return 0;
  if (i === len) return NaN;
  let totalNs = 0;
  while (i < len) {
    let c = s.charCodeAt(i);
    if (!(c === 46 || isDigit(c))) return NaN;
    // integer part
    let whole = 0;
    const wholeStart = i;
    while (i < len && isDigit((c = s.charCodeAt(i)))) {
      whole = whole * 10 + (c - 48);
      i++;
    }
    const pre = i > wholeStart;
    // fraction
    let frac = 0;
    let scale = 1;
    let post = false;
    if (i < len && s.charCodeAt(i) === 46) {
      i++;
      const fracStart = i;
      while (i < len && isDigit((c = s.charCodeAt(i)))) {
        if (scale < 1e15) {
          frac = frac * 10 + (c - 48);
          scale *= 10;
        }
        i++;
      }
      post = i > fracStart;
    }
    if (!pre && !post) return NaN;
    // unit
    const unitStart = i;
    while (i < len) {
      c = s.charCodeAt(i);
      if (c === 46 || isDigit(c)) break;
      i++;
    }
    if (i === unitStart) return NaN;
    const u = unitNs(s, unitStart, i);
    if (u < 0) return NaN;
    totalNs += whole * u + (u >= scale ? frac * (u / scale) : (frac * u) / scale);
  }
  if (!(totalNs <= MAX_NS)) return NaN; // Go: time.Duration overflows past ~292 years
  const ms = totalNs / 1e6;
  return neg && ms !== 0 ? -ms : ms;
}

/**
 * Go duration to milliseconds (may be fractional or negative). Throws an Error naming the input when
 * it is not a Go duration ("1m30s", "500ms", "3h59m58.5s", "-24.57ms" and "0" are; "5", "1d", "1.5.s" are not).
 */
export function parseGoDuration(s: string): number {
  const ms = tryParseGoDuration(s);
  if (Number.isNaN(ms)) {
    throw new Error(`invalid duration ${JSON.stringify(s)}: expected a Go duration such as 500ms, 10s, 1m30s or 3h59m58.5s (units h, m, s, ms, us, µs, ns)`);
  }
  return ms;
}
