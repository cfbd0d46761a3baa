// When a failed upstream request may be sent again, once, to another target. Only requests
// without a body are ever retried: a body read for the first attempt cannot be read again, and a
// POST whose body was sent may have had its effect.

/** 'connect': the connection failed, nothing was sent. 'response': sent, failed before any byte of an answer. */
export type FailurePhase = 'connect' | 'response';

export function hasBody(headers: { 'content-length'?: string; 'transfer-encoding'?: string }): boolean {
  const len = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (len !== undefined && len !== '0');
}

export function mayRetry(method: string | undefined, body: boolean, phase: FailurePhase): boolean {
  if (body) return false;
  if (phase === 'connect') return true;
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
}
