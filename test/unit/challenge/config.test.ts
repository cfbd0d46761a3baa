// access.challenge in services.yaml: the provider long form reads its secret file (relative to
// services.yaml), keeps it out of the document form, and a route overrides the service's mode.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseServicesConfig } from '../../../src/config/load';
import { toServicesDocument } from '../../../src/config/to-document';
import type { HttpServiceConfig } from '../../../src/config/types';

t.test('provider long form, route override, document form', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nbp-challenge-config-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'turnstile.secret'), '0x4AAA-secret-value\n');
  const yaml = `services:
  - name: web
    protocol: http
    domains: [app.example.com]
    target: http://127.0.0.1:3000
    access:
      crowdsec: enforce
      challenge: { mode: turnstile, site_key: 0x4AAA-site, secret_file: turnstile.secret }
    routes:
      - path: /api/
        access: { challenge: off }
      - path: /docs/
        access: { challenge: pow }
`;
  const config = parseServicesConfig(yaml, join(dir, 'services.yaml'), { crowdsecAvailable: true });
  const web = config.services[0] as HttpServiceConfig;
  t.same(web.access.challenge, { mode: 'turnstile', siteKey: '0x4AAA-site', secretFile: join(dir, 'turnstile.secret'), secret: '0x4AAA-secret-value' });
  t.same(
    web.routes?.map((r) => [r.path, r.access.challenge.mode, r.access.crowdsec]),
    [
      ['/docs/', 'pow', 'enforce'],
      ['/api/', 'off', 'enforce'],
    ],
  );
  const doc = JSON.stringify(toServicesDocument(config));
  t.notMatch(doc, /secret-value/, 'the secret never leaves its file');
  t.match(doc, /"challenge":\{"mode":"turnstile","site_key":"0x4AAA-site","secret_file":"[^"]*turnstile\.secret"\}/);
});
