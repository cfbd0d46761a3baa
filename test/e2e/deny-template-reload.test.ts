// Deny template files are watched like services.yaml: editing only a template (a service's
// deny.template or --deny-template) reloads it without a SIGHUP; a template made invalid keeps the running one. One process and --workers 2.
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { httpGet, until } from '../harness/clients';
import { startDaemon, type Daemon } from '../harness/daemon';
import { startHttpUpstream, type HttpUpstream } from '../harness/upstreams';

const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

function service(name: string, upstream: HttpUpstream, extra: string): string {
  return `  - name: ${name}
    protocol: http
    domains: [${name}.example.com]
    target: ${upstream.url}
    access: { cidr: { deny: [127.0.0.2] } }
${extra}`;
}

async function page(daemon: Daemon, name: string): Promise<string> {
  return (await httpGet(`${daemon.httpUrl}/`, { host: `${name}.example.com`, from: '127.0.0.2', headers: { accept: BROWSER } })).body;
}

for (const workers of ['1', '2']) {
  t.test(`--workers ${workers}: editing only a template reloads it`, async (t) => {
    const upstream = await startHttpUpstream();
    const dir = mkdtempSync(join(tmpdir(), 'nbp-templates-'));
    const own = join(dir, 'own.html');
    const global = join(dir, 'global.html');
    writeFileSync(own, '<p>own one {{status}}</p>\n');
    writeFileSync(global, '<p>global one {{status}}</p>\n');
    const daemon = await startDaemon({
      config: `services:\n${service('custom', upstream, `    deny: { template: ${own} }\n`)}${service('plain', upstream, '')}`,
      args: ['--workers', workers, '--deny-template', global],
    });
    t.teardown(async () => {
      await daemon.stop();
      await upstream.close();
    });
    t.match(await page(daemon, 'custom'), /own one 403/);
    t.match(await page(daemon, 'plain'), /global one 403/);

    writeFileSync(own, '<p>own two {{status}}</p>\n');
    await until('the edited template in force', async () => /own two/.test(await page(daemon, 'custom')), 10_000, 50);
    // Each worker answers with the new page (several requests: the kernel spreads them).
    for (let i = 0; i < 6; i++) t.match(await page(daemon, 'custom'), /own two 403/);

    writeFileSync(global, '<p>global two {{status}}</p>\n');
    await until('the edited --deny-template in force', async () => /global two/.test(await page(daemon, 'plain')), 10_000, 50);
    for (let i = 0; i < 6; i++) t.match(await page(daemon, 'plain'), /global two 403/);

    // Invalid now (an unknown placeholder): the reload fails, the running page stays.
    writeFileSync(own, '<p>{{nope}}</p>\n');
    await daemon.waitFor((l) => l.msg === 'config reload failed; keeping the running config' && /own\.html/.test(String(l.err)), 10_000, 'failed reload');
    t.match(await page(daemon, 'custom'), /own two 403/);
  });
}
