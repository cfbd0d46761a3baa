import t from 'tap';
import { classifyHttpError, classifySocketError, statusForUpstreamError } from '../../../src/forward/errors';

function err(code: string | undefined): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(code ?? 'plain');
  if (code !== undefined) e.code = code;
  return e;
}

t.test('socket errors map to the kinds metrics and access entries use', async (t) => {
  const cases: [string | undefined, string][] = [
    ['ECONNREFUSED', 'refused'],
    ['ECONNRESET', 'reset'],
    ['EPIPE', 'reset'],
    ['ETIMEDOUT', 'timeout'],
    ['ENOTFOUND', 'unreachable'],
    ['EAI_AGAIN', 'unreachable'],
    ['EHOSTUNREACH', 'unreachable'],
    ['ENETUNREACH', 'unreachable'],
    ['EWHATEVER', 'other'],
    [undefined, 'other'],
  ];
  for (const [code, kind] of cases) t.equal(classifySocketError(err(code)), kind, String(code));
});

t.test('HTTP upstream errors: TLS failures are named, the rest as socket errors', async (t) => {
  t.equal(classifyHttpError(err('ERR_TLS_CERT_ALTNAME_INVALID')), 'tls');
  t.equal(classifyHttpError(err('UNABLE_TO_VERIFY_LEAF_SIGNATURE')), 'other', 'an OpenSSL code without CERT is not guessed');
  t.equal(classifyHttpError(err('DEPTH_ZERO_SELF_SIGNED_CERT')), 'tls');
  t.equal(classifyHttpError(err('ECONNREFUSED')), 'refused');
});

t.test('what the client gets: 504 for a timeout, 502 for everything else', async (t) => {
  t.equal(statusForUpstreamError('timeout'), 504);
  for (const kind of ['refused', 'reset', 'unreachable', 'tls', 'aborted', 'other'] as const) t.equal(statusForUpstreamError(kind), 502, kind);
});
