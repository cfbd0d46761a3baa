// Country-scope decisions: the CountryDecisions table itself and the store that routes Country scope to it.
import t from 'tap';
import { CountryDecisions } from '../../../../src/crowdsec/core/countries';
import { normalizeCountryDecision, parseCountryCode } from '../../../../src/crowdsec/core/normalize';
import { DecisionStore } from '../../../../src/crowdsec/core/store';
import type { LapiDecision } from '../../../../src/crowdsec/core/types';

const NOW = 1_700_000_000_000;
const H = 3_600_000;

function c(value: string, over: Partial<LapiDecision> = {}): LapiDecision {
  return { scope: 'Country', value, type: 'ban', duration: '4h', origin: 'cscli', scenario: 'manual', ...over };
}

t.test('table: precedence between types, refresh keeps the later expiry, removal, sweep', async (t) => {
  const table = new CountryDecisions();
  table.upsert('FR', { type: 'captcha', origin: 'cscli', scenario: 'a', expiresAt: NOW + H });
  table.upsert('FR', { type: 'ban', origin: 'cscli', scenario: 'b', expiresAt: NOW + 2 * H });
  table.upsert('FR', { type: 'mfa', origin: 'cscli', scenario: 'c', expiresAt: NOW + H });
  t.equal(table.size, 3);
  t.same(table.lookup('FR', NOW), { type: 'ban', origin: 'cscli', scenario: 'b', value: 'FR', expiresAt: NOW + 2 * H }, 'ban > captcha > others');
  t.equal(table.lookup('DE', NOW), undefined);
  t.equal(table.lookup('FR', NOW + 2 * H), undefined, 'everything expired: no answer, even before a sweep');
  t.match(table.lookup('FR', NOW + 1.5 * H), { type: 'ban' }, 'captcha and mfa expired, the ban still applies');
  table.upsert('FR', { type: 'ban', origin: 'lists:x', scenario: 'd', expiresAt: NOW + H });
  t.equal(table.size, 3, 'same (country, type) refreshed, not added');
  t.match(table.lookup('FR', NOW), { type: 'ban', origin: 'lists:x', expiresAt: NOW + 2 * H }, 'later expiry kept, latest origin');
  t.ok(table.remove('FR', 'ban'));
  t.notOk(table.remove('FR', 'ban'), 'removing twice');
  t.match(table.lookup('FR', NOW), { type: 'captcha' }, 'next type takes over');
  t.equal(table.sweep(NOW + H), 2, 'captcha and mfa expire at +1h');
  t.equal(table.size, 0);
  t.equal(table.lookup('FR', NOW), undefined);
});

t.test('normalisation: ISO code upper-cased, junk refused, duration as for addresses', async (t) => {
  t.equal(parseCountryCode(' fr '), 'FR');
  t.equal(parseCountryCode('FRA'), undefined);
  t.equal(parseCountryCode('1.2.3.4'), undefined);
  t.equal(parseCountryCode(undefined), undefined);
  t.match(normalizeCountryDecision(c('de', { type: 'Captcha' }), NOW), { country: 'DE', type: 'captcha', expiresAt: NOW + 4 * H });
  t.equal(normalizeCountryDecision(c('XYZ'), NOW), 'value');
  t.equal(normalizeCountryDecision(c('FR', { duration: 'soon' }), NOW), 'duration');
  t.equal(normalizeCountryDecision(c('FR', { duration: '-2s' }), NOW), 'expired');
});

t.test('store: Country scope kept only when enabled, looked up apart from addresses', async (t) => {
  const off = new DecisionStore();
  t.same(off.apply({ new: [c('FR')], deleted: null }, NOW), { added: 0, deleted: 0, skipped: 1, expired: 0 }, 'skipped without the country scope');
  t.equal(off.countryDecisionCount, 0);

  const s = new DecisionStore({ countryScope: true });
  const r = s.apply(
    { new: [c('FR'), c('fr', { type: 'captcha' }), c('DE', { type: 'throttle' }), c('ZZZ'), c('IT', { duration: '-1s' })], deleted: null },
    NOW,
  );
  t.same(r, { added: 3, deleted: 0, skipped: 1, expired: 1 });
  t.equal(s.countryDecisionCount, 3);
  t.equal(s.size, 3);
  t.match(s.lookupCountry('FR', NOW), { type: 'ban', value: 'FR', origin: 'cscli' });
  t.match(s.lookupCountry('DE', NOW), { type: 'throttle' });
  t.equal(s.lookupCountry('US', NOW), undefined);
  t.equal(s.lookup('1.2.3.4', NOW), undefined, 'an address lookup never answers with a country decision');
  t.match(s.stats(NOW), { total: 3, byType: { ban: 1, captcha: 1, throttle: 1 }, byOrigin: { cscli: 3 }, byFamily: { ipv4: 0, ipv6: 0 }, countries: 3 });
  t.same(s.breakdown(NOW), [], 'the per-family breakdown holds addresses only');

  t.same(s.apply({ new: null, deleted: [c('FR'), c('FR'), c('ES')] }, NOW), { added: 0, deleted: 1, skipped: 0, expired: 0 }, 'deletion by (country, type)');
  t.match(s.lookupCountry('FR', NOW), { type: 'captcha' });
  t.equal(s.sweep(NOW + 4 * H), 2, 'expiry as for addresses');
  t.equal(s.countryDecisionCount, 0);
  t.equal(s.lookupCountry('DE', NOW), undefined);
});

t.test('store: remediation fallback "ignore" skips custom types on countries too; clear() drops them', async (t) => {
  const s = new DecisionStore({ countryScope: true, fallback: 'ignore' });
  t.match(s.apply({ new: [c('FR', { type: 'mfa' }), c('DE')], deleted: null }, NOW), { added: 1, skipped: 1 });
  t.equal(s.lookupCountry('FR', NOW), undefined);
  s.clear();
  t.equal(s.countryDecisionCount, 0);
  t.equal(s.lookupCountry('DE', NOW), undefined);
});

t.test('table: a later expiry replaces an earlier one; sweep keeps what is live; forEach', async (t) => {
  const table = new CountryDecisions();
  table.upsert('FR', { type: 'ban', origin: 'cscli', scenario: 'a', expiresAt: NOW + H });
  table.upsert('FR', { type: 'ban', origin: 'cscli', scenario: 'b', expiresAt: NOW + 3 * H });
  t.match(table.lookup('FR', NOW), { scenario: 'b', expiresAt: NOW + 3 * H }, 'the refresh with the later expiry wins');
  table.upsert('FR', { type: 'captcha', origin: 'cscli', scenario: 'c', expiresAt: NOW + H });
  table.upsert('DE', { type: 'ban', origin: 'cscli', scenario: 'd', expiresAt: NOW + H });
  const seen = (now: number | undefined): string[] => {
    const out: string[] = [];
    table.forEach(now, (code, e) => out.push(`${code}:${e.type}`));
    return out.sort();
  };
  t.same(seen(undefined), ['DE:ban', 'FR:ban', 'FR:captcha'], 'all, without a time');
  t.same(seen(NOW + H), ['FR:ban'], 'only those unexpired at the time (expiring at it counts as expired)');
  t.equal(table.sweep(NOW + H), 2, 'the captcha and DE expire');
  t.equal(table.size, 1);
  t.match(table.lookup('FR', NOW + H), { type: 'ban' }, 'the live ban is kept, and its country with it');
  t.equal(table.lookup('DE', NOW), undefined, 'DE is gone');
  t.same(seen(undefined), ['FR:ban']);
});
