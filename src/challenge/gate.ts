// The challenge on the HTTP path (docs/challenge.md), for services with access.challenge only.
// Admission asks `rejudge` about captcha verdicts (a valid pass cookie lifts the denial; observe
// records what would have happened). A captcha denial then reaches `answerDenied`: the reserved
// path (widget, page script, new challenge, verification) or the challenge page, or the plain
// denial for clients that are no browser. Anything that cannot be verified is a denial.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { ConfigError } from '../config/errors';
import type { ChallengeConfig, DenyResponseConfig } from '../config/types';
import { respondDenied } from '../forward/deny-response';
import type { Verdict } from '../restrictions/types';
import { checkPayload, newChallenge, powKeys, type PowKeys } from './altcha';
import {
  PASS_COOKIE,
  ReplayStore,
  type SolutionClaims,
  challengeRoute,
  cookieValue,
  failedVerdict,
  isCaptchaVerdict,
  isChallengeable,
  observedVerdict,
  passedVerdict,
  safeReturnPath,
  signPass,
  verifyPass,
  withoutPassCookie,
  type ChallengeOutcome,
} from './core';
import { challengeCsp, challengePage, PAGE_SCRIPT } from './page';
import { PROVIDERS, siteverify } from './providers';
import type { ChallengeSettings } from './settings';
import { readForm, send } from './http';
import { widgetScript } from './widget';

/** A request of a service with a challenge, as the gate sees it (the listeners' Admission fits). */
export interface ChallengeSubject {
  requestId: string;
  clientIp: string;
  verdict: Verdict;
  challenge?: ChallengeOutcome;
  service: { readonly name: string; readonly access: { readonly challenge?: ChallengeConfig }; readonly config: { readonly deny: DenyResponseConfig } };
  route?: { readonly access: { readonly challenge?: ChallengeConfig }; readonly deny: DenyResponseConfig };
}

/** What admission asks of a service with a challenge: the verdict after the pass cookie, and the outcome for the access entry. */
export interface ChallengeJudge {
  admit(req: IncomingMessage, verdict: Verdict, clientIp: string, service: string, nowMs: number): { verdict: Verdict; outcome: ChallengeOutcome | undefined };
}

const PLAIN_REQUIRED = 'Forbidden: a browser challenge is required; open this address in a web browser.\n';

export class ChallengeGate implements ChallengeJudge {
  private secretKey: Buffer | undefined;
  private keys: PowKeys | undefined;
  /** Requests that came with a valid pass (admit), for an AppSec captcha judged after the cookie was removed. */
  private readonly passes = new WeakSet<IncomingMessage>();

  constructor(
    private readonly settings: ChallengeSettings,
    private readonly loadSecret: () => Buffer,
    private readonly log: Logger,
    /** Single-use solutions: this process's store, or the primary's for a worker. */
    private readonly replays: SolutionClaims = new ReplayStore(),
  ) {}

  /** Loads the key now (at config load), so that a problem with it fails the load of `file`. */
  prepare(file: string): void {
    try {
      this.secretKey ??= this.loadSecret();
    } catch (err) {
      throw new ConfigError(`a service has access.challenge, but ${(err as Error).message}`, { file }, { cause: err });
    }
  }

  private get secret(): Buffer {
    this.secretKey ??= this.loadSecret();
    return this.secretKey;
  }

  private get pow(): PowKeys {
    this.keys ??= powKeys(this.secret);
    return this.keys;
  }

  admit(req: IncomingMessage, verdict: Verdict, clientIp: string, service: string, nowMs: number): { verdict: Verdict; outcome: ChallengeOutcome | undefined } {
    const headers = req.headers;
    const cookie = headers.cookie;
    const token = cookieValue(cookie, PASS_COOKIE);
    const hasPass = token !== undefined && verifyPass(this.secret, service, clientIp, token, nowMs);
    let result: { verdict: Verdict; outcome: ChallengeOutcome | undefined } = { verdict, outcome: undefined };
    if (isCaptchaVerdict(verdict)) {
      if (verdict.allowed) result = { verdict: observedVerdict(verdict, hasPass), outcome: undefined };
      else if (hasPass && isChallengeable(verdict)) result = { verdict: passedVerdict(verdict), outcome: 'passed' };
    }
    // An AppSec captcha comes later, once the cookie is gone: the pass is remembered for the request.
    if (hasPass && result.verdict.allowed) this.passes.add(req);
    // The pass cookie is the proxy's: an upstream does not see it.
    if (token !== undefined && result.verdict.allowed) {
      const rest = withoutPassCookie(cookie as string);
      if (rest === undefined) delete headers.cookie;
      else headers.cookie = rest;
    }
    return result;
  }

  /**
   * A denied request of a service with a challenge: true when answered here (page, reserved path,
   * verification, plain denial); false for denials a challenge does not replace (ban, ...).
   */
  answerDenied(req: IncomingMessage, res: ServerResponse, subject: ChallengeSubject, httpsLocation?: string): boolean {
    const config = configOf(subject);
    if (config === undefined || !isChallengeable(subject.verdict)) return false;
    // redirect_https: the challenge is solved over HTTPS (the widget's WebCrypto needs a secure context).
    if (httpsLocation !== undefined) {
      res.writeHead(308, { location: httpsLocation, 'cache-control': 'no-store', 'content-length': 0 });
      res.end();
      return true;
    }
    const url = req.url ?? '/';
    const route = challengeRoute(url);
    if (route === 'verify') {
      this.verify(req, res, subject, config).catch((err: unknown) => {
        this.log.error({ service: subject.service.name, err: (err as Error).message }, 'challenge verification failed');
        if (!res.headersSent) respondDenied(res, req.headers.accept, denyOf(subject), denialOf(subject));
        else res.destroy();
      });
      return true;
    }
    if (route !== undefined) return this.asset(route, req, res, subject, config);
    const accept = req.headers.accept;
    if (typeof accept !== 'string' || !/text\/html/i.test(accept)) {
      const deny = denyOf(subject);
      const status = deny.kind === 'page' ? deny.status : 403;
      send(res, status, 'text/plain; charset=utf-8', PLAIN_REQUIRED, { 'x-request-id': subject.requestId });
      return true;
    }
    subject.challenge = 'issued';
    const deny = denyOf(subject);
    const page = challengePage({ config, host: req.headers.host ?? '', returnTo: safeReturnPath(url) });
    send(res, deny.kind === 'page' ? deny.status : 403, 'text/html; charset=utf-8', page, {
      'x-request-id': subject.requestId,
      'content-security-policy': challengeCsp(config),
      'x-frame-options': 'DENY',
      'referrer-policy': 'same-origin',
    });
    return true;
  }

  /** After AppSec denied an admitted request: a captcha action is lifted by a pass, or answered by the challenge. */
  instead(req: IncomingMessage, res: ServerResponse, subject: ChallengeSubject): 'pass' | 'answered' | undefined {
    const verdict = subject.verdict;
    if (verdict.allowed) {
      // appsec: observe: what a challenge would have done, as for an observed CrowdSec captcha.
      if (isCaptchaVerdict(verdict) && verdict.metadata?.challenge === undefined) subject.verdict = observedVerdict(verdict, this.passes.has(req));
      return undefined;
    }
    if (!isChallengeable(verdict)) return undefined;
    if (this.passes.has(req)) {
      subject.verdict = passedVerdict(subject.verdict);
      subject.challenge = 'passed';
      return 'pass';
    }
    return this.answerDenied(req, res, subject) ? 'answered' : undefined;
  }

  /** An admitted client on the reserved path (no captcha verdict, or a valid pass): the assets; the rest goes home. */
  answerAllowed(req: IncomingMessage, res: ServerResponse, subject: ChallengeSubject): void {
    const config = configOf(subject) as ChallengeConfig;
    const route = challengeRoute(req.url ?? '/') ?? 'unknown';
    if (route === 'verify') {
      // An AppSec captcha was answered on an earlier request of this client: the same verification.
      this.verify(req, res, subject, config).catch((err: unknown) => {
        this.log.error({ service: subject.service.name, err: (err as Error).message }, 'challenge verification failed');
        res.destroy();
      });
      return;
    }
    this.asset(route, req, res, subject, config);
  }

  private asset(
    route: 'widget' | 'script' | 'new' | 'unknown',
    req: IncomingMessage,
    res: ServerResponse,
    subject: ChallengeSubject,
    config: ChallengeConfig,
  ): true {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'text/plain; charset=utf-8', 'Method Not Allowed\n', { allow: 'GET, HEAD' });
      return true;
    }
    if (config.mode !== 'pow' || route === 'unknown') {
      send(res, 404, 'text/plain; charset=utf-8', 'Not Found\n');
      return true;
    }
    if (route === 'widget') {
      send(res, 200, 'text/javascript; charset=utf-8', widgetScript(), { 'cache-control': 'public, max-age=86400' });
    } else if (route === 'script') {
      send(res, 200, 'text/javascript; charset=utf-8', PAGE_SCRIPT, { 'cache-control': 'public, max-age=86400' });
    } else {
      newChallenge(this.pow, this.settings.powDifficulty, Date.now()).then(
        (c) => send(res, 200, 'application/json', JSON.stringify(c)),
        (err: unknown) => {
          this.log.error({ service: subject.service.name, err: (err as Error).message }, 'challenge creation failed');
          send(res, 500, 'text/plain; charset=utf-8', 'Internal Server Error\n');
        },
      );
    }
    return true;
  }

  private async verify(req: IncomingMessage, res: ServerResponse, subject: ChallengeSubject, config: ChallengeConfig): Promise<void> {
    if (req.method !== 'POST') return send(res, 405, 'text/plain; charset=utf-8', 'Method Not Allowed\n', { allow: 'POST' });
    const form = await readForm(req);
    if (typeof form === 'number') return this.failed(req, res, subject, form === 413 ? 'form too large' : 'form not received', '/');
    let why: string | undefined;
    if (config.mode === 'pow') {
      const check = await checkPayload(this.pow, form.get('altcha'));
      if (!check.ok) why = check.why;
      else if (!(await this.replays.claim(check.replayKey, check.expiresMs, Date.now()))) why = 'solution already used';
    } else if ('secret' in config) {
      const url = this.settings.verifyUrl ?? PROVIDERS[config.mode].siteverify;
      const r = await siteverify(url, config.secret, form.get(PROVIDERS[config.mode].field) ?? '', subject.clientIp);
      if (!r.ok) why = r.why;
    } else {
      why = 'challenge off';
    }
    if (why !== undefined) return this.failed(req, res, subject, why, safeReturnPath(form.get('rd')));
    if (res.destroyed) return;
    subject.challenge = 'passed';
    if (!subject.verdict.allowed) subject.verdict = passedVerdict(subject.verdict);
    const ttl = this.settings.ttlMs;
    const cookie = `${PASS_COOKIE}=${signPass(this.secret, subject.service.name, subject.clientIp, Date.now() + ttl)}; Path=/; Max-Age=${Math.floor(ttl / 1000)}; HttpOnly; SameSite=Lax${isHttps(req) ? '; Secure' : ''}`;
    res.writeHead(303, { location: safeReturnPath(form.get('rd')), 'set-cookie': cookie, 'cache-control': 'no-store', 'content-length': 0 });
    res.end();
  }

  private failed(req: IncomingMessage, res: ServerResponse, subject: ChallengeSubject, why: string, returnTo: string): void {
    subject.challenge = 'failed';
    const admitted = subject.verdict.allowed;
    subject.verdict = failedVerdict(subject.verdict, why);
    if (res.destroyed || res.headersSent) return;
    if (!admitted) return respondDenied(res, req.headers.accept, denyOf(subject), denialOf(subject));
    // A client the chain admitted (its challenge came from AppSec): no pass, back to where it was; AppSec judges again.
    subject.verdict = { ...subject.verdict, allowed: true };
    res.writeHead(303, { location: returnTo, 'cache-control': 'no-store', 'content-length': 0 });
    res.end();
  }
}

/** HTTPS to this proxy, or to a proxy in front that says so (a client claiming it only makes its own cookie Secure). */
function isHttps(req: IncomingMessage): boolean {
  return (req.socket as TLSSocket).encrypted === true || req.headers['x-forwarded-proto'] === 'https';
}

function configOf(subject: ChallengeSubject): ChallengeConfig | undefined {
  return subject.route === undefined ? subject.service.access.challenge : subject.route.access.challenge;
}

function denyOf(subject: ChallengeSubject): DenyResponseConfig {
  return subject.route?.deny ?? subject.service.config.deny;
}

function denialOf(subject: ChallengeSubject): { reason: Verdict['denyReason']; clientIp: string; requestId: string } {
  return { reason: subject.verdict.denyReason, clientIp: subject.clientIp, requestId: subject.requestId };
}
