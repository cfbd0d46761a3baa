// `validate --json` (toServicesDocument) prints the whole resolved service: its keys are the schema's
// for the service's protocol, every field of the typed service has its key, and loading the document
// gives the same services again (serviceEquals), every field set or left to its default.
import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseServicesConfig, serviceEquals } from '../../../src/config/load';
import { servicesSchema } from '../../../src/config/schema';
import { serviceKeys, toServicesDocument } from '../../../src/config/to-document';
import type { ServicesConfig } from '../../../src/config/types';
import { CS, F, VALID_CASES } from '../../harness/config-cases';

const EXAMPLE = resolve(__dirname, '..', '..', '..', 'config', 'services.yaml');
const dir = mkdtempSync(join(tmpdir(), 'nbp-to-document-'));
const template = join(dir, 'page.html');
writeFileSync(template, '<p>{{reason}}</p>\n');

/** Every field of an http service set away from its default. */
const EVERY_FIELD = `services:
  - name: web
    protocol: http
    domains: [app.example.com]
    target: https://backend.internal:8443
    access: { cidr: { allow: [10.0.0.0/8] }, countries: { deny: [RU] }, crowdsec: observe }
    tls: { cert: /etc/certs/web.crt, key: /etc/certs/web.key }
    redirect_https: false
    upstream_tls: { ca: /etc/certs/ca.pem, insecure_skip_verify: false, server_name: backend.example.com }
    deny: { status: 451, template: ${template}, contact_url: "mailto:ops@example.com" }
    forward_verdict: true
  - name: moved
    protocol: http
    domains: [moved.example.com]
    target: http://127.0.0.1:3000
    tls: acme
    deny: { redirect: "https://status.example.com/", status: 303 }
  - name: ssh
    protocol: tcp
    listen: "[::]:2222"
    target: 127.0.0.1:22
`;

const snake = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const schemaServiceKeys = (): string[] => {
  const def = (servicesSchema() as { definitions: { service: { properties: Record<string, unknown> } } }).definitions.service;
  return Object.keys(def.properties);
};

function cases(): Array<[string, ServicesConfig]> {
  return [
    ['every field', parseServicesConfig(EVERY_FIELD, join(dir, F), CS)],
    ['config/services.yaml', parseServicesConfig(readFileSync(EXAMPLE, 'utf8'), EXAMPLE, CS)],
    ...VALID_CASES.map(([what, yaml]): [string, ServicesConfig] => [what, parseServicesConfig(yaml, join(dir, F), CS)]),
  ];
}

t.test("a service's keys are the schema's for its protocol, and cover every typed field", async (t) => {
  t.same([...new Set([...serviceKeys('http'), ...serviceKeys('tcp')])].sort(), schemaServiceKeys().sort(), 'http and tcp keys make up the schema');
  for (const [what, config] of cases()) {
    const doc = toServicesDocument(config);
    config.services.forEach((svc, i) => {
      const printed = Object.keys(doc.services[i] ?? {});
      // One target or a pool, never both; routes and auth only when the service has them.
      const notPrinted = new Set(svc.pool === undefined ? ['targets', 'balance', 'health'] : ['target']);
      if (svc.protocol === 'http' && svc.routes === undefined) notPrinted.add('routes');
      if (svc.protocol === 'http' && svc.auth === undefined) notPrinted.add('auth');
      const expected = serviceKeys(svc.protocol).filter((k) => !notPrinted.has(k));
      t.same(printed, expected, `${what}: ${svc.name} has every key of a ${svc.protocol} service`);
      const missing = Object.keys(svc)
        .map(snake)
        // A pool is printed as targets, balance and health.
        .map((k) => (k === 'pool' ? 'targets' : k))
        .filter((k) => !printed.includes(k) && !(k === 'target' && svc.pool !== undefined));
      t.same(missing, [], `${what}: ${svc.name}: no typed field left out`);
    });
  }
});

t.test('loading the document gives the same services', async (t) => {
  for (const [what, config] of cases()) {
    const text = JSON.stringify(toServicesDocument(config));
    const again = parseServicesConfig(text, join(dir, F), CS);
    t.equal(again.services.length, config.services.length, what);
    config.services.forEach((svc, i) => {
      const other = again.services[i];
      t.ok(other !== undefined && serviceEquals(svc, other), `${what}: ${svc.name}`);
    });
    t.equal(JSON.stringify(toServicesDocument(again)), text, `${what}: a fixed point`);
  }
});

t.test('the fields the summary used to leave out', async (t) => {
  const [web, moved] = toServicesDocument(parseServicesConfig(EVERY_FIELD, join(dir, F), CS)).services;
  t.match(web, {
    target: 'https://backend.internal:8443',
    tls: { cert: '/etc/certs/web.crt', key: '/etc/certs/web.key' },
    redirect_https: false,
    upstream_tls: { ca: '/etc/certs/ca.pem', insecure_skip_verify: false, server_name: 'backend.example.com' },
    deny: { status: 451, template, contact_url: 'mailto:ops@example.com' },
    forward_verdict: true,
  });
  t.match(moved, { tls: 'acme', redirect_https: true, deny: { redirect: 'https://status.example.com/', status: 303 } });
});
