// docker/prometheus/alerts.yml under promtool (Debian package prometheus): syntax, and the unit
// tests in alerts.test.yml for every rule. docker/grafana/netbird-proxy.json: every query is
// valid PromQL and names only metrics the proxy exports (src/metrics.ts's registry).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { Metrics } from '../../src/telemetry/metrics';
import { TlsMetrics } from '../../src/tls/metrics';

const ROOT = resolve(__dirname, '..', '..');
const PROM = join(ROOT, 'docker', 'prometheus');
const work = mkdtempSync(join(tmpdir(), 'nbp-alerts-'));

/** Metrics other issues add (TLS certificates, access log write errors); alerts may use them first. */
const PENDING = new Set<string>();
/** Series Prometheus itself makes. */
const PROMETHEUS_OWN = new Set(['up']);

const registry = new Metrics(() => undefined).registry;
// The daemon registers the certificate metrics on the same registry.
new TlsMetrics(registry, () => []);
const EXPORTED = new Set(registry.getMetricsAsArray().map((m) => m.name));

function promtool(args: string[], cwd = PROM): { status: number | null; out: string } {
  const r = spawnSync('promtool', args, { cwd, encoding: 'utf8', timeout: 120_000 });
  if (r.error !== undefined) return { status: null, out: `promtool (Debian package prometheus): ${r.error.message}` };
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** Metric names in a PromQL expression: bare identifiers and {__name__=~"a_(b|c)_d"} alternatives. */
export function metricNames(expr: string): string[] {
  const names = new Set<string>();
  for (const m of expr.matchAll(/__name__\s*=~?\s*"([^"]+)"/g)) {
    const re = m[1] ?? '';
    const alt = /^([a-z0-9_]*)\(([a-z0-9_|]+)\)([a-z0-9_]*)$/.exec(re);
    if (alt === null) names.add(re);
    else for (const middle of (alt[2] ?? '').split('|')) names.add(`${alt[1] ?? ''}${middle}${alt[3] ?? ''}`);
  }
  const withoutStrings = expr.replace(/"[^"]*"/g, '""');
  for (const m of withoutStrings.matchAll(/\b(netbird_proxy_[a-z0-9_]+|up)\b(?!\s*\()/g)) names.add(m[1] ?? '');
  return [...names];
}

interface Rule {
  alert: string;
  expr: string;
}
interface RuleTest {
  alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[];
}

const rules = (parseYaml(readFileSync(join(PROM, 'alerts.yml'), 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);

t.test('promtool check rules: valid, no lint warnings', async (t) => {
  const r = promtool(['check', 'rules', 'alerts.yml']);
  t.equal(r.status, 0, r.out);
  t.match(r.out, `SUCCESS: ${rules.length} rules found`);
  t.notMatch(r.out, /WARNING|FAILED/);
});

t.test('promtool test rules: every rule fires when it should and stays quiet otherwise', async (t) => {
  const r = promtool(['test', 'rules', 'alerts.test.yml']);
  t.equal(r.status, 0, r.out);
  t.match(r.out, 'SUCCESS');
  const tests = (parseYaml(readFileSync(join(PROM, 'alerts.test.yml'), 'utf8')) as { tests: RuleTest[] }).tests.flatMap((x) => x.alert_rule_test ?? []);
  t.ok(rules.length >= 7);
  for (const rule of rules) {
    const mine = tests.filter((x) => x.alertname === rule.alert);
    t.ok(
      mine.some((x) => (x.exp_alerts ?? []).length > 0),
      `${rule.alert}: a case where it fires`,
    );
    t.ok(
      mine.some((x) => (x.exp_alerts ?? []).length === 0),
      `${rule.alert}: a case where it does not`,
    );
  }
});

t.test('alert rules name only metrics the proxy exports (or ones other issues are adding)', async (t) => {
  for (const rule of rules) {
    for (const name of metricNames(rule.expr)) {
      t.ok(EXPORTED.has(name) || PENDING.has(name) || PROMETHEUS_OWN.has(name), `${rule.alert}: ${name}`);
    }
  }
  t.ok(
    rules.some((r) => r.expr.includes('netbird_proxy_certificate_expiry_timestamp_seconds')),
    'certificate expiry alert',
  );
  t.ok(
    rules.some((r) => r.expr.includes('netbird_proxy_access_log_write_errors_total')),
    'access log alert',
  );
});

interface Panel {
  title: string;
  targets?: { expr: string }[];
}
interface Dashboard {
  panels: Panel[];
  templating: { list: { name: string; query?: { query: string } | string }[] };
}

const dashboard = JSON.parse(readFileSync(join(ROOT, 'docker', 'grafana', 'netbird-proxy.json'), 'utf8')) as Dashboard;
const panelExprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((x): [string, string] => [p.title, x.expr]));
const variableExprs = dashboard.templating.list.flatMap((v): [string, string][] => {
  const q = typeof v.query === 'object' ? v.query.query : undefined;
  const m = q === undefined ? null : /^label_values\((.*),\s*[a-z_]+\)$/.exec(q);
  return m === null ? [] : [[`variable ${v.name}`, m[1] ?? '']];
});

t.test('dashboard: every query names only metrics that src/metrics.ts exports', async (t) => {
  t.ok(panelExprs.length >= 10);
  for (const [where, expr] of [...panelExprs, ...variableExprs]) {
    const names = metricNames(expr);
    t.ok(names.length > 0, `${where}: names a metric`);
    for (const name of names) t.ok(EXPORTED.has(name), `${where}: ${name}`);
  }
});

t.test('dashboard: every query is valid PromQL (promtool, with the Grafana variables filled in)', async (t) => {
  const fill = (e: string): string => e.replace(/\$__rate_interval/g, '1m').replace(/\$[a-z_]+/g, '.*');
  const file = join(work, 'dashboard-rules.yml');
  const all = [...panelExprs, ...variableExprs];
  writeFileSync(file, stringifyYaml({ groups: [{ name: 'dashboard', rules: all.map(([, e], i) => ({ record: `dashboard:query:${i}`, expr: fill(e) })) }] }));
  const r = promtool(['check', 'rules', file], work);
  t.equal(r.status, 0, r.out);
  t.match(r.out, `SUCCESS: ${all.length} rules found`);
});

t.test('dashboard: request rate by outcome, denials by reason, decisions by origin and type, pull age', async (t) => {
  const has = (re: RegExp): boolean => panelExprs.some(([, e]) => re.test(e));
  t.ok(has(/sum by \(outcome\) \(rate\(netbird_proxy_http_requests_total/), 'requests by outcome');
  t.ok(has(/sum by \(deny_reason\) \(rate\(netbird_proxy_http_requests_total\{[^}]*outcome="denied"/), 'denials by reason');
  t.ok(has(/sum by \(origin, type\) \(netbird_proxy_crowdsec_decisions/), 'decisions by origin and type');
  t.ok(has(/^netbird_proxy_crowdsec_seconds_since_last_pull/), 'pull age');
});

t.test('metricNames reads selectors, not functions or label values', async (t) => {
  t.same(metricNames('sum by (service) (rate({__name__=~"netbird_proxy_(http_requests|tcp_connections)_total", outcome="up"}[5m]))').sort(), [
    'netbird_proxy_http_requests_total',
    'netbird_proxy_tcp_connections_total',
  ]);
  t.same(metricNames('up{job="netbird_proxy_x"} == 0'), ['up']);
});
