// The challenge pages: the proof-of-work page (the ALTCHA widget served by the proxy, solving on
// load and submitting by itself) and the provider pages (the provider's widget, the visitor
// submits). The login page's look (src/auth/login-page.ts): light or dark per the system, phone width.
import { STYLE } from '../auth/login-page';
import type { ChallengeConfig } from '../config/types';
import { escapeHtml } from '../util/deny-template';
import { CHALLENGE_PREFIX } from './core';
import { PROVIDERS, type ProviderMode } from './providers';

const EXTRA_STYLE = 'altcha-widget{display:block;margin:1rem 0}altcha-widget .altcha{max-width:100%}.note{font-size:.85rem}';

/** The page's own script (no inline script: the CSP allows 'self' only): submit once the widget verified. */
export const PAGE_SCRIPT = `'use strict';
(function () {
  var form = document.getElementById('challenge');
  var widget = document.querySelector('altcha-widget');
  if (form === null || widget === null) return;
  var sent = false;
  widget.addEventListener('verified', function () {
    if (sent) return;
    sent = true;
    form.submit();
  });
})();
`;

function shell(title: string, head: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex"><title>${escapeHtml(title)}</title>
<style>${STYLE}
${EXTRA_STYLE}</style>${head}</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

export interface ChallengePageInput {
  config: ChallengeConfig;
  host: string;
  returnTo: string;
}

export function challengePage(p: ChallengePageInput): string {
  const rd = `<input type="hidden" name="rd" value="${escapeHtml(p.returnTo)}">`;
  const intro = `<h1>One moment</h1>\n<p>${escapeHtml(p.host)} checks that a browser is visiting before it lets this address in.</p>`;
  if (p.config.mode === 'turnstile' || p.config.mode === 'hcaptcha' || p.config.mode === 'recaptcha') {
    const provider = PROVIDERS[p.config.mode];
    return shell(
      `Check · ${p.host}`,
      `\n<script src="${provider.script}" async defer></script>`,
      `${intro}
<form id="challenge" method="post" action="${CHALLENGE_PREFIX}verify">
${rd}
<div class="${provider.widgetClass}" data-sitekey="${escapeHtml(p.config.siteKey)}"></div>
<button type="submit">Continue</button>
</form>
<p class="note">The check is run by a third party (${escapeHtml(p.config.mode)}).</p>`,
    );
  }
  return shell(
    `Check · ${p.host}`,
    `\n<script type="module" src="${CHALLENGE_PREFIX}altcha.js"></script>\n<script src="${CHALLENGE_PREFIX}page.js" defer></script>`,
    `${intro}
<form id="challenge" method="post" action="${CHALLENGE_PREFIX}verify">
${rd}
<altcha-widget challenge="${CHALLENGE_PREFIX}new" auto="onload" name="altcha" configuration='{"hideFooter":true}'></altcha-widget>
<noscript><p class="error">This check needs JavaScript.</p></noscript>
<button type="submit">Continue</button>
</form>
<p class="note">Your browser solves a small puzzle; nothing is sent to a third party.</p>`,
  );
}

/** The page's CSP: the proxy's own scripts (the widget's workers are blob: URLs), or the provider's origins. */
export function challengeCsp(config: ChallengeConfig): string {
  if (config.mode === 'turnstile' || config.mode === 'hcaptcha' || config.mode === 'recaptcha') {
    const o = PROVIDERS[config.mode as ProviderMode].origins;
    return `default-src 'none'; script-src ${o}; frame-src ${o}; connect-src ${o}; img-src ${o} data:; style-src 'unsafe-inline' ${o}; form-action 'self'; frame-ancestors 'none'`;
  }
  return "default-src 'none'; script-src 'self'; worker-src blob:; connect-src 'self'; img-src data:; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";
}
