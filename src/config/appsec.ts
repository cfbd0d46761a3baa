// access.appsec of a service: `off | enforce | observe`, or `{ mode, skip_paths }`. Errors name the
// field through the loader's context (file, service).
import { APPSEC_KEYS, APPSEC_MODES } from './keys';
import type { AppSecConfig } from './types';
import { describe, isMapping, type FieldCtx } from './values';

export const APPSEC_OFF: AppSecConfig = Object.freeze({ mode: 'off', skipPaths: Object.freeze([]) });

const NEEDS_URL = 'needs the AppSec engine, which is not configured: set --appsec-url (NB_PROXY_APPSEC_URL), e.g. http://crowdsec:7422/, or use "off"';

function parseMode(ctx: FieldCtx, v: unknown, field: string): AppSecConfig['mode'] {
  // A bare `off` is `false` in YAML 1.1.
  if (v === undefined || v === null || v === false) return 'off';
  if (v === true) ctx.fail(field, `true is ambiguous; use one of ${APPSEC_MODES.join(', ')}`);
  const s = ctx.string(v, field);
  const mode = APPSEC_MODES.find((m) => m === s);
  if (mode === undefined) ctx.fail(field, `${JSON.stringify(s)} is not one of ${APPSEC_MODES.join(', ')}`);
  return mode;
}

function parseSkipPaths(ctx: FieldCtx, v: unknown, field: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) ctx.fail(field, `must be a list of path prefixes, e.g. [/upload/]; got ${describe(v)}`);
  const out: string[] = [];
  v.forEach((raw, i) => {
    const itemField = `${field}[${i}]`;
    const s = ctx.string(raw, itemField);
    if (!s.startsWith('/')) ctx.fail(itemField, `${JSON.stringify(s)} must start with "/" (a path prefix such as /upload/)`);
    if (/[?#\s]/.test(s)) ctx.fail(itemField, `${JSON.stringify(s)} must be a path prefix without query, fragment or spaces`);
    const dup = out.indexOf(s);
    if (dup >= 0) ctx.fail(itemField, `${JSON.stringify(s)} is listed twice (also at ${field}[${dup}])`);
    out.push(s);
  });
  return out;
}

/** `protocol` tcp: only off is accepted (AppSec judges HTTP requests). */
export function parseAppSec(ctx: FieldCtx, v: unknown, opts: { appsecAvailable?: boolean }, protocol: 'http' | 'tcp'): AppSecConfig {
  const field = 'access.appsec';
  let config: AppSecConfig;
  if (isMapping(v)) {
    ctx.checkKeys(v, APPSEC_KEYS, field);
    config = { mode: parseMode(ctx, v['mode'], `${field}.mode`), skipPaths: parseSkipPaths(ctx, v['skip_paths'], `${field}.skip_paths`) };
  } else {
    if (Array.isArray(v)) ctx.fail(field, `must be off, enforce, observe or { mode, skip_paths }; got ${describe(v)}`);
    config = { mode: parseMode(ctx, v, field), skipPaths: [] };
  }
  if (config.mode === 'off') return config.skipPaths.length === 0 ? APPSEC_OFF : config;
  if (protocol === 'tcp') ctx.fail(field, `"${config.mode}" is not allowed for protocol tcp: AppSec judges HTTP requests`);
  if (opts.appsecAvailable !== true) ctx.fail(field, `"${config.mode}" ${NEEDS_URL}`);
  return config;
}

export function appsecEquals(a: AppSecConfig, b: AppSecConfig): boolean {
  return a.mode === b.mode && a.skipPaths.length === b.skipPaths.length && a.skipPaths.every((p, i) => p === b.skipPaths[i]);
}
