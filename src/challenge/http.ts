// The gate's small HTTP helpers: an answer with its headers, and the verification form's body.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readForm as readCappedForm } from '../util/form';

const MAX_FORM_BYTES = 16 * 1024;
const FORM_TIMEOUT_MS = 10_000;

export function send(res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...extra,
  });
  res.end(body);
}

/** The urlencoded body of the verification form, or the status to refuse it with. */
export function readForm(req: IncomingMessage): Promise<URLSearchParams | 408 | 413> {
  return readCappedForm(req, MAX_FORM_BYTES, FORM_TIMEOUT_MS);
}
