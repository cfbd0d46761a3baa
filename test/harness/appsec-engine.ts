/*
 * A CrowdSec AppSec engine double for tests. No AppSec-capable CrowdSec is installable here
 * (Debian ships 1.4.6; AppSec arrived in 1.6), so this follows the protocol of the released
 * engines (crowdsecurity/crowdsec v1.7.7, pkg/acquisition/modules/appsec/config.go appsecHandler,
 * pkg/appsec/request.go NewParsedRequestFromRequest, pkg/appsec/appsec.go GenerateResponse):
 *
 * - X-Crowdsec-Appsec-Api-Key is checked first, as the engine does: against the real LAPI with a
 *   bouncer-authenticated `HEAD /v1/decisions/stream` (X-Api-Key; 200 = valid), the answer cached
 *   for a minute (auth_cache_duration); a missing or refused key → 401 with no body.
 * - The body: exactly Content-Length bytes are read (io.ReadFull); fewer → 500. A chunked request
 *   has no Content-Length, so its body is not read at all (recorded, so tests can see it never happens).
 * - X-Crowdsec-Appsec-Ip, -Uri and -Verb are required → 500 with no body when one is missing.
 * - The answer: JSON {"action", "http_status"} with the bouncer status code of the engine's config
 *   (passed 200 / blocked 403 by default, configurable, as bouncer_blocked_http_code and friends).
 *
 * Rules, shaped like the hub's (crowdsecurity/appsec-virtual-patching, appsec-generic-rules):
 * `/.env` and `.git/config` probes, `' OR 1=1` in the query, `<script` in the body, a virtual patch
 * for CVE-2017-9841 (PHPUnit eval-stdin.php), and a captcha rule on /captcha-me for tests.
 *
 * Faults for tests: 'hang' (never answers), 'hold' (answers when release() is called), a delay,
 * 'status500' (500 with no body, as on a parse error), 'garbage' (200 with a non-JSON body), and close().
 */
import { createHash } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface EngineSeen {
  method: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  bodySha256: string;
  chunked: boolean;
}

export type EngineFault = 'none' | 'hang' | 'hold' | 'status500' | 'garbage';

export interface AppSecEngineOptions {
  /** The LAPI the key is checked against, e.g. http://127.0.0.1:8080 */
  lapiUrl: string;
  passedStatus?: number;
  blockedStatus?: number;
  /** http_status for the user on a block (user_blocked_http_code, default 403). */
  userBlockedStatus?: number;
}

export interface AppSecEngine {
  readonly url: string;
  readonly port: number;
  /** Every request that passed the key check, in order. */
  readonly seen: EngineSeen[];
  /** Requests refused with 401. */
  unauthorized: number;
  /** LAPI key checks made (cache misses). */
  lapiChecks: number;
  /** TCP connections accepted so far. */
  connections: number;
  fault: EngineFault;
  delayMs: number;
  /** Answers every held request. */
  release(): void;
  held(): number;
  close(): Promise<void>;
}

const REQUIRED = ['x-crowdsec-appsec-ip', 'x-crowdsec-appsec-uri', 'x-crowdsec-appsec-verb'];
const AUTH_CACHE_MS = 60_000;

function ruleAction(uri: string, body: Buffer): string {
  const q = uri.indexOf('?');
  const path = q < 0 ? uri : uri.slice(0, q);
  let query = q < 0 ? '' : uri.slice(q + 1);
  try {
    query = decodeURIComponent(query.replace(/\+/g, ' '));
  } catch {
    // keep it raw
  }
  if (/(^|\/)\.env(\.|$|\/)/i.test(path) || /\/\.git\/config$/i.test(path)) return 'ban';
  if (/'\s*or\s+1\s*=\s*1/i.test(query)) return 'ban';
  if (/\/vendor\/phpunit\/phpunit\/src\/util\/php\/eval-stdin\.php$/i.test(path)) return 'ban';
  if (/<script/i.test(body.toString('latin1'))) return 'ban';
  if (path === '/captcha-me') return 'captcha';
  return 'allow';
}

export async function startAppSecEngine(opts: AppSecEngineOptions): Promise<AppSecEngine> {
  const authCache = new Map<string, number>();
  const holding: Array<() => void> = [];
  const sockets = new Set<Socket>();

  async function keyValid(key: string): Promise<boolean> {
    const expires = authCache.get(key);
    if (expires !== undefined && expires > Date.now()) return true;
    engine.lapiChecks++;
    const status = await new Promise<number>((resolve) => {
      const req = http.request(
        `${opts.lapiUrl}/v1/decisions/stream`,
        { method: 'HEAD', headers: { 'x-api-key': key, 'user-agent': 'appsec-engine-double' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', () => resolve(0));
      req.end();
    });
    if (status === 200) {
      authCache.set(key, Date.now() + AUTH_CACHE_MS);
      return true;
    }
    authCache.delete(key);
    return false;
  }

  function readExact(req: IncomingMessage): Promise<{ body: Buffer; complete: boolean }> {
    const length = Math.max(Number(req.headers['content-length'] ?? 0) || 0, 0);
    return new Promise((resolve) => {
      if (length === 0) {
        req.resume();
        return resolve({ body: Buffer.alloc(0), complete: true });
      }
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        chunks.push(c);
        size += c.length;
      });
      req.on('end', () => resolve({ body: Buffer.concat(chunks).subarray(0, length), complete: size >= length }));
      req.on('error', () => resolve({ body: Buffer.concat(chunks), complete: false }));
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const key = req.headers['x-crowdsec-appsec-api-key'];
    if (typeof key !== 'string' || key === '' || !(await keyValid(key))) {
      engine.unauthorized++;
      req.resume();
      res.writeHead(401).end();
      return;
    }
    const chunked = req.headers['transfer-encoding'] !== undefined;
    const { body, complete } = await readExact(req);
    if (!complete || REQUIRED.some((h) => typeof req.headers[h] !== 'string' || req.headers[h] === '')) {
      res.writeHead(500).end();
      return;
    }
    engine.seen.push({ method: req.method ?? '', headers: req.headers, body, bodySha256: createHash('sha256').update(body).digest('hex'), chunked });
    const answer = (): void => {
      if (res.destroyed) return;
      if (engine.fault === 'status500') {
        res.writeHead(500).end();
        return;
      }
      if (engine.fault === 'garbage') {
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html>502 Bad Gateway</html>');
        return;
      }
      const action = ruleAction(String(req.headers['x-crowdsec-appsec-uri']), body);
      const allow = action === 'allow';
      const json = JSON.stringify({ action, http_status: allow ? 200 : (opts.userBlockedStatus ?? 403) });
      res.writeHead(allow ? (opts.passedStatus ?? 200) : (opts.blockedStatus ?? 403), { 'content-type': 'application/json' }).end(json);
    };
    if (engine.fault === 'hang') return;
    if (engine.fault === 'hold') {
      holding.push(answer);
      return;
    }
    if (engine.delayMs > 0) setTimeout(answer, engine.delayMs);
    else answer();
  }

  const server = http.createServer((req, res) => void handle(req, res));
  server.on('connection', (s) => {
    engine.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const engine: AppSecEngine = {
    url: `http://127.0.0.1:${port}/`,
    port,
    seen: [],
    unauthorized: 0,
    lapiChecks: 0,
    connections: 0,
    fault: 'none',
    delayMs: 0,
    release() {
      for (const answer of holding.splice(0)) answer();
    },
    held: () => holding.length,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  return engine;
}
