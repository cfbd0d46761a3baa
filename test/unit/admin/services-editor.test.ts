// The services.yaml editor on real temp files: only the value changes, every layout the loader
// accepts is handled, and anything invalid is refused without writing.
import t from 'tap';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, statSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setCrowdsecMode, versionOf } from '../../../src/admin/services-editor';
import { parseServicesConfig } from '../../../src/config/load';
import type { CrowdSecMode, ServicesConfig } from '../../../src/config/types';
import type * as EditorModule from '../../../src/admin/services-editor';

/** The reload's check (ConfigReloader.validate) is parseServicesConfig with the process's options. */
const check =
  (crowdsecAvailable: boolean) =>
  (text: string): ServicesConfig =>
    parseServicesConfig(text, 'services.yaml', { crowdsecAvailable });
const OPTS = check(true);

function fileWith(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'nbp-editor-'));
  const file = join(dir, 'services.yaml');
  writeFileSync(file, text);
  return file;
}

const head = (access: string): string => `# managed by hand
services:
  - name: web   # public site
    protocol: http
    domains:
      - web.example.com
    target: http://127.0.0.1:3000
${access}`;

const cases: { name: string; before: string; mode: CrowdSecMode; after: string }[] = [
  {
    name: 'block value with a comment',
    before: head('    access:\n      crowdsec: observe   # audit first\n'),
    mode: 'enforce',
    after: head('    access:\n      crowdsec: enforce   # audit first\n'),
  },
  {
    name: 'quoted value',
    before: head('    access:\n      crowdsec: "observe"\n'),
    mode: 'off',
    after: head('    access:\n      crowdsec: off\n'),
  },
  {
    name: 'flow map',
    before: head('    access: { cidr: { deny: [10.0.0.0/8] }, crowdsec: off }\n'),
    mode: 'observe',
    after: head('    access: { cidr: { deny: [10.0.0.0/8] }, crowdsec: observe }\n'),
  },
  {
    name: 'access without crowdsec (block)',
    before: head('    access:\n      # only networks\n      cidr:\n        deny: [10.0.0.0/8]\n'),
    mode: 'enforce',
    after: head('    access:\n      # only networks\n      crowdsec: enforce\n      cidr:\n        deny: [10.0.0.0/8]\n'),
  },
  {
    name: 'access without crowdsec (flow)',
    before: head('    access: { countries: { deny: [RU] } }\n'),
    mode: 'observe',
    after: head('    access: { crowdsec: observe, countries: { deny: [RU] } }\n'),
  },
  {
    name: 'no access section',
    before: head('    # nothing yet\n'),
    mode: 'observe',
    after: head('    access:\n      crowdsec: observe\n    # nothing yet\n'),
  },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    const file = fileWith(c.before);
    chmodSync(file, 0o640);
    const res = await setCrowdsecMode(file, 'web', c.mode, versionOf(c.before), OPTS);
    t.match(res, { ok: true, changed: true });
    t.equal(readFileSync(file, 'utf8'), c.after);
    t.equal(statSync(file).mode & 0o777, 0o640, 'the file mode is kept');
    t.same(readdirSync(join(file, '..')), ['services.yaml'], 'no temp file left');
  });
}

t.test('same mode: nothing written', async (t) => {
  const text = head('    access:\n      crowdsec: observe\n');
  const file = fileWith(text);
  const before = statSync(file).mtimeMs;
  t.match(await setCrowdsecMode(file, 'web', 'observe', undefined, OPTS), { ok: true, changed: false, version: versionOf(text) });
  t.equal(statSync(file).mtimeMs, before);
});

t.test('refusals', async (t) => {
  const text = head('    access:\n      crowdsec: observe\n');
  const file = fileWith(text);
  t.match(await setCrowdsecMode(file, 'web', 'enforce', '0000000000000000', OPTS), {
    ok: false,
    status: 409,
    message: /changed on disk since this page was loaded/,
  });
  t.match(await setCrowdsecMode(file, 'nope', 'enforce', undefined, OPTS), { ok: false, status: 404 });
  t.match(await setCrowdsecMode(file, 'web', 'enforce', undefined, check(false)), { ok: false, status: 422, message: /needs CrowdSec/ });
  t.equal(readFileSync(file, 'utf8'), text, 'untouched');
  const broken = fileWith('services: [\n');
  t.match(await setCrowdsecMode(broken, 'web', 'enforce', undefined, OPTS), { ok: false, status: 422 });
});

t.test('a save on disk between the version check and the rename is not overwritten', async (t) => {
  const text = head('    access:\n      crowdsec: observe\n');
  const file = fileWith(text);
  const handEdit = text.replace('# managed by hand', '# managed by hand, saved in an editor just now');
  // The real file system, except that the moment the editor opens its temp file (after it has
  // checked the version, before it renames), someone else saves services.yaml.
  const fsp = await import('node:fs/promises');
  let saved = false;
  const { setCrowdsecMode: racing } = t.mockRequire<typeof EditorModule>('../../../src/admin/services-editor', {
    'node:fs/promises': {
      ...fsp,
      open: async (...args: Parameters<typeof fsp.open>) => {
        const handle = await fsp.open(...args);
        if (!saved && String(args[0]).endsWith('.tmp')) {
          saved = true;
          writeFileSync(file, handEdit);
        }
        return handle;
      },
    },
  });
  const result = await racing(file, 'web', 'enforce', versionOf(text), OPTS);
  t.ok(saved, 'the save happened inside the edit');
  t.match(result, { ok: false, status: 409, message: /changed on disk/ });
  t.equal(readFileSync(file, 'utf8'), handEdit, 'the hand edit is intact');
  t.same(
    readdirSync(dirname(file)).filter((n) => n.endsWith('.tmp')),
    [],
    'no temp file left',
  );
});
