// The event log: filters kept in the URL, a table newest first, live rows over Server-Sent Events.
import { ApiError, getEvents, getServices, getSession, parseStreamBatch, type EventRow } from './api.js';
import { reasonCell } from './badges.js';
import { append, clear, h } from './dom.js';
import { clockMs, duration } from './format.js';

const FILTER_KEYS = ['service', 'outcome', 'reason', 'ip', 'since', 'until'] as const;
const RANGES: readonly [string, string][] = [
  ['', 'All held in memory'],
  ['15m', 'Last 15 minutes'],
  ['1h', 'Last hour'],
  ['6h', 'Last 6 hours'],
  ['24h', 'Last 24 hours'],
  ['custom', 'Custom range…'],
];
const REASONS = [
  'ip_restricted',
  'country_restricted',
  'geo_unavailable',
  'crowdsec_ban',
  'crowdsec_captcha',
  'crowdsec_throttle',
  'crowdsec_unavailable',
  'appsec_ban',
  'appsec_captcha',
  'appsec_unavailable',
];
const SHOWN = 500;

const COLUMNS = ['Time', 'Service', 'Client IP', 'Country', 'Method', 'Host', 'Path', 'Status', 'Duration', 'Reason'] as const;

export async function eventsView(root: HTMLElement): Promise<() => void> {
  const params = new URLSearchParams(location.search);
  const session = await getSession();
  const serviceSelect = h('select', { name: 'service', id: 'f-service' }, h('option', { value: '' }, 'All services'));
  const outcomeSelect = h(
    'select',
    { name: 'outcome', id: 'f-outcome' },
    h('option', { value: '' }, 'Any outcome'),
    h('option', { value: 'allowed' }, 'Allowed'),
    h('option', { value: 'denied' }, 'Denied'),
    h('option', { value: 'observed' }, 'Observed'),
    h('option', { value: 'not_found' }, 'No service'),
  );
  const reasonInput = h('input', { name: 'reason', id: 'f-reason', list: 'reasons', placeholder: 'e.g. crowdsec_ban', autocomplete: 'off' });
  const reasonList = h('datalist', { id: 'reasons' }, ...REASONS.map((r) => h('option', { value: r })));
  const ipInput = h('input', { name: 'ip', id: 'f-ip', placeholder: 'IP or prefix, e.g. 203.0.113.0/24', autocomplete: 'off', spellcheck: 'false' });
  const rangeSelect = h('select', { name: 'range', id: 'f-range' }, ...RANGES.map(([v, label]) => h('option', { value: v }, label)));
  const sinceInput = h('input', { type: 'datetime-local', name: 'since', id: 'f-since', step: '1' });
  const untilInput = h('input', { type: 'datetime-local', name: 'until', id: 'f-until', step: '1' });
  const custom = h('div', { class: 'custom-range' }, field('From', sinceInput), field('To', untilInput));
  const clearButton = h('button', { type: 'button', class: 'secondary' }, 'Clear filters');
  const liveButton = h('button', { type: 'button', class: 'live', 'aria-pressed': 'true' }, '');
  const form = h(
    'form',
    { class: 'filters', role: 'search' },
    field('Service', serviceSelect),
    field('Outcome', outcomeSelect),
    field('Reason', reasonInput),
    reasonList,
    field('Client IP', ipInput),
    field('Time', rangeSelect),
    custom,
    h('div', { class: 'filter-actions' }, clearButton, liveButton),
  );
  const summary = h('p', { class: 'summary', 'aria-live': 'polite' });
  const tbody = h('tbody');
  const table = h('table', { class: 'events' }, h('thead', {}, h('tr', {}, ...COLUMNS.map((c) => h('th', { scope: 'col' }, c)))), tbody);
  const empty = h('p', { class: 'empty', hidden: true }, 'No request matches these filters yet.');
  const where = session.access_log === 'stdout' ? 'the access log on standard output' : `the access log file ${session.access_log}`;
  const note = h(
    'p',
    { class: 'note' },
    `The last ${session.event_log_size.toLocaleString()} requests are kept in memory (--event-log-size). Older history is in ${where}.`,
  );
  clear(root);
  append(root, [h('h1', {}, 'Event log'), form, summary, h('div', { class: 'table-wrap' }, table), empty, note]);

  // Filters from the URL.
  for (const key of FILTER_KEYS) {
    const v = params.get(key);
    if (v === null) continue;
    if (key === 'service') serviceSelect.append(h('option', { value: v }, v));
  }
  serviceSelect.value = params.get('service') ?? '';
  outcomeSelect.value = params.get('outcome') ?? '';
  reasonInput.value = params.get('reason') ?? '';
  ipInput.value = params.get('ip') ?? '';
  const since = params.get('since') ?? '';
  const until = params.get('until') ?? '';
  if (until !== '' || (since !== '' && !RANGES.some(([v]) => v === since))) {
    rangeSelect.value = 'custom';
    sinceInput.value = toLocalInput(since);
    untilInput.value = toLocalInput(until);
  } else {
    rangeSelect.value = since;
  }
  custom.hidden = rangeSelect.value !== 'custom';

  void getServices().then((s) => {
    const current = serviceSelect.value;
    clear(serviceSelect);
    serviceSelect.append(h('option', { value: '' }, 'All services'), ...s.services.map((svc) => h('option', { value: svc.name }, svc.name)));
    if (current !== '' && !s.services.some((svc) => svc.name === current)) serviceSelect.append(h('option', { value: current }, current));
    serviceSelect.value = current;
  });

  let rows: EventRow[] = [];
  let held = 0;
  let source: EventSource | undefined;
  let live = true;
  let generation = 0;

  const query = (): URLSearchParams => {
    const q = new URLSearchParams();
    if (serviceSelect.value !== '') q.set('service', serviceSelect.value);
    if (outcomeSelect.value !== '') q.set('outcome', outcomeSelect.value);
    if (reasonInput.value.trim() !== '') q.set('reason', reasonInput.value.trim());
    if (ipInput.value.trim() !== '') q.set('ip', ipInput.value.trim());
    if (rangeSelect.value === 'custom') {
      if (sinceInput.value !== '') q.set('since', new Date(sinceInput.value).toISOString());
      if (untilInput.value !== '') q.set('until', new Date(untilInput.value).toISOString());
    } else if (rangeSelect.value !== '') {
      q.set('since', rangeSelect.value);
    }
    return q;
  };

  const renderSummary = (): void => {
    const state = live ? (rangeSelect.value === 'custom' && untilInput.value !== '' ? 'Live updates off for a range that ends' : 'Live') : 'Paused';
    summary.textContent = `${state} · ${rows.length} shown · ${held.toLocaleString()} of ${session.event_log_size.toLocaleString()} held in memory`;
    liveButton.textContent = live ? 'Pause' : 'Resume live';
    liveButton.setAttribute('aria-pressed', String(live));
    empty.hidden = rows.length > 0;
  };

  const stopStream = (): void => {
    source?.close();
    source = undefined;
  };

  const load = async (): Promise<void> => {
    const gen = ++generation;
    stopStream();
    const q = query();
    const shareable = q.toString();
    history.replaceState(null, '', `${location.pathname}${shareable === '' ? '' : `?${shareable}`}`);
    let res;
    try {
      res = await getEvents(withLimit(q));
    } catch (err) {
      summary.textContent = err instanceof ApiError ? err.message : String(err);
      summary.classList.add('error');
      return;
    }
    if (gen !== generation) return;
    summary.classList.remove('error');
    rows = res.events;
    held = res.held;
    clear(tbody);
    for (const e of rows) tbody.appendChild(rowFor(e, false));
    renderSummary();
    if (live && q.get('until') === null) {
      const sq = new URLSearchParams(q);
      sq.set('after', String(res.newest_seq));
      source = new EventSource(`/api/events/stream?${sq.toString()}`);
      source.addEventListener('events', (msg) => {
        if (gen !== generation) return;
        const batch = parseStreamBatch((msg as MessageEvent<string>).data);
        held = Math.min(held + batch.length, session.event_log_size);
        for (const e of batch) {
          rows.unshift(e);
          tbody.insertBefore(rowFor(e, true), tbody.firstChild);
        }
        while (rows.length > SHOWN) {
          rows.pop();
          tbody.lastChild?.remove();
        }
        renderSummary();
      });
    }
  };

  const reload = (): void => void load();
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    reload();
  });
  for (const el of [serviceSelect, outcomeSelect, reasonInput, ipInput, sinceInput, untilInput]) el.addEventListener('change', reload);
  rangeSelect.addEventListener('change', () => {
    custom.hidden = rangeSelect.value !== 'custom';
    reload();
  });
  clearButton.addEventListener('click', () => {
    serviceSelect.value = '';
    outcomeSelect.value = '';
    reasonInput.value = '';
    ipInput.value = '';
    rangeSelect.value = '';
    custom.hidden = true;
    reload();
  });
  liveButton.addEventListener('click', () => {
    live = !live;
    if (live) reload();
    else stopStream();
    renderSummary();
  });

  await load();
  return () => {
    generation++;
    stopStream();
  };
}

function withLimit(q: URLSearchParams): URLSearchParams {
  const out = new URLSearchParams(q);
  out.set('limit', String(SHOWN));
  return out;
}

function field(label: string, control: HTMLElement): HTMLLabelElement {
  return h('label', { class: 'field' }, h('span', {}, label), control);
}

function rowFor(e: EventRow, fresh: boolean): HTMLTableRowElement {
  const t = new Date(e.time);
  const cell = (label: string, value: string | number | null, cls?: string, title?: string): HTMLTableCellElement =>
    h(
      'td',
      { 'data-label': label, class: cls, title: title ?? (value === null ? undefined : String(value)) },
      value === null || value === '' ? '—' : String(value),
    );
  const status = e.status === null ? (e.protocol === 'tcp' ? 'tcp' : null) : e.status;
  return h(
    'tr',
    { 'data-seq': e.seq, 'data-outcome': e.outcome, class: fresh ? 'fresh' : undefined },
    cell('Time', clockMs(t), 'time', e.time),
    cell('Service', e.service, 'service'),
    cell('Client IP', e.client_ip, 'mono ip'),
    cell('Country', e.country, 'country'),
    cell('Method', e.method, 'method'),
    cell('Host', e.host, 'host'),
    cell('Path', e.path, 'mono path'),
    cell('Status', status, `status ${statusClass(e.status)}`),
    cell('Duration', duration(e.duration_ms), 'num duration', `${e.duration_ms} ms`),
    h('td', { 'data-label': 'Reason', class: 'reason' }, ...reasonCell(e)),
  );
}

function statusClass(status: number | null): string {
  if (status === null) return '';
  if (status >= 500) return 's5';
  if (status >= 400) return 's4';
  if (status >= 300) return 's3';
  return 's2';
}

/** ISO or epoch ms → value for <input type="datetime-local"> in local time. */
function toLocalInput(v: string): string {
  if (v === '') return '';
  const t = /^\d+$/.test(v) ? new Date(Number(v)) : new Date(v);
  if (Number.isNaN(t.getTime())) return '';
  const local = new Date(t.getTime() - t.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 19);
}
