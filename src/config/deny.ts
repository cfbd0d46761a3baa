// The deny fields of an http service: deny (page status, template, contact link, or a redirect)
// and forward_verdict. Template files are read and compiled here, at load: a request never reads
// a file. Errors name the field, through the loader's context (file, service).
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { compileDenyTemplate, MAX_TEMPLATE_BYTES, type DenyTemplate } from '../util/deny-template';
import { DENY_KEYS, DENY_REDIRECT_STATUSES } from './keys';
import type { DenyResponseConfig } from './types';
import { describe, isMapping, type FieldCtx, type Mapping } from './values';

export interface HttpDenyFields {
  deny: DenyResponseConfig;
  forwardVerdict: boolean;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Reads and compiles a template file; the problem as one line, or the template. */
export function readDenyTemplate(path: string): DenyTemplate | { error: string } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { error: `cannot read ${path} (${code ?? (err as Error).message})` };
  }
  if (bytes.length > MAX_TEMPLATE_BYTES) return { error: `${path} is ${bytes.length} bytes; a template may have at most ${MAX_TEMPLATE_BYTES}` };
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return { error: `${path} is not UTF-8 text` };
  }
  const compiled = compileDenyTemplate(text);
  return 'error' in compiled ? { error: `${path}: ${compiled.error}` } : compiled;
}

/** An absolute URL of one of `schemes` (e.g. ['http:', 'https:']), without credentials. */
function url(ctx: FieldCtx, v: unknown, field: string, schemes: readonly string[], example: string): string {
  const s = ctx.string(v, field);
  let parsed: URL;
  try {
    parsed = new URL(s);
  } catch {
    return ctx.fail(field, `${JSON.stringify(s)} is not an absolute URL, e.g. "${example}"`);
  }
  if (!schemes.includes(parsed.protocol))
    ctx.fail(field, `${JSON.stringify(s)} must be an ${schemes.slice(0, -1).join(', ')} or ${schemes.at(-1) ?? ''} URL, e.g. "${example}"`);
  if (parsed.username !== '' || parsed.password !== '') ctx.fail(field, `${JSON.stringify(s)} must not contain credentials`);
  return parsed.href;
}

function parseRedirect(ctx: FieldCtx, v: Mapping): DenyResponseConfig {
  for (const key of ['template', 'contact_url'] as const) {
    if (v[key] !== undefined && v[key] !== null) ctx.fail(`deny.${key}`, 'is not allowed with deny.redirect: a redirected client never sees a page');
  }
  const location = url(ctx, v['redirect'], 'deny.redirect', ['http:', 'https:'], 'https://example.com/blocked');
  const raw = v['status'];
  if (raw === undefined || raw === null) return { kind: 'redirect', status: 302, location };
  const status = DENY_REDIRECT_STATUSES.find((s) => s === raw);
  if (status === undefined)
    ctx.fail('deny.status', `${describe(raw)} is not a redirect status for deny.redirect: use one of ${DENY_REDIRECT_STATUSES.join(', ')}`);
  return { kind: 'redirect', status, location };
}

function parsePage(ctx: FieldCtx, v: Mapping, baseDir: string, globalTemplate: DenyTemplate | undefined): DenyResponseConfig {
  const rawStatus = v['status'];
  let status = 403;
  if (rawStatus !== undefined && rawStatus !== null) {
    if (typeof rawStatus !== 'number' || !Number.isInteger(rawStatus) || rawStatus < 400 || rawStatus > 599) {
      ctx.fail('deny.status', `must be an HTTP error status from 400 to 599 (e.g. 403), got ${describe(rawStatus)}`);
    }
    status = rawStatus;
  }
  const page: DenyResponseConfig = { kind: 'page', status, template: globalTemplate };
  const rawTemplate = v['template'];
  if (rawTemplate !== undefined && rawTemplate !== null) {
    const s = ctx.string(rawTemplate, 'deny.template');
    if (s.trim() === '') ctx.fail('deny.template', 'must not be empty (a file path)');
    const path = isAbsolute(s) ? s : resolve(baseDir, s);
    const template = readDenyTemplate(path);
    if ('error' in template) ctx.fail('deny.template', template.error);
    page.template = template;
    page.templatePath = path;
  }
  const contact = v['contact_url'];
  if (contact !== undefined && contact !== null)
    page.contactUrl = url(ctx, contact, 'deny.contact_url', ['http:', 'https:', 'mailto:'], 'mailto:admin@example.com');
  return page;
}

/** Parses deny and forward_verdict of an http service. `globalTemplate`: --deny-template, already read. */
export function parseHttpDeny(ctx: FieldCtx, raw: Mapping, baseDir: string, globalTemplate: DenyTemplate | undefined): HttpDenyFields {
  const fv = raw['forward_verdict'];
  if (fv !== undefined && fv !== null && typeof fv !== 'boolean') ctx.fail('forward_verdict', `must be true or false, got ${describe(fv)}`);
  const forwardVerdict = fv === true;
  const v = raw['deny'];
  if (v === undefined || v === null) return { deny: { kind: 'page', status: 403, template: globalTemplate }, forwardVerdict };
  if (!isMapping(v)) ctx.fail('deny', `must be a mapping ({ status, template, contact_url } or { redirect }); got ${describe(v)}`);
  ctx.checkKeys(v, DENY_KEYS, 'deny');
  const deny = v['redirect'] !== undefined && v['redirect'] !== null ? parseRedirect(ctx, v) : parsePage(ctx, v, baseDir, globalTemplate);
  return { deny, forwardVerdict };
}

/** Semantic equality for reload: a template counts as changed when its text changed. */
export function httpDenyEquals(a: HttpDenyFields, b: HttpDenyFields): boolean {
  if (a.forwardVerdict !== b.forwardVerdict) return false;
  const x = a.deny;
  const y = b.deny;
  if (x.kind === 'redirect') return y.kind === 'redirect' && x.status === y.status && x.location === y.location;
  if (y.kind === 'redirect') return false;
  return x.status === y.status && x.contactUrl === y.contactUrl && x.templatePath === y.templatePath && x.template?.source === y.template?.source;
}
