// Access control: the bouncer and certificates cards, and one card per service with its rules, live counters and
// the CrowdSec IP Reputation dropdown (only when the proxy supports CrowdSec) and the AppSec (WAF) one
// (http services, only when the proxy has --appsec-url).
import { ApiError, getServices, getStatus, putMode, type BouncerStatus, type Mode, type RouteInfo, type ServiceInfo, type ServicesResponse } from './api.js';
import { badge, modeBadge } from './badges.js';
import { renderCertificates } from './certificates-card.js';
import { append, clear, h } from './dom.js';
import { dateTime } from './format.js';

const POLL_MS = 2000;
const MODE_LABELS: readonly [Mode, string][] = [
  ['off', 'Off'],
  ['enforce', 'Enforce'],
  ['observe', 'Observe'],
];

export async function servicesView(root: HTMLElement): Promise<() => void> {
  const initial = await getServices();
  // The version of services.yaml this page was built from: a change is refused if the file has
  // changed on disk since. Polling refreshes counters only, never this.
  let version = initial.version;
  const bouncerCard = h('section', { class: 'card bouncer', 'aria-labelledby': 'bouncer-title' });
  const certCard = h('section', { class: 'card certificates', 'aria-labelledby': 'certificates-title' });
  const grid = h('div', { class: 'service-grid' });
  const counters = new Map<string, HTMLElement>();
  const routeLists = new Map<string, HTMLElement>();
  clear(root);
  append(root, [
    h('h1', {}, 'Access control'),
    h('p', { class: 'note' }, 'Rules come from ', h('code', {}, initial.config_file), '. Counters are since the proxy started.'),
    h('div', { class: 'status-cards' }, bouncerCard, certCard),
    grid,
  ]);
  for (const svc of initial.services) {
    const counterEl = h('div', { class: 'counters' });
    counters.set(svc.name, counterEl);
    grid.appendChild(
      serviceCard(
        svc,
        initial,
        counterEl,
        () => version,
        (v) => (version = v),
      ),
    );
    renderCounters(counterEl, svc);
    const list = grid.querySelector<HTMLElement>(`.service[data-service="${svc.name}"] ul.routes`);
    if (list !== null) routeLists.set(svc.name, list);
  }
  if (initial.services.length === 0) grid.appendChild(h('p', { class: 'empty' }, 'No services are configured.'));

  const refresh = async (): Promise<void> => {
    const [services, status] = await Promise.all([getServices(), getStatus()]);
    for (const svc of services.services) {
      const el = counters.get(svc.name);
      if (el !== undefined) renderCounters(el, svc);
    }
    // Target health from /status: with --workers it is every worker's view merged.
    for (const s of status.services ?? []) {
      const list = routeLists.get(s.name);
      if (list === undefined || !s.routes) continue;
      const next = routesList(s.routes);
      list.replaceWith(next);
      routeLists.set(s.name, next);
    }
    renderBouncer(bouncerCard, status.crowdsec, services);
    renderCertificates(certCard, status.certificates);
  };
  await refresh().catch(() => undefined);
  const timer = setInterval(() => void refresh().catch(() => undefined), POLL_MS);
  return () => clearInterval(timer);
}

function serviceCard(
  svc: ServiceInfo,
  all: ServicesResponse,
  counterEl: HTMLElement,
  getVersion: () => string | null,
  setVersion: (v: string) => void,
): HTMLElement {
  const a = svc.access;
  const rows: [string, Node | string][] = [
    svc.protocol === 'http' ? ['Domains', chips(svc.domains ?? [], 'domain')] : ['Listen', h('code', {}, svc.listen ?? '')],
    svc.routes ? ['Routes', routesList(svc.routes)] : ['Target', h('code', {}, svc.target)],
    ['CIDR', allowDeny(a.cidr.allow, a.cidr.deny, 'any address')],
    ['Countries', allowDeny(a.countries.allow, a.countries.deny, 'any country')],
    ['Login', authText(svc.auth)],
  ];
  if (!all.supports_crowdsec) rows.push(['CrowdSec', h('span', { class: 'muted' }, 'not configured')]);
  let reputation: HTMLElement | null;
  if (all.supports_crowdsec) {
    const { select, message } = modeSelect(svc.name, 'crowdsec', a.crowdsec, getVersion, setVersion);
    reputation = h(
      'div',
      { class: 'reputation' },
      h('label', { for: select.id }, 'CrowdSec IP Reputation'),
      select,
      h('p', { class: 'help', id: `crowdsec-help-${svc.name}` }, 'Observe logs what would be blocked without blocking it; Enforce answers 403.'),
      message,
    );
  } else {
    // How to configure CrowdSec is said once, in the bouncer card.
    reputation = null;
  }
  return h(
    'section',
    { class: 'card service', 'data-service': svc.name, 'aria-labelledby': `svc-${svc.name}` },
    h('header', {}, h('h2', { id: `svc-${svc.name}` }, svc.name), badge('info', svc.protocol.toUpperCase())),
    h('dl', {}, ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    counterEl,
    reputation,
    appsecControl(svc, all, getVersion, setVersion),
  );
}

/** The AppSec dropdown: edits access.appsec (its mode in the long form) as the CrowdSec one edits access.crowdsec. */
function appsecControl(svc: ServiceInfo, all: ServicesResponse, getVersion: () => string | null, setVersion: (v: string) => void): HTMLElement | null {
  if (svc.protocol !== 'http') return null;
  if (all.supports_appsec !== true) return h('div', { class: 'reputation appsec' }, h('p', { class: 'hint', 'data-hint': 'appsec' }, all.appsec_hint ?? ''));
  const { select, message } = modeSelect(svc.name, 'appsec', svc.access.appsec?.mode ?? 'off', getVersion, setVersion);
  const skip = svc.access.appsec?.skipPaths ?? [];
  return h(
    'div',
    { class: 'reputation appsec' },
    h('label', { for: select.id }, 'CrowdSec AppSec (WAF)'),
    select,
    h(
      'p',
      { class: 'help', id: `appsec-help-${svc.name}` },
      'Judges each request (virtual patches, generic attack rules). Observe first: false positives show in the event log.',
      skip.length > 0 ? ` Skipped paths: ${skip.join(', ')}.` : '',
    ),
    message,
  );
}

/** A mode dropdown (access.crowdsec or access.appsec) that saves through the API, and its status line. */
function modeSelect(
  service: string,
  field: 'crowdsec' | 'appsec',
  initial: Mode,
  getVersion: () => string | null,
  setVersion: (v: string) => void,
): { select: HTMLSelectElement; message: HTMLElement } {
  const message = h('p', { class: 'save-message', role: 'status', 'aria-live': 'polite' });
  const select = h(
    'select',
    { name: field, 'data-service': service, id: `${field}-${service}`, 'aria-describedby': `${field}-help-${service}` },
    ...MODE_LABELS.map(([value, label]) => h('option', { value }, label)),
  );
  let saved = initial;
  select.value = saved;
  select.addEventListener('change', () => {
    const mode = select.value as Mode;
    select.disabled = true;
    message.className = 'save-message pending';
    message.textContent = `Saving ${mode}…`;
    putMode(service, mode, getVersion(), field)
      .then(
        (res) => {
          setVersion(res.version);
          saved = res.mode;
          message.className = 'save-message ok';
          message.textContent = res.changed ? `Saved: services.yaml now says ${field}: ${res.mode}, and the proxy reloaded it.` : `Already ${res.mode}.`;
        },
        (err: unknown) => {
          select.value = saved;
          message.className = 'save-message error';
          message.setAttribute('role', 'alert');
          message.textContent = err instanceof ApiError ? err.message : String(err);
        },
      )
      .finally(() => {
        select.disabled = false;
      });
  });
  return { select, message };
}

/** Each route (the service's own targets are "default") with its targets and their health. */
function routesList(routes: RouteInfo[]): HTMLElement {
  return h(
    'ul',
    { class: 'routes' },
    ...routes.map((r) =>
      h(
        'li',
        { 'data-route': r.route },
        h('code', {}, r.route),
        r.auth ? ' ' : '',
        r.auth ? badge('info', `login: ${AUTH_LABELS[r.auth.method]}`, 'who may use this route') : '',
        ` ${r.balance.replace('_', ' ')}: `,
        ...r.targets.flatMap((t) => [
          h('code', { 'data-target': t.target }, t.target),
          t.weight !== 1 ? ` ×${t.weight}` : '',
          t.backup ? ' (backup) ' : ' ',
          t.health === 'up'
            ? badge('ok', 'up')
            : badge(
                'deny',
                'down',
                t.down_reason === 'probe' ? `health check failed${t.probe_error ? `: ${t.probe_error}` : ''}` : 'failed requests (max_fails)',
              ),
          ' ',
        ]),
      ),
    ),
  );
}

function chips(values: string[], cls: string): HTMLElement {
  return h('span', { class: 'chips' }, ...values.map((v) => h('span', { class: `chip ${cls}` }, v)));
}

function allowDeny(allow: string[], deny: string[], none: string): HTMLElement {
  if (allow.length === 0 && deny.length === 0) return h('span', { class: 'muted' }, `no rule (${none})`);
  return h(
    'span',
    { class: 'rules' },
    allow.length > 0 ? h('span', { class: 'rule' }, badge('ok', 'allow only'), chips(allow, 'allow')) : null,
    deny.length > 0 ? h('span', { class: 'rule' }, badge('deny', 'deny'), chips(deny, 'deny')) : null,
  );
}

function renderCounters(el: HTMLElement, svc: ServiceInfo): void {
  clear(el);
  const c = svc.counters;
  if (c === null) {
    el.appendChild(h('p', { class: 'muted' }, 'Counters need the event log (--event-log-size > 0).'));
    return;
  }
  const denied = Object.entries(c.denied).sort((x, y) => y[1] - x[1]);
  const total = denied.reduce((n, [, v]) => n + v, 0);
  append(el, [
    stat('Allowed', c.allowed, 'ok'),
    stat('Observed', c.observed, 'observe'),
    stat('Denied', total, 'deny'),
    denied.length > 0
      ? h('ul', { class: 'by-reason', 'aria-label': 'denied by reason' }, ...denied.map(([r, n]) => h('li', {}, badge('deny', r), ` ${n.toLocaleString()}`)))
      : null,
  ]);
}

function stat(label: string, value: number, kind: string): HTMLElement {
  return h(
    'div',
    { class: `stat stat-${kind}`, 'data-stat': label.toLowerCase() },
    h('span', { class: 'stat-value' }, value.toLocaleString()),
    h('span', { class: 'stat-label' }, label),
  );
}

function renderBouncer(card: HTMLElement, b: BouncerStatus, services: ServicesResponse): void {
  clear(card);
  card.appendChild(h('h2', { id: 'bouncer-title' }, 'CrowdSec bouncer'));
  if (!b.configured) {
    card.appendChild(h('p', { class: 'hint', 'data-hint': 'crowdsec' }, ...withCode(services.crowdsec_hint ?? 'CrowdSec is not configured.')));
    return;
  }
  const stateKind = b.state === 'synced' ? 'ok' : b.state === 'stopped' ? 'muted' : b.state === 'degraded' ? 'deny' : 'warn';
  const synced = b.state === 'synced' || b.state === 'degraded';
  const d = b.decisions;
  const age = b.seconds_since_last_pull;
  append(card, [
    h(
      'dl',
      {},
      h('dt', {}, 'State'),
      h('dd', {}, badge(stateKind, b.state), b.state === 'stopped' ? ' (no service uses CrowdSec)' : synced ? ' · initial sync done' : ' · not synced yet'),
      h('dt', {}, 'Decisions'),
      h('dd', {}, d === undefined ? '—' : `${d.total.toLocaleString()}`),
      h('dt', {}, 'By type'),
      h('dd', {}, d === undefined ? '—' : counts(d.by_type)),
      h('dt', {}, 'By origin'),
      h('dd', {}, d === undefined ? '—' : counts(d.by_origin)),
      h('dt', {}, 'Last pull'),
      h(
        'dd',
        {},
        b.last_successful_pull ? `${dateTime(new Date(b.last_successful_pull))} (${age === undefined || age === null ? '?' : Math.round(age)} s ago)` : 'never',
      ),
      h('dt', {}, 'Last error'),
      h('dd', { class: b.last_error ? 'error' : 'muted' }, b.last_error ?? 'none'),
      h('dt', {}, 'Services'),
      h('dd', {}, ...(b.services ?? []).flatMap((s) => [h('span', { class: 'svc-mode' }, h('code', {}, s.service), modeBadge(s.mode))])),
    ),
  ]);
}

/** Flag and variable names as code that never breaks across lines. */
function withCode(text: string): (string | HTMLElement)[] {
  return text.split(/(--[a-z][a-z-]*|NB_PROXY_[A-Z_]+)/).map((part, i) => (i % 2 === 1 ? h('code', { class: 'nowrap' }, part) : part));
}

function counts(rec: Record<string, number>): HTMLElement {
  const entries = Object.entries(rec).sort((x, y) => y[1] - x[1]);
  if (entries.length === 0) return h('span', { class: 'muted' }, 'none');
  return h('span', { class: 'chips' }, ...entries.map(([k, n]) => h('span', { class: 'chip' }, `${k}: ${n.toLocaleString()}`)));
}

const AUTH_LABELS = { password: 'Password', pin: 'PIN', oidc: 'OpenID Connect', header: 'Header' } as const;

/** The Login row: the method, and for OIDC the provider and who may in. */
function authText(auth: ServiceInfo['auth']): Node {
  if (auth === null) return h('span', { 'data-auth': 'none' }, 'none');
  const label = AUTH_LABELS[auth.method];
  const el = h('span', { 'data-auth': auth.method }, label);
  if (auth.method === 'header' && auth.header !== undefined) append(el, [' ', h('code', {}, auth.header)]);
  if (auth.method === 'oidc') {
    if (auth.issuer !== undefined) append(el, [' · ', h('code', {}, auth.issuer)]);
    const who = [...(auth.allowed_groups ?? []).map((g) => `group ${g}`), ...(auth.allowed_emails ?? [])];
    append(el, [' · ', who.length === 0 ? 'any user' : who.join(', ')]);
  }
  return el;
}
