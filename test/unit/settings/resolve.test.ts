import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveSettings } from '../../../src/settings/resolve';
import { SettingsError } from '../../../src/settings/types';

const dir = mkdtempSync(join(tmpdir(), 'nbp-settings-'));
const envFile = join(dir, 'proxy.env');
writeFileSync(envFile, 'NB_PROXY_HTTP_ADDR=127.0.0.1:7001\nNB_PROXY_LOG_LEVEL=debug\nNB_PROXY_UPSTREAM_TIMEOUT=5s\n');

t.test('precedence: flag > environment > env file > default', async (t) => {
  const fromFile = resolveSettings({}, {}, envFile);
  t.same(fromFile.httpAddr, { host: '127.0.0.1', port: 7001 }, 'env file');
  t.equal(fromFile.logLevel, 'debug');
  t.equal(fromFile.upstreamTimeoutMs, 5000);
  const fromEnv = resolveSettings({}, { NB_PROXY_HTTP_ADDR: '127.0.0.1:7002' }, envFile);
  t.same(fromEnv.httpAddr, { host: '127.0.0.1', port: 7002 }, 'environment beats the env file');
  const fromFlag = resolveSettings({ httpAddr: '127.0.0.1:7003' }, { NB_PROXY_HTTP_ADDR: '127.0.0.1:7002' }, envFile);
  t.same(fromFlag.httpAddr, { host: '127.0.0.1', port: 7003 }, 'a flag beats both');
  const defaults = resolveSettings({}, {}, '/dev/null');
  t.same(defaults.httpAddr, { host: '0.0.0.0', port: 8080 });
  t.same(defaults.adminAddr, { host: '127.0.0.1', port: 9090 });
  t.equal(defaults.headerTimeoutMs, 30_000);
  t.equal(defaults.maxHeaderSize, 16_384);
  t.equal(defaults.proxyProtocol, false);
  t.equal(defaults.crowdsec, undefined, 'CrowdSec unconfigured without a URL and a key');
});

t.test('values are parsed once into typed settings', async (t) => {
  const s = resolveSettings(
    { headerTimeout: '1500ms', maxHeaderSize: '8192', proxyProtocol: true, crowdsecApiUrl: 'http://lapi:8080/', crowdsecApiKey: 'k' },
    {},
    '/dev/null',
  );
  t.equal(s.headerTimeoutMs, 1500);
  t.equal(s.maxHeaderSize, 8192);
  t.equal(s.proxyProtocol, true);
  t.equal(s.crowdsec?.apiUrl, 'http://lapi:8080', 'trailing slash dropped');
  t.equal(s.crowdsec?.pollIntervalMs, 10_000);
  t.equal(resolveSettings({}, { NB_PROXY_PROXY_PROTOCOL: 'yes' }, '/dev/null').proxyProtocol, true);
});

t.test('bad values name the flag and the env var', async (t) => {
  const bad: [Record<string, string>, RegExp][] = [
    [{ httpAddr: 'nope' }, /--http-addr \/ NB_PROXY_HTTP_ADDR: "nope"/],
    [{ upstreamTimeout: '10' }, /--upstream-timeout \/ NB_PROXY_UPSTREAM_TIMEOUT: "10" is not a duration/],
    [{ headerTimeout: '-1s' }, /--header-timeout \/ NB_PROXY_HEADER_TIMEOUT/],
    [{ maxHeaderSize: '16k' }, /--max-header-size \/ NB_PROXY_MAX_HEADER_SIZE: "16k" is not a number of bytes/],
    [{ logLevel: 'loud' }, /--log-level \/ NB_PROXY_LOG_LEVEL: "loud" is not one of .*silent/],
    [{ crowdsecApiUrl: 'ftp://x', crowdsecApiKey: 'k' }, /--crowdsec-api-url \/ NB_PROXY_CROWDSEC_API_URL: "ftp:\/\/x" must be http:\/\/ or https:\/\//],
  ];
  for (const [flags, message] of bad) {
    t.throws(() => resolveSettings(flags, {}, '/dev/null'), { constructor: SettingsError, message }, JSON.stringify(flags));
  }
});

t.test('--crowdsec-metrics-interval: 30m by default, 0 disables, below 10m refused unless the test override is set', async (t) => {
  const crowdsec = { crowdsecApiUrl: 'http://127.0.0.1:8080', crowdsecApiKey: 'k' };
  t.equal(resolveSettings(crowdsec, {}, '/dev/null').crowdsec?.metricsIntervalMs, 30 * 60_000);
  t.equal(resolveSettings({ ...crowdsec, crowdsecMetricsInterval: '0' }, {}, '/dev/null').crowdsec?.metricsIntervalMs, 0);
  t.equal(resolveSettings(crowdsec, { NB_PROXY_CROWDSEC_METRICS_INTERVAL: '10m' }, '/dev/null').crowdsec?.metricsIntervalMs, 600_000);
  t.throws(() => resolveSettings({ ...crowdsec, crowdsecMetricsInterval: '9m' }, {}, '/dev/null'), {
    constructor: SettingsError,
    message: /below the 10m minimum/,
  });
  t.throws(() => resolveSettings({ ...crowdsec, crowdsecMetricsInterval: '-1m' }, {}, '/dev/null'), {
    constructor: SettingsError,
    message: /0 \(disabled\) or positive|not a duration/,
  });
  t.equal(
    resolveSettings({ ...crowdsec, crowdsecMetricsInterval: '1s' }, { NB_PROXY_TEST_SHORT_METRICS_INTERVAL: '1' }, '/dev/null').crowdsec?.metricsIntervalMs,
    1000,
  );
});
