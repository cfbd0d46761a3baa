// `netbird-proxy status`: what the running proxy reports on its admin listener (/status and
// /readyz), as tables for a person or as JSON (--json).
import { type Command, Option } from 'commander';
import { AdminClientError, adminGet, adminUrl, readAdminEnvFile, resolveAdminAddr } from './admin-client';
import { paintFor, type Paint } from './paint';
import { formatAge, renderRecord, renderTable } from './table';

interface StatusOptions {
  adminAddr?: string;
  adminToken?: string;
  proxyEnv?: string;
  json?: boolean;
}

const TIMEOUT_MS = 5000;

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('show the running proxy: CrowdSec bouncer, decisions, services, listeners, readiness')
    .addOption(new Option('--admin-addr <host:port>', 'admin listener (env: NB_PROXY_ADMIN_ADDR, default: 127.0.0.1:9090; 0.0.0.0 is asked on 127.0.0.1)'))
    .addOption(new Option('--admin-token <token>', 'the admin token, when the proxy has one (env: NB_PROXY_ADMIN_TOKEN)'))
    .addOption(
      new Option('--proxy-env <path>', "the proxy's env file, read for NB_PROXY_ADMIN_ADDR and NB_PROXY_ADMIN_TOKEN (default: ./proxy.env when it exists)"),
    )
    .option('--json', 'print /status (plus the /readyz answer) as JSON')
    .action(async (opts: StatusOptions) => {
      process.exitCode = await status(opts);
    });
}

async function status(opts: StatusOptions): Promise<number> {
  try {
    const envFile = readAdminEnvFile(opts.proxyEnv);
    const addr = resolveAdminAddr(opts.adminAddr, process.env, envFile);
    const token = opts.adminToken ?? (process.env.NB_PROXY_ADMIN_TOKEN || envFile.vars.NB_PROXY_ADMIN_TOKEN || undefined);
    const [statusRes, readyRes] = await Promise.all([adminGet(addr, '/status', TIMEOUT_MS, token), adminGet(addr, '/readyz', TIMEOUT_MS)]);
    if (statusRes.status === 401) throw new AdminClientError(unauthorized(adminUrl(addr, '/status'), token !== undefined, envFile.file));
    if (statusRes.status !== 200) throw new AdminClientError(`${adminUrl(addr, '/status')} answered ${statusRes.status}: ${statusRes.body.trim()}`);
    let body: unknown;
    try {
      body = JSON.parse(statusRes.body);
    } catch {
      throw new AdminClientError(`${adminUrl(addr, '/status')} did not answer JSON`);
    }
    const readyz = { status: readyRes.status, body: readyRes.body.trim() };
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ ...asObject(body), readyz }, null, 2)}\n`);
    } else {
      process.stdout.write(`${renderStatus(asObject(body), readyz, adminUrl(addr), paintFor(process.stdout))}\n`);
    }
    return 0;
  } catch (err) {
    if (!(err instanceof AdminClientError)) throw err;
    process.stderr.write(`netbird-proxy status: ${err.message}\n`);
    return 1;
  }
}

/** 401: the proxy has an admin token; say where status looked for one and how to pass it. */
function unauthorized(url: string, sent: boolean, envFile: string | undefined): string {
  const why = sent
    ? 'the token sent was refused'
    : `no token was found (not in --admin-token, NB_PROXY_ADMIN_TOKEN or ${envFile ?? 'an env file: no ./proxy.env here'})`;
  return `${url} answered 401 (the proxy has an admin token and ${why}): pass it with --admin-token <token>, NB_PROXY_ADMIN_TOKEN=<token>, or --proxy-env <the env file the proxy reads>`;
}

type Obj = Record<string, unknown>;
const asObject = (v: unknown): Obj => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const text = (v: unknown, dash = '-'): string => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : dash);
const strings = (v: unknown): string[] => asArray(v).filter((x): x is string => typeof x === 'string');
const counts = (v: unknown): Array<[string, number]> =>
  Object.entries(asObject(v))
    .filter((e): e is [string, number] => typeof e[1] === 'number')
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));

const NO_PAINT: Paint = { green: (x) => x, red: (x) => x, yellow: (x) => x, bold: (x) => x };

export function renderStatus(s: Obj, readyz: { status: number; body: string }, admin: string, paint: Paint = NO_PAINT): string {
  const out: string[] = [];
  out.push(`netbird-proxy ${text(s.version, '?')}  (admin ${admin})`, '');

  const ready = readyz.status === 200;
  out.push(`Readiness: ${ready ? paint.green('ready') : paint.red(`NOT READY (/readyz ${readyz.status})`)}`);
  if (!ready) for (const r of strings(s.not_ready_reasons)) out.push(`  - ${r}`);
  out.push('');

  const cs = asObject(s.crowdsec);
  out.push('CrowdSec bouncer');
  if (cs.configured !== true) {
    out.push(' not configured (no NB_PROXY_CROWDSEC_API_URL / NB_PROXY_CROWDSEC_API_KEY)');
  } else {
    const age = typeof cs.seconds_since_last_pull === 'number' ? ` (${formatAge(cs.seconds_since_last_pull)} ago)` : '';
    const modes = asArray(cs.services)
      .map(asObject)
      .map((x) => `${text(x.service)} (${text(x.mode)})`);
    out.push(
      renderRecord([
        ['State', text(cs.state)],
        ['Synced', cs.synced === true ? 'yes' : 'no'],
        ['LAPI', text(cs.url)],
        ['Last pull', `${text(cs.last_successful_pull, 'never')}${age}`],
        ['Pulls', `${text(cs.pulls_ok, '0')} ok, ${text(cs.pulls_failed, '0')} failed`],
        ['Initial sync', typeof cs.initial_sync_ms === 'number' ? `${cs.initial_sync_ms} ms` : '-'],
        ['Last error', text(cs.last_error)],
        [
          'Country scope',
          `${text(cs.country_scope)}${typeof asObject(cs.decisions).countries === 'number' ? ` (${String(asObject(cs.decisions).countries)} decisions)` : ''}`,
        ],
        ['Used by', modes.length > 0 ? modes.join(', ') : 'no service (bouncer stopped)'],
      ]),
    );
    const decisions = asObject(cs.decisions);
    out.push('', `Decisions: ${text(decisions.total, '0')}`);
    const byType = counts(decisions.by_type);
    const byOrigin = counts(decisions.by_origin);
    if (byType.length > 0)
      out.push(
        renderTable(
          ['Type', 'Count'],
          byType.map(([k, n]) => [k, String(n)]),
        ),
      );
    if (byOrigin.length > 0)
      out.push(
        renderTable(
          ['Origin', 'Count'],
          byOrigin.map(([k, n]) => [k, String(n)]),
        ),
      );
  }
  out.push('');

  const services = asArray(s.services).map(asObject);
  out.push(`Services: ${services.length}`);
  if (services.length > 0) {
    out.push(
      renderTable(
        ['Name', 'Protocol', 'Match', 'Target', 'CrowdSec', 'Rules'],
        services.map((x) => [text(x.name), text(x.protocol), strings(x.match).join(', ') || '-', text(x.target), text(x.crowdsec), rules(x)]),
      ),
    );
  }
  const routed = services.flatMap((x) =>
    asArray(x.routes)
      .map(asObject)
      .flatMap((r) =>
        asArray(r.targets)
          .map(asObject)
          .map((tg) => [
            text(x.name),
            `${text(r.route)}${routeLogin(r)}`,
            text(r.balance),
            `${text(tg.target)}${tg.backup === true ? ' (backup)' : ''}`,
            tg.health === 'up' ? 'up' : `DOWN${tg.down_reason === undefined ? '' : ` (${text(tg.down_reason)})`}`,
            text(tg.requests, '0'),
            text(tg.failures, '0'),
          ]),
      ),
  );
  if (routed.length > 0) out.push('', 'Targets', renderTable(['Service', 'Route', 'Balance', 'Target', 'Health', 'Requests', 'Failures'], routed));
  out.push('');

  const listeners = asArray(s.listeners).map(asObject);
  out.push('Listeners');
  out.push(
    renderTable(
      ['Kind', 'Address', 'Service', 'Bound'],
      listeners.map((l) => [text(l.kind), text(l.address), text(l.service), l.bound === true ? 'yes' : paint.red('NO')]),
    ),
  );
  return out.join('\n');
}

/** " (login pin)" after a route with a login; nothing without one. */
function routeLogin(route: Obj): string {
  const auth = asObject(route.auth);
  return typeof auth.method === 'string' ? ` (login ${auth.method})` : '';
}

function rules(svc: Obj): string {
  const parts: string[] = [];
  const cidr = asObject(svc.cidr);
  const countries = asObject(svc.countries);
  const allow = strings(cidr.allow).length;
  const deny = strings(cidr.deny).length;
  if (allow > 0 || deny > 0) parts.push(`cidr ${allow} allow/${deny} deny`);
  const cAllow = strings(countries.allow);
  const cDeny = strings(countries.deny);
  if (cAllow.length > 0) parts.push(`countries ${cAllow.join(',')}`);
  if (cDeny.length > 0) parts.push(`not ${cDeny.join(',')}`);
  const auth = asObject(svc.auth);
  if (typeof auth.method === 'string') parts.push(`login ${auth.method}`);
  return parts.join('; ') || '-';
}
