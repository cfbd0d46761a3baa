// access.challenge of a service or route: `off | pow`, or `{ mode: turnstile|hcaptcha|recaptcha,
// site_key, secret_file }`. The secret file is read here, at load. Errors name the field through
// the loader's context (file, service).
import { secretFile } from './auth';
import { CHALLENGE_KEYS, CHALLENGE_MODES } from './keys';
import type { ChallengeConfig } from './types';
import { describe, isMapping, type FieldCtx } from './values';

export const CHALLENGE_OFF: ChallengeConfig = Object.freeze({ mode: 'off' });
const POW: ChallengeConfig = Object.freeze({ mode: 'pow' });
const SITE_KEY_RE = /^[\x21-\x7e]{1,256}$/;

function parseMode(ctx: FieldCtx, v: unknown, field: string): ChallengeConfig['mode'] {
  // A bare `off` is `false` in YAML 1.1.
  if (v === undefined || v === null || v === false) return 'off';
  if (v === true) ctx.fail(field, `true is ambiguous; use one of ${CHALLENGE_MODES.join(', ')}`);
  const s = ctx.string(v, field);
  const mode = CHALLENGE_MODES.find((m) => m === s);
  if (mode === undefined) ctx.fail(field, `${JSON.stringify(s)} is not one of ${CHALLENGE_MODES.join(', ')}`);
  return mode;
}

/** `protocol` tcp: only off (a TCP connection cannot show a page). */
export function parseChallenge(ctx: FieldCtx, v: unknown, baseDir: string, protocol: 'http' | 'tcp'): ChallengeConfig {
  const field = 'access.challenge';
  let config: ChallengeConfig;
  if (isMapping(v)) {
    ctx.checkKeys(v, CHALLENGE_KEYS, field);
    const mode = parseMode(ctx, v['mode'], `${field}.mode`);
    if (mode === 'off' || mode === 'pow') {
      for (const key of ['site_key', 'secret_file'])
        if (v[key] !== undefined && v[key] !== null)
          ctx.fail(`${field}.${key}`, `is only for the provider modes (turnstile, hcaptcha, recaptcha), not ${mode}`);
      config = mode === 'off' ? CHALLENGE_OFF : POW;
    } else {
      const rawKey = v['site_key'];
      if (rawKey === undefined || rawKey === null) ctx.fail(`${field}.site_key`, `is required for ${mode} (the site key of the provider's dashboard)`);
      const siteKey = ctx.string(rawKey, `${field}.site_key`);
      if (!SITE_KEY_RE.test(siteKey)) ctx.fail(`${field}.site_key`, 'must be 1 to 256 printable characters without spaces');
      const secret = secretFile(ctx, v['secret_file'], `${field}.secret_file`, baseDir);
      config = { mode, siteKey, secretFile: secret.path, secret: secret.value };
    }
  } else {
    if (Array.isArray(v)) ctx.fail(field, `must be off, pow or { mode, site_key, secret_file }; got ${describe(v)}`);
    const mode = parseMode(ctx, v, field);
    if (mode !== 'off' && mode !== 'pow') ctx.fail(field, `${mode} needs site_key and secret_file: { mode: ${mode}, site_key: ..., secret_file: ... }`);
    config = mode === 'off' ? CHALLENGE_OFF : POW;
  }
  if (config.mode !== 'off' && protocol === 'tcp') ctx.fail(field, `"${config.mode}" is not allowed for protocol tcp: a challenge is a web page`);
  return config;
}

export function challengeEquals(a: ChallengeConfig, b: ChallengeConfig): boolean {
  if (a.mode !== b.mode) return false;
  if (!('siteKey' in a) || !('siteKey' in b)) return true;
  return a.siteKey === b.siteKey && a.secretFile === b.secretFile && a.secret === b.secret;
}

/** services.yaml form: the mode, or the long form of a provider (the secret stays in its file). */
export function challengeDocument(c: ChallengeConfig): string | { mode: string; site_key: string; secret_file: string } {
  return 'siteKey' in c ? { mode: c.mode, site_key: c.siteKey, secret_file: c.secretFile } : c.mode;
}
