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
      metadata: { crowdsec_verdict: type, crowdsec_mode: 'enforce' },
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
    metadata: { crowdsec_verdict: 'ban', crowdsec_mode: 'observe' },
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
