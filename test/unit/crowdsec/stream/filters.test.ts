// Stream filters: flag/env parsing and the query sent on every pull (startup and delta).
import t from 'tap';
import pino from 'pino';
import { StreamBouncer } from '../../../../src/crowdsec/stream/bouncer';
import { parseScopes, streamQuery, DEFAULT_FILTERS } from '../../../../src/crowdsec/stream/filters';
import { resolveSettings } from '../../../../src/settings/resolve';
import { SettingsError } from '../../../../src/settings/types';
import { startFakeLapi } from '../../../harness/fake-lapi';
import { until } from '../../../harness/clients';

const BASE = { NB_PROXY_CROWDSEC_API_URL: 'http://127.0.0.1:8080', NB_PROXY_CROWDSEC_API_KEY: 'k' };

t.test('query: defaults, lists joined with commas, empty lists left out', async (t) => {
  t.equal(streamQuery(DEFAULT_FILTERS, true), 'startup=true&scopes=ip,range');
  t.equal(streamQuery(DEFAULT_FILTERS, false), 'scopes=ip,range');
  const q = streamQuery({ origins: ['cscli', 'lists'], scenariosContaining: ['ssh', 'http'], scenariosNotContaining: ['probing'], scopes: ['ip'] }, false);
  t.equal(q, 'scopes=ip&origins=cscli,lists&scenarios_containing=ssh,http&scenarios_not_containing=probing');
  t.equal(streamQuery({ ...DEFAULT_FILTERS, origins: ['a&b=c'] }, false), 'scopes=ip,range&origins=a%26b%3Dc', 'values are escaped');
});

t.test('scopes: default ip,range, case-insensitive, country accepted, unknown refused', async (t) => {
  t.same(parseScopes(undefined), ['ip', 'range']);
  t.same(parseScopes(' Ip , RANGE,ip'), ['ip', 'range']);
  t.same(parseScopes('ip,range,Country'), ['ip', 'range', 'country']);
  t.equal(streamQuery({ ...DEFAULT_FILTERS, scopes: ['ip', 'range', 'country'] }, false), 'scopes=ip,range,country');
  t.match(parseScopes('ip,asn'), /"asn" is not a supported scope/);
  t.match(parseScopes(' , '), /at least one scope/);
});

t.test('settings: flags and NB_PROXY_ env vars', async (t) => {
  const env = resolveSettings({}, { ...BASE, NB_PROXY_CROWDSEC_ORIGINS: 'cscli, lists', NB_PROXY_CROWDSEC_SCENARIOS_NOT_CONTAINING: 'probing' }, undefined);
  t.same(env.crowdsec?.filters, { origins: ['cscli', 'lists'], scenariosContaining: [], scenariosNotContaining: ['probing'], scopes: ['ip', 'range'] });
  const flags = resolveSettings({ crowdsecScenariosContaining: 'ssh', crowdsecScopes: 'ip' }, BASE, undefined);
  t.same(flags.crowdsec?.filters, { origins: [], scenariosContaining: ['ssh'], scenariosNotContaining: [], scopes: ['ip'] });
  t.throws(
    () => resolveSettings({ crowdsecScopes: 'ip,asn' }, BASE, undefined),
    new SettingsError('--crowdsec-scopes / NB_PROXY_CROWDSEC_SCOPES: "asn" is not a supported scope (ip, range, country)'),
  );
});

t.test('the filters go on the startup pull and on every delta pull', async (t) => {
  const fake = await startFakeLapi({ apiKey: 'fake-secret-key-0123456789' });
  const filters = { origins: ['crowdsec'], scenariosContaining: ['ssh'], scenariosNotContaining: ['probing'], scopes: ['ip'] };
  const b = new StreamBouncer({
    settings: { apiUrl: fake.url, apiKey: fake.apiKey, pollIntervalMs: 50, caCertPath: undefined, certPath: undefined, keyPath: undefined, filters },
    log: pino({ level: 'silent' }),
  });
  t.teardown(async () => {
    await b.stop();
    await fake.close();
  });
  b.start();
  await until('three pulls', () => fake.requests.length >= 3);
  const tail = 'scopes=ip&origins=crowdsec&scenarios_containing=ssh&scenarios_not_containing=probing';
  t.same(
    fake.requests.slice(0, 3).map((r) => r.url),
    [`/v1/decisions/stream?startup=true&${tail}`, `/v1/decisions/stream?${tail}`, `/v1/decisions/stream?${tail}`],
  );
});

t.test('settings: --crowdsec-remediation-fallback', async (t) => {
  t.equal(resolveSettings({}, BASE, undefined).crowdsec?.remediationFallback, 'ban', 'default ban');
  t.equal(resolveSettings({}, { ...BASE, NB_PROXY_CROWDSEC_REMEDIATION_FALLBACK: 'Ignore' }, undefined).crowdsec?.remediationFallback, 'ignore');
  t.throws(
    () => resolveSettings({ crowdsecRemediationFallback: 'captcha' }, BASE, undefined),
    new SettingsError('--crowdsec-remediation-fallback / NB_PROXY_CROWDSEC_REMEDIATION_FALLBACK: "captcha" is not ban or ignore'),
  );
});
