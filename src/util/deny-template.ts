// The deny page template: `{{name}}` placeholders (spaces inside the braces allowed), compiled
// once at config load into literal parts and variable slots; every value is HTML-escaped when
// rendered. Anything else in the text, including a lone "{{", is literal.

export const DENY_VARIABLES = ['reason', 'reason_code', 'client_ip', 'request_id', 'time', 'status', 'contact_url'] as const;
export type DenyVariable = (typeof DENY_VARIABLES)[number];
export type DenyValues = Readonly<Record<DenyVariable, string>>;

/** Literal text at even indexes, variable names at odd ones. */
export interface DenyTemplate {
  readonly source: string;
  readonly parts: readonly string[];
}

/** Largest template accepted, so that a mistaken path (a log, a binary) is refused at load. */
export const MAX_TEMPLATE_BYTES = 64 * 1024;

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** Compiles a template; the error names the first unknown variable. */
export function compileDenyTemplate(source: string): DenyTemplate | { error: string } {
  const parts: string[] = [];
  let last = 0;
  for (const m of source.matchAll(PLACEHOLDER)) {
    const name = m[1] ?? '';
    if (!(DENY_VARIABLES as readonly string[]).includes(name)) {
      return { error: `unknown variable {{${name}}}; known: ${DENY_VARIABLES.join(', ')}` };
    }
    parts.push(source.slice(last, m.index), name);
    last = (m.index ?? 0) + m[0].length;
  }
  parts.push(source.slice(last));
  return { source, parts };
}

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

export function renderDenyTemplate(template: DenyTemplate, values: DenyValues): string {
  const { parts } = template;
  let out = parts[0] ?? '';
  for (let i = 1; i < parts.length; i += 2) out += escapeHtml(values[parts[i] as DenyVariable]) + (parts[i + 1] ?? '');
  return out;
}
