// Who is on the other end of a connection, captured once at accept, before any byte is read.
import type { Socket } from 'node:net';
import { normalizeIp } from '../net/ip';
import type { IpSet } from '../net/ip-set';

declare const clientAddressBrand: unique symbol;

/**
 * A normalised IP address (dotted-quad IPv4, IPv4-mapped IPv6 folded to IPv4, other IPv6 in RFC
 * 5952 text), never empty. The restriction chain takes only this type, so an unknown or unparsed
 * address cannot reach it.
 */
export type ClientAddress = string & { readonly [clientAddressBrand]: true };

export function toClientAddress(raw: string | undefined): ClientAddress | undefined {
  if (raw === undefined || raw === '') return undefined;
  return normalizeIp(raw) as ClientAddress | undefined;
}

export interface Peer {
  /** The socket peer, or the PROXY protocol source a trusted peer announced. */
  readonly address: ClientAddress;
  /** Whether the peer's forwarded headers (X-Forwarded-For and the like) are believed. */
  readonly trusted: boolean;
}

export function peerAt(address: ClientAddress, trusted: IpSet): Peer {
  return { address, trusted: trusted.contains(address) };
}

const kPeer = Symbol('netbird-proxy.peer');
type SocketWithPeer = Socket & { [kPeer]?: Peer };

/**
 * The socket's own peer. Read before anything else happens on the socket: once the client resets,
 * getpeername fails and remoteAddress is undefined. Undefined means the connection must be closed
 * without being evaluated.
 */
export function socketPeer(socket: Socket, trusted: IpSet): Peer | undefined {
  const address = toClientAddress(socket.remoteAddress);
  return address === undefined ? undefined : peerAt(address, trusted);
}

export function attachPeer(socket: Socket, peer: Peer): void {
  (socket as SocketWithPeer)[kPeer] = peer;
}

/** The peer attached at accept; undefined only for a socket that did not come through an acceptor. */
export function peerOf(socket: Socket): Peer | undefined {
  return (socket as SocketWithPeer)[kPeer];
}
