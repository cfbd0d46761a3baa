/**
 * A decimal port 0..65535 in s[start..]: no sign, no leading zeros (but "0"), at most 5 digits.
 * -1 when it is not one. Callers that refuse port 0 check it themselves.
 */
export function parsePort(s: string, start = 0): number {
  const n = s.length - start;
  if (n < 1 || n > 5) return -1;
  let v = 0;
  for (let i = start; i < s.length; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    if (i > start && v === 0) return -1;
    v = v * 10 + d;
  }
  return v <= 65535 ? v : -1;
}
