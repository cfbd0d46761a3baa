// The stream bouncer against a REAL CrowdSec LAPI (crowdsec 1.4.6 from Debian, see test/harness/lapi.ts).
// A LAPI that cannot start fails these tests; they are never skipped.
import t from 'tap';
import { Writable } from 'node:stream';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { StreamBouncer } from '../../src/crowdsec/stream/bouncer';
import type { CrowdSecSettings } from '../../src/crowdsec/stream/settings';
import { startLapi } from '../harness/lapi';
import { makeTestPki } from '../harness/pki';
import { until } from '../harness/clients';

const POLL_MS = 500;

function captureLog(): { log: Logger; text: () => string } {
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      raw.push(chunk.toString());
      cb();
    },
  });
  return { log: pino({ level: 'trace', base: undefined }, stream), text: () => raw.join('') };
}

function settings(over: Partial<CrowdSecSettings> & { apiUrl: string }): CrowdSecSettings {
  return { apiKey: undefined, pollIntervalMs: POLL_MS, caCertPath: undefined, certPath: undefined, keyPath: undefined, ...over };
}

const now = (): number => Date.now();

t.test('real LAPI: sync, deltas, ranges, outage and restart', async (t) => {
  const lapi = await startLapi();
  t.teardown(() => lapi.close());
  await lapi.addDecision({ ip: '192.0.2.10', duration: '1h', reason: 'before start' });
  await lapi.addDecision({ range: '198.51.100.0/24', type: 'captcha', duration: '1h' });

  const logs = captureLog();
  const b = new StreamBouncer({
    settings: settings({ apiUrl: lapi.url, apiKey: lapi.apiKey }),
    log: logs.log,
    // Short retries once degraded so the restart is noticed quickly (default cap is 60 s).
    retry: { degradedMaxMs: 1000 },
  });
  t.teardown(() => b.stop());
  b.start();
  const syncMs = await until('initial sync', () => b.synced);
  t.comment(`initial sync after ${syncMs} ms`);
  t.equal(b.state, 'synced');
  t.match(b.lookup('192.0.2.10', now()), { type: 'ban', origin: 'cscli', scenario: 'before start' }, 'ban added before start');
  t.match(b.lookup('198.51.100.7', now()), { type: 'captcha', value: '198.51.100.0/24' }, 'range covers an address');
  t.equal(b.lookup('198.51.101.7', now()), undefined);
  t.equal(b.lookup('192.0.2.11', now()), undefined);

  await lapi.addDecision({ ip: '192.0.2.11', duration: '1h' });
  const addMs = await until('new decision', () => b.lookup('192.0.2.11', now()) !== undefined, 5000);
  t.comment(`new decision seen ${addMs} ms after cscli returned`);

  await lapi.addDecision({ range: '203.0.113.0/28', duration: '1h' });
  await until('new range', () => b.lookup('203.0.113.5', now()) !== undefined, 2 * POLL_MS + 1000);
  t.equal(b.lookup('203.0.113.16', now()), undefined, 'outside the /28');

  await lapi.deleteDecision({ ip: '192.0.2.11' });
  const delMs = await until('deleted decision gone', () => b.lookup('192.0.2.11', now()) === undefined, 5000);
  t.comment(`deletion seen ${delMs} ms after cscli returned`);
  t.ok(b.lookup('192.0.2.10', now()), 'other decisions untouched');

  // Outage: the cache keeps answering.
  await lapi.stop();
  await until('degraded', () => b.state === 'degraded', 5000);
  t.equal(b.synced, true);
  t.match(b.status().last_error, /CrowdSec LAPI unreachable at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
  t.ok(b.lookup('192.0.2.10', now()), 'lookups answer from the cache while the LAPI is down');
  t.ok(b.lookup('198.51.100.7', now()));
  t.equal(b.status().decisions.total, 3);
  const failed = b.pullsFailed;
  await until('another failed pull while the LAPI is down', () => b.pullsFailed > failed, 5000);
  t.equal(b.state, 'degraded', 'still degraded after further failed pulls');

  await lapi.start();
  await until('recovered', () => b.state === 'synced', 5000);
  await lapi.addDecision({ ip: '192.0.2.12', duration: '1h' });
  const afterRestartMs = await until('decision after restart', () => b.lookup('192.0.2.12', now()) !== undefined, 5000);
  t.comment(`a decision after the restart seen in ${afterRestartMs} ms`);
  t.ok(b.lookup('192.0.2.10', now()), 'cache survived the outage');
  t.ok(/CrowdSec LAPI reachable again/.test(logs.text()));

  const st = b.status();
  t.equal(st.state, 'synced');
  t.ok(st.pulls_failed >= 1);
  t.equal(st.skipped_decisions, 0);
  await b.stop();
  t.notOk(logs.text().includes(lapi.apiKey), 'the key never appears in the logs');
});

t.test('real LAPI: a hung LAPI (SIGSTOP) times out, then a full resync catches up', async (t) => {
  const lapi = await startLapi();
  t.teardown(() => lapi.close());
  await lapi.addDecision({ ip: '192.0.2.30', duration: '1h' });
  const logs = captureLog();
  // poll 500 ms → delta timeout clamp(2 × 500 ms, 1 s, 10 s) = 1 s
  const b = new StreamBouncer({ settings: settings({ apiUrl: lapi.url, apiKey: lapi.apiKey }), log: logs.log, retry: { degradedMaxMs: 1000 } });
  t.teardown(() => b.stop());
  b.start();
  await until('synced', () => b.synced);
  const pid = lapi.pid;
  if (pid === undefined) throw new Error('LAPI not running');
  process.kill(pid, 'SIGSTOP');
  let resumed = false;
  const resume = (): void => {
    if (!resumed) process.kill(pid, 'SIGCONT');
    resumed = true;
  };
  t.teardown(resume);
  await until('degraded by timeout', () => b.state === 'degraded', 5000);
  t.match(b.status().last_error, /timed out: no complete response within 1000 ms/);
  t.ok(b.lookup('192.0.2.30', now()), 'cache answers while the LAPI hangs');
  resume();
  await until('recovered', () => b.state === 'synced', 5000);
  t.match(logs.text(), /CrowdSec bouncer resynced all decisions/, 'the pull after a timeout is startup=true');
  await lapi.addDecision({ ip: '192.0.2.31', duration: '1h' });
  await until('delta after the hang', () => b.lookup('192.0.2.31', now()) !== undefined, 2 * POLL_MS + 1000);
  t.ok(b.lookup('192.0.2.30', now()));
});

t.test('real LAPI: wrong API key is a clear 403 that never leaks the key', async (t) => {
  const lapi = await startLapi();
  t.teardown(() => lapi.close());
  const wrong = 'wrong-key-0000000000000000abcd';
  const logs = captureLog();
  const b = new StreamBouncer({ settings: settings({ apiUrl: lapi.url, apiKey: wrong }), log: logs.log });
  t.teardown(() => b.stop());
  b.start();
  await until('failure', () => b.pullsFailed >= 1);
  t.equal(b.state, 'connecting');
  t.equal(b.status().last_error, 'CrowdSec LAPI rejected the API key (403); check NB_PROXY_CROWDSEC_API_KEY / cscli bouncers list');
  await b.stop();
  t.notOk(logs.text().includes(wrong));
  t.notOk(logs.text().includes(lapi.apiKey));
});

t.test('real LAPI over TLS: private CA + client certificate, no API key', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'bouncer-pki-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const pki = await makeTestPki(dir);
  const lapi = await startLapi({
    tls: { certFile: pki.serverCert, keyFile: pki.serverKey, caCertPath: pki.caCert, bouncersAllowedOu: ['bouncer-ou'] },
  });
  t.teardown(() => lapi.close());
  await lapi.addDecision({ ip: '192.0.2.20', duration: '1h' });

  const logs = captureLog();
  const b = new StreamBouncer({
    settings: settings({ apiUrl: lapi.url, caCertPath: pki.caCert, certPath: pki.clientCert, keyPath: pki.clientKey }),
    log: logs.log,
  });
  t.teardown(() => b.stop());
  b.start();
  await until('synced over TLS', () => b.synced);
  t.ok(b.lookup('192.0.2.20', now()));
  await lapi.addDecision({ ip: '192.0.2.21', duration: '1h' });
  await until('delta over TLS', () => b.lookup('192.0.2.21', now()) !== undefined, 2 * POLL_MS + 1000);
  await b.stop();

  // Without the private CA the server certificate is not trusted: a TLS error, named as such.
  const untrusted = new StreamBouncer({ settings: settings({ apiUrl: lapi.url, apiKey: lapi.apiKey }), log: pino({ level: 'silent' }) });
  t.teardown(() => untrusted.stop());
  untrusted.start();
  await until('tls failure', () => untrusted.pullsFailed >= 1);
  t.match(untrusted.status().last_error, /^TLS error talking to CrowdSec LAPI at https:\/\/127\.0\.0\.1:\d+: .*certificate/i);
  t.equal(untrusted.state, 'connecting');
});
