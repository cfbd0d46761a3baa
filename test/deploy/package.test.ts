// The npm package: `npm pack` on a copy of the sources (its prepack builds dist/), then a global
// install of the tarball into an empty prefix, and the installed command run from there.
import t from 'tap';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'nbp-pack-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 240_000 });
}

const SYSTEMD_FILES = ['docker/netbird-proxy.service', 'docker/netbird-proxy.sysusers', 'docker/netbird-proxy.logrotate'];

interface PackResult {
  filename: string;
  files: { path: string }[];
}

// A copy, so that prepack's build does not rewrite the dist/ that other test files are running.
const src = join(work, 'src-copy');
mkdirSync(src);
for (const entry of ['package.json', 'package-lock.json', 'tsconfig.json', 'README.md', 'src', 'bin', 'config', 'docker']) {
  cpSync(join(ROOT, entry), join(src, entry), { recursive: true });
}
symlinkSync(join(ROOT, 'node_modules'), join(src, 'node_modules'), 'dir');
const out = join(work, 'out');
mkdirSync(out);

const pack = run('npm', ['pack', '--json', '--pack-destination', out], src);
let packed: PackResult | undefined;
t.test('npm pack builds dist/ and packs only what runs', async (t) => {
  t.equal(pack.status, 0, pack.stderr);
  const json = pack.stdout.slice(pack.stdout.indexOf('\n[') + 1);
  packed = (JSON.parse(json.startsWith('[') ? json : pack.stdout) as PackResult[])[0];
  if (packed === undefined) throw new Error('npm pack printed no result');
  const files = packed.files.map((f) => f.path).sort();
  t.ok(files.includes('dist/cli.js'), 'dist/cli.js (built by prepack)');
  t.ok(files.includes('dist/commands/validate.js'));
  t.ok(files.includes('bin/netbird-proxy'));
  t.ok(files.includes('config/services.yaml'), 'the example config');
  t.ok(files.includes('config/services.schema.json'), 'the schema it names');
  for (const f of SYSTEMD_FILES) t.ok(files.includes(f), `${f} (docs/operations.md installs it from the package)`);
  t.ok(files.includes('dist/admin/ui/index.html') && files.includes('dist/admin/ui/app.css'), 'the admin UI page and style');
  const unexpected = files.filter(
    (f) =>
      !(f.startsWith('dist/') && f.endsWith('.js')) &&
      !f.startsWith('bin/') &&
      !/^dist\/admin\/ui\/[^/]+\.(html|css|svg)$/.test(f) &&
      !['config/services.yaml', 'config/services.schema.json', 'package.json', 'README.md', ...SYSTEMD_FILES].includes(f),
  );
  t.strictSame(unexpected, [], 'nothing else: no src/, test/, compose files, source maps');
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  t.ok('@ip-location-db/geo-whois-asn-country-mmdb' in pkg.dependencies, 'the default GeoIP database comes as a dependency');
});

t.test('the tarball installs globally into an empty prefix and runs', async (t) => {
  if (packed === undefined) throw new Error('no tarball');
  const prefix = join(work, 'prefix');
  // The npm cache filled by `npm ci` serves every dependency; the registry is only a fallback.
  const install = run('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', join(out, packed.filename)], work);
  t.equal(install.status, 0, install.stderr);
  const bin = join(prefix, 'bin', 'netbird-proxy');
  t.ok(existsSync(bin), bin);
  const pkgDir = join(prefix, 'lib', 'node_modules', 'netbird-proxy');
  const env = { PATH: `${join(prefix, 'bin')}:${process.env.PATH ?? ''}`, HOME: work };

  const help = run('netbird-proxy', ['--help'], work, env);
  t.equal(help.status, 0, help.stderr);
  t.match(help.stdout, 'Usage: netbird-proxy');
  t.match(help.stdout, 'validate');

  const example = join(pkgDir, 'config', 'services.yaml');
  const validate = run('netbird-proxy', ['validate', '--config', example], work, env);
  t.equal(validate.status, 0, validate.stderr);
  t.equal(validate.stderr, '', 'no warning: the bundled country database resolves from the installed package');
  t.match(validate.stdout, `${example}: OK, 2 services`);
  t.ok(existsSync(join(pkgDir, 'config', 'services.schema.json')), 'the schema the example names is installed beside it');

  const bad = run('netbird-proxy', ['validate', '--config', join(work, 'missing.yaml')], work, env);
  t.equal(bad.status, 2);
  const missing = run('netbird-proxy', ['validate'], work, env);
  t.match(missing.stderr, `a commented example of every field: ${example}`, 'a missing default config points at the installed example');
  for (const f of SYSTEMD_FILES) t.ok(existsSync(join(pkgDir, f)), `${f} installed with the package`);
});

t.test("the README's install line puts netbird-proxy on PATH", async (t) => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const line = readme
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .find((l) => l.startsWith('npm install -g '));
  t.equal(line, 'npm install -g "$(npm pack --silent)"', 'the README says how');
  if (line === undefined) return;
  const prefix = join(work, 'readme-prefix');
  const env = { ...process.env, npm_config_prefix: prefix, npm_config_prefer_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false' };
  const install = run('sh', ['-c', line], src, env);
  t.equal(install.status, 0, install.stderr);
  const onPath = run('netbird-proxy', ['--version'], work, { PATH: `${join(prefix, 'bin')}:${process.env.PATH ?? ''}`, HOME: work });
  t.equal(onPath.status, 0, onPath.stderr);
  t.equal(onPath.stdout, '0.1.0\n', 'netbird-proxy --version from PATH');
});

t.test("the README's npx line runs the clone's own binary without installing", async (t) => {
  const r = run('npx', ['--no-install', 'netbird-proxy', 'validate', '--config', 'config/services.yaml', '--proxy-env', '/dev/null'], ROOT);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, 'config/services.yaml: OK, 2 services');
});
