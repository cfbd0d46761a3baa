// Rules that can never match: found from the config alone.
import t from 'tap';
import { APPSEC_OFF } from '../../../src/config/appsec';
import type { AccessConfig } from '../../../src/config/types';
import { neverMatching } from '../../../src/restrictions/never-match';

const access = (cidrAllow: string[], cidrDeny: string[] = [], countriesAllow: string[] = []): AccessConfig => ({
  cidr: { allow: cidrAllow, deny: cidrDeny },
  countries: { allow: countriesAllow, deny: [] },
  crowdsec: 'off',
  appsec: APPSEC_OFF,
  challenge: { mode: 'off' },
});

t.test('private CIDR allow list with a country allow list', async (t) => {
  t.equal(neverMatching(access(['10.0.0.0/8'], [], ['DE', 'FR'])).length, 1, "the README's old example");
  t.match(neverMatching(access(['10.0.0.0/8', '192.168.1.0/24', 'fd00::/8'], [], ['DE']))[0], /only private or reserved addresses, which have no country/);
  t.same(neverMatching(access(['10.0.0.0/8', '198.51.99.0/24'], [], ['DE'])), [], 'one public network: can match');
  t.same(neverMatching(access(['10.0.0.0/8'])), [], 'no country allow list');
  t.same(neverMatching(access([], [], ['DE'])), [], 'no CIDR allow list');
  t.same(neverMatching(access(['0.0.0.0/0'], [], ['DE'])), [], 'everything is not private');
});

t.test('an allow list covered by the deny list', async (t) => {
  t.match(neverMatching(access(['10.1.0.0/16', '10.2.3.4/32'], ['10.0.0.0/8'])), [/every network in it is also inside access\.cidr\.deny/]);
  t.same(neverMatching(access(['10.0.0.0/8'], ['10.6.6.0/24'])), [], "the README's deny inside allow: fine");
  t.same(neverMatching(access(['10.0.0.0/8', '2001:db8::/32'], ['10.0.0.0/8'])), [], 'an IPv6 network left');
  t.same(neverMatching(access(['::ffff:0:0/96'], ['0.0.0.0/0'])), [], 'families are not mixed');
});
