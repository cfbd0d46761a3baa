// The third-party modes: each provider's widget script, the form field its widget fills, and its
// siteverify call (POST form secret, response, remoteip; JSON {success, "error-codes"}), the same
// protocol for Turnstile, hCaptcha and reCAPTCHA. Anything but a clear success is a failure:
// unreachable, slow, a bad secret or an odd answer never lets the client in.
export type ProviderMode = 'turnstile' | 'hcaptcha' | 'recaptcha';

export interface Provider {
  script: string;
  /** The element the widget renders into. */
  widgetClass: string;
  /** The form field its widget fills with the token. */
  field: string;
  siteverify: string;
  /** Origins the page must allow for the widget (script, frame, connect). */
  origins: string;
}

export const PROVIDERS: Readonly<Record<ProviderMode, Provider>> = {
  turnstile: {
    script: 'https://challenges.cloudflare.com/turnstile/v0/api.js',
    widgetClass: 'cf-turnstile',
    field: 'cf-turnstile-response',
    siteverify: 'https://challenges.cloudflare.com/turnstile/v0/siteverify',
    origins: 'https://challenges.cloudflare.com',
  },
  hcaptcha: {
    script: 'https://js.hcaptcha.com/1/api.js',
    widgetClass: 'h-captcha',
    field: 'h-captcha-response',
    siteverify: 'https://api.hcaptcha.com/siteverify',
    origins: 'https://hcaptcha.com https://*.hcaptcha.com',
  },
  recaptcha: {
    script: 'https://www.google.com/recaptcha/api.js',
    widgetClass: 'g-recaptcha',
    field: 'g-recaptcha-response',
    siteverify: 'https://www.google.com/recaptcha/api/siteverify',
    origins: 'https://www.google.com https://www.gstatic.com https://www.recaptcha.net',
  },
};

export const SITEVERIFY_TIMEOUT_MS = 5000;

export type SiteverifyResult = { ok: true } | { ok: false; why: string };

/** The provider's answer, read strictly: success must be the JSON true. */
export function readSiteverifyAnswer(status: number, body: string): SiteverifyResult {
  if (status !== 200) return { ok: false, why: `provider answered ${status}` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { ok: false, why: 'provider answer is not JSON' };
  }
  const a = parsed as { success?: unknown; 'error-codes'?: unknown } | null;
  if (a !== null && typeof a === 'object' && a.success === true) return { ok: true };
  const codes = Array.isArray(a?.['error-codes']) ? a['error-codes'].filter((c): c is string => typeof c === 'string').slice(0, 5) : [];
  return { ok: false, why: codes.length > 0 ? `provider refused: ${codes.join(', ')}` : 'provider refused' };
}

/** POSTs the token to the provider (or `override`); the secret goes in the body only and is never logged. */
export async function siteverify(url: URL | string, secret: string, token: string, remoteIp: string): Promise<SiteverifyResult> {
  if (token === '' || token.length > 4096) return { ok: false, why: 'no token' };
  let res: Response;
  let body: string;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ secret, response: token, remoteip: remoteIp }).toString(),
      signal: AbortSignal.timeout(SITEVERIFY_TIMEOUT_MS),
      redirect: 'error',
    });
    body = (await res.text()).slice(0, 65_536);
  } catch (err) {
    const name = (err as Error).name;
    return { ok: false, why: name === 'TimeoutError' || name === 'AbortError' ? 'provider timed out' : 'provider unreachable' };
  }
  return readSiteverifyAnswer(res.status, body);
}
