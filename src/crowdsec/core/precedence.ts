// Which remediation wins when one value carries several decision types:
// ban > captcha > throttle > any other type (others by name, so the outcome is deterministic).

/** Rank of the built-in types (0 ban, 1 captcha, 2 throttle); 3 for every other type. */
export function typeRank(type: string): number {
  return type === 'ban' ? 0 : type === 'captcha' ? 1 : type === 'throttle' ? 2 : 3;
}

/** Negative when `a` takes precedence over `b`, positive when `b` does, 0 when equal. */
export function compareTypes(a: string, b: string): number {
  if (a === b) return 0;
  const d = typeRank(a) - typeRank(b);
  if (d !== 0) return d;
  return a < b ? -1 : 1;
}
