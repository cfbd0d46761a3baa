// The routing core without sockets: balancers, passive and active health, backups, retry policy,
// the route table's path normalisation and the sticky cookie.
import t from 'tap';
import type { PoolConfig } from '../../../src/config/types';
import { recordFailure, recordProbe, TargetState } from '../../../src/routing/health';
import { Pool } from '../../../src/routing/pool';
import { hasBody, mayRetry } from '../../../src/routing/retry';
import { normalisePath, requestPath, RouteTable } from '../../../src/routing/route-table';
import { stickyId, stickyValues } from '../../../src/routing/sticky';

const url = (n: number): URL => new URL(`http://10.0.0.${n}:80/`);
function pool(targets: Array<{ n: number; weight?: number; backup?: boolean }>, extra: Partial<PoolConfig<URL>> = {}): Pool<URL, string> {
  const config: PoolConfig<URL> = {
    targets: targets.map((x) => ({ address: url(x.n), weight: x.weight ?? 1, backup: x.backup ?? false })),
    balance: 'round_robin',
    maxFails: 1,
    failTimeoutMs: 10_000,
    ...extra,
  };
  return new Pool(
    config,
    (k) => `id-${k}`,
    (a) => a.hostname,
  );
}
const pick = (p: Pool<URL, string>, n: number, client = '1.2.3.4', now = 0): string[] =>
  Array.from({ length: n }, () => p.pick(client, now)?.upstream ?? 'none');

t.test('smooth weighted round robin', async (t) => {
  t.same(pick(pool([{ n: 1 }, { n: 2 }, { n: 3 }]), 6), ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.1', '10.0.0.2', '10.0.0.3']);
  // nginx's example: weights 5, 1, 1 give a a a b a c a (spread, not bunched).
  t.same(pick(pool([{ n: 1, weight: 5 }, { n: 2 }, { n: 3 }]), 7), ['10.0.0.1', '10.0.0.1', '10.0.0.2', '10.0.0.1', '10.0.0.3', '10.0.0.1', '10.0.0.1']);
});

t.test('least_conn prefers the fewest in flight per weight', async (t) => {
  const p = pool([{ n: 1 }, { n: 2, weight: 2 }], { balance: 'least_conn' });
  const [a, b] = p.members as [(typeof p.members)[0], (typeof p.members)[0]];
  a.state.active = 1;
  b.state.active = 1;
  t.equal(p.pick('', 0)?.upstream, '10.0.0.2', '1/2 < 1/1');
  b.state.active = 3;
  t.equal(p.pick('', 0)?.upstream, '10.0.0.1');
});

t.test('ip_hash is stable per client and rehashes only clients of a down target', async (t) => {
  const p = pool([{ n: 1 }, { n: 2 }, { n: 3 }], { balance: 'ip_hash' });
  const home = new Map<string, string>();
  for (let i = 0; i < 50; i++) home.set(`192.0.2.${i}`, p.pick(`192.0.2.${i}`, 0)?.upstream ?? '');
  for (const [client, target] of home) t.equal(p.pick(client, 0)?.upstream, target);
  t.ok(new Set(home.values()).size === 3, 'spread over all targets');
  (p.members[0] as (typeof p.members)[0]).state.downUntil = 1000;
  for (const [client, target] of home) {
    const now = p.pick(client, 0)?.upstream;
    if (target !== '10.0.0.1') t.equal(now, target, 'clients of live targets stay');
    else t.not(now, '10.0.0.1');
  }
});

t.test('passive health: max_fails within fail_timeout, then down for fail_timeout; a lone target never', async (t) => {
  const s = new TargetState();
  const policy = { maxFails: 2, failTimeoutMs: 1000 };
  t.notOk(recordFailure(s, policy, 0));
  t.notOk(recordFailure(s, policy, 1500), 'the window restarted: one failure counted');
  t.ok(recordFailure(s, policy, 1600), 'two within the window: down');
  t.notOk(s.up(2000));
  t.ok(s.up(2600));
  const alone = pool([{ n: 1 }]);
  alone.failed(alone.members[0] as (typeof alone.members)[0], 0);
  t.equal(alone.pick('', 1)?.upstream, '10.0.0.1');
});

t.test('active health: hysteresis', async (t) => {
  const s = new TargetState();
  t.notOk(recordProbe(s, false, 2, 3));
  t.notOk(recordProbe(s, false, 2, 3));
  t.notOk(recordProbe(s, true, 2, 3), 'a success breaks the streak');
  t.notOk(recordProbe(s, false, 2, 3));
  t.notOk(recordProbe(s, false, 2, 3));
  t.ok(recordProbe(s, false, 2, 3, 'status 500'), 'three in a row: down');
  t.same([s.up(0), s.lastProbeError], [false, 'status 500']);
  t.notOk(recordProbe(s, true, 2, 3));
  t.ok(recordProbe(s, true, 2, 3));
  t.ok(s.up(0));
});

t.test('backups only when no primary is up; none: undefined', async (t) => {
  const p = pool([{ n: 1 }, { n: 2, backup: true }]);
  t.same(pick(p, 3), ['10.0.0.1', '10.0.0.1', '10.0.0.1']);
  (p.members[0] as (typeof p.members)[0]).state.probeUp = false;
  t.same(pick(p, 2), ['10.0.0.2', '10.0.0.2']);
  (p.members[1] as (typeof p.members)[0]).state.downUntil = 10;
  t.same(pick(p, 1), ['none']);
  t.equal(p.pick('', 0, p.members[0])?.upstream, undefined);
});

t.test('retry policy', async (t) => {
  t.ok(mayRetry('POST', false, 'connect'), 'nothing sent, no body');
  t.notOk(mayRetry('POST', true, 'connect'), 'a body is never sent twice');
  t.notOk(mayRetry('POST', false, 'response'));
  t.ok(mayRetry('GET', false, 'response'));
  t.ok(mayRetry('OPTIONS', false, 'response'));
  t.ok(mayRetry('HEAD', false, 'response'));
  t.notOk(mayRetry('GET', true, 'response'));
  t.same(
    [hasBody({}), hasBody({ 'content-length': '0' }), hasBody({ 'content-length': '3' }), hasBody({ 'transfer-encoding': 'chunked' })],
    [false, false, true, true],
  );
});

t.test('route table: longest prefix, paths as the upstream reads them', async (t) => {
  const table = new RouteTable([{ path: '/api/v2/' }, { path: '/api/' }, { path: '/admin' }], { path: '' });
  t.equal(table.match('/api/v2/x?y=1').path, '/api/v2/');
  t.equal(table.match('/api/x').path, '/api/');
  t.equal(table.match('/apix').path, '');
  t.equal(table.match('/%61dmin/').path, '/admin');
  t.equal(table.match('/x/..//admin').path, '/admin');
  t.equal(table.match('http://host/api/x').path, '/api/', 'absolute form');
  t.equal(table.match(undefined).path, '');
  t.equal(requestPath('/a/b?c'), '/a/b');
  t.equal(normalisePath('/a/./b/../c/'), '/a/c/');
  t.equal(normalisePath('/a%2Fb'), '/a/b');
  t.equal(normalisePath('/%zz'), '/%zz', 'a malformed escape stays');
});

t.test('sticky cookie: opaque ids, every value of the cookie', async (t) => {
  const id = stickyId('svc\ndefault', 'http://10.0.0.1');
  t.match(id, /^[A-Za-z0-9_-]{22}$/);
  t.not(stickyId('svc\ndefault', 'http://10.0.0.2'), id);
  t.same(stickyValues(`a=1; nbp_sticky=${id}; xnbp_sticky=no; nbp_sticky=two`, []), [id, 'two']);
  t.same(stickyValues(undefined, []), []);
});
