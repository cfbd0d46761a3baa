// PROXY protocol on accept: only a trusted peer's header is read; anyone else's bytes are payload.
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { readProxyHeader } from '../client-ip/read-proxy-header';
import { normalizeIp } from '../net/ip';
import type { IpMatcher } from '../restrictions/chain';
import { setPeer, socketPeerAddress } from '../client-ip/peer';

const PROXY_HEADER_TIMEOUT_MS = 5000;

/**
 * Resolves once the peer is known; the socket is still paused for its consumer to start reading.
 * Rejects when the connection must be dropped.
 */
export async function acceptProxyHeader(socket: Socket, trusted: IpMatcher, log: Logger): Promise<void> {
  socket.on('error', () => socket.destroy());
  const peer = socketPeerAddress(socket);
  if (!trusted.contains(peer)) {
    setPeer(socket, peer, trusted);
    return;
  }
  try {
    const { address } = await readProxyHeader(socket, PROXY_HEADER_TIMEOUT_MS);
    setPeer(socket, address === undefined ? peer : (normalizeIp(address) ?? peer), trusted);
  } catch (err) {
    log.debug({ peer, err: (err as Error).message }, 'PROXY header rejected');
    throw err;
  }
}
