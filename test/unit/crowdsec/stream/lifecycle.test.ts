// BouncerLifecycle: one shared bouncer, running exactly while some service uses CrowdSec.
import t from 'tap';
import pino from 'pino';
import { StreamBouncer } from '../../../../src/crowdsec/stream/bouncer';
import { BouncerLifecycle } from '../../../../src/crowdsec/stream/lifecycle';
import { startFakeLapi, type FakeLapi } from '../../../harness/fake-lapi';
import { sleep, until } from '../../../harness/clients';

const startups = (fake: FakeLapi): number => fake.requests.filter((r) => r.query.get('startup') === 'true').length;

function factory(fake: FakeLapi): { create: () => StreamBouncer; created: StreamBouncer[] } {
  const created: StreamBouncer[] = [];
  return {
    created,
    create: () => {
      const b = new StreamBouncer({
        settings: { apiUrl: fake.url, apiKey: fake.apiKey, pollIntervalMs: 50, caCertPath: undefined, certPath: undefined, keyPath: undefined },
        log: pino({ level: 'silent' }),
      });
      created.push(b);
      return b;
    },
  };
}

t.test('nothing runs and nothing connects while no service uses CrowdSec', async (t) => {
  const fake = await startFakeLapi();
  t.teardown(() => fake.close());
  const { create, created } = factory(fake);
  const lc = new BouncerLifecycle(create);
  t.equal(lc.current, undefined);
  await lc.update(0);
  await lc.update(0);
  await sleep(300);
  t.equal(created.length, 0, 'no bouncer created');
  t.equal(lc.current, undefined);
  t.equal(fake.requests.length, 0, 'the LAPI received zero requests');
});

t.test('not configured: update(n) starts nothing', async (t) => {
  let calls = 0;
  const lc = new BouncerLifecycle(() => {
    calls++;
    return undefined;
  });
  await lc.update(2);
  t.equal(lc.current, undefined);
  await lc.update(3);
  await lc.update(0);
  t.equal(lc.current, undefined);
  t.ok(calls >= 1);
});

t.test('reference counting: 0 → 1 → 2 → 1 keeps one bouncer and its cache; 0 stops and drops it; 0 → 1 starts afresh', async (t) => {
  const fake = await startFakeLapi();
  t.teardown(() => fake.close());
  fake.addDecision({ value: '192.0.2.1' });
  const { create, created } = factory(fake);
  const lc = new BouncerLifecycle(create);
  t.teardown(() => lc.update(0));

  await lc.update(1);
  const first = lc.current;
  t.ok(first, 'started at 0 → 1');
  if (!first) return;
  t.equal(first.state, 'connecting');
  await until('synced', () => first.synced);
  t.ok(first.lookup('192.0.2.1', Date.now()));
  const store = first.store;

  await lc.update(2);
  t.equal(lc.current, first, '1 → 2: same bouncer');
  await lc.update(2); // a modified CrowdSec service: same count
  await lc.update(1);
  t.equal(lc.current, first, '2 → 1: same bouncer');
  t.equal(first.store, store, 'same store');
  t.equal(first.store.size, 1, 'cache intact');
  const ok = first.pullsOk;
  await until('still pulling', () => first.pullsOk >= ok + 2);
  t.equal(startups(fake), 1, 'never restarted: one startup pull');
  t.equal(first.state, 'synced');
  t.equal(created.length, 1);

  await lc.update(0);
  t.equal(lc.current, undefined, 'stopped at 0');
  t.equal(first.state, 'stopped');
  t.equal(first.store.size, 0, 'cache dropped');
  const n = fake.requests.length;
  await sleep(200);
  t.equal(fake.requests.length, n, 'no requests after stop');

  await lc.update(1);
  const second = lc.current;
  t.ok(second);
  if (!second) return;
  t.not(second, first, 'a new bouncer');
  t.not(second.store, first.store, 'with a fresh store');
  await until('synced again', () => second.synced);
  t.equal(startups(fake), 2, 'a new startup pull');
  t.ok(second.lookup('192.0.2.1', Date.now()));
  t.equal(first.state, 'stopped', 'the old one stays stopped');
});

t.test('overlapping updates are serialized: one bouncer at the end', async (t) => {
  const fake = await startFakeLapi();
  t.teardown(() => fake.close());
  const { create, created } = factory(fake);
  const lc = new BouncerLifecycle(create);
  t.teardown(() => lc.update(0));
  await Promise.all([lc.update(1), lc.update(0), lc.update(3), lc.update(0), lc.update(1)]);
  t.equal(created.length, 3);
  const running = created.filter((b) => b.state !== 'stopped');
  t.equal(running.length, 1, 'exactly one running');
  t.equal(lc.current, running[0]);
  t.equal(lc.servicesUsingCrowdSec, 1);
  await lc.update(0);
  t.ok(created.every((b) => b.state === 'stopped'));
});
