// The CrowdSec LAPI behaviour the bouncer relies on, checked against the real crowdsec 1.4.6,
// plus the fake LAPI used for faults. A missing crowdsec is a failure here, never a skip.
import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lapiGet, startLapi, type Lapi } from '../harness/lapi';
import { bigStartupBody, startFakeLapi, type FakeDecision } from '../harness/fake-lapi';
import { issueClientCert, makeTestPki } from '../harness/pki';

/** The LAPI's decision shape, which the fake mirrors. */
type Decision = FakeDecision;
interface Stream {
  new: Decision[] | null;
  deleted: Decision[] | null;
}

const GO_DURATION = /^-?(\d+(\.\d+)?(h|m|s|ms|us|µs|ns))+$/;

async function pull(lapi: Lapi, query = ''): Promise<Stream> {
  const r = await lapiGet(lapi, `/v1/decisions/stream${query}`, { apiKey: lapi.apiKey });
  if (r.status !== 200) throw new Error(`stream ${query}: ${r.status} ${r.body}`);
  return JSON.parse(r.body) as Stream;
}
const values = (ds: Decision[] | null): string[] => (ds ?? []).map((d) => d.value).sort();

t.test('real LAPI: bouncer stream API', async (t) => {
  const t0 = Date.now();
  const lapi = await startLapi();
  t.comment(`startLapi: ${Date.now() - t0} ms total, crowdsec ready ${lapi.lastStartMs} ms after spawn`);
  t.teardown(() => lapi.close());

  t.equal((await lapiGet(lapi, '/v1/decisions/stream?startup=true', { apiKey: 'wrong' })).status, 403, 'wrong key');
  t.equal((await lapiGet(lapi, '/v1/decisions/stream?startup=true')).status, 403, 'no key');

  t.same(await pull(lapi, '?startup=true'), { new: null, deleted: null }, 'empty db: both null');

  await lapi.addDecision({ ip: '127.0.0.2', type: 'ban', duration: '5m', reason: 'x' });
  await lapi.addDecision({ range: '127.0.0.4/30', duration: '5m', reason: 'y' });
  const s = await pull(lapi, '?startup=true');
  t.equal(s.deleted, null);
  const ip = s.new?.find((d) => d.value === '127.0.0.2');
  const range = s.new?.find((d) => d.value === '127.0.0.4/30');
  t.match(ip, { scope: 'Ip', type: 'ban', origin: 'cscli', scenario: 'x' });
  t.match(range, { scope: 'Range', type: 'ban' });
  t.match(ip?.duration, GO_DURATION, `Go duration: ${ip?.duration}`);
  t.match(ip?.duration, /^4m\d/, 'duration counts down from 5m');
  t.type(ip?.id, 'number');

  t.same(await pull(lapi), { new: null, deleted: null }, 'delta without changes: both null');

  t.same(values((await pull(lapi, '?startup=true&scopes=ip')).new), ['127.0.0.2'], 'scopes=ip');
  t.same(values((await pull(lapi, '?startup=true&scopes=range')).new), ['127.0.0.4/30'], 'scopes=range');
  t.same(values((await pull(lapi, '?startup=true&scopes=ip,range')).new), ['127.0.0.2', '127.0.0.4/30'], 'scopes=ip,range');

  await lapi.addDecision({ ip: '127.0.0.3', duration: '1h' });
  const added = await pull(lapi);
  t.same(values(added.new), ['127.0.0.3'], 'delta lists only the new decision');
  t.equal(added.deleted, null);

  await lapi.deleteDecision({ ip: '127.0.0.2', type: 'ban' });
  const del = await pull(lapi);
  t.same(values(del.deleted), ['127.0.0.2'], 'delta lists the deletion');
  t.equal(del.new, null);
  t.match(del.deleted?.[0].duration, /^-/, 'deleted decisions have a negative duration');

  // The same IP with two types: delete --type removes one only.
  await lapi.addDecision({ ip: '127.0.0.9', type: 'captcha', duration: '1h' });
  await lapi.addDecision({ ip: '127.0.0.9', type: 'ban', duration: '1h' });
  await lapi.deleteDecision({ ip: '127.0.0.9', type: 'captcha' });
  const nine = (await pull(lapi, '?startup=true')).new?.filter((d) => d.value === '127.0.0.9').map((d) => d.type);
  t.same(nine, ['ban'], 'delete --type');

  const startup = await pull(lapi, '?startup=true');
  t.ok(values(startup.deleted).includes('127.0.0.2'), 'startup lists expired decisions still in the db in "deleted"');

  await lapi.stop();
  t.equal(lapi.pid, undefined);
  await t.rejects(lapiGet(lapi, '/v1/decisions/stream', { apiKey: lapi.apiKey }), { code: 'ECONNREFUSED' }, 'down after stop');
  await t.rejects(lapi.addDecision({ ip: '127.0.0.10' }), /cscli decisions add/, 'cscli needs the LAPI up');
  await lapi.start();
  t.comment(`restart: ready ${lapi.lastStartMs} ms after spawn`);
  t.same(values((await pull(lapi, '?startup=true')).new), ['127.0.0.3', '127.0.0.4/30', '127.0.0.9'], 'decisions survive a restart');

  await lapi.deleteDecision({ range: '127.0.0.4/30' });
  // Deletions from the last ~2 s come again in every delta, so more than this one may be listed.
  t.ok(values((await pull(lapi)).deleted).includes('127.0.0.4/30'), 'range deletion');
  t.same(values((await pull(lapi, '?startup=true')).new), ['127.0.0.3', '127.0.0.9']);
});

t.test('real LAPI: importDecisions', async (t) => {
  const lapi = await startLapi();
  t.teardown(() => lapi.close());
  const ips = join(lapi.dir, 'ips.csv');
  const ranges = join(lapi.dir, 'ranges.json');
  // 1.4.6 ignores a per-line scope: every line gets --scope (default Ip), even a CIDR value.
  await writeFile(ips, 'duration,scope,value\n1h,range,192.0.2.1\n1h,range,203.0.113.0/24\n');
  await writeFile(ranges, JSON.stringify([{ duration: '1h', type: 'ban', value: '198.51.100.0/24' }]));
  await lapi.importDecisions(ips);
  await lapi.importDecisions(ranges, { scope: 'Range' });
  const s = await pull(lapi, '?startup=true');
  t.same(s.new?.map((d) => [d.scope, d.value, d.origin, d.scenario]).sort(), [
    ['Ip', '192.0.2.1', 'cscli-import', 'manual'],
    ['Ip', '203.0.113.0/24', 'cscli-import', 'manual'],
    ['Range', '198.51.100.0/24', 'cscli-import', 'manual'],
  ]);
});

t.test('real LAPI over TLS with client certs', async (t) => {
  const pkiDir = await mkdtemp(join(tmpdir(), 'pki-'));
  t.teardown(() => rm(pkiDir, { recursive: true, force: true }));
  const pki = await makeTestPki(pkiDir);
  const lapi = await startLapi({
    tls: { certFile: pki.serverCert, keyFile: pki.serverKey, caCertPath: pki.caCert, bouncersAllowedOu: ['bouncer-ou'] },
  });
  t.teardown(() => lapi.close());
  t.match(lapi.url, /^https:\/\/127\.0\.0\.1:\d+$/);

  await lapi.addDecision({ ip: '127.0.0.2', duration: '5m' });
  const path = '/v1/decisions/stream?startup=true';
  const withCert = await lapiGet(lapi, path, { ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey });
  t.equal(withCert.status, 200, 'client cert, no API key');
  t.same(values((JSON.parse(withCert.body) as Stream).new), ['127.0.0.2']);

  t.equal((await lapiGet(lapi, path, { ca: pki.caCert })).status, 403, 'no cert, no key');
  t.equal((await lapiGet(lapi, path, { ca: pki.caCert, apiKey: lapi.apiKey })).status, 200, 'API key still works over TLS');

  const wrongOu = await issueClientCert(pkiDir, 'intruder', 'other-ou');
  t.equal((await lapiGet(lapi, path, { ca: pki.caCert, cert: wrongOu.cert, key: wrongOu.key })).status, 403, 'OU not allowed');

  const otherDir = await mkdtemp(join(tmpdir(), 'pki-'));
  t.teardown(() => rm(otherDir, { recursive: true, force: true }));
  const other = await makeTestPki(otherDir);
  await t.rejects(lapiGet(lapi, path, { ca: pki.caCert, cert: other.clientCert, key: other.clientKey }), 'cert from an unknown CA: handshake fails');
  await t.rejects(lapiGet(lapi, path, { apiKey: lapi.apiKey }), 'server cert not trusted without the CA');
});

t.test('fake LAPI', async (t) => {
  const fake = await startFakeLapi({ apiKey: 'k' });
  t.teardown(() => fake.close());
  // Generous: on a loaded machine (another test run beside this one) a reply can take seconds; only 'hang' must time out.
  const get = (q: string, apiKey = 'k', timeoutMs = 10_000): ReturnType<typeof lapiGet> => lapiGet(fake, `/v1/decisions/stream${q}`, { apiKey, timeoutMs });
  const body = async (q: string): Promise<Stream> => JSON.parse((await get(q)).body) as Stream;

  t.equal((await get('?startup=true', 'bad')).status, 403);
  t.equal(fake.requests[0].headers['x-api-key'], 'bad');
  t.equal(fake.requests[0].query.get('startup'), 'true');

  fake.addDecision({ value: '192.0.2.1' });
  fake.addDecision({ value: '198.51.100.0/24' });
  const s = await body('?startup=true&scopes=ip,range');
  t.same(s.deleted, null);
  t.match(s.new, [
    { scope: 'Ip', value: '192.0.2.1', type: 'ban' },
    { scope: 'Range', value: '198.51.100.0/24' },
  ]);
  t.same(await body(''), { new: null, deleted: null });
  fake.removeDecision('192.0.2.1');
  fake.addDecision({ value: '192.0.2.2', type: 'captcha' });
  const d = await body('?scopes=ip');
  t.same(values(d.new), ['192.0.2.2']);
  t.same(values(d.deleted), ['192.0.2.1']);

  fake.setMode('500');
  t.equal((await get('')).status, 500);
  fake.setMode('malformed');
  const bad = await get('');
  t.equal(bad.status, 200);
  t.throws(() => JSON.parse(bad.body), 'malformed body');
  fake.setMode('truncated');
  await t.rejects(get(''), 'truncated body');
  fake.setMode('destroy');
  await t.rejects(get(''), { code: 'ECONNRESET' });
  fake.setMode('hang');
  await t.rejects(get('', 'k', 500), /timed out/);
  fake.setMode('ok');

  fake.enqueue({ status: 502, body: 'bad gateway' }, { delayMs: 50 });
  t.equal((await get('')).status, 502, 'queued reply');
  const t0 = Date.now();
  t.equal((await get('')).status, 200);
  t.ok(Date.now() - t0 >= 45, 'queued delay');

  fake.setStartupStream(() => bigStartupBody(10_000, { batch: 777, rangeEvery: 1000 }));
  const big = await body('?startup=true');
  t.equal(big.new?.length, 10_000);
  t.equal(big.new?.filter((x) => x.scope === 'Range').length, 10);
  t.equal(big.new?.[1].value, '1.0.0.1');
  const seen = fake.waitForRequest((r) => r.query.get('startup') === 'true');
  const again = get('?startup=true');
  t.equal((await seen).path, '/v1/decisions/stream');
  t.equal((await again).status, 200);
});
