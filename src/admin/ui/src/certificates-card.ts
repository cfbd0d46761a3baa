// The Certificates card beside the bouncer card: per certificate its hosts, state, expiry with
// days left, issuer and source, ACME schedule and the last error. Refreshed with /status.
import type { CertificateStatus } from './api.js';
import { badge } from './badges.js';
import { certificateEntries, daysLeftText, utc, type CertEntry, type CertState } from './certificates.js';
import { clear, h } from './dom.js';

const STATE_BADGE: Record<CertState, ['ok' | 'warn' | 'deny' | 'muted', string]> = {
  valid: ['ok', 'serving a certificate'],
  renewing: ['warn', 'renewal is due: the ACME renewer is ordering a new certificate; the current one is still served'],
  pending: ['muted', 'no certificate yet: the ACME order is in progress'],
  failed: ['deny', 'no certificate: obtaining one failed; see the last error'],
  expired: ['deny', 'the served certificate is past its not-after date'],
};

export function renderCertificates(card: HTMLElement, rows: readonly CertificateStatus[]): void {
  clear(card);
  card.appendChild(h('h2', { id: 'certificates-title' }, 'Certificates'));
  if (rows.length === 0) {
    card.appendChild(h('p', { class: 'empty' }, 'No HTTPS services: no service has ', h('code', {}, 'tls'), ' in services.yaml.'));
    return;
  }
  const now = Date.now();
  card.appendChild(h('ul', { class: 'cert-list' }, ...certificateEntries(rows, now).map((e) => entry(e, now))));
}

function entry(e: CertEntry, now: number): HTMLElement {
  const [kind, title] = STATE_BADGE[e.state];
  const extraNames = e.names.filter((n) => !e.hosts.includes(n));
  return h(
    'li',
    { class: 'cert', 'data-host': e.hosts[0], 'data-state': e.state },
    h(
      'header',
      {},
      h('span', { class: 'chips cert-hosts' }, ...e.hosts.map((host) => h('span', { class: 'chip domain' }, host))),
      badge(kind, e.state, title),
      badge(
        'info',
        e.source === 'acme' ? 'ACME' : 'file',
        e.source === 'acme' ? 'obtained and renewed by the proxy' : 'read from the cert/key files in services.yaml',
      ),
    ),
    h(
      'dl',
      {},
      h('dt', {}, 'Service'),
      h('dd', {}, h('code', {}, e.service)),
      extraNames.length > 0 ? h('dt', {}, 'Also names') : null,
      extraNames.length > 0 ? h('dd', {}, h('span', { class: 'chips' }, ...extraNames.map((n) => h('span', { class: 'chip' }, n)))) : null,
      h('dt', {}, 'Not after'),
      h('dd', { class: 'cert-expiry', 'data-days-left': e.daysLeft ?? undefined }, ...expiry(e, now)),
      h('dt', {}, 'Issuer'),
      h('dd', { class: e.issuer === null ? 'muted cert-issuer' : 'cert-issuer' }, e.issuer ?? '—'),
      ...(e.source === 'acme' ? acmeSchedule(e) : []),
      h('dt', {}, 'Last error'),
      h(
        'dd',
        { class: e.lastError === null ? 'muted cert-error' : 'error cert-error' },
        e.lastError ?? 'none',
        e.lastErrorAt !== null ? h('span', { class: 'muted' }, ` (${utc(e.lastErrorAt)})`) : null,
      ),
    ),
  );
}

function expiry(e: CertEntry, now: number): Node[] {
  if (e.notAfter === null) return [h('span', { class: 'muted' }, 'no certificate yet')];
  const left = daysLeftText(e.notAfter, now);
  const nodes: Node[] = [h('time', { datetime: e.notAfter.toISOString() }, utc(e.notAfter)), document.createTextNode(' · ')];
  if (e.notAfter.getTime() <= now) nodes.push(badge('deny', left));
  else if (e.renewalDue) nodes.push(badge('warn', left, 'less time left than the renewal threshold'));
  else nodes.push(h('span', { class: 'days-left' }, left));
  return nodes;
}

function acmeSchedule(e: CertEntry): HTMLElement[] {
  const out: HTMLElement[] = [];
  if (e.nextRenewal !== null) out.push(h('dt', {}, 'Renewal due'), h('dd', {}, utc(e.nextRenewal)));
  if (e.nextCheck !== null) out.push(h('dt', {}, e.lastError !== null ? 'Next attempt' : 'Next check'), h('dd', {}, utc(e.nextCheck)));
  return out;
}
