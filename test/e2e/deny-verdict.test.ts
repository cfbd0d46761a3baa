// Against a real CrowdSec LAPI (Debian crowdsec 1.4.6): a banned browser on an enforce service
// gets the deny page with the CrowdSec category; the same client on an observe service with
// forward_verdict reaches the upstream with X-Crowdsec-Remediation: ban and never sees the page.
import t from 'tap';
import { httpGet } from '../harness/clients';
import { startDaemon, type LogLine } from '../harness/daemon';
import { startLapi } from '../harness/lapi';
import { startHttpUpstream, type HttpUpstream } from '../harness/upstreams';

const BROWSER = 'text/html,application/xhtml+xml,*/*;q=0.8';

function service(name: string, upstream: HttpUpstream, mode: string, extra = ''): string {
  return `  - name: ${name}
    protocol: http
    domains: [${name}.example.com]
    target: ${upstream.url}
    access: { crowdsec: ${mode} }
${extra}`;
}

function upstreamHeaders(body: string): Record<string, string | undefined> {
  return (JSON.parse(body) as { headers: Record<string, string | undefined> }).headers;
}

t.test('deny page and forward_verdict with real LAPI decisions', async (t) => {
  const lapi = await startLapi();
  const upstream = await startHttpUpstream();
  await lapi.addDecision({ ip: '127.0.0.2', type: 'ban', duration: '5m', reason: 'deny page test' });
  const daemon = await startDaemon({
    config: `services:\n${service('shop', upstream, 'enforce')}${service('blog', upstream, 'observe', '    forward_verdict: true\n')}${service(
      'wiki',
      upstream,
      'observe',
    )}`,
    args: ['--crowdsec-api-url', lapi.url, '--crowdsec-api-key', lapi.apiKey, '--crowdsec-poll-interval', '500ms'],
  });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
    await lapi.close();
  });
  await daemon.waitFor((l: LogLine) => l.msg === 'CrowdSec bouncer synced initial decisions', 15_000, 'initial sync');

  await t.test('enforce: the banned browser gets the page with the CrowdSec category and no LAPI details', async (t) => {
    const res = await httpGet(`${daemon.httpUrl}/ban`, { host: 'shop.example.com', from: '127.0.0.2', headers: { accept: BROWSER } });
    t.equal(res.status, 403);
    t.match(res.body, /refused: blocked by security policy\./);
    t.notMatch(res.body, /crowdsec|deny page test|127\.0\.0\.2|127\.0\.0\.1:/i, 'no decision details, no address, no LAPI');
    const entry = await daemon.waitFor((l) => l.msg === 'access' && l.path === '/ban', 5000, 'access entry');
    t.match(entry, { deny_reason: 'crowdsec_ban' });
    t.match(res.body, new RegExp(`<code id="request-id">${String(entry.request_id)}</code>`));
  });

  await t.test('observe + forward_verdict: the upstream receives X-Crowdsec-Remediation: ban, the browser its answer', async (t) => {
    const res = await httpGet(`${daemon.httpUrl}/observed`, {
      host: 'blog.example.com',
      from: '127.0.0.2',
      headers: { accept: BROWSER, 'x-crowdsec-remediation': 'none' },
    });
    t.equal(res.status, 200, 'observe never sees the page');
    t.equal(upstreamHeaders(res.body)['x-crowdsec-remediation'], 'ban');
    t.equal(upstreamHeaders(res.body)['x-country-code'], undefined, 'no country lookup on this service: no header');
  });

  await t.test('observe + forward_verdict, clean client: a forged header is removed, none added', async (t) => {
    const res = await httpGet(`${daemon.httpUrl}/clean`, { host: 'blog.example.com', from: '127.0.0.3', headers: { 'x-crowdsec-remediation': 'ban' } });
    t.equal(res.status, 200);
    t.equal(upstreamHeaders(res.body)['x-crowdsec-remediation'], undefined);
  });

  await t.test('observe without forward_verdict: the verdict stays in the access log only', async (t) => {
    const res = await httpGet(`${daemon.httpUrl}/quiet`, { host: 'wiki.example.com', from: '127.0.0.2', headers: { accept: BROWSER } });
    t.equal(res.status, 200);
    t.equal(upstreamHeaders(res.body)['x-crowdsec-remediation'], undefined);
    const entry = await daemon.waitFor((l) => l.msg === 'access' && l.path === '/quiet', 5000, 'access entry');
    t.match(entry, { metadata: { crowdsec_verdict: 'ban', crowdsec_mode: 'observe' } });
  });
});
