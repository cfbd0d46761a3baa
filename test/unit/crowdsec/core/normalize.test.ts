// Decision fields from the LAPI to what the store keeps: scopes and types at their edges.
import t from 'tap';
import {
  MAX_TYPE_LENGTH,
  isCountryScope,
  normalizeCountryDecision,
  normalizeDecision,
  normalizeScope,
  sanitizeType,
} from '../../../../src/crowdsec/core/normalize';
import type { LapiDecision } from '../../../../src/crowdsec/core/types';
import { parsePrefixKey } from '../../../../src/net/ip';

t.test('scopes: Ip, Range and Country in any case, nothing else', async (t) => {
  for (const s of ['ip', 'Ip', 'IP', 'iP']) t.equal(normalizeScope(s), 'ip', s);
  for (const s of ['range', 'Range', 'RANGE']) t.equal(normalizeScope(s), 'range', s);
  // "Z" + 32 is "z"; "[" (just past "Z") and "@" (just before "A") are not letters.
  for (const s of [undefined, '', 'i', 'ipp', 'ip ', 'country', 'Country', 'I[', '@p', 'IZ']) t.equal(normalizeScope(s), undefined, String(s));
  t.equal(normalizeScope('rangE'), 'range');
  for (const s of ['country', 'Country', 'COUNTRY']) t.equal(isCountryScope(s), true, s);
  for (const s of [undefined, 'countr', 'countries', 'Ip', 'COUNTRz']) t.equal(isCountryScope(s), false, String(s));
});

t.test('types: lower-case [a-z0-9_], anything else becomes "_", at most 64 characters', async (t) => {
  const cases: [string | undefined, string | undefined][] = [
    [undefined, undefined],
    ['', undefined],
    ['ban', 'ban'],
    ['captcha', 'captcha'],
    ['throttle', 'throttle'],
    ['Ban', 'ban'],
    ['mfa', 'mfa'],
    ['MFA', 'mfa'],
    ['az09_', 'az09_'],
    ['AZ', 'az'],
    ['a-b', 'a_b'],
    ['a b', 'a_b'],
    // The characters next to each accepted range: ` { / : ^ and the range ends a z 0 9.
    ['`', '_'],
    ['{', '_'],
    ['/', '_'],
    [':', '_'],
    ['^', '_'],
    ['a`', 'a_'],
    ['z{', 'z_'],
    ['0/', '0_'],
    ['9:', '9_'],
    ['Z9', 'z9'],
    ['<script>', '_script_'],
    ['é', '_'],
    ['x'.repeat(MAX_TYPE_LENGTH), 'x'.repeat(MAX_TYPE_LENGTH)],
    ['x'.repeat(MAX_TYPE_LENGTH + 1), 'x'.repeat(MAX_TYPE_LENGTH)],
    ['X'.repeat(MAX_TYPE_LENGTH + 10), 'x'.repeat(MAX_TYPE_LENGTH)],
    ['-'.repeat(MAX_TYPE_LENGTH * 2), '_'.repeat(MAX_TYPE_LENGTH)],
    // "İ" lower-cases to two characters ("i" and a combining dot): the limit holds after lower-casing.
    ['İ'.repeat(40), 'i_'.repeat(MAX_TYPE_LENGTH / 2)],
  ];
  for (const [input, want] of cases) t.equal(sanitizeType(input), want, JSON.stringify(input));
  t.equal(MAX_TYPE_LENGTH, 64);
});

t.test('a decision without origin or scenario: both empty, for address and country scopes', async (t) => {
  const now = 1_700_000_000_000;
  t.same(normalizeDecision({ scope: 'Ip', value: '1.2.3.4', type: 'ban', duration: '1s' }, now), {
    prefix: parsePrefixKey('1.2.3.4'),
    type: 'ban',
    origin: '',
    scenario: '',
    durationMs: 1000,
    expiresAt: now + 1000,
  });
  t.same(normalizeCountryDecision({ scope: 'Country', value: 'fr', type: 'ban', duration: '1s', origin: 7, scenario: null } as unknown as LapiDecision, now), {
    country: 'FR',
    type: 'ban',
    origin: '',
    scenario: '',
    durationMs: 1000,
    expiresAt: now + 1000,
  });
});
