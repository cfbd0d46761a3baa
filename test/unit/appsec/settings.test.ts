import t from 'tap';
import { parseByteSize, resolveAppSecSettings, type AppSecRawSettings } from '../../../src/appsec/settings';

const RAW: AppSecRawSettings = { url: 'http://crowdsec:7422/', apiKey: 'k', timeout: '200ms', maxBody: '64KiB', failureAction: 'deny', maxInflight: '256' };
const fail = (m: string): Error => new Error(m);

t.test('defaults and sizes', async (t) => {
  t.match(resolveAppSecSettings(RAW, fail), { apiKey: 'k', timeoutMs: 200, maxBody: 65536, failureAction: 'deny', maxInflight: 256 });
  t.equal(resolveAppSecSettings({ ...RAW, url: undefined }, fail), undefined, 'no URL: AppSec unavailable');
  t.equal(parseByteSize('65536'), 65536);
  t.equal(parseByteSize('1MiB'), 1048576);
  t.equal(parseByteSize('64k'), 65536);
  t.equal(parseByteSize('0'), 0);
  t.equal(parseByteSize('1.5MiB'), undefined);
  t.equal(parseByteSize('10GB'), undefined);
});

t.test('every bad value is named with its flag', async (t) => {
  const cases: [Partial<AppSecRawSettings>, RegExp][] = [
    [{ timeout: '5ms' }, /--appsec-timeout .*from 10ms to 5s/],
    [{ timeout: '6s' }, /--appsec-timeout/],
    [{ timeout: 'soon' }, /--appsec-timeout .*not a duration/],
    [{ maxBody: '11MiB' }, /--appsec-max-body/],
    [{ failureAction: 'open' }, /--appsec-failure-action .*deny or allow/],
    [{ maxInflight: '0' }, /--appsec-max-inflight/],
    [{ url: 'crowdsec:7422' }, /--appsec-url .*http/],
    [{ url: 'http://user:pw@crowdsec:7422/' }, /credentials/],
    [{ apiKey: undefined }, /no bouncer key/],
  ];
  for (const [over, message] of cases) t.throws(() => resolveAppSecSettings({ ...RAW, ...over }, fail), message, JSON.stringify(over));
  t.throws(() => resolveAppSecSettings({ ...RAW, url: undefined, timeout: '1h' }, fail), /--appsec-timeout/, 'checked without the URL too');
});

t.test('resolveSettings: the AppSec key defaults to the CrowdSec bouncer key; its own flag wins', async (t) => {
  const { resolveSettings } = await import('../../../src/settings/resolve');
  const base = { crowdsecApiUrl: 'http://lapi:8080', crowdsecApiKey: 'bouncer', appsecUrl: 'http://crowdsec:7422/' };
  t.equal(resolveSettings(base, {}, '/dev/null').appsec?.apiKey, 'bouncer');
  t.equal(resolveSettings({ ...base, appsecApiKey: 'own' }, {}, '/dev/null').appsec?.apiKey, 'own');
  t.equal(resolveSettings({}, { NB_PROXY_APPSEC_URL: 'http://e:7422/', NB_PROXY_APPSEC_API_KEY: 'env' }, '/dev/null').appsec?.url.host, 'e:7422');
  t.equal(resolveSettings({}, {}, '/dev/null').appsec, undefined);
  t.throws(() => resolveSettings({ appsecUrl: 'http://e:7422/' }, {}, '/dev/null'), /no bouncer key/);
});
