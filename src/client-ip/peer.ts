// Who is on the other end of a socket, worked out once per connection.
import type { Socket } from 'node:net';
import { normalizeIp } from '../net/ip';
import type { IpMatcher } from '../restrictions/chain';

export interface PeerInfo {
  /** The socket peer, or the PROXY protocol source a trusted peer announced. Normalised (no ::ffff:). */
  address: string;
  /** Whether `address` is inside --trusted-proxies (its X-Forwarded-For is believed). */
  trusted: boolean;
}

const kPeer = Symbol('netbird-proxy.peer');
type SocketWithPeer = Socket & { [kPeer]?: PeerInfo };

export function socketPeerAddress(socket: Socket): string {
  const raw = socket.remoteAddress;
  return raw === undefined ? '' : (normalizeIp(raw) ?? raw);
}

export function setPeer(socket: Socket, address: string, trusted: IpMatcher): PeerInfo {
  const info: PeerInfo = { address, trusted: address !== '' && trusted.contains(address) };
  (socket as SocketWithPeer)[kPeer] = info;
  return info;
}

export function peerOf(socket: Socket, trusted: IpMatcher): PeerInfo {
  return (socket as SocketWithPeer)[kPeer] ?? setPeer(socket, socketPeerAddress(socket), trusted);
}
