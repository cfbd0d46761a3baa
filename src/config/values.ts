// YAML value helpers shared by the services.yaml parsers.

export type Mapping = Record<string, unknown>;

export function isMapping(v: unknown): v is Mapping {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** How a value is named in messages. */
export function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (isMapping(v)) return 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (typeof v === 'object') return `a ${Object.prototype.toString.call(v).slice(8, -1)}`;
  return `a ${typeof v}`;
}

/** What a field parser needs from the loader's context: errors naming file/service/field. */
export interface FieldCtx {
  fail(field: string | undefined, reason: string): never;
  checkKeys(obj: Mapping, allowed: readonly string[], prefix: string): void;
  string(v: unknown, field: string): string;
}
