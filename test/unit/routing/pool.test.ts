// The pool's choices at their edges: a lone target, a retry's excluded target, least_conn's
// weights and ties, the sticky lookup, and two targets always counting failures.
import t from 'tap';
import type { PoolConfig } from '../../../src/config/types';
import { Pool, type Member } from '../../../src/routing/pool';

const url = (n: number): URL => new URL(`http://10.0.0.${n}:80/`);
type P = Pool<URL, string>;
function pool(targets: Array<{ n: number; weight?: number; backup?: boolean }>, extra: Partial<PoolConfig<URL>> = {}): P {
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
const member = (p: P, i: number): Member<URL, string> => p.members[i] as Member<URL, string>;

t.test('a lone target: none when it is down or excluded', async (t) => {
  const p = pool([{ n: 1 }]);
  t.equal(p.pick('', 0)?.upstream, '10.0.0.1');
  t.equal(p.pick('', 0, member(p, 0)), undefined, 'a retry has nowhere else to go');
  member(p, 0).state.probeUp = false;
  t.equal(p.pick('', 0), undefined);
});

t.test('two targets: one failure (max_fails 1) takes one out, the other gets everything', async (t) => {
  const p = pool([{ n: 1 }, { n: 2 }]);
  t.ok(p.failed(member(p, 0), 0), 'down');
  t.same([p.pick('', 1)?.upstream, p.pick('', 2)?.upstream], ['10.0.0.2', '10.0.0.2']);
});

t.test('a retry never goes back to the target that failed', async (t) => {
  for (const balance of ['round_robin', 'least_conn', 'ip_hash', 'cookie'] as const) {
    const p = pool([{ n: 1 }, { n: 2 }, { n: 3 }], { balance });
    for (let i = 0; i < 6; i++) {
      const client = `192.0.2.${i}`;
      const first = p.pick(client, 0);
      const retry = p.pick(client, 0, first);
      t.ok(first !== undefined && retry !== undefined && retry !== first, `${balance}: client ${client}`);
    }
  }
});

t.test('least_conn: the fewest in flight per weight, ties in turn', async (t) => {
  const idle = pool([{ n: 1 }, { n: 2 }, { n: 3 }], { balance: 'least_conn' });
  t.same(
    Array.from({ length: 6 }, () => idle.pick('', 0)?.upstream),
    ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.1', '10.0.0.2', '10.0.0.3'],
    'nothing in flight: in turn from the first',
  );
  const busy = pool([{ n: 1 }, { n: 2 }, { n: 3 }], { balance: 'least_conn' });
  member(busy, 1).state.active = 5;
  member(busy, 2).state.active = 5;
  t.same(
    Array.from({ length: 3 }, () => busy.pick('', 0)?.upstream),
    ['10.0.0.1', '10.0.0.1', '10.0.0.1'],
    'wherever the turn starts',
  );
  const weighted = pool([{ n: 1, weight: 4 }, { n: 2 }], { balance: 'least_conn' });
  member(weighted, 0).state.active = 4;
  member(weighted, 1).state.active = 2;
  t.same([weighted.pick('', 0)?.upstream, weighted.pick('', 0)?.upstream], ['10.0.0.1', '10.0.0.1'], '4/4 < 2/1');
});

t.test('least_conn: a pick with one target up does not move the turn', async (t) => {
  const p = pool([{ n: 1 }, { n: 2 }], { balance: 'least_conn' });
  member(p, 1).state.probeUp = false;
  t.equal(p.pick('', 0)?.upstream, '10.0.0.1');
  member(p, 1).state.probeUp = true;
  t.same([p.pick('', 0)?.upstream, p.pick('', 0)?.upstream], ['10.0.0.1', '10.0.0.2']);
});

t.test('the sticky id names a member only while it is up', async (t) => {
  const p = pool([{ n: 1 }, { n: 2 }]);
  const second = member(p, 1);
  t.equal(p.byId(second.id, 0), second);
  t.equal(p.byId(member(p, 0).id, 0), member(p, 0));
  t.equal(p.byId('id-unknown', 0), undefined);
  second.state.downUntil = 100;
  t.equal(p.byId(second.id, 50), undefined, 'down: the client is balanced anew');
  t.equal(p.byId(second.id, 100), second);
});
