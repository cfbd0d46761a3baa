// The one place that talks to the AppSec engine: a keep-alive agent, one request per client
// request, an exact Content-Length, a deadline over the whole exchange.
import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import { engineHeaders, parseEngineAnswer, type EngineRequestInfo, type EngineResult } from './core';
import type { AppSecSettings } from './settings';

/** The engine answers with a few bytes of JSON; anything longer is not an answer. */
const MAX_ANSWER_BYTES = 16 * 1024;

export class EngineClient {
  private readonly agent: http.Agent;
  private readonly request: typeof http.request;
  private readonly path: string;

  constructor(private readonly settings: AppSecSettings) {
    const tls = settings.url.protocol === 'https:';
    // Idle sockets dropped after 4 s: below Go's default idle timeout, so a reused socket is rarely one the engine is closing.
    const options = { keepAlive: true, timeout: 4000, maxFreeSockets: 256, scheduling: 'lifo' as const };
    this.agent = tls ? new https.Agent(options) : new http.Agent(options);
    this.request = tls ? https.request : http.request;
    this.path = `${settings.url.pathname}${settings.url.search}`;
  }

  /** `body` undefined: headers only (GET). Never rejects. */
  check(client: IncomingHttpHeaders, info: Omit<EngineRequestInfo, 'apiKey' | 'bodyLength'>, body: Buffer | undefined): Promise<EngineResult> {
    const headers: OutgoingHttpHeaders = engineHeaders(client, { ...info, apiKey: this.settings.apiKey, bodyLength: body?.length });
    return new Promise((resolve) => {
      let settled = false;
      const finish = (result: EngineResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const req = this.request(
        {
          protocol: this.settings.url.protocol,
          hostname: this.settings.url.hostname.replace(/^\[|\]$/g, ''),
          port: this.settings.url.port === '' ? undefined : Number(this.settings.url.port),
          path: this.path,
          method: body === undefined ? 'GET' : 'POST',
          headers,
          agent: this.agent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_ANSWER_BYTES) {
              finish({ ok: false, failure: 'bad_answer', status: res.statusCode });
              res.destroy();
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () => finish(parseEngineAnswer(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'))));
          res.on('error', () => finish({ ok: false, failure: 'unreachable' }));
        },
      );
      const timer = setTimeout(() => {
        finish({ ok: false, failure: 'timeout' });
        req.destroy();
      }, this.settings.timeoutMs);
      req.on('error', () => finish({ ok: false, failure: 'unreachable' }));
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
