// The admin UI and its JSON API, mounted on the admin listener next to the probes:
//   GET  /, /services                 the page (event log, access control)
//   GET  /login, POST /login, POST /logout
//   GET  /api/session                 {auth_required, csrf_token}
//   GET  /api/events?service=&outcome=&reason=&ip=&since=&until=&limit=
//   GET  /api/events/stream?...       Server-Sent Events, batched
//   GET  /api/services
//   PUT  /api/services/<name>/crowdsec  {"mode":"enforce","version":"<from GET /api/services>"}
import { authSummary } from '../auth/summary';
//   PUT  /api/services/<name>/appsec    the same for access.appsec (http services, --appsec-url set)
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { formatHostPort } from '../config/load';
import type { CrowdSecMode, ServicesConfig } from '../config/types';
import type { ServiceRuntime } from '../services';
import { routesStatus } from './route-status';
import { UiAssets } from './assets';
import { AdminAuth, checkOrigin } from './auth';
import { FilterError, eventJson, parseEventFilter } from './event-filter';
import type { EventLog } from './event-log';
import { EventStreamHub, MAX_SUBSCRIBERS } from './event-stream';
import { BodyError, readBody, redirect, sendBody, sendError, sendJson } from './http-util';
import { loginPage } from './login-page';
import { decodeSegment } from './request-path';
import { readVersion, setAccessMode, type ModeField } from './services-editor';

export const APPSEC_HINT =
  'AppSec is not configured: set --appsec-url (NB_PROXY_APPSEC_URL), e.g. http://crowdsec:7422/, and restart to let CrowdSec judge the requests themselves (docs/appsec.md).';

export const CROWDSEC_HINT =
  'CrowdSec is not configured: set --crowdsec-api-url and --crowdsec-api-key (NB_PROXY_CROWDSEC_API_URL, NB_PROXY_CROWDSEC_API_KEY) and restart to enable IP reputation.';

const MODES: readonly CrowdSecMode[] = ['off', 'enforce', 'observe'];

/** What the UI needs from the daemon. */
export interface AdminUiHost {
  configPath: string;
  crowdsecAvailable: boolean;
  /** --appsec-url is set. */
  appsecAvailable?: boolean;
  /** Where the full access log goes: a file path, or "stdout". */
  accessLogTarget: string;
  services(): readonly ServiceRuntime[];
  /** Re-reads services.yaml and applies it, as SIGHUP does; resolves when applied (or refused). */
  reloadConfig(why: string): Promise<void>;
  /** The reload's own check of a services.yaml text (throws a ConfigError): an edit is checked by it before it is written. */
  validateConfig(text: string): ServicesConfig;
}

export class AdminUi {
  private readonly auth: AdminAuth;
  private readonly assets = new UiAssets();
  private readonly hub: EventStreamHub | undefined;
  private editing: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly host: AdminUiHost,
    private readonly events: EventLog | undefined,
    token: string | undefined,
    private readonly log: Logger,
  ) {
    this.auth = new AdminAuth(token);
    this.hub =
      events === undefined
        ? undefined
        : new EventStreamHub(events, (res, unsent) =>
            log.warn({ remote: res.req.socket.remoteAddress, unsent_bytes: unsent }, 'admin event stream: a client that does not read was dropped'),
          );
  }

  close(): void {
    this.hub?.close();
  }

  /** Handles the request, or calls next() for paths that are not the UI's (after auth). */
  handle(req: IncomingMessage, res: ServerResponse, path: string, next: () => void | Promise<void>): void | Promise<void> {
    const method = req.method ?? 'GET';
    if (path.startsWith('/ui/') && (method === 'GET' || method === 'HEAD')) return this.asset(res, path.slice(4));
    if (path === '/login') return this.login(req, res, method);
    if (path === '/logout' && method === 'POST') {
      this.auth.logout(req);
      return redirect(res, '/login', { 'set-cookie': AdminAuth.clearCookie() });
    }

    const who = this.auth.authenticate(req);
    if (!who.ok) {
      const isPage = (path === '/' || path === '/services') && (method === 'GET' || method === 'HEAD');
      if (isPage && this.auth.required) return redirect(res, '/login');
      return sendError(res, this.auth.required ? 401 : 403, who.why, this.auth.required ? { 'www-authenticate': 'Bearer realm="netbird-proxy admin"' } : {});
    }
    if (method !== 'GET' && method !== 'HEAD') {
      const problem = this.auth.checkMutation(req, who);
      if (problem !== undefined) return sendError(res, 403, problem);
    }

    if ((path === '/' || path === '/services') && method === 'GET') return this.asset(res, 'index.html');
    if (path === '/api/session' && method === 'GET') {
      return sendJson(res, 200, {
        auth_required: this.auth.required,
        csrf_token: this.auth.csrfFor(who),
        event_log_size: this.events?.capacity ?? 0,
        access_log: this.host.accessLogTarget,
      });
    }
    if (path === '/api/events' && method === 'GET') return this.listEvents(req, res);
    if (path === '/api/events/stream' && method === 'GET') return this.stream(req, res);
    if (path === '/api/services' && method === 'GET') return this.listServices(res);
    const m = /^\/api\/services\/([^/]+)\/(crowdsec|appsec)$/.exec(path);
    if (m !== null) {
      if (method !== 'PUT') return sendError(res, 405, 'use PUT with {"mode":"off|enforce|observe"}', { allow: 'PUT' });
      const name = decodeSegment(m[1] ?? '');
      if (name === undefined) return sendError(res, 400, 'the service name in the path is not valid percent-encoded UTF-8');
      return this.putMode(req, res, name, m[2] === 'appsec' ? 'appsec' : 'crowdsec');
    }
    if (path.startsWith('/api/')) return sendError(res, 404, `no such API endpoint: ${method} ${path}`);
    return next();
  }

  private asset(res: ServerResponse, name: string): void {
    const asset = this.assets.get(name);
    if (asset === undefined) {
      if (name === 'index.html') return sendBody(res, 500, 'text/plain; charset=utf-8', 'the admin UI was not built (npm run build)\n');
      return sendBody(res, 404, 'text/plain; charset=utf-8', 'Not Found\n');
    }
    sendBody(res, 200, asset.type, asset.body);
  }

  private login(req: IncomingMessage, res: ServerResponse, method: string): void {
    if (!this.auth.required) return redirect(res, '/');
    if (method === 'GET' || method === 'HEAD') return sendBody(res, 200, 'text/html; charset=utf-8', loginPage(undefined));
    if (method !== 'POST') return sendError(res, 405, 'use GET or POST', { allow: 'GET, POST' });
    const originProblem = checkOrigin(req);
    if (originProblem !== undefined) return sendBody(res, 403, 'text/html; charset=utf-8', loginPage(originProblem));
    readBody(req, 4096).then(
      (body) => {
        const token = new URLSearchParams(body).get('token') ?? '';
        if (!this.auth.checkLogin(token)) {
          this.log.warn({ remote: req.socket.remoteAddress }, 'admin login failed');
          return sendBody(res, 401, 'text/html; charset=utf-8', loginPage('Wrong token.'));
        }
        redirect(res, '/', { 'set-cookie': this.auth.login() });
      },
      () => sendBody(res, 400, 'text/html; charset=utf-8', loginPage('Bad request.')),
    );
  }

  private listEvents(req: IncomingMessage, res: ServerResponse): void {
    const events = this.events;
    if (events === undefined) return sendError(res, 404, 'the event log is disabled (--event-log-size 0)');
    const q = new URL(req.url ?? '/', 'http://admin').searchParams;
    let filter;
    try {
      filter = parseEventFilter(q, events.capacity, Date.now());
    } catch (err) {
      if (err instanceof FilterError) return sendError(res, 400, err.message);
      throw err;
    }
    const query = events.compile(filter);
    const out = [];
    for (const seq of events.newestFirst()) {
      if (!events.matches(seq, query)) continue;
      const ev = events.get(seq);
      if (ev !== undefined) out.push(eventJson(ev));
      if (out.length >= filter.limit) break;
    }
    sendJson(res, 200, { newest_seq: events.newestSeq, held: events.size, capacity: events.capacity, events: out });
  }

  private stream(req: IncomingMessage, res: ServerResponse): void {
    const events = this.events;
    if (this.hub === undefined || events === undefined) return sendError(res, 404, 'the event log is disabled (--event-log-size 0)');
    const q = new URL(req.url ?? '/', 'http://admin').searchParams;
    let filter;
    try {
      filter = parseEventFilter(q, events.capacity, Date.now());
    } catch (err) {
      if (err instanceof FilterError) return sendError(res, 400, err.message);
      throw err;
    }
    if (this.hub.full) {
      return sendError(res, 503, `too many event-stream clients (${MAX_SUBSCRIBERS} open): close another admin page, or try again later`, {
        'retry-after': '10',
      });
    }
    const lastId = req.headers['last-event-id'] ?? q.get('after') ?? undefined;
    const after = typeof lastId === 'string' && /^\d+$/.test(lastId) ? Number(lastId) : undefined;
    req.socket.setNoDelay(true);
    this.hub.subscribe(res, filter, after);
  }

  private async listServices(res: ServerResponse): Promise<void> {
    const version = await readVersion(this.host.configPath);
    sendJson(res, 200, {
      supports_crowdsec: this.host.crowdsecAvailable,
      crowdsec_hint: this.host.crowdsecAvailable ? null : CROWDSEC_HINT,
      supports_appsec: this.host.appsecAvailable === true,
      appsec_hint: this.host.appsecAvailable === true ? null : APPSEC_HINT,
      config_file: this.host.configPath,
      version: version ?? null,
      services: this.host.services().map((s) => this.serviceJson(s)),
    });
  }

  private serviceJson(s: ServiceRuntime): Record<string, unknown> {
    const c = s.config;
    return {
      name: s.name,
      protocol: c.protocol,
      domains: c.protocol === 'http' ? c.domains : null,
      listen: c.protocol === 'tcp' ? formatHostPort(c.listen) : null,
      target: c.protocol === 'http' ? c.target.origin : formatHostPort(c.target),
      access: c.access,
      routes: routesStatus(s) ?? null,
      auth: c.protocol === 'http' ? authSummary(c.auth) : null,
      counters: this.events?.countsFor(s.name) ?? null,
    };
  }

  private async putMode(req: IncomingMessage, res: ServerResponse, name: string, field: ModeField): Promise<void> {
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req, 4096));
    } catch (err) {
      return sendError(res, 400, err instanceof BodyError ? err.message : 'the body must be JSON: {"mode":"off|enforce|observe"}');
    }
    const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    const mode = MODES.find((m) => m === fields.mode);
    if (mode === undefined) return sendError(res, 400, `mode must be one of ${MODES.join(', ')}`);
    const ifMatch = req.headers['if-match'];
    const versionField = typeof fields.version === 'string' ? fields.version : undefined;
    const version = versionField ?? (typeof ifMatch === 'string' ? ifMatch.replace(/^W\//, '').replace(/"/g, '') : undefined);
    const target = this.host.services().find((s) => s.name === name);
    if (target === undefined) return sendError(res, 404, `no service "${name}" is running`);
    if (field === 'crowdsec' && mode !== 'off' && !this.host.crowdsecAvailable) return sendError(res, 422, CROWDSEC_HINT);
    if (field === 'appsec' && mode !== 'off' && this.host.appsecAvailable !== true) return sendError(res, 422, APPSEC_HINT);
    if (field === 'appsec' && target.config.protocol !== 'http') return sendError(res, 422, `service "${name}" is tcp: AppSec judges HTTP requests`);

    // One edit at a time: the second one sees the first one's file.
    const run = this.editing.then(async () => {
      const file = this.host.configPath;
      const result = await setAccessMode(file, name, field, mode, version, (text) => this.host.validateConfig(text));
      if (!result.ok) {
        this.log.warn({ service: name, mode, file, err: result.message }, `admin: ${field} mode change refused`);
        return sendError(res, result.status, result.message);
      }
      if (result.changed) await this.host.reloadConfig('admin UI');
      const running = this.host.services().find((s) => s.name === name);
      if ((field === 'crowdsec' ? running?.access.crowdsec : running?.config.access.appsec.mode) !== mode) {
        return sendError(res, 500, `${file} was written, but the reload did not apply it (see the proxy log)`);
      }
      this.log.info({ service: name, mode, file, changed: result.changed }, `admin: ${field} mode changed`);
      sendJson(res, 200, { service: name, mode, version: result.version, changed: result.changed });
    });
    this.editing = run.catch(() => undefined);
    try {
      await run;
    } catch (err) {
      this.log.error({ service: name, err: (err as Error).message }, `admin: ${field} mode change failed`);
      if (!res.headersSent) sendError(res, 500, (err as Error).message);
    }
  }
}
