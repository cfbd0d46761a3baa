// One POST /v1/usage-metrics exchange: the JSON body out, the status and the start of the answer back.
// Errors are LapiErrors with the same one-line messages as the stream pull (lapi-errors.ts).
import http from 'node:http';
import https from 'node:https';
import { USER_AGENT } from '../../version';
import { LapiError, redactKey, requestError } from './lapi-errors';

export interface UsagePostOptions {
  /** Base URL of the LAPI, without a trailing slash. */
  url: string;
  apiKey: string | undefined;
  /** CA / client certificate for https URLs (a fresh connection each time: one push every few minutes). */
  tls: https.AgentOptions;
  body: string;
  timeoutMs: number;
}

export interface UsagePostResult {
  status: number;
  /** Up to 512 bytes of the answer, for the log. */
  body: string;
}

const MAX_BODY = 512;

export function postUsageMetrics(o: UsagePostOptions): Promise<UsagePostResult> {
  return new Promise<UsagePostResult>((resolve, reject) => {
    const target = new URL(`${o.url}/v1/usage-metrics`);
    const headers: Record<string, string | number> = {
      'User-Agent': USER_AGENT,
      Accept: 'application/json',
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(o.body),
    };
    if (o.apiKey) headers['X-Api-Key'] = o.apiKey;
    let settled = false;
    const fail = (err: LapiError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      err.message = redactKey(err.message, o.apiKey);
      req.destroy();
      reject(err);
    };
    const req =
      target.protocol === 'https:'
        ? https.request(target, { method: 'POST', headers, agent: false, ...o.tls })
        : http.request(target, { method: 'POST', headers, agent: false });
    const timer = setTimeout(
      () => fail(new LapiError('timeout', `CrowdSec LAPI at ${o.url} did not answer the usage metrics within ${o.timeoutMs} ms`)),
      o.timeoutMs,
    );
    timer.unref();
    req.on('error', (err: NodeJS.ErrnoException) => {
      const e = requestError(err, { url: o.url, gotResponse: false, retryable: false });
      fail(e instanceof LapiError ? e : new LapiError('network', e.message));
    });
    req.on('response', (res: http.IncomingMessage) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (text.length < MAX_BODY) text += chunk.slice(0, MAX_BODY - text.length);
      });
      res.on('error', (err: Error) => fail(new LapiError('network', `CrowdSec LAPI at ${o.url}: ${err.message}`)));
      res.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: redactKey(text.trim(), o.apiKey) });
      });
    });
    req.end(o.body);
  });
}
