// The admin UI's mode edit is checked exactly as a reload would check it: with --deny-template (and
// every other option of the running process). A template that a reload would refuse makes the edit
// a 422 that names it, and services.yaml is left as it was. One process and --workers 2.
import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpGet, type HttpResult } from '../harness/clients';
import { startDaemon, type Daemon } from '../harness/daemon';
import { startHttpUpstream } from '../harness/upstreams';

const CROWDSEC_ARGS = ['--crowdsec-api-url', 'http://127.0.0.1:1', '--crowdsec-api-key', 'unused'];

function admin(d: Daemon, path: string, opts: { method?: string; headers?: Record<string, string>; body?: unknown } = {}): Promise<HttpResult> {
  return httpGet(`${d.adminUrl}${path}`, {
    method: opts.method,
    headers: { ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers },
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
}

for (const workers of ['1', '2']) {
  t.test(`--workers ${workers}: a mode edit a reload would refuse is refused before writing`, async (t) => {
    const upstream = await startHttpUpstream();
    const template = join(mkdtempSync(join(tmpdir(), 'nbp-template-')), 'deny.html');
    writeFileSync(template, '<p>{{reason}}</p>\n');
    const daemon = await startDaemon({
      config: `services:\n  - name: app\n    protocol: http\n    domains: [app.example.com]\n    target: ${upstream.url}\n`,
      args: ['--workers', workers, '--deny-template', template, ...CROWDSEC_ARGS],
    });
    t.teardown(async () => {
      await daemon.stop();
      await upstream.close();
    });
    const csrf = String((JSON.parse((await admin(daemon, '/api/session')).body) as { csrf_token: string }).csrf_token);
    const put = (mode: string): Promise<HttpResult> =>
      admin(daemon, '/api/services/app/crowdsec', { method: 'PUT', headers: { 'x-csrf-token': csrf }, body: { mode } });

    t.equal((await put('observe')).status, 200, 'an edit with the template readable');

    // The template now has an unknown variable: a reload of any services.yaml would fail on it.
    writeFileSync(template, '<p>{{nope}}</p>\n');
    const before = readFileSync(daemon.configPath, 'utf8');
    const res = await put('enforce');
    t.equal(res.status, 422, res.body);
    t.match(JSON.parse(res.body), { error: /--deny-template.*unknown variable \{\{nope\}\}.*nothing was written/ });
    t.equal(readFileSync(daemon.configPath, 'utf8'), before, 'services.yaml untouched');
    const services = JSON.parse((await admin(daemon, '/api/services')).body) as { services: Array<{ name: string; access: { crowdsec: string } }> };
    t.equal(services.services.find((s) => s.name === 'app')?.access.crowdsec, 'observe', 'the running mode is unchanged');
  });
}
