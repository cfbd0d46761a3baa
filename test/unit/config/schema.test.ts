// config/services.schema.json against the loader: the committed file is what src/config/schema.ts
// generates, and ajv agrees with parseServicesConfig on every shared example and error case,
// except the checks listed below, which a JSON Schema cannot express.
import t from 'tap';
import Ajv from 'ajv';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { parseServicesConfig, loadServicesConfig } from '../../../src/config/load';
import { servicesSchema, servicesSchemaText } from '../../../src/config/schema';
import { toServicesDocument } from '../../../src/config/to-document';
import { CS, ERROR_CASES, F, VALID_CASES } from '../../harness/config-cases';

const ROOT = resolve(__dirname, '..', '..', '..');
const SCHEMA_FILE = join(ROOT, 'config', 'services.schema.json');
const EXAMPLE = join(ROOT, 'config', 'services.yaml');

/** Errors found while reading YAML, before there is a document to validate. */
export const YAML_LEVEL = ['YAML syntax error', 'duplicate YAML key', 'two YAML documents', 'non-string key'];

/** Loader checks a JSON Schema cannot express: across list items, after canonicalisation, or on the settings. */
export const LOADER_ONLY: Record<string, string> = {
  'duplicate names': 'service names unique across services',
  'duplicate domain in one service': 'domains unique after lower-casing',
  'duplicate domain across services': 'a domain belongs to one service',
  'duplicate listen': 'tcp listen addresses unique across services',
  'duplicate IPv6 listen, different spelling': 'listen addresses compared in canonical form',
  'wildcard listen conflicts': '0.0.0.0:P / [::]:P conflict with any other listen on port P',
  'listen conflicts with earlier wildcard': '0.0.0.0:P / [::]:P conflict with any other listen on port P',
  'host bits set': 'CIDR host bits must be zero',
  'IPv6 host bits set': 'CIDR host bits must be zero',
  'CIDR listed twice': 'CIDRs unique after canonicalisation (1.2.3.4 = 1.2.3.4/32)',
  'CIDR in allow and deny': 'a CIDR not in both allow and deny',
  'country twice (case)': 'country codes unique after upper-casing',
  'country in allow and deny': 'a country not in both allow and deny',
  'crowdsec enforce unavailable': 'enforce/observe need CrowdSec configured (flags/env, not the file)',
  'crowdsec observe unavailable': 'enforce/observe need CrowdSec configured (flags/env, not the file)',
  'route path twice': 'route paths unique within a service',
  'route access field': 'CIDR host bits must be zero',
  'auth oidc over plain http': 'http:// issuers only on loopback hosts',
  'auth oidc secret file missing': 'secret files are read at load',
  'auth session too short': 'durations are Go duration text',
  'auth session not a Go duration': 'the schema checks the text loosely; Go duration units are checked by the loader',
  'auth identity header the request needs': 'names compared case-insensitively',
  'appsec unavailable': 'appsec enforce/observe need --appsec-url (flags/env, not the file)',
  'challenge secret file missing': 'secret files are read at load',
};

const ajv = new Ajv({ strict: true, strictRequired: false, allowUnionTypes: true, allErrors: true });
const validate = ajv.compile(servicesSchema());
const schemaSays = (data: unknown): string => (validate(data) ? 'valid' : ajv.errorsText(validate.errors));

t.test('config/services.schema.json is what src/config/schema.ts generates (npm run schema)', async (t) => {
  t.equal(readFileSync(SCHEMA_FILE, 'utf8'), servicesSchemaText());
  t.ok(ajv.validateSchema(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as object), 'a valid draft-07 schema');
});

t.test('config/services.yaml names the schema for yaml-language-server, by a path that exists', async (t) => {
  const first = readFileSync(EXAMPLE, 'utf8').split('\n')[0] ?? '';
  const m = /^# yaml-language-server: \$schema=(\S+)$/.exec(first);
  t.ok(m, `first line: ${first}`);
  t.equal(resolve(dirname(EXAMPLE), m?.[1] ?? ''), SCHEMA_FILE);
});

t.test('every valid example and its normalised form are valid for the schema too', async (t) => {
  const examples: [string, string][] = [
    ['config/services.yaml', readFileSync(EXAMPLE, 'utf8')],
    ...VALID_CASES.map(([what, yaml]): [string, string] => [what, yaml]),
  ];
  for (const [what, yaml] of examples) {
    t.equal(schemaSays(parseYaml(yaml)), 'valid', what);
    const normalised = toServicesDocument(parseServicesConfig(yaml, F, CS));
    t.equal(schemaSays(normalised), 'valid', `${what} (normalised, as validate --json prints it)`);
  }
  const loaded = await loadServicesConfig(EXAMPLE, CS);
  t.equal(schemaSays(toServicesDocument(loaded)), 'valid');
});

t.test('every error case: the schema rejects it too, unless it is listed as loader-only', async (t) => {
  const names = ERROR_CASES.map(([what]) => what);
  for (const listed of [...YAML_LEVEL, ...Object.keys(LOADER_ONLY)]) t.ok(names.includes(listed), `"${listed}" is an error case`);
  for (const [what, yaml] of ERROR_CASES) {
    if (YAML_LEVEL.includes(what)) {
      const docs = parseAllDocuments(yaml, { uniqueKeys: true, stringKeys: true });
      const list = Array.isArray(docs) ? docs : [];
      t.ok(list.length > 1 || list.some((d) => d.errors.length > 0), `${what}: refused while reading YAML`);
      continue;
    }
    const data: unknown = parseYaml(yaml);
    const verdict = schemaSays(data);
    if (what in LOADER_ONLY) {
      t.equal(verdict, 'valid', `${what}: loader only (${LOADER_ONLY[what]}), the schema lets it through`);
    } else {
      t.not(verdict, 'valid', `${what}: schema rejects it (${verdict})`);
    }
  }
});

t.test('patterns: values at the edges', async (t) => {
  const svc = (fields: string): unknown => parseYaml(`services:\n  - { name: a, ${fields} }\n`);
  const httpSvc = (domain: string, target = 'http://a:1'): unknown => svc(`protocol: http, domains: ["${domain}"], target: "${target}"`);
  const ok: [string, unknown][] = [
    ['63-character label', httpSvc(`${'a'.repeat(63)}.example.com`)],
    ['port 65535', httpSvc('a.example.com', 'http://a:65535')],
    ['IPv4 target', httpSvc('a.example.com', 'https://192.168.0.1')],
    ['label ending in digits', httpSvc('a.example.com', 'http://host1')],
    ['listen with a zone', svc('protocol: tcp, listen: "[fe80::1%eth0]:22", target: "a:1"')],
    ['IPv4-mapped target', svc('protocol: tcp, listen: "0.0.0.0:1", target: "[::ffff:1.2.3.4]:22"')],
  ];
  for (const [what, data] of ok) t.equal(schemaSays(data), 'valid', what);
  const bad: [string, unknown][] = [
    ['64-character label', httpSvc(`${'a'.repeat(64)}.example.com`)],
    ['wildcard with an IPv4 address', httpSvc('*.1.2.3.4')],
    ['port 65536', httpSvc('a.example.com', 'http://a:65536')],
    ['port 0', httpSvc('a.example.com', 'http://a:0')],
    ['leading-zero port', httpSvc('a.example.com', 'http://a:080')],
    ['[::] target', svc('protocol: tcp, listen: "0.0.0.0:1", target: "[::]:22"')],
    ['http target with a zone', httpSvc('a.example.com', 'http://[fe80::1%eth0]:80')],
    ['invalid IPv6', svc('protocol: tcp, listen: "[1:2:3:4:5:6:7:8:9]:1", target: "a:1"')],
  ];
  for (const [what, data] of bad) t.not(schemaSays(data), 'valid', what);
});
