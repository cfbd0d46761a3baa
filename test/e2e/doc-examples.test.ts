// Every services.yaml example in README.md and docs/*.md, pasted as written, passes
// `netbird-proxy validate` with no warning. A list item (`- name: …`) is pasted under
// `services:`; a service-body fragment (`deny: …`) into a minimal http service. Examples that use
// enforce/observe get a CrowdSec URL and key (validate connects to nothing); files an example
// names (a deny template) are created beside it, as the user would have them.
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import t from 'tap';
import { REPO_ROOT, runBinary } from '../harness/daemon';

interface Example {
  where: string;
  yaml: string;
}

const DOCS = [
  'README.md',
  ...readdirSync(join(REPO_ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join('docs', f)),
];

/** The example as a whole services.yaml, or undefined when the block is not one (Prometheus, a lone comment). */
function asServicesFile(block: string): string | undefined {
  const lines = block.split('\n');
  const body = lines.filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  if (body.length === 0) return undefined;
  if (body.some((l) => /^services:/.test(l))) return block;
  const indent = Math.min(...body.map((l) => /^ */.exec(l)?.[0].length ?? 0));
  const dedented = lines.map((l) => l.slice(Math.min(indent, /^ */.exec(l)?.[0].length ?? 0))).join('\n');
  const first = body[0]?.trim() ?? '';
  if (first.startsWith('- name:')) return `services:\n${dedented.replace(/^/gm, '  ')}`;
  if (/^(deny|forward_verdict|access|tls|redirect_https|upstream_tls):/.test(first)) {
    return `services:\n  - name: example\n    protocol: http\n    domains: [example.com]\n    target: http://127.0.0.1:3000\n${dedented.replace(/^/gm, '    ')}`;
  }
  return undefined;
}

const examples: Example[] = [];
for (const doc of DOCS) {
  const text = readFileSync(join(REPO_ROOT, doc), 'utf8');
  for (const m of text.matchAll(/```ya?ml\n([\s\S]*?)```/g)) {
    const line = text.slice(0, m.index).split('\n').length;
    const file = asServicesFile(m[1] ?? '');
    if (file !== undefined) examples.push({ where: `${doc}:${line}`, yaml: file });
  }
}

t.test('README and docs have services.yaml examples', async (t) => {
  t.ok(examples.length >= 5, `${examples.length} examples`);
  t.ok(
    examples.some((e) => e.where.startsWith('README.md:') && e.yaml.includes('countries:')),
    "the README's services.yaml",
  );
});

for (const example of examples) {
  t.test(`${example.where} validates as written, with no warning`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'nbp-doc-example-'));
    const config = join(dir, 'services.yaml');
    writeFileSync(config, example.yaml);
    for (const m of example.yaml.matchAll(/template: ([\w.-]+\.html)/g)) writeFileSync(join(dir, m[1] ?? 'x.html'), '<p>{{reason}}</p>\n');
    // Secret files an example names (/run/secrets/...) are made beside it, as the user would have them.
    let yaml = example.yaml;
    for (const m of example.yaml.matchAll(/_file: *([\w/.-]+)/g)) {
      const secret = join(dir, basename(m[1] ?? 'secret'));
      writeFileSync(secret, 'doc-example-secret\n');
      yaml = yaml.replace(m[1] ?? '', secret);
    }
    writeFileSync(config, yaml);
    const crowdsec = /crowdsec: *(enforce|observe)/.test(yaml) ? ['--crowdsec-api-url', 'http://127.0.0.1:8080', '--crowdsec-api-key', 'doc-example-key'] : [];
    const appsec = /appsec: *(enforce|observe|\{ *mode: *(enforce|observe))/.test(yaml)
      ? ['--appsec-url', 'http://127.0.0.1:7422/', '--appsec-api-key', 'doc-example-key']
      : [];
    const r = await runBinary(['validate', '--config', config, '--proxy-env', '/dev/null', ...crowdsec, ...appsec]);
    t.equal(r.stderr, '', 'no error and no warning');
    t.equal(r.code, 0);
    t.match(r.stdout, /: OK, \d+ services?/);
  });
}
