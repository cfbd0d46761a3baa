// What went wrong with an upstream, as the metrics and the access log name it.
export type UpstreamErrorKind = 'refused' | 'timeout' | 'reset' | 'unreachable' | 'tls' | 'aborted' | 'other';

export function classifySocketError(err: NodeJS.ErrnoException): UpstreamErrorKind {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'reset';
    case 'ETIMEDOUT':
      return 'timeout';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'unreachable';
    default:
      return 'other';
  }
}

/** An HTTP(S) upstream error: TLS failures named as such, the rest as socket errors. */
export function classifyHttpError(err: Error): UpstreamErrorKind {
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== undefined && (code.startsWith('ERR_TLS') || code.includes('CERT'))) return 'tls';
  return classifySocketError(err);
}

/** The status the client gets when the upstream failed before answering. */
export function statusForUpstreamError(kind: UpstreamErrorKind): 502 | 504 {
  return kind === 'timeout' ? 504 : 502;
}
