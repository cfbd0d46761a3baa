// Badges carry their meaning in text and an icon-like prefix; colour only reinforces it.
import { h } from './dom.js';
import type { EventRow } from './api.js';

export function badge(kind: 'deny' | 'observe' | 'decision' | 'ok' | 'muted' | 'warn' | 'info', text: string, title?: string): HTMLSpanElement {
  return h('span', { class: `badge badge-${kind}`, title }, text);
}

/** The reason cell: deny badge; observe badge plus decision; nothing for a clean request. */
export function reasonCell(e: EventRow): HTMLElement[] {
  if (e.outcome === 'denied') return [badge('deny', e.deny_reason, 'denied'), ...challengeBadge(e)];
  if (e.outcome === 'observed') {
    const out = [badge('observe', 'observe', 'observe mode: this request would have been denied in enforce mode')];
    if (e.crowdsec_mode === 'observe') out.push(badge('decision', e.decision ?? 'unknown', 'CrowdSec decision type'));
    if (e.appsec_mode === 'observe') out.push(badge('decision', `appsec ${e.appsec_verdict ?? 'unknown'}`, 'CrowdSec AppSec action (WAF)'));
    return out;
  }
  if (e.outcome === 'not_found') return [badge('muted', 'no service', 'no service matches the Host header')];
  if (e.upstream_error !== null) return [badge('warn', e.upstream_error, 'upstream error: the target did not answer properly')];
  return [...challengeBadge(e), ...authBadges(e)];
}

const CHALLENGE_TITLES: Record<string, string> = {
  issued: 'captcha decision: the challenge page was shown instead of a denial',
  passed: 'captcha decision: a solved challenge (or its cookie) let the client in',
  failed: 'captcha decision: the challenge failed (see metadata.challenge_failure); denied',
};

/** Services with access.challenge (docs/challenge.md). */
function challengeBadge(e: EventRow): HTMLElement[] {
  const c = e.challenge;
  if (c === undefined) return [];
  return [badge(c === 'failed' ? 'warn' : c === 'passed' ? 'ok' : 'info', `challenge ${c}`, CHALLENGE_TITLES[c])];
}

/** Services with auth: a failed login, or who was signed in. */
function authBadges(e: EventRow): HTMLElement[] {
  if (e.auth_success === false)
    return [badge('warn', 'login failed', `${e.auth_mechanism ?? 'auth'}: wrong or refused credential${e.user_id === undefined ? '' : ` (${e.user_id})`}`)];
  if (e.auth_success === true && e.user_id !== undefined) return [badge('info', e.user_id, `signed in with ${e.auth_mechanism ?? 'auth'}`)];
  return [];
}

export function modeBadge(mode: string): HTMLSpanElement {
  if (mode === 'enforce') return badge('deny', 'enforce');
  if (mode === 'observe') return badge('observe', 'observe');
  return badge('muted', 'off');
}
