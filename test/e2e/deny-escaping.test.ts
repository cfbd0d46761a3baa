// The deny page's values reach the browser HTML-escaped (issue 30): a contact URL with a query
// string is the one value an operator writes that carries "&"; the built-in page and a template
// must both send it as "&amp;", so the link works and nothing else is read as markup.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { httpGet } from '../harness/clients';
import { startDaemon } from '../harness/daemon';
import { startHttpUpstream, type HttpUpstream } from '../harness/upstreams';

const CONTACT = 'https://help.example.com/blocked?from=proxy&lang=en';

const service = (name: string, upstream: HttpUpstream, deny: string): string => `  - name: ${name}
    protocol: http
    domains: [${name}.example.com]
    target: ${upstream.url}
    access: { cidr: { deny: [127.0.0.2] } }
    deny: ${deny}
`;

t.test('deny page values are HTML-escaped, in the built-in page and in a template', async (t) => {
  const upstream = await startHttpUpstream();
  const config = (withTemplate: boolean) =>
    `services:\n${service('web', upstream, `{ contact_url: "${CONTACT}" }`)}${withTemplate ? service('custom', upstream, `{ template: page.html, contact_url: "${CONTACT}" }`) : ''}`;
  const daemon = await startDaemon({ config: config(false) });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
  });
  writeFileSync(join(daemon.dir, 'page.html'), '<a href="{{contact_url}}">help</a> {{reason}}\n');
  daemon.writeConfig(config(true));
  daemon.signal('SIGHUP');
  await daemon.waitFor((l) => l.msg === 'config reloaded' && l.services === 2, 10_000, 'reload with the template');

  const builtin = await httpGet(`${daemon.httpUrl}/`, { host: 'web.example.com', from: '127.0.0.2', headers: { accept: 'text/html' } });
  t.equal(builtin.status, 403);
  t.match(builtin.body, '<a href="https://help.example.com/blocked?from=proxy&amp;lang=en">', 'the built-in page');
  t.notMatch(builtin.body, 'proxy&lang', 'no raw "&"');

  const custom = await httpGet(`${daemon.httpUrl}/`, { host: 'custom.example.com', from: '127.0.0.2', headers: { accept: 'text/html' } });
  t.equal(custom.status, 403);
  t.equal(custom.body, '<a href="https://help.example.com/blocked?from=proxy&amp;lang=en">help</a> blocked by network policy\n', 'the template');
});
