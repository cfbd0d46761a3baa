// The admin listener's view of a request target: origin-form only, percent-encoding well formed.
// Anything else is answered 400 before routing, so no handler ever decodes what cannot be decoded.

/** The path of an origin-form target ("/a/b?q" → "/a/b"), or undefined when it is malformed. */
export function adminPath(target: string | undefined): string | undefined {
  if (target === undefined || target.charCodeAt(0) !== 0x2f /* / */) return undefined;
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  if (path.startsWith('//')) return undefined; // a network-path reference, not a path
  return wellEncoded(target) ? path : undefined;
}

/** One decoded path segment, or undefined when it is not valid percent-encoded UTF-8. */
export function decodeSegment(segment: string): string | undefined {
  if (!wellEncoded(segment)) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined; // well-formed escapes that are not UTF-8 (e.g. %E0%A4 alone)
  }
}

/** Every "%" starts "%XX" with two hex digits, and there are no control characters. */
function wellEncoded(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f) return false;
    if (c === 0x25 && !(isHex(text.charCodeAt(i + 1)) && isHex(text.charCodeAt(i + 2)))) return false;
  }
  return true;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}
