// What a worker's copy of the store is built from (exportDecisions), and the usage metrics' rows
// (activeByOrigin): every live entry once, bucket and overflow alike, nothing expired.
import t from 'tap';
import { DecisionStore } from '../../../../src/crowdsec/core/store';
import type { ActiveDecision, LapiDecision } from '../../../../src/crowdsec/core/types';

const NOW = 1_700_000_000_000;

function d(value: string, over: Partial<LapiDecision> = {}): LapiDecision {
  return { scope: value.includes('/') ? 'Range' : 'Ip', value, type: 'ban', duration: '1h', origin: 'crowdsec', scenario: 's', ...over };
}

function filled(): DecisionStore {
  const s = new DecisionStore({ countryScope: true });
  s.apply(
    {
      new: [
        d('1.2.3.4'),
        d('1.2.3.4', { type: 'captcha', duration: '2h', origin: 'cscli', scenario: 'manual' }),
        d('1.2.3.4', { type: 'throttle', duration: '1s' }),
        d('10.0.0.0/8', { origin: 'lists', scenario: 'firehol' }),
        d('2001:db8::1', { duration: '30m' }),
        d('2001:db8::/32', { type: 'captcha', origin: 'lists', scenario: 'tor' }),
        d('5.6.7.8', { duration: '1s' }),
        d('5.6.7.8', { type: 'captcha', duration: '3h' }),
        { scope: 'Country', value: 'FR', type: 'ban', duration: '1h', origin: 'cscli', scenario: 'geo' },
      ],
      deleted: [],
    },
    NOW,
  );
  return s;
}

const plain = (x: ActiveDecision | undefined): object | undefined =>
  x === undefined ? undefined : { type: x.type, origin: x.origin, scenario: x.scenario, value: x.value, expiresAt: x.expiresAt };
const key = (x: LapiDecision): string => `${x.scope} ${x.value} ${x.type}`;

t.test('every unexpired entry, with the time it has left', async (t) => {
  const later = NOW + 10_000;
  const exported = [...filled().exportDecisions(later)].sort((a, b) => key(a).localeCompare(key(b)));
  t.same(exported, [
    { scope: 'Country', value: 'FR', type: 'ban', origin: 'cscli', scenario: 'geo', duration: '3590000ms' },
    { scope: 'Ip', value: '1.2.3.4', type: 'ban', origin: 'crowdsec', scenario: 's', duration: '3590000ms' },
    { scope: 'Ip', value: '1.2.3.4', type: 'captcha', origin: 'cscli', scenario: 'manual', duration: '7190000ms' },
    { scope: 'Ip', value: '2001:db8::1', type: 'ban', origin: 'crowdsec', scenario: 's', duration: '1790000ms' },
    { scope: 'Ip', value: '5.6.7.8', type: 'captcha', origin: 'crowdsec', scenario: 's', duration: '10790000ms' },
    { scope: 'Range', value: '10.0.0.0/8', type: 'ban', origin: 'lists', scenario: 'firehol', duration: '3590000ms' },
    { scope: 'Range', value: '2001:db8::/32', type: 'captcha', origin: 'lists', scenario: 'tor', duration: '3590000ms' },
  ]);
});

t.test('a copy built from the export answers as the original', async (t) => {
  const s = filled();
  const later = NOW + 10_000;
  const copy = new DecisionStore({ countryScope: true });
  copy.apply({ new: [...s.exportDecisions(later)], deleted: [] }, later);
  for (const ip of ['1.2.3.4', '5.6.7.8', '10.9.9.9', '2001:db8::1', '2001:db8::2', '9.9.9.9']) {
    t.same(plain(copy.lookup(ip, later)), plain(s.lookup(ip, later)), ip);
  }
  t.same(copy.lookupCountry('FR', later)?.type, 'ban');
  t.same(copy.stats(later), s.stats(later));
});

t.test('active decisions by origin label and family, lists by scenario, expired left out', async (t) => {
  t.same(filled().activeByOrigin(NOW + 10_000), [
    { origin: 'crowdsec', ipType: 'ipv4', count: 2 },
    { origin: 'crowdsec', ipType: 'ipv6', count: 1 },
    { origin: 'cscli', ipType: 'ipv4', count: 1 },
    { origin: 'lists:firehol', ipType: 'ipv4', count: 1 },
    { origin: 'lists:tor', ipType: 'ipv6', count: 1 },
  ]);
  t.same(filled().activeByOrigin(NOW), [
    { origin: 'crowdsec', ipType: 'ipv4', count: 4 },
    { origin: 'crowdsec', ipType: 'ipv6', count: 1 },
    { origin: 'cscli', ipType: 'ipv4', count: 1 },
    { origin: 'lists:firehol', ipType: 'ipv4', count: 1 },
    { origin: 'lists:tor', ipType: 'ipv6', count: 1 },
  ]);
});
