// The answer to a denied HTTP request, per the service's deny setting (docs/deny-page.md):
// browsers (Accept naming text/html) get an HTML page, other clients text/plain "Forbidden",
// both with the configured status; or every client gets a redirect. The request id goes out as
// X-Request-Id on all of them. The page shows the reason's category, never the rule that matched.
import http, { type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { DenyResponseConfig } from '../config/types';
import type { DenyReason } from '../restrictions/types';
import { escapeHtml, renderDenyTemplate, type DenyValues } from '../util/deny-template';

export interface Denial {
  reason: DenyReason;
  clientIp: string;
  requestId: string;
}

const PLAIN_BODY = 'Forbidden';

/** What the page says about why: a category a visitor may read. */
export function reasonText(reason: DenyReason): string {
  switch (reason) {
    case 'ip_restricted':
      return 'blocked by network policy';
    case 'country_restricted':
      return 'not available in your country';
    case 'geo_unavailable':
    case 'crowdsec_unavailable':
    case 'appsec_unavailable':
      return 'a security check is temporarily unavailable';
    default:
      return reason.startsWith('crowdsec_') || reason.startsWith('appsec_') ? 'blocked by security policy' : 'blocked by access policy';
  }
}

export function denyValues(denial: Denial, status: number, contactUrl: string | undefined, now = new Date()): DenyValues {
  return {
    reason: reasonText(denial.reason),
    reason_code: denial.reason,
    client_ip: denial.clientIp,
    request_id: denial.requestId,
    time: now.toISOString(),
    status: String(status),
    contact_url: contactUrl ?? '',
  };
}

export function builtinDenyPage(v: DenyValues): string {
  const contact =
    v.contact_url === ''
      ? ''
      : `\n<p>If you think this is a mistake, <a href="${escapeHtml(v.contact_url)}">contact the site's administrator</a> and quote the request ID.</p>`;
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex"><title>Access denied</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}h1{font-size:1.6rem}code{background:#f2f2f2;padding:.1rem .3rem}</style></head>
<body>
<h1>Access denied</h1>
<p>This request was refused: ${escapeHtml(v.reason)}.</p>
<p>Request ID: <code id="request-id">${escapeHtml(v.request_id)}</code><br>Time: ${escapeHtml(v.time)}</p>${contact}
</body>
</html>
`;
}

function wantsHtml(accept: string | string[] | undefined): boolean {
  return typeof accept === 'string' && /text\/html/i.test(accept);
}

/** Writes the denial on a request. */
export function respondDenied(res: ServerResponse, accept: string | string[] | undefined, deny: DenyResponseConfig, denial: Denial): void {
  const common = { 'x-request-id': denial.requestId, 'cache-control': 'no-store' };
  if (deny.kind === 'redirect') {
    res.writeHead(deny.status, { ...common, location: deny.location, 'content-length': 0 });
    res.end();
    return;
  }
  let body = PLAIN_BODY;
  let type = 'text/plain; charset=utf-8';
  if (wantsHtml(accept)) {
    const values = denyValues(denial, deny.status, deny.contactUrl);
    body = deny.template === undefined ? builtinDenyPage(values) : renderDenyTemplate(deny.template, values);
    type = 'text/html; charset=utf-8';
  }
  res.writeHead(deny.status, { ...common, 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Writes the denial on an upgrade's raw socket (text/plain or the redirect), then closes it. */
export function rejectUpgradeDenied(socket: Duplex, deny: DenyResponseConfig, denial: Denial): void {
  const status = deny.status;
  const head = `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\nX-Request-Id: ${denial.requestId}\r\nCache-Control: no-store\r\nConnection: close\r\n`;
  socket.once('finish', () => socket.destroy());
  if (deny.kind === 'redirect') socket.end(`${head}Location: ${deny.location}\r\nContent-Length: 0\r\n\r\n`);
  else socket.end(`${head}Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${PLAIN_BODY.length}\r\n\r\n${PLAIN_BODY}`);
}
