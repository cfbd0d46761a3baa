// The restriction chain on its own: no sockets, no LAPI, no database file.
import t from 'tap';
import { toClientAddress } from '../../../src/client-ip/peer';
import { evaluate, type ChainContext, type CountryLookup, type CrowdSecSource } from '../../../src/restrictions/chain';
import { compileAccess } from '../../../src/restrictions/compile';
import type { AccessConfig, CrowdSecMode } from '../../../src/config/types';
import type { ActiveDecision } from '../../../src/crowdsec/core/types';

const NOW = 1_000_000;

/** The chain on an address given as text (the listeners hand it a normalised ClientAddress). */
function judge(a: ReturnType<typeof compileAccess>, ip: string, c: ChainContext, now: number): ReturnType<typeof evaluate> {
  const address = toClientAddress(ip);
  if (address === undefined) throw new Error(`not an address: ${ip}`);
  return evaluate(a, address, c, now);
}

function access(partial: {
  allow?: string[];
  deny?: string[];
  countryAllow?: string[];
  countryDeny?: string[];
  crowdsec?: CrowdSecMode;
}): ReturnType<typeof compileAccess> {
  const config: AccessConfig = {
    cidr: { allow: partial.allow ?? [], deny: partial.deny ?? [] },
    countries: { allow: partial.countryAllow ?? [], deny: partial.countryDeny ?? [] },
    crowdsec: partial.crowdsec ?? 'off',
    appsec: { mode: 'off', skipPaths: [] },
    challenge: { mode: 'off' },
  };
  return compileAccess(config);
}

const geo: CountryLookup = {
  country: (ip) => (({ '8.8.8.8': 'US', '9.9.9.9': 'CH', '2001:db8::1': 'DE' }) as Record<string, string>)[ip],
};

function crowdsec(decisions: Record<string, string>, synced = true): CrowdSecSource & { lookups: number } {
  const source = {
    synced,
    lookups: 0,
    lookup(ip: string): ActiveDecision | undefined {
      source.lookups++;
      const type = decisions[ip];
      return type === undefined ? undefined : { type, origin: 'cscli', scenario: 'test', value: ip, expiresAt: NOW + 1000 };
    },
  };
  return source;
}

function ctx(cs?: CrowdSecSource, withGeo = true): ChainContext {
  return { geo: withGeo ? geo : undefined, crowdsec: cs };
}

t.test('CIDR: allow (when non-empty) must match, then deny must not', async (t) => {
  const a = access({ allow: ['10.0.0.0/8', '2001:db8::/32'], deny: ['10.6.6.0/24'] });
  t.match(judge(a, '10.1.2.3', ctx(), NOW), { allowed: true, denyReason: '' });
  t.match(judge(a, '10.6.6.1', ctx(), NOW), { allowed: false, denyReason: 'ip_restricted' });
  t.match(judge(a, '192.168.1.1', ctx(), NOW), { allowed: false, denyReason: 'ip_restricted' });
  t.match(judge(a, '2001:db8::5', ctx(), NOW), { allowed: true });
  t.match(judge(access({ deny: ['127.0.0.2/32'] }), '127.0.0.3', ctx(), NOW), { allowed: true }, 'deny-only list allows the rest');
  t.match(judge(access({}), '1.2.3.4', ctx(), NOW), { allowed: true, metadata: undefined }, 'no rules: allowed');
});

t.test('country: allow list denies unknown countries, deny list lets them pass; country recorded', async (t) => {
  const allowDe = access({ countryAllow: ['DE'] });
  t.match(judge(allowDe, '2001:db8::1', ctx(), NOW), { allowed: true, country: 'DE' });
  t.match(judge(allowDe, '8.8.8.8', ctx(), NOW), { allowed: false, denyReason: 'country_restricted', country: 'US' });
  t.match(judge(allowDe, '127.0.0.1', ctx(), NOW), { allowed: false, denyReason: 'country_restricted', country: undefined });
  const denyUs = access({ countryDeny: ['US'] });
  t.match(judge(denyUs, '8.8.8.8', ctx(), NOW), { allowed: false, denyReason: 'country_restricted', country: 'US' });
  t.match(judge(denyUs, '9.9.9.9', ctx(), NOW), { allowed: true, country: 'CH' });
  t.match(judge(denyUs, '127.0.0.1', ctx(), NOW), { allowed: true });
  t.match(judge(denyUs, '8.8.8.8', ctx(undefined, false), NOW), { allowed: false, denyReason: 'geo_unavailable' }, 'no database');
  t.match(judge(access({}), '8.8.8.8', ctx(undefined, false), NOW), { allowed: true }, 'no country rules: no database needed');
});

t.test('CrowdSec enforce: every type denies, with its reason and verdict', async (t) => {
  const cs = crowdsec({ '1.1.1.1': 'ban', '1.1.1.2': 'captcha', '1.1.1.3': 'throttle', '1.1.1.4': 'mfa' });
  const a = access({ crowdsec: 'enforce' });
  for (const [ip, type] of [
    ['1.1.1.1', 'ban'],
    ['1.1.1.2', 'captcha'],
    ['1.1.1.3', 'throttle'],
    ['1.1.1.4', 'mfa'],
  ]) {
    t.same(judge(a, ip, ctx(cs), NOW), {
      allowed: false,
      denyReason: `crowdsec_${type}`,
      country: undefined,
      metadata: { crowdsec_verdict: type, crowdsec_scope: 'ip', crowdsec_mode: 'enforce' },
      decision: { type, origin: 'cscli', scenario: 'test', value: ip, expiresAt: NOW + 1000 },
    });
  }
  t.same(judge(a, '1.1.1.9', ctx(cs), NOW), { allowed: true, denyReason: '', country: undefined, metadata: undefined }, 'clean client');
});

t.test('CrowdSec before the first sync: enforce fails closed, observe records unavailable', async (t) => {
  const cs = crowdsec({}, false);
  t.match(judge(access({ crowdsec: 'enforce' }), '1.1.1.9', ctx(cs), NOW), {
    allowed: false,
    denyReason: 'crowdsec_unavailable',
    metadata: { crowdsec_verdict: 'unavailable' },
  });
  t.match(judge(access({ crowdsec: 'enforce' }), '1.1.1.9', ctx(undefined), NOW), { allowed: false, denyReason: 'crowdsec_unavailable' }, 'no bouncer at all');
  t.same(judge(access({ crowdsec: 'observe' }), '1.1.1.9', ctx(cs), NOW).metadata, { crowdsec_verdict: 'unavailable', crowdsec_mode: 'observe' });
  t.equal(cs.lookups, 0, 'an unsynced cache is not consulted');
});

t.test('CrowdSec observe never denies; off never consults', async (t) => {
  const cs = crowdsec({ '1.1.1.1': 'ban' });
  t.same(judge(access({ crowdsec: 'observe' }), '1.1.1.1', ctx(cs), NOW), {
    allowed: true,
    denyReason: '',
    country: undefined,
    metadata: { crowdsec_verdict: 'ban', crowdsec_scope: 'ip', crowdsec_mode: 'observe' },
    decision: { type: 'ban', origin: 'cscli', scenario: 'test', value: '1.1.1.1', expiresAt: NOW + 1000 },
  });
  const before = cs.lookups;
  t.match(judge(access({ crowdsec: 'off' }), '1.1.1.1', ctx(cs), NOW), { allowed: true, metadata: undefined });
  t.equal(cs.lookups, before, 'off: no lookup');
});

t.test('order: CIDR, then country, then CrowdSec; the first denial wins and later layers are not consulted', async (t) => {
  const cs = crowdsec({ '8.8.8.8': 'ban', '9.9.9.9': 'ban' });
  const all = access({ deny: ['8.8.8.0/24'], countryDeny: ['CH'], crowdsec: 'enforce' });
  t.match(judge(all, '8.8.8.8', ctx(cs), NOW), { denyReason: 'ip_restricted', country: undefined });
  t.match(judge(all, '9.9.9.9', ctx(cs), NOW), { denyReason: 'country_restricted', country: 'CH' });
  t.equal(cs.lookups, 0, 'CrowdSec not consulted after an earlier denial');
  const observe = access({ deny: ['8.8.8.0/24'], crowdsec: 'observe' });
  t.match(judge(observe, '8.8.8.8', ctx(cs), NOW), { allowed: false, denyReason: 'ip_restricted' }, 'observe never relaxes a CIDR denial');
  const countryThenCs = access({ countryAllow: ['US'], crowdsec: 'enforce' });
  t.match(judge(countryThenCs, '8.8.8.8', ctx(cs), NOW), { denyReason: 'crowdsec_ban', country: 'US' }, 'country passes, CrowdSec denies, country kept');
});

t.test('order: a client that both a CIDR deny and a country deny match gets ip_restricted, with no country lookup', async (t) => {
  let geoLookups = 0;
  const counting: ChainContext = {
    geo: {
      country: (ip) => {
        geoLookups++;
        return geo.country(ip);
      },
    },
    crowdsec: undefined,
  };
  t.same(judge(access({ deny: ['8.8.8.8/32'], countryDeny: ['US'] }), '8.8.8.8', counting, NOW), {
    allowed: false,
    denyReason: 'ip_restricted',
    country: undefined,
    metadata: undefined,
  });
  t.same(judge(access({ allow: ['10.0.0.0/8'], countryAllow: ['CH'] }), '8.8.8.8', counting, NOW), {
    allowed: false,
    denyReason: 'ip_restricted',
    country: undefined,
    metadata: undefined,
  });
  t.equal(geoLookups, 0, 'the country database is not consulted after a CIDR denial');
});

t.test('one-entry lists count: a single CIDR or country is a whole allow or deny list', async (t) => {
  const allowOne = access({ allow: ['10.0.0.0/8'] });
  t.match(judge(allowOne, '10.1.2.3', ctx(), NOW), { allowed: true });
  t.match(judge(allowOne, '192.168.1.1', ctx(), NOW), { allowed: false, denyReason: 'ip_restricted' }, 'outside the one allowed prefix');
  t.match(judge(access({ deny: ['10.0.0.0/8'] }), '10.1.2.3', ctx(), NOW), { allowed: false, denyReason: 'ip_restricted' });
  t.match(judge(access({ countryAllow: ['CH'] }), '8.8.8.8', ctx(), NOW), { allowed: false, denyReason: 'country_restricted' });
  t.match(judge(access({ countryDeny: ['CH'] }), '9.9.9.9', ctx(), NOW), { allowed: false, denyReason: 'country_restricted' });
});

t.test('empty lists compile to nothing: a service without a layer pays nothing for it', async (t) => {
  t.same(access({}), { cidrAllow: undefined, cidrDeny: undefined, countryAllow: undefined, countryDeny: undefined, crowdsec: 'off' });
});

/** A source with address decisions (value may be a range) and country decisions; counts country lookups. */
function withCountries(
  byIp: Record<string, { type: string; value?: string }>,
  byCountry: Record<string, string>,
): CrowdSecSource & { countryLookups: number; geoLookups: number } {
  const source = {
    synced: true,
    countryLookups: 0,
    geoLookups: 0,
    get countryDecisionCount(): number {
      return Object.keys(byCountry).length;
    },
    lookup(ip: string): ActiveDecision | undefined {
      const d = byIp[ip];
      return d === undefined ? undefined : { type: d.type, origin: 'cscli', scenario: 'test', value: d.value ?? ip, expiresAt: NOW + 1000 };
    },
    lookupCountry(code: string): ActiveDecision | undefined {
      source.countryLookups++;
      const type = byCountry[code];
      return type === undefined ? undefined : { type, origin: 'cscli', scenario: 'manual', value: code, expiresAt: NOW + 1000 };
    },
  };
  return source;
}

/** The geo stub above, counting its lookups into `cs.geoLookups`. */
function countingCtx(cs: ReturnType<typeof withCountries>, withGeo = true): ChainContext {
  return {
    geo: withGeo
      ? {
          country: (ip) => {
            cs.geoLookups++;
            return geo.country(ip);
          },
        }
      : undefined,
    crowdsec: cs,
  };
}

t.test('CrowdSec country scope: applies to clients placed in the country, scope and value in the metadata', async (t) => {
  const cs = withCountries({}, { US: 'ban', CH: 'captcha' });
  const a = access({ crowdsec: 'enforce' });
  t.same(judge(a, '8.8.8.8', countingCtx(cs), NOW), {
    allowed: false,
    denyReason: 'crowdsec_ban',
    country: 'US',
    metadata: { crowdsec_verdict: 'ban', crowdsec_scope: 'country', crowdsec_value: 'US', crowdsec_mode: 'enforce' },
    decision: { type: 'ban', origin: 'cscli', scenario: 'manual', value: 'US', expiresAt: NOW + 1000 },
  });
  t.match(judge(a, '9.9.9.9', countingCtx(cs), NOW), { denyReason: 'crowdsec_captcha', country: 'CH' }, 'same types as for addresses');
  t.same(judge(a, '2001:db8::1', countingCtx(cs), NOW), { allowed: true, denyReason: '', country: 'DE', metadata: undefined }, 'another country passes');
  t.match(judge(a, '127.0.0.1', countingCtx(cs), NOW), { allowed: true, country: undefined }, 'a client without a country passes');
  t.same(judge(access({ crowdsec: 'observe' }), '8.8.8.8', countingCtx(cs), NOW), {
    allowed: true,
    denyReason: '',
    country: 'US',
    metadata: { crowdsec_verdict: 'ban', crowdsec_scope: 'country', crowdsec_value: 'US', crowdsec_mode: 'observe' },
    decision: { type: 'ban', origin: 'cscli', scenario: 'manual', value: 'US', expiresAt: NOW + 1000 },
  });
  t.match(judge(a, '8.8.8.8', countingCtx(cs, false), NOW), { allowed: true }, 'no country database: country decisions cannot match');
});

t.test('CrowdSec country scope: the client country is looked up only while country decisions exist, once', async (t) => {
  const none = withCountries({ '8.8.8.8': { type: 'ban' } }, {});
  t.match(judge(access({ crowdsec: 'enforce' }), '8.8.8.8', countingCtx(none), NOW), { denyReason: 'crowdsec_ban', country: undefined });
  t.match(judge(access({ crowdsec: 'enforce' }), '9.9.9.9', countingCtx(none), NOW), { allowed: true });
  t.equal(none.geoLookups, 0, 'no geo lookup without country decisions');
  t.equal(none.countryLookups, 0);
  const some = withCountries({}, { CH: 'ban' });
  t.match(judge(access({ countryDeny: ['US'], crowdsec: 'enforce' }), '9.9.9.9', countingCtx(some), NOW), { denyReason: 'crowdsec_ban', country: 'CH' });
  t.equal(some.geoLookups, 1, 'the country rules lookup is reused');
});

t.test('CrowdSec country scope: precedence with address and range decisions', async (t) => {
  const a = access({ crowdsec: 'enforce' });
  const cs = withCountries(
    { '8.8.8.8': { type: 'captcha' }, '9.9.9.9': { type: 'ban', value: '9.9.9.0/24' }, '2001:db8::1': { type: 'throttle' } },
    { US: 'ban', CH: 'ban', DE: 'throttle' },
  );
  t.match(
    judge(a, '8.8.8.8', countingCtx(cs), NOW),
    { denyReason: 'crowdsec_ban', metadata: { crowdsec_scope: 'country' } },
    'a country ban outranks an address captcha',
  );
  t.match(
    judge(a, '9.9.9.9', countingCtx(cs), NOW),
    { denyReason: 'crowdsec_ban', metadata: { crowdsec_scope: 'range', crowdsec_value: '9.9.9.0/24' } },
    'same type: the address or range decision is reported',
  );
  t.match(judge(a, '2001:db8::1', countingCtx(cs), NOW), { denyReason: 'crowdsec_throttle', metadata: { crowdsec_scope: 'ip' } });
  const weak = withCountries({ '8.8.8.8': { type: 'ban' } }, { US: 'captcha' });
  t.match(
    judge(a, '8.8.8.8', countingCtx(weak), NOW),
    { denyReason: 'crowdsec_ban', metadata: { crowdsec_scope: 'ip' } },
    'an address ban outranks a country captcha',
  );
});
