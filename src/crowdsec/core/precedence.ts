// Which remediation wins when one value carries several decision types:
// ban > captcha > throttle > any other type (others by name, so the outcome is deterministic).

const FIXED_RANK: Readonly<Record<string, number>> = { ban: 0, captcha: 1, throttle: 2 };

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

/** True when type `a` takes precedence over type `b`. */
export function outranks(a: string, b: string): boolean {
  return compareTypes(a, b) < 0;
}

/** The built-in types, in precedence order. */
export const BUILTIN_TYPES: readonly string[] = Object.keys(FIXED_RANK);
