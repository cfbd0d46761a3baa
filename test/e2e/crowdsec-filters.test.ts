// Stream filters against the real LAPI 1.4.6: decisions of origins cscli and cscli-import with
// different scenarios; only those the filters let through are enforced. Also --crowdsec-remediation-fallback
// with a custom decision type.
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLapi, type Lapi } from '../harness/lapi';
import { startDaemon, type LogLine } from '../harness/daemon';
import { httpGet } from '../harness/clients';
import { startHttpUpstream, type HttpUpstream } from '../harness/upstreams';

const synced = (l: LogLine): boolean => l.msg === 'CrowdSec bouncer synced initial decisions';
const CLIENTS = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'];
const CUSTOM = '127.0.0.6';

function config(upstream: HttpUpstream): string {
  return `services:
  - name: shop
    protocol: http
    domains: [shop.example.com]
    target: ${upstream.url}
    access: { crowdsec: enforce }
`;
}

/** Status per client address under the given filter flags. */
async function statuses(lapi: Lapi, upstream: HttpUpstream, filterArgs: string[]): Promise<Record<string, number>> {
  const daemon = await startDaemon({
    config: config(upstream),
    args: ['--crowdsec-api-url', lapi.url, '--crowdsec-api-key', lapi.apiKey, '--crowdsec-poll-interval', '500ms', ...filterArgs],
  });
  try {
    await daemon.waitFor(synced, 10_000, 'initial sync');
    const out: Record<string, number> = {};
    for (const ip of [...CLIENTS, CUSTOM]) out[ip] = (await httpGet(`${daemon.httpUrl}/`, { host: 'shop.example.com', from: ip })).status;
    return out;
  } finally {
    await daemon.stop();
  }
}

t.test('stream filters decide which decisions are enforced', async (t) => {
  const lapi = await startLapi();
  const upstream = await startHttpUpstream();
  t.teardown(async () => {
    await upstream.close();
    await lapi.close();
  });
  // origin cscli, scenario = the reason
  await lapi.addDecision({ ip: '127.0.0.2', type: 'ban', duration: '5m', reason: 'crowdsecurity/ssh-bf' });
  await lapi.addDecision({ ip: '127.0.0.3', type: 'ban', duration: '5m', reason: 'crowdsecurity/http-probing' });
  // origin cscli-import
  const dir = mkdtempSync(join(tmpdir(), 'nbp-filters-'));
  const file = join(dir, 'import.json');
  writeFileSync(file, JSON.stringify([{ value: '127.0.0.4', duration: '5m', type: 'ban', scope: 'Ip' }]));
  await lapi.importDecisions(file);
  await lapi.addDecision({ ip: CUSTOM, type: 'mfa', duration: '5m', reason: 'custom-type' });

  t.same(
    await statuses(lapi, upstream, []),
    { '127.0.0.2': 403, '127.0.0.3': 403, '127.0.0.4': 403, '127.0.0.5': 200, [CUSTOM]: 403 },
    'no filter: all enforced, a custom type too (fallback ban)',
  );
  t.same(
    await statuses(lapi, upstream, ['--crowdsec-origins', 'cscli-import']),
    { '127.0.0.2': 200, '127.0.0.3': 200, '127.0.0.4': 403, '127.0.0.5': 200, [CUSTOM]: 200 },
    'origins=cscli-import',
  );
  t.same(
    await statuses(lapi, upstream, ['--crowdsec-origins', 'cscli']),
    { '127.0.0.2': 403, '127.0.0.3': 403, '127.0.0.4': 200, '127.0.0.5': 200, [CUSTOM]: 403 },
    'origins=cscli',
  );
  t.same(
    await statuses(lapi, upstream, ['--crowdsec-scenarios-containing', 'ssh']),
    { '127.0.0.2': 403, '127.0.0.3': 200, '127.0.0.4': 200, '127.0.0.5': 200, [CUSTOM]: 200 },
    'scenarios containing ssh',
  );
  t.same(
    await statuses(lapi, upstream, ['--crowdsec-scenarios-not-containing', 'probing,sshx']),
    { '127.0.0.2': 403, '127.0.0.3': 200, '127.0.0.4': 403, '127.0.0.5': 200, [CUSTOM]: 403 },
    'scenarios not containing probing',
  );
  t.same(
    await statuses(lapi, upstream, ['--crowdsec-origins', 'cscli', '--crowdsec-scenarios-not-containing', 'ssh']),
    { '127.0.0.2': 200, '127.0.0.3': 403, '127.0.0.4': 200, '127.0.0.5': 200, [CUSTOM]: 403 },
    'origin and scenario filters combine',
  );
  t.same(
    await statuses(lapi, upstream, ['--crowdsec-remediation-fallback', 'ignore']),
    { '127.0.0.2': 403, '127.0.0.3': 403, '127.0.0.4': 403, '127.0.0.5': 200, [CUSTOM]: 200 },
    'fallback ignore: the custom type is not enforced',
  );
});
