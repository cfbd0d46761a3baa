import t from 'tap';
import * as net from 'net';
import { forwardedForEntries, parseForwardedForEntry, resolveForwardedFor } from '../../../src/client-ip/forwarded-for';
import { peerAt, toClientAddress, type ClientAddress } from '../../../src/client-ip/peer';
import type { IpSet } from '../../../src/net/ip-set';

function trustedSet(cidrs: string[]): IpSet & { asked: string[] } {
  const bl = new net.BlockList();
  for (const c of cidrs) {
    const [addr, len] = c.split('/') as [string, string];
    const type = net.isIP(addr) === 6 ? 'ipv6' : 'ipv4';
    bl.addSubnet(addr, Number(len), type);
  }
  const asked: string[] = [];
  return {
    asked,
    contains(ip: string): boolean {
      asked.push(ip);
      const fam = net.isIP(ip);
      if (fam === 0) throw new Error(`contains() called with a non-IP: ${ip}`);
      return bl.check(ip, fam === 6 ? 'ipv6' : 'ipv4');
    },
  };
}

const trusted = trustedSet(['10.0.0.0/8', '127.0.0.1/32', '2001:db8:ffff::/48']);
const none = trustedSet([]);

function address(raw: string): ClientAddress {
  const a = toClientAddress(raw);
  if (a === undefined) throw new Error(`not an address: ${raw}`);
  return a;
}

/** The client of a request from socket peer `peer` carrying X-Forwarded-For `xff`. */
function resolveHttpClientIp(peer: string, xff: string | string[] | undefined, set: IpSet): string {
  return resolveForwardedFor(peerAt(address(peer), set), xff, set).clientIp;
}

/** The X-Forwarded-For value sent upstream for that request. */
function forwardedForHeader(xff: string | string[] | undefined, peer: string, set: IpSet): string {
  return resolveForwardedFor(peerAt(address(peer), set), xff, set).header;
}

t.test('toClientAddress', async (t) => {
  t.equal(toClientAddress('203.0.113.7'), '203.0.113.7');
  t.equal(toClientAddress('::ffff:203.0.113.7'), '203.0.113.7', 'mapped IPv4 normalised');
  t.equal(toClientAddress('::FFFF:203.0.113.7'), '203.0.113.7', 'mapped IPv4, upper case');
  t.equal(toClientAddress('2001:db8::1'), '2001:db8::1');
  t.equal(toClientAddress('::1'), '::1');
  t.equal(toClientAddress(undefined), undefined, 'unknown peer (socket already reset): no address');
  t.equal(toClientAddress(''), undefined);
  t.equal(toClientAddress('not-an-ip'), undefined);
});

t.test('untrusted peer: X-Forwarded-For is ignored', async (t) => {
  t.equal(resolveHttpClientIp('203.0.113.7', '1.1.1.1', trusted), '203.0.113.7');
  t.equal(resolveHttpClientIp('203.0.113.7', ['1.1.1.1', '10.0.0.1'], trusted), '203.0.113.7');
  t.equal(resolveHttpClientIp('::ffff:203.0.113.7', '1.1.1.1', trusted), '203.0.113.7', 'mapped peer');
  t.equal(resolveHttpClientIp('2001:db8::99', '1.1.1.1', trusted), '2001:db8::99', 'IPv6 peer');
  t.equal(resolveHttpClientIp('10.0.0.1', '1.1.1.1', none), '10.0.0.1', 'empty trusted set');
});

t.test('trusted peer, single hop', async (t) => {
  t.equal(resolveHttpClientIp('10.0.0.1', undefined, trusted), '10.0.0.1', 'no header: the peer');
  t.equal(resolveHttpClientIp('10.0.0.1', '', trusted), '10.0.0.1', 'empty header: the peer');
  t.equal(resolveHttpClientIp('10.0.0.1', '198.51.100.1', trusted), '198.51.100.1');
  t.equal(resolveHttpClientIp('::ffff:10.0.0.1', '198.51.100.1', trusted), '198.51.100.1', 'mapped trusted peer');
  t.equal(resolveHttpClientIp('127.0.0.1', '2001:db8::5', trusted), '2001:db8::5', 'IPv6 client');
  t.equal(resolveHttpClientIp('2001:db8:ffff::1', '198.51.100.1', trusted), '198.51.100.1', 'IPv6 trusted peer');
});

t.test('trusted peer, chains', async (t) => {
  t.equal(resolveHttpClientIp('10.0.0.1', '1.1.1.1, 198.51.100.1, 10.0.0.2', trusted), '198.51.100.1', 'right-most untrusted; spoofed left part ignored');
  t.equal(resolveHttpClientIp('10.0.0.1', ['1.1.1.1', '198.51.100.1, 10.0.0.2'], trusted), '198.51.100.1', 'repeated headers are one list');
  t.equal(resolveHttpClientIp('10.0.0.1', ['198.51.100.1', '10.0.0.3', '10.0.0.2'], trusted), '198.51.100.1');
  t.equal(resolveHttpClientIp('10.0.0.1', '  1.1.1.1 ,198.51.100.1 ,  10.0.0.2  ', trusted), '198.51.100.1', 'spaces trimmed');
  t.equal(resolveHttpClientIp('10.0.0.1', ',, 198.51.100.1,,10.0.0.2,', trusted), '198.51.100.1', 'empty entries skipped');
  t.equal(resolveHttpClientIp('10.0.0.1', '198.51.100.1, 2001:db8:ffff::7, ::ffff:10.0.0.2', trusted), '198.51.100.1', 'mixed families, mapped trusted hop');
});

t.test('all-trusted chain: the left-most entry', async (t) => {
  t.equal(resolveHttpClientIp('10.0.0.1', '10.0.0.3, 10.0.0.2', trusted), '10.0.0.3');
  t.equal(resolveHttpClientIp('10.0.0.1', '10.0.0.1', trusted), '10.0.0.1');
});

t.test('an invalid entry stops the walk at the last trusted address examined', async (t) => {
  t.equal(resolveHttpClientIp('10.0.0.1', '1.1.1.1, garbage, 10.0.0.2', trusted), '10.0.0.2');
  t.equal(resolveHttpClientIp('10.0.0.1', '1.1.1.1, unknown', trusted), '10.0.0.1', 'right-most invalid: the peer');
  t.equal(resolveHttpClientIp('10.0.0.1', '198.51.100.1, _hidden, 10.0.0.2', trusted), '10.0.0.2');
  // An invalid entry left of the client does not matter.
  t.equal(resolveHttpClientIp('10.0.0.1', 'garbage, 198.51.100.1, 10.0.0.2', trusted), '198.51.100.1');
});

t.test('ports in entries are stripped', async (t) => {
  t.equal(resolveHttpClientIp('10.0.0.1', '198.51.100.1:5678', trusted), '198.51.100.1');
  t.equal(resolveHttpClientIp('10.0.0.1', '[2001:db8::1]:443', trusted), '2001:db8::1');
  t.equal(resolveHttpClientIp('10.0.0.1', '[2001:db8::1]', trusted), '2001:db8::1');
  t.equal(resolveHttpClientIp('10.0.0.1', '198.51.100.1, 10.0.0.2:8080', trusted), '198.51.100.1', 'trusted hop with port');
  t.equal(resolveHttpClientIp('10.0.0.1', '198.51.100.1, [2001:db8:ffff::2]:80', trusted), '198.51.100.1');
  t.equal(resolveHttpClientIp('10.0.0.1', '[::ffff:198.51.100.1]:80', trusted), '198.51.100.1', 'bracketed mapped');
});

t.test('the trusted set only ever sees normalised addresses', async (t) => {
  const ts = trustedSet(['10.0.0.0/8']);
  t.equal(resolveHttpClientIp('::ffff:10.0.0.1', 'garbage, [::ffff:10.0.0.2]:1, 10.0.0.3:4', ts), '10.0.0.2');
  t.equal(resolveHttpClientIp('::ffff:10.0.0.1', '1.1.1.1, ::FFFF:10.0.0.9', ts), '1.1.1.1');
  t.same(ts.asked, ['10.0.0.1', '10.0.0.3', '10.0.0.2', '10.0.0.1', '10.0.0.9', '1.1.1.1']);
});

t.test('parseForwardedForEntry', async (t) => {
  const good: [string, string][] = [
    ['1.2.3.4', '1.2.3.4'],
    [' 1.2.3.4 ', '1.2.3.4'],
    ['1.2.3.4:5678', '1.2.3.4'],
    ['1.2.3.4:0', '1.2.3.4'],
    ['2001:db8::1', '2001:db8::1'],
    ['[2001:db8::1]', '2001:db8::1'],
    ['[2001:db8::1]:443', '2001:db8::1'],
    ['[2001:db8::1]:0', '2001:db8::1'],
    ['::ffff:1.2.3.4', '1.2.3.4'],
    ['::1', '::1'],
  ];
  for (const [input, want] of good) t.equal(parseForwardedForEntry(input), want, input);
  // Without brackets every colon-rich entry is an IPv6 address: a port cannot be told apart.
  t.equal(net.isIP(parseForwardedForEntry('2001:db8::1:443') ?? ''), 6, 'unbracketed IPv6 is taken whole');
  const bad = [
    '',
    'unknown',
    '_hidden',
    'example.org',
    'example.org:80',
    '1.2.3.4:',
    '1.2.3.4:99999',
    '1.2.3.4:http',
    '1.2.3.256',
    '[1.2.3.4]',
    '[1.2.3.4]:80',
    '[2001:db8::1',
    '[2001:db8::1]x',
    '[2001:db8::1]x443',
    '[2001:db8::1]443',
    '[2001:db8::1]:',
    '[2001:db8::1]:65536',
    'fe80::1%eth0',
    '[fe80::1%25eth0]:80',
    '"1.2.3.4"',
    '1.2.3.4 5.6.7.8',
  ];
  for (const input of bad) t.equal(parseForwardedForEntry(input), undefined, JSON.stringify(input));
});

t.test('forwardedForEntries', async (t) => {
  t.same(forwardedForEntries(''), []);
  t.same(forwardedForEntries(['a, b', ' c ', '']), ['a', 'b', 'c']);
  t.equal(resolveHttpClientIp('10.0.0.1', [], trusted), '10.0.0.1');
});

t.test('outgoing X-Forwarded-For', async (t) => {
  t.equal(forwardedForHeader(undefined, '203.0.113.7', none), '203.0.113.7');
  t.equal(forwardedForHeader('1.1.1.1, 2.2.2.2', '203.0.113.7', none), '203.0.113.7', 'untrusted: replaced');
  t.equal(forwardedForHeader(['1.1.1.1'], '203.0.113.7', none), '203.0.113.7');
  t.equal(forwardedForHeader(undefined, '10.0.0.1', trusted), '10.0.0.1');
  t.equal(forwardedForHeader('198.51.100.1', '10.0.0.1', trusted), '198.51.100.1, 10.0.0.1', 'trusted: appended');
  t.equal(
    forwardedForHeader(['198.51.100.1', ' 10.0.0.3 ,10.0.0.2'], '10.0.0.1', trusted),
    '198.51.100.1, 10.0.0.3, 10.0.0.2, 10.0.0.1',
    'repeated headers merged',
  );
  t.equal(forwardedForHeader(',198.51.100.1,,', '10.0.0.1', trusted), '198.51.100.1, 10.0.0.1', 'empty entries dropped');
  t.equal(forwardedForHeader('1.1.1.1', '::ffff:203.0.113.7', none), '203.0.113.7', 'mapped peer normalised');
  t.equal(forwardedForHeader('1.1.1.1', '2001:db8::1', none), '2001:db8::1');
  // Round trip: what we send resolves to the same client at the next hop that trusts us.
  const sent = forwardedForHeader('1.1.1.1', '198.51.100.1', none);
  t.equal(resolveHttpClientIp('10.0.0.1', sent, trusted), '198.51.100.1');
});
