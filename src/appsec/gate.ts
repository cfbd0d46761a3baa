// AppSec on the request path: after the restriction chain allowed a request of a service with
// access.appsec enforce or observe, read its body (up to --appsec-max-body), ask the engine, then
// forward (the body replayed unchanged) or deny. Services with appsec off never get here.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { AppSecConfig, DenyResponseConfig, HttpServiceConfig } from '../config/types';
import type { ActiveDecision } from '../crowdsec/core/types';
import type { UsageRecorder } from '../crowdsec/usage/counters';
import { respondDenied } from '../forward/deny-response';
import type { UpstreamTarget } from '../forward/http';
import type { Verdict } from '../restrictions/types';
import type { Metrics } from '../telemetry/metrics';
import { readBody, replayBody } from './body';
import { appsecApplies, appsecOutcome, InFlight, stripAppSecHeaders, type AppSecOutcome, type EngineResult } from './core';
import { EngineClient } from './engine-client';
import type { AppSecSettings } from './settings';

/** An admitted request as the gate sees it; `verdict` is replaced by the verdict after AppSec. */
export interface AppSecSubject {
  requestId: string;
  clientIp: string;
  verdict: Verdict;
  service: { name: string; config: HttpServiceConfig; target: UpstreamTarget };
  /** A routed request: its route's AppSec setting applies (a route may override the service's). */
  route?: { readonly appsec: AppSecConfig };
}

function appsecConfig(subject: AppSecSubject): AppSecConfig {
  return subject.route?.appsec ?? subject.service.config.access.appsec;
}

export interface AppSecForwarder {
  web(req: IncomingMessage, res: ServerResponse, target: UpstreamTarget, body?: Readable): void;
  /**
   * After every judgement (src/challenge/): for a denial a challenge may replace, 'pass' forwards,
   * 'answered' was answered there, undefined denies; an allowed (observed) verdict gets undefined.
   */
  instead?(req: IncomingMessage, res: ServerResponse): 'pass' | 'answered' | undefined;
}

export interface AppSecGateOptions {
  settings: AppSecSettings;
  log: Logger;
  metrics: Pick<Metrics, 'httpRequest'>;
  usage?: UsageRecorder;
}

const UNAUTHORIZED_LOG_EVERY_MS = 60_000;
const OVERLOADED: EngineResult = Object.freeze({ ok: false, failure: 'overloaded' });

export class AppSecGate {
  private readonly engine: EngineClient;
  readonly inflight: InFlight;
  private lastUnauthorizedLog = -Infinity;
  /** Usage-metrics "decisions" for AppSec denials, one per action: origin appsec. */
  private readonly decisions = new Map<string, ActiveDecision>();

  constructor(private readonly opts: AppSecGateOptions) {
    this.engine = new EngineClient(opts.settings);
    this.inflight = new InFlight(opts.settings.maxInflight);
  }

  /** A request of an appsec service the chain allowed: judge it, then forward or deny. */
  request(req: IncomingMessage, res: ServerResponse, subject: AppSecSubject, forwarder: AppSecForwarder): void {
    const appsec = appsecConfig(subject);
    const mode = appsec.mode;
    stripAppSecHeaders(req.headers);
    if (mode === 'off' || !appsecApplies(appsec, req.url ?? '/')) {
      this.count(subject, subject.verdict, false);
      forwarder.web(req, res, subject.service.target);
      return;
    }
    this.judgeRequest(req, res, subject, mode, forwarder).catch((err: Error) => {
      // Not expected (nothing above rejects): never an unhandled rejection, and the client is not left waiting.
      this.opts.log.error({ service: subject.service.name, err: err.message }, 'AppSec: request handling failed');
      res.destroy();
    });
  }

  private async judgeRequest(
    req: IncomingMessage,
    res: ServerResponse,
    subject: AppSecSubject,
    mode: 'enforce' | 'observe',
    forwarder: AppSecForwarder,
  ): Promise<void> {
    const read = await readBody(req, this.opts.settings.maxBody);
    if (read.kind === 'aborted') return;
    const body = read.kind === 'full' ? read.body : undefined;
    const outcome = await this.ask(req, subject, mode, body, read.kind === 'over');
    subject.verdict = outcome.verdict;
    this.count(subject, outcome.verdict, true);
    if (res.destroyed || res.headersSent) return;
    const instead = forwarder.instead?.(req, res);
    if (!outcome.verdict.allowed && instead !== 'pass') {
      const shown = deniedWith(subject.service.config.deny, outcome.denyStatus);
      // The unread rest of a body over the cap is left to Node, which drains it after the answer.
      if (read.kind === 'over' && read.upstream !== undefined) {
        req.unpipe();
        read.upstream.destroy();
      }
      if (instead === 'answered') return;
      respondDenied(res, req.headers.accept, shown, { reason: outcome.verdict.denyReason, clientIp: subject.clientIp, requestId: subject.requestId });
      return;
    }
    const upstream = read.kind === 'full' ? replayBody(read.body) : read.kind === 'over' ? read.upstream : undefined;
    forwarder.web(req, res, subject.service.target, upstream);
  }

  /**
   * A WebSocket upgrade of an appsec service: judged like any GET (headers only: an upgrade has no
   * body); resolves with the verdict after AppSec.
   */
  async upgrade(req: IncomingMessage, subject: AppSecSubject): Promise<AppSecOutcome> {
    const config = appsecConfig(subject);
    stripAppSecHeaders(req.headers);
    if (config.mode === 'off' || !appsecApplies(config, req.url ?? '/')) {
      this.count(subject, subject.verdict, false);
      return { verdict: subject.verdict, denyStatus: undefined };
    }
    const outcome = await this.ask(req, subject, config.mode, undefined, false);
    subject.verdict = outcome.verdict;
    this.count(subject, outcome.verdict, true);
    return outcome;
  }

  /** A request redirected to https:// before AppSec: counted here, as admission leaves AppSec services to the gate. */
  redirected(subject: AppSecSubject): void {
    if (appsecConfig(subject).mode !== 'off') this.count(subject, subject.verdict, false);
  }

  close(): void {
    this.engine.close();
  }

  private async ask(
    req: IncomingMessage,
    subject: AppSecSubject,
    mode: 'enforce' | 'observe',
    body: Buffer | undefined,
    bodySkipped: boolean,
  ): Promise<AppSecOutcome> {
    let result: EngineResult;
    if (!this.inflight.tryAcquire()) {
      result = OVERLOADED;
    } else {
      try {
        result = await this.engine.check(
          req.headers,
          { clientIp: subject.clientIp, method: req.method ?? 'GET', url: req.url ?? '/', httpVersion: req.httpVersion, requestId: subject.requestId },
          body,
        );
      } finally {
        this.inflight.release();
      }
    }
    if (!result.ok) this.logFailure(result.failure, result.status);
    return appsecOutcome(subject.verdict, mode, result, this.opts.settings.failureAction, bodySkipped);
  }

  private logFailure(failure: string, status: number | undefined): void {
    if (failure !== 'unauthorized') {
      this.opts.log.debug({ failure, status }, 'AppSec engine failure');
      return;
    }
    const now = Date.now();
    if (now - this.lastUnauthorizedLog < UNAUTHORIZED_LOG_EVERY_MS) return;
    this.lastUnauthorizedLog = now;
    this.opts.log.error(
      { appsec_url: this.opts.settings.url.origin, failure_action: this.opts.settings.failureAction },
      'AppSec engine refused the API key (401): set --appsec-api-key (NB_PROXY_APPSEC_API_KEY) to a bouncer key of the LAPI the engine uses (cscli bouncers add netbird-proxy-appsec)',
    );
  }

  /** http_requests_total for appsec services (admission leaves it to the gate), and the usage metrics. */
  private count(subject: AppSecSubject, verdict: Verdict, judged: boolean): void {
    const name = subject.service.name;
    if (verdict.allowed) this.opts.metrics.httpRequest(name, 'allowed', '');
    else this.opts.metrics.httpRequest(name, 'denied', verdict.denyReason);
    const usage = this.opts.usage;
    if (usage === undefined || !judged) return;
    // A CrowdSec service's request was counted as processed at admission.
    if (subject.service.config.access.crowdsec === 'off') usage.processed('request');
    const action = verdict.metadata?.appsec_verdict;
    if (!verdict.allowed && action !== undefined && action !== 'unavailable') usage.dropped('request', this.decisionFor(action));
  }

  private decisionFor(action: string): ActiveDecision {
    let d = this.decisions.get(action);
    if (d === undefined) {
      d = Object.freeze({ type: action, origin: 'appsec', scenario: '', value: '', expiresAt: Infinity });
      this.decisions.set(action, d);
    }
    return d;
  }
}

/** The service's deny answer, with the engine's http_status on the page (a redirect stays a redirect). */
export function deniedWith(deny: DenyResponseConfig, engineStatus: number | undefined): DenyResponseConfig {
  return engineStatus !== undefined && deny.kind === 'page' && engineStatus !== deny.status ? { ...deny, status: engineStatus } : deny;
}
