// Accept: who is connecting is settled here, once, before the connection's consumer reads a byte.
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { IpSet } from '../net/ip-set';
import { attachPeer, socketPeer, type Peer } from './peer';
import { peerFromProxyHeader } from './proxy-header';

const PROXY_HEADER_TIMEOUT_MS = 5000;

export type DropReason = 'unknown_peer' | 'proxy_header' | 'tls_handshake' | 'http2_abuse';

export interface AcceptOptions {
  trusted: IpSet;
  proxyProtocol: boolean;
  log: Logger;
  /** A connection closed before it could be judged. */
  onDrop(reason: DropReason): void;
}

/**
 * Settles the peer of a socket accepted with pauseOnConnect, attaches it to the socket, and hands
 * both to `admit` with the socket still paused. A connection whose address cannot be known (the
 * client reset before we asked) or whose PROXY header fails is closed and never judged.
 */
export function acceptConnection(socket: Socket, opts: AcceptOptions, admit: (socket: Socket, peer: Peer) => void): void {
  const peer = socketPeer(socket, opts.trusted);
  if (peer === undefined) {
    opts.onDrop('unknown_peer');
    socket.on('error', () => socket.destroy());
    socket.destroy();
    return;
  }
  if (!opts.proxyProtocol || !peer.trusted) {
    attachPeer(socket, peer);
    admit(socket, peer);
    return;
  }
  socket.on('error', () => socket.destroy());
  peerFromProxyHeader(socket, peer, opts.trusted, PROXY_HEADER_TIMEOUT_MS).then(
    (announced) => {
      attachPeer(socket, announced);
      admit(socket, announced);
    },
    (err: Error) => {
      opts.log.debug({ peer: peer.address, err: err.message }, 'PROXY header rejected');
      opts.onDrop('proxy_header');
      socket.destroy();
    },
  );
}
