// deny and forward_verdict in services.yaml: typed results, one-line errors naming file, service
// and field, template files read at load, and the JSON Schema agreeing on what it can check.
import t from 'tap';
import Ajv from 'ajv';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError, parseServicesConfig, serviceEquals, type LoadOptions } from '../../../src/config/load';
import { servicesSchema } from '../../../src/config/schema';
import type { HttpServiceConfig } from '../../../src/config/types';
import { renderDenyTemplate } from '../../../src/util/deny-template';
import { CS, http, tcp } from '../../harness/config-cases';

const dir = mkdtempSync(join(tmpdir(), 'nbp-deny-'));
const F = join(dir, 'services.yaml');
writeFileSync(join(dir, 'page.html'), '<h1>{{reason}}</h1><p>{{request_id}}</p>');
writeFileSync(join(dir, 'other.html'), '<h1>other {{request_id}}</h1>');
writeFileSync(join(dir, 'unknown.html'), '<p>{{ip}}</p>');
writeFileSync(join(dir, 'big.html'), 'x'.repeat(64 * 1024 + 1));
writeFileSync(join(dir, 'binary.html'), Buffer.from([0xff, 0xfe, 0x00]));

const ajv = new Ajv({ strict: true, strictRequired: false, allowUnionTypes: true, allErrors: true });
const validate = ajv.compile(servicesSchema());

function web(yaml: string, opts: LoadOptions = CS): HttpServiceConfig {
  return parseServicesConfig(yaml, F, opts).services[0] as HttpServiceConfig;
}

function errorOf(yaml: string, opts: LoadOptions = CS): string {
  try {
    parseServicesConfig(yaml, F, opts);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

t.test('defaults: the built-in page with 403, no contact link, forward_verdict off', async (t) => {
  const s = web(http());
  t.strictSame(s.deny, { kind: 'page', status: 403, template: undefined });
  t.equal(s.forwardVerdict, false);
  t.strictSame(web(http('    deny:\n    forward_verdict:\n')).deny, { kind: 'page', status: 403, template: undefined }, 'empty values: defaults');
});

t.test('a page: status, template read and compiled at load (relative to services.yaml), contact link', async (t) => {
  const s = web(http('    deny: { status: 429, template: page.html, contact_url: "mailto:admin@example.com" }\n    forward_verdict: true\n'));
  t.equal(s.forwardVerdict, true);
  if (s.deny.kind !== 'page' || s.deny.template === undefined) throw new Error('expected a page with a template');
  t.equal(s.deny.status, 429);
  t.equal(s.deny.contactUrl, 'mailto:admin@example.com');
  t.equal(s.deny.templatePath, join(dir, 'page.html'));
  t.equal(
    renderDenyTemplate(s.deny.template, { reason: 'r<', reason_code: '', client_ip: '', request_id: 'id', time: '', status: '', contact_url: '' }),
    '<h1>r&lt;</h1><p>id</p>',
  );
});

t.test('a redirect: 302 by default, or 303/307', async (t) => {
  t.strictSame(web(http('    deny: { redirect: "https://example.com/blocked?from=proxy" }\n')).deny, {
    kind: 'redirect',
    status: 302,
    location: 'https://example.com/blocked?from=proxy',
  });
  t.match(web(http('    deny: { redirect: "http://example.com/", status: 307 }\n')).deny, { kind: 'redirect', status: 307 });
});

t.test('--deny-template is the page of every service without its own template', async (t) => {
  const opts = { ...CS, denyTemplate: join(dir, 'other.html') };
  const cfg = parseServicesConfig(
    `${http('    deny: { status: 451 }\n')}  - name: own\n    protocol: http\n    domains: [own.example.com]\n    target: http://127.0.0.1:3001\n    deny: { template: page.html }\n`,
    F,
    opts,
  );
  const [a, b] = cfg.services as [HttpServiceConfig, HttpServiceConfig];
  t.match(a.deny, { kind: 'page', status: 451, template: { source: '<h1>other {{request_id}}</h1>' } });
  t.match(b.deny, { kind: 'page', status: 403, template: { source: '<h1>{{reason}}</h1><p>{{request_id}}</p>' } });
  t.equal(
    errorOf(http(), { ...CS, denyTemplate: join(dir, 'missing.html') }),
    `${F}: --deny-template / NB_PROXY_DENY_TEMPLATE: cannot read ${join(dir, 'missing.html')} (ENOENT)`,
  );
  t.equal(
    errorOf(http(), { ...CS, denyTemplate: join(dir, 'unknown.html') }),
    `${F}: --deny-template / NB_PROXY_DENY_TEMPLATE: ${join(dir, 'unknown.html')}: unknown variable {{ip}}; known: reason, reason_code, client_ip, request_id, time, status, contact_url`,
  );
});

t.test('a changed template text, status, link or forward_verdict makes the service differ on reload', async (t) => {
  const base = http('    deny: { template: page.html }\n');
  t.ok(serviceEquals(web(base), web(base)));
  const before = web(base);
  writeFileSync(join(dir, 'page2.html'), 'v1 {{request_id}}');
  const v1 = web(http('    deny: { template: page2.html }\n'));
  writeFileSync(join(dir, 'page2.html'), 'v2 {{request_id}}');
  t.notOk(serviceEquals(v1, web(http('    deny: { template: page2.html }\n'))), 'same path, new text');
  t.notOk(serviceEquals(before, web(http('    deny: { template: page.html, status: 404 }\n'))));
  t.notOk(serviceEquals(before, web(http('    deny: { template: page.html, contact_url: "https://example.com/help" }\n'))));
  t.notOk(serviceEquals(before, web(http('    deny: { template: page.html }\n    forward_verdict: true\n'))));
  t.notOk(serviceEquals(web(http('    deny: { redirect: "https://a.example/" }\n')), web(http('    deny: { redirect: "https://b.example/" }\n'))));
  t.notOk(serviceEquals(web(http('    deny: { redirect: "https://a.example/" }\n')), web(http())));
});

/** [what, yaml, exact message, the schema rejects it too] */
const ERRORS: [string, string, string, boolean][] = [
  ['deny not a mapping', http('    deny: 403\n'), 'field "deny": must be a mapping ({ status, template, contact_url } or { redirect }); got 403', true],
  [
    'unknown deny key',
    http('    deny: { templte: x.html }\n'),
    'field "deny.templte": unknown key "templte" (did you mean "template"?); allowed keys: status, template, contact_url, redirect',
    true,
  ],
  ['status below 400', http('    deny: { status: 200 }\n'), 'field "deny.status": must be an HTTP error status from 400 to 599 (e.g. 403), got 200', true],
  [
    'status not a number',
    http('    deny: { status: "403" }\n'),
    'field "deny.status": must be an HTTP error status from 400 to 599 (e.g. 403), got "403"',
    true,
  ],
  [
    'status not an integer',
    http('    deny: { status: 403.5 }\n'),
    'field "deny.status": must be an HTTP error status from 400 to 599 (e.g. 403), got 403.5',
    true,
  ],
  ['missing template file', http('    deny: { template: nope.html }\n'), `field "deny.template": cannot read ${join(dir, 'nope.html')} (ENOENT)`, false],
  ['template is a directory', http(`    deny: { template: ${JSON.stringify(dir)} }\n`), `field "deny.template": cannot read ${dir} (EISDIR)`, false],
  [
    'unknown template variable',
    http('    deny: { template: unknown.html }\n'),
    `field "deny.template": ${join(dir, 'unknown.html')}: unknown variable {{ip}}; known: reason, reason_code, client_ip, request_id, time, status, contact_url`,
    false,
  ],
  [
    'template too big',
    http('    deny: { template: big.html }\n'),
    `field "deny.template": ${join(dir, 'big.html')} is 65537 bytes; a template may have at most 65536`,
    false,
  ],
  ['template not UTF-8', http('    deny: { template: binary.html }\n'), `field "deny.template": ${join(dir, 'binary.html')} is not UTF-8 text`, false],
  ['empty template path', http('    deny: { template: "" }\n'), 'field "deny.template": must not be empty (a file path)', true],
  [
    'contact_url not a URL',
    http('    deny: { contact_url: "admin at example" }\n'),
    'field "deny.contact_url": "admin at example" is not an absolute URL, e.g. "mailto:admin@example.com"',
    true,
  ],
  [
    'contact_url javascript:',
    http('    deny: { contact_url: "javascript:alert(1)" }\n'),
    'field "deny.contact_url": "javascript:alert(1)" must be an http:, https: or mailto: URL, e.g. "mailto:admin@example.com"',
    true,
  ],
  [
    'redirect not a URL',
    http('    deny: { redirect: "/blocked" }\n'),
    'field "deny.redirect": "/blocked" is not an absolute URL, e.g. "https://example.com/blocked"',
    true,
  ],
  [
    'redirect ftp',
    http('    deny: { redirect: "ftp://example.com/" }\n'),
    'field "deny.redirect": "ftp://example.com/" must be an http: or https: URL, e.g. "https://example.com/blocked"',
    true,
  ],
  [
    'redirect with a template',
    http('    deny: { redirect: "https://example.com/", template: page.html }\n'),
    'field "deny.template": is not allowed with deny.redirect: a redirected client never sees a page',
    true,
  ],
  [
    'redirect with a contact link',
    http('    deny: { redirect: "https://example.com/", contact_url: "https://example.com/help" }\n'),
    'field "deny.contact_url": is not allowed with deny.redirect: a redirected client never sees a page',
    true,
  ],
  [
    'redirect with 403',
    http('    deny: { redirect: "https://example.com/", status: 403 }\n'),
    'field "deny.status": 403 is not a redirect status for deny.redirect: use one of 302, 303, 307',
    true,
  ],
  ['forward_verdict not a boolean', http('    forward_verdict: "yes"\n'), 'field "forward_verdict": must be true or false, got "yes"', true],
  [
    'deny on tcp',
    tcp('    deny: { status: 403 }\n'),
    'field "deny": is not allowed for protocol tcp: a denied TCP connection is closed without an answer',
    true,
  ],
  [
    'forward_verdict on tcp',
    tcp('    forward_verdict: true\n'),
    'field "forward_verdict": is not allowed for protocol tcp: a denied TCP connection is closed without an answer',
    true,
  ],
];

t.test('errors: one line naming file, service and field; the schema agrees where it can tell', async (t) => {
  for (const [what, yaml, message, schemaRejects] of ERRORS) {
    const service = yaml.includes('protocol: tcp') ? 'ssh' : 'web';
    t.equal(errorOf(yaml), `${F}: service "${service}": ${message}`, what);
    t.equal(validate(parseYaml(yaml)), !schemaRejects, `${what}: the schema ${schemaRejects ? 'rejects' : 'cannot check'} it`);
  }
});

t.test('the schema accepts every valid form', async (t) => {
  for (const extra of [
    '    deny: { status: 429, template: page.html, contact_url: "https://example.com/help" }\n    forward_verdict: true\n',
    '    deny: { redirect: "https://example.com/blocked", status: 303 }\n',
    '    deny:\n    forward_verdict: false\n',
  ]) {
    t.doesNotThrow(() => web(http(extra)), extra);
    t.ok(validate(parseYaml(http(extra))), `${extra}: ${ajv.errorsText(validate.errors)}`);
  }
});
