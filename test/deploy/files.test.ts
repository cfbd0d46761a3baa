// Deployment files: docker/Dockerfile, .dockerignore, docker-compose.yml, proxy.env.example,
// scripts/gen-key.js and the CrowdSec acquisition/parser for the access log. No Docker engine
// is needed: the files are parsed, and the shell/node snippets they embed are run directly.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, posix, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parse as parseDotenv } from 'dotenv';
import { CROWDSEC_BIN, CROWDSEC_ROOT, ensureCrowdsec, startLapi } from '../harness/lapi';

const ROOT = resolve(__dirname, '..', '..');
const read = (rel: string): string => readFileSync(join(ROOT, rel), 'utf8');

// ---------------------------------------------------------------------------------------------
// What the CLI reads: SETTINGS from src/settings/options.ts.

interface EnvSetting {
  env: string;
  default?: string;
}

function loadSettings(): { settings: EnvSetting[]; source: string } {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require('../../src/settings/options') as { SETTINGS?: ReadonlyArray<{ env?: string; default?: string }> };
    if (Array.isArray(mod.SETTINGS) && mod.SETTINGS.length > 0) {
      return {
        settings: mod.SETTINGS.filter((s) => typeof s.env === 'string').map((s) => ({ env: s.env as string, default: s.default })),
        source: 'SETTINGS imported from src/settings/options.ts',
      };
    }
  } catch (err) {
    // The module exists but does not load yet (a sibling module in progress): read its text.
    if (existsSync(join(ROOT, 'src/settings/options.ts'))) {
      const text = read('src/settings/options.ts');
      const settings: EnvSetting[] = [];
      for (const m of text.matchAll(/env:\s*'(NB_PROXY_[A-Z0-9_]+)'(?:,\s*default:\s*'([^']*)')?/g)) {
        settings.push({ env: m[1], default: m[2] });
      }
      if (settings.length > 0) {
        return { settings, source: `env names read from the text of src/settings/options.ts (import failed: ${(err as Error).message.split('\n')[0]})` };
      }
    }
  }
  // src/settings/options.ts absent: the list the CLI documents.
  const names = [
    ['NB_PROXY_CONFIG', 'config/services.yaml'],
    ['NB_PROXY_HTTP_ADDR', '0.0.0.0:8080'],
    ['NB_PROXY_ADMIN_ADDR', '127.0.0.1:9090'],
    ['NB_PROXY_CROWDSEC_API_URL'],
    ['NB_PROXY_CROWDSEC_API_KEY'],
    ['NB_PROXY_CROWDSEC_POLL_INTERVAL', '10s'],
    ['NB_PROXY_CROWDSEC_CA_CERT'],
    ['NB_PROXY_CROWDSEC_CERT'],
    ['NB_PROXY_CROWDSEC_KEY'],
    ['NB_PROXY_GEOIP_DB'],
    ['NB_PROXY_TRUSTED_PROXIES'],
    ['NB_PROXY_PROXY_PROTOCOL'],
    ['NB_PROXY_LOG_LEVEL', 'info'],
    ['NB_PROXY_ACCESS_LOG'],
  ];
  return { settings: names.map(([env, def]) => ({ env, default: def })), source: 'hard-coded list (src/settings/options.ts absent)' };
}

const { settings: SETTINGS, source: SETTINGS_SOURCE } = loadSettings();
const CLI_ENV = new Set(SETTINGS.map((s) => s.env));
const defaultOf = (env: string): string | undefined => SETTINGS.find((s) => s.env === env)?.default;
const portOf = (hostPort: string): number => Number(hostPort.slice(hostPort.lastIndexOf(':') + 1));

// ---------------------------------------------------------------------------------------------
// Dockerfile: a small instruction parser (continuations, comments, stages).

interface Instruction {
  cmd: string;
  args: string;
  line: number;
}

interface Stage {
  image: string;
  name?: string;
  instructions: Instruction[];
}

function parseDockerfile(text: string): Stage[] {
  const instructions: Instruction[] = [];
  const lines = text.split(/\r?\n/);
  let buf = '';
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (/^\s*#/.test(line)) continue; // comments, also between continuation lines
    if (buf === '' && line.trim() === '') continue;
    if (buf === '') start = i + 1;
    if (/\\\s*$/.test(line)) {
      buf += line.replace(/\\\s*$/, ' ');
      continue;
    }
    buf += line;
    const m = /^\s*([A-Za-z]+)\s+([\s\S]*)$/.exec(buf);
    if (!m) throw new Error(`Dockerfile line ${start}: cannot parse "${buf}"`);
    instructions.push({ cmd: m[1].toUpperCase(), args: m[2].trim(), line: start });
    buf = '';
  }
  const stages: Stage[] = [];
  // ARGs before the first FROM may be used in FROM lines: ${NAME} takes the ARG's default.
  const globalArgs = new Map<string, string>();
  for (const ins of instructions) {
    if (ins.cmd === 'FROM') {
      const expanded = ins.args.replace(/\$\{(\w+)\}|\$(\w+)/g, (m, a: string | undefined, b: string | undefined) => globalArgs.get(a ?? b ?? '') ?? m);
      const words = expanded.split(/\s+/).filter((w) => !w.startsWith('--'));
      const as = words.findIndex((w) => w.toUpperCase() === 'AS');
      stages.push({ image: words[0], name: as >= 0 ? words[as + 1] : undefined, instructions: [] });
    } else {
      if (stages.length === 0) {
        if (ins.cmd === 'ARG') {
          const m = /^(\w+)=(\S+)$/.exec(ins.args);
          if (m) globalArgs.set(m[1], m[2]);
          continue;
        }
        throw new Error(`Dockerfile line ${ins.line}: ${ins.cmd} before FROM`);
      }
      stages[stages.length - 1].instructions.push(ins);
    }
  }
  return stages;
}

const jsonArray = (s: string): string[] => {
  const v = JSON.parse(s) as unknown;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new Error(`not a JSON string array: ${s}`);
  return v as string[];
};

interface Copy {
  from?: string;
  sources: string[];
  dest: string;
}

function parseCopy(args: string): Copy {
  const words = args.split(/\s+/);
  let from: string | undefined;
  while (words[0]?.startsWith('--')) {
    const w = words.shift() as string;
    if (w.startsWith('--from=')) from = w.slice('--from='.length);
  }
  const rest = words.join(' ');
  const paths = rest.startsWith('[') ? jsonArray(rest) : words;
  return { from, sources: paths.slice(0, -1), dest: paths[paths.length - 1] };
}

/** Absolute paths a COPY creates, given the stage's WORKDIR. */
function copyTargets(c: Copy, workdir: string): string[] {
  const dest = posix.resolve(workdir, c.dest);
  const intoDir = c.dest.endsWith('/') || c.sources.length > 1;
  return c.sources.map((s) => (intoDir ? posix.join(dest, posix.basename(s)) : dest));
}

/** Minimal .dockerignore matcher for the patterns used here (names, *, ** and directories). */
function dockerignored(patterns: string[], rel: string): boolean {
  const toRe = (p: string) =>
    new RegExp(
      '^' +
        p
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*\*\//g, '\u0000')
          .replace(/\*/g, '[^/]*')
          .replace(/\?/g, '[^/]')
          // eslint-disable-next-line no-control-regex -- NUL marks where '**/' stood
          .replace(/\u0000/g, '(?:.*/)?') +
        '$',
    );
  const parts = rel.split('/');
  return patterns.some((p) => {
    const re = toRe(p.replace(/^\/+|\/+$/g, ''));
    // A matching directory excludes everything under it.
    return parts.some((_, i) => re.test(parts.slice(0, i + 1).join('/')));
  });
}

const dockerignorePatterns = (): string[] =>
  read('.dockerignore')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

// ---------------------------------------------------------------------------------------------
// docker-compose.yml helpers.

type Obj = Record<string, unknown>;
/** A compose string as it is with none of its variables set: ${VAR:-default} -> default. */
const withDefaults = (s: string): string => s.replace(/\$\{\w+:-([^}]*)\}/g, '$1');
const compose = (): Obj => parseYaml(read('docker-compose.yml')) as Obj;
const service = (c: Obj, name: string): Obj => {
  const s = (c.services as Obj | undefined)?.[name];
  if (!s || typeof s !== 'object') throw new Error(`docker-compose.yml has no service "${name}"`);
  return s as Obj;
};

interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
}

function mountsOf(svc: Obj): Mount[] {
  return ((svc.volumes as unknown[]) ?? []).map((v) => {
    if (typeof v === 'string') {
      const [source, target, mode] = v.split(':');
      return { source, target, readOnly: (mode ?? '').split(',').includes('ro') };
    }
    const o = v as Obj;
    return { source: String(o.source), target: String(o.target), readOnly: o.read_only === true };
  });
}

function envFilesOf(svc: Obj): string[] {
  const e = svc.env_file;
  const list = e === undefined ? [] : Array.isArray(e) ? e : [e];
  return list.map((x) => (typeof x === 'string' ? x : String((x as Obj).path)));
}

function containerPortsOf(svc: Obj): number[] {
  return ((svc.ports as unknown[]) ?? []).map((p) => {
    if (typeof p === 'object' && p !== null) return Number((p as Obj).target);
    const s = String(p).replace(/\/(tcp|udp)$/, '');
    return Number(s.slice(s.lastIndexOf(':') + 1));
  });
}

function walkStrings(v: unknown, visit: (s: string, path: string) => void, path = ''): void {
  if (typeof v === 'string') visit(v, path);
  else if (Array.isArray(v)) v.forEach((x, i) => walkStrings(x, visit, `${path}[${i}]`));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walkStrings(x, visit, path ? `${path}.${k}` : k);
}

// ---------------------------------------------------------------------------------------------

t.comment(`CLI settings: ${SETTINGS_SOURCE}`);

t.test('Dockerfile', async (t) => {
  const stages = parseDockerfile(read('docker/Dockerfile'));
  t.ok(stages.length >= 2, 'multi-stage (at least two FROM)');
  for (const s of stages) {
    if (stages.some((o) => o.name === s.image)) continue; // FROM <earlier stage>
    const m = /^(?:docker\.io\/)?(?:library\/)?node:(\d+)(?:[.-]|$)/.exec(s.image);
    t.ok(m, `FROM ${s.image} is the official node image`);
    t.equal(m?.[1], '24', `FROM ${s.image} is Node 24 (the active LTS)`);
  }
  const dockerfile = read('docker/Dockerfile');
  t.match(dockerfile, /^ARG NODE_IMAGE=node:24-bookworm-slim$/m, 'ARG NODE_IMAGE=node:24-bookworm-slim before the first FROM');
  const froms = dockerfile.split(/\r?\n/).filter((l) => /^FROM\s/.test(l));
  t.ok(froms.length >= 2 && froms.every((l) => /^FROM \$\{NODE_IMAGE\}(\s|$)/.test(l)), 'every stage is FROM ${NODE_IMAGE}, so a test can substitute the base');
  t.notMatch(dockerfile, /RUN --mount/, 'no BuildKit-only RUN --mount (the legacy builder builds it)');
  const build = stages[0];
  const final = stages[stages.length - 1];
  const buildRuns = build.instructions
    .filter((i) => i.cmd === 'RUN')
    .map((i) => i.args)
    .join('\n');
  t.match(buildRuns, /\bnpm ci\b/, 'build stage runs npm ci');
  t.match(buildRuns, /\bnpm run build\b/, 'build stage runs npm run build');
  t.match(buildRuns, /\bnpm prune --omit=dev\b/, 'build stage prunes dev dependencies');
  t.ok(build.name, 'build stage is named, for COPY --from');

  const users = final.instructions.filter((i) => i.cmd === 'USER');
  t.ok(users.length > 0, 'final stage sets USER');
  const user = users[users.length - 1]?.args.split(':')[0];
  t.notOk(user === undefined || user === 'root' || user === '0', `final USER "${user}" is not root`);

  const entrypoint = final.instructions.filter((i) => i.cmd === 'ENTRYPOINT').pop();
  t.same(entrypoint && jsonArray(entrypoint.args), ['netbird-proxy'], 'ENTRYPOINT ["netbird-proxy"]');
  const cmd = final.instructions.filter((i) => i.cmd === 'CMD').pop();
  const cmdArgs = cmd ? jsonArray(cmd.args) : [];
  t.equal(cmdArgs[0], '--config', 'CMD passes --config');
  t.equal(cmdArgs[1], '/etc/netbird-proxy/services.yaml', 'CMD config path');

  // Every COPY source exists in the build context (and is not ignored), or is made by the build stage.
  const ignore = dockerignorePatterns();
  const tsconfig = JSON.parse(read('tsconfig.json')) as { compilerOptions?: { outDir?: string } };
  const outDir = (tsconfig.compilerOptions?.outDir ?? '').replace(/^\.\//, '');
  t.equal(outDir, 'dist', 'tsc writes dist/');
  const produced = new Map<string, Set<string>>(); // stage name -> absolute paths it has
  const workdirs = new Map<Stage, string>();
  for (const stage of stages) {
    let workdir = '/';
    const has = new Set<string>();
    for (const ins of stage.instructions) {
      if (ins.cmd === 'WORKDIR') workdir = posix.resolve(workdir, ins.args);
      if (ins.cmd === 'RUN') {
        if (/\bnpm ci\b/.test(ins.args)) has.add(posix.join(workdir, 'node_modules'));
        if (/\bnpm run build\b/.test(ins.args)) has.add(posix.join(workdir, outDir));
      }
      if (ins.cmd !== 'COPY' && ins.cmd !== 'ADD') continue;
      const c = parseCopy(ins.args);
      if (c.from !== undefined) {
        const made = produced.get(c.from);
        t.ok(made, `COPY --from=${c.from} names an earlier stage`);
        for (const src of c.sources) {
          const abs = posix.resolve('/', src);
          const ok = [...(made ?? [])].some((p) => abs === p || abs.startsWith(p + '/') || p.startsWith(abs + '/'));
          t.ok(ok, `COPY --from=${c.from} ${src}: produced by that stage`);
          // A directory the stage filled (COPY --from=build /app /app): its contents arrive under dest.
          const dest = posix.resolve(workdir, c.dest);
          for (const p of made ?? []) if (p.startsWith(abs + '/')) has.add(posix.join(dest, p.slice(abs.length + 1)));
        }
      } else {
        for (const src of c.sources) {
          t.ok(existsSync(join(ROOT, src)), `COPY ${src}: exists in the repository`);
          t.notOk(dockerignored(ignore, src.replace(/^\.\//, '').replace(/\/$/, '')), `COPY ${src}: not excluded by .dockerignore`);
        }
      }
      for (const p of copyTargets(c, workdir)) has.add(p);
    }
    workdirs.set(stage, workdir);
    if (stage.name) produced.set(stage.name, has);
    produced.set(String(stages.indexOf(stage)), has);
  }
  // The final stage has what the program needs, where bin/netbird-proxy expects it.
  const finalHas = produced.get(String(stages.length - 1)) ?? new Set<string>();
  const app = workdirs.get(final) ?? '/';
  for (const p of ['package.json', 'node_modules', 'dist', 'bin']) {
    t.ok(finalHas.has(posix.join(app, p)), `final stage has ${posix.join(app, p)}`);
  }
  t.ok(finalHas.has('/etc/netbird-proxy/services.yaml'), 'final stage has /etc/netbird-proxy/services.yaml (the CMD --config path)');
  t.match(read('bin/netbird-proxy'), /\.\.\/dist\/cli\.js/, 'bin/netbird-proxy loads ../dist/cli.js');

  // ENTRYPOINT "netbird-proxy" resolves through PATH to the copied bin directory.
  const envText = final.instructions
    .filter((i) => i.cmd === 'ENV')
    .map((i) => i.args)
    .join(' ');
  const pathValue = /\bPATH=(\S+)/.exec(envText)?.[1] ?? '';
  t.ok(pathValue.split(':').includes(posix.join(app, 'bin')), `ENV PATH contains ${posix.join(app, 'bin')}`);
  const pkg = JSON.parse(read('package.json')) as { bin?: Record<string, string> };
  t.equal(pkg.bin?.['netbird-proxy'], 'bin/netbird-proxy', 'package.json bin is bin/netbird-proxy');

  // The default GeoIP database is a production dependency, so npm prune keeps it.
  const deps = (JSON.parse(read('package.json')) as { dependencies?: Record<string, string> }).dependencies ?? {};
  t.ok(deps['@ip-location-db/geo-whois-asn-country-mmdb'], 'GeoIP database package is a runtime dependency');

  const expose = final.instructions
    .filter((i) => i.cmd === 'EXPOSE')
    .flatMap((i) => i.args.split(/\s+/))
    .map((p) => Number(p.split('/')[0]));
  const httpPort = portOf(defaultOf('NB_PROXY_HTTP_ADDR') ?? '0.0.0.0:8080');
  const adminPort = portOf(defaultOf('NB_PROXY_ADMIN_ADDR') ?? '127.0.0.1:9090');
  t.ok(expose.includes(httpPort), `EXPOSE ${httpPort}`);
  t.ok(expose.includes(adminPort), `EXPOSE ${adminPort}`);

  // Access log directory for the shared volume, writable by the runtime user.
  const runs = final.instructions
    .filter((i) => i.cmd === 'RUN')
    .map((i) => i.args)
    .join('\n');
  t.match(runs, /mkdir -p \/var\/log\/netbird-proxy/, 'creates /var/log/netbird-proxy');
  t.match(runs, new RegExp(`chown ${user}(:\\w+)? /var/log/netbird-proxy`), `/var/log/netbird-proxy belongs to ${user}`);

  const hc = final.instructions.filter((i) => i.cmd === 'HEALTHCHECK').pop();
  t.ok(hc, 'HEALTHCHECK present');
  const hcCmd = /\bCMD\s+(\[[\s\S]*\])\s*$/.exec(hc?.args ?? '')?.[1];
  t.ok(hcCmd, 'HEALTHCHECK CMD is in exec (JSON) form');
  const argv = hcCmd ? jsonArray(hcCmd) : [];
  t.same(argv, ['netbird-proxy', 'healthcheck'], "HEALTHCHECK runs the proxy's own `netbird-proxy healthcheck` (no inline script; the slim image has no curl)");
  t.match(read('src/commands/healthcheck.ts'), /'\/healthz'/, 'the healthcheck command requests /healthz');
});

t.test('HEALTHCHECK command against a live /healthz', async (t) => {
  const stages = parseDockerfile(read('docker/Dockerfile'));
  const hc = stages[stages.length - 1].instructions.filter((i) => i.cmd === 'HEALTHCHECK').pop();
  const argv = jsonArray(/\bCMD\s+(\[[\s\S]*\])\s*$/.exec(hc?.args ?? '')?.[1] ?? '[]');
  t.equal(argv[0], 'netbird-proxy', 'the command on PATH in the image: bin/netbird-proxy');
  const bin = join(ROOT, 'bin/netbird-proxy');
  const run = (adminAddr: string) =>
    new Promise<number | null>((done) => {
      const p = spawn(process.execPath, [bin, ...argv.slice(1)], { env: { ...process.env, NB_PROXY_ADMIN_ADDR: adminAddr }, stdio: 'ignore' });
      const timer = setTimeout(() => p.kill(), 15000);
      p.once('exit', (code) => {
        clearTimeout(timer);
        done(code);
      });
    });

  let status = 200;
  const paths: string[] = [];
  const srv: Server = createServer((req, res) => {
    paths.push(req.url ?? '');
    res.statusCode = req.url === '/healthz' ? status : 404;
    res.end();
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;

  t.equal(await run(`127.0.0.1:${port}`), 0, '200 from /healthz: healthy');
  t.equal(await run(`0.0.0.0:${port}`), 0, 'wildcard admin address is probed on loopback');
  t.same([...new Set(paths)], ['/healthz'], 'requests /healthz');
  status = 503;
  t.equal(await run(`127.0.0.1:${port}`), 1, '503 from /healthz: unhealthy');
  await new Promise<void>((r) => srv.close(() => r()));
  t.equal(await run(`127.0.0.1:${port}`), 1, 'nothing listening: unhealthy');
});

t.test('.dockerignore', async (t) => {
  const patterns = dockerignorePatterns();
  for (const p of ['node_modules', 'proxy.env', 'docker/proxy.env', 'dist', '.git']) {
    t.ok(dockerignored(patterns, p), `excludes ${p}`);
  }
  for (const p of ['package.json', 'package-lock.json', 'tsconfig.json', 'src/cli.ts', 'bin/netbird-proxy', 'config/services.yaml']) {
    t.notOk(dockerignored(patterns, p), `keeps ${p}`);
  }
});

t.test('docker-compose.yml', async (t) => {
  const c = compose();
  const crowdsec = service(c, 'crowdsec');
  const proxy = service(c, 'proxy');
  const declared = Object.keys((c.volumes as Obj | undefined) ?? {});

  t.equal(crowdsec.image, '${NB_CROWDSEC_IMAGE:-crowdsecurity/crowdsec:v1.7.7}', 'crowdsec image: NB_CROWDSEC_IMAGE, default crowdsecurity/crowdsec:v1.7.7');
  t.equal(withDefaults(String(crowdsec.image)), 'crowdsecurity/crowdsec:v1.7.7', 'pinned to v1.7.7 unless overridden');
  t.notOk('name' in c, 'no top-level name: (docker-compose 1.29 rejects it)');
  t.notOk(JSON.stringify(c).includes('"required"'), 'no env_file required: (docker-compose 1.29 rejects it)');
  const csMounts = mountsOf(crowdsec);
  for (const target of ['/var/lib/crowdsec/data', '/etc/crowdsec']) {
    const m = csMounts.find((x) => x.target === target);
    t.ok(m, `crowdsec mounts ${target}`);
    t.ok(m && declared.includes(m.source), `${target} is the named volume "${m?.source}", declared at top level`);
  }
  t.not(
    csMounts.find((x) => x.target === '/var/lib/crowdsec/data')?.source,
    csMounts.find((x) => x.target === '/etc/crowdsec')?.source,
    'data and config are separate volumes',
  );
  const hcTest = ((crowdsec.healthcheck as Obj | undefined)?.test ?? []) as string[] | string;
  t.match(Array.isArray(hcTest) ? hcTest.join(' ') : hcTest, /cscli lapi status/, 'crowdsec healthcheck: cscli lapi status');
  t.match(String((crowdsec.environment as Obj | undefined)?.COLLECTIONS ?? ''), /crowdsecurity\/base-http-scenarios/, 'HTTP scenarios installed');

  // The bouncer key: one docker/proxy.env read by both containers, no compose-time interpolation.
  // Not ./proxy.env, which a local run (npm start) loads: the container's settings stay in compose.
  t.same(envFilesOf(crowdsec), ['docker/proxy.env'], 'crowdsec reads docker/proxy.env');
  t.same(envFilesOf(proxy), ['docker/proxy.env'], 'proxy reads docker/proxy.env, not ./proxy.env');
  const entry = crowdsec.entrypoint as string[];
  t.ok(Array.isArray(entry) && entry[0] === '/bin/bash' && entry[1] === '-c', 'crowdsec entrypoint is a bash -c wrapper');
  const script = entry?.[2] ?? '';
  t.match(script, /export BOUNCER_KEY_netbird_proxy="\$\$key"/, 'exports BOUNCER_KEY_netbird_proxy');
  t.match(script, /key="\$\$\{NB_PROXY_CROWDSEC_API_KEY:-\}"/, 'from NB_PROXY_CROWDSEC_API_KEY');
  t.match(script, /exec \/bin\/bash \/docker_start\.sh/, "hands over to the image's /docker_start.sh");
  // Compose-time interpolation only for the documented optional variables, each with a default
  // (so nothing needs a shell variable or a .env file); every other $ is written $$.
  const interpolated: string[] = [];
  walkStrings(c, (s, path) => {
    for (const m of s.replace(/\$\$/g, '').matchAll(/\$\{?([A-Za-z_]\w*)(:-)?/g)) interpolated.push(`${path}: ${m[1]}${m[2] ? ' (default)' : ''}`);
  });
  t.same(
    interpolated.sort(),
    [
      'services.crowdsec.image: NB_CROWDSEC_IMAGE (default)',
      'services.demo-upstream.build.args.NODE_IMAGE: NB_NODE_IMAGE (default)',
      'services.proxy.build.args.NODE_IMAGE: NB_NODE_IMAGE (default)',
      'services.proxy.ports[0]: NB_HTTP_PORT (default)',
      'services.proxy.ports[1]: NB_HTTPS_PORT (default)',
      'services.proxy.ports[2]: NB_ADMIN_PORT (default)',
    ],
    'interpolation only of NB_CROWDSEC_IMAGE, NB_NODE_IMAGE, NB_HTTP_PORT, NB_HTTPS_PORT, NB_ADMIN_PORT, all with defaults',
  );

  // proxy service
  const build = proxy.build as Obj;
  t.same([build.context, build.dockerfile], ['.', 'docker/Dockerfile'], 'proxy is built from docker/Dockerfile in the repo root');
  t.equal(build.network, 'host', 'the build reaches the package registries (network: host)');
  const nodeArg = withDefaults(String((build.args as Obj | undefined)?.NODE_IMAGE));
  t.equal(nodeArg, /^ARG NODE_IMAGE=(\S+)$/m.exec(read('docker/Dockerfile'))?.[1], "build arg NODE_IMAGE defaults to the Dockerfile's");
  t.equal(proxy.read_only, true, 'proxy runs with a read-only root filesystem');
  t.equal((proxy.environment as Obj | undefined)?.NB_PROXY_ADMIN_ADDR, '0.0.0.0:9090', 'admin listener on every interface inside the container');
  const adminPublished = ((proxy.ports as unknown[]) ?? []).map(String).filter((p) => /:9090$/.test(p));
  t.same(adminPublished.map(withDefaults), ['127.0.0.1:9090:9090'], "admin published on the host's loopback only");
  t.ok(existsSync(join(ROOT, 'docker/Dockerfile')), 'docker/Dockerfile exists');
  t.same(proxy.depends_on, { crowdsec: { condition: 'service_healthy' } }, 'proxy waits for a healthy crowdsec');
  t.equal(proxy.restart, 'unless-stopped', 'proxy restart: unless-stopped');
  const stages = parseDockerfile(read('docker/Dockerfile'));
  const cmd = jsonArray(stages[stages.length - 1].instructions.filter((i) => i.cmd === 'CMD').pop()?.args ?? '[]');
  // config/services.yaml must show up at the CMD's --config path: mounted as the file itself or
  // through its directory (which survives editors that replace the file).
  const cfgPath = cmd[cmd.indexOf('--config') + 1];
  const cfgMount = mountsOf(proxy).find((m) => cfgPath === m.target || cfgPath.startsWith(m.target.replace(/\/$/, '') + '/'));
  t.ok(cfgMount, `a mount covers the CMD --config path ${cfgPath}`);
  const hostPath = cfgMount ? posix.join(cfgMount.source, posix.relative(cfgMount.target, cfgPath)) : '';
  t.equal(posix.normalize(hostPath), 'config/compose/services.yaml', `${cfgPath} is ./config/compose/services.yaml on the host`);
  t.ok(cfgMount?.source.startsWith('./'), 'a bind mount from the repository');
  t.ok(cfgMount?.readOnly, 'read-only');

  const ports = containerPortsOf(proxy);
  const httpPort = portOf(defaultOf('NB_PROXY_HTTP_ADDR') ?? '0.0.0.0:8080');
  t.ok(ports.includes(httpPort), `publishes the HTTP entrypoint ${httpPort}`);
  const services = ((parseYaml(read('config/compose/services.yaml')) as Obj).services ?? []) as Obj[];
  const modes = services.map((x) => String((x.access as Obj | undefined)?.crowdsec ?? 'off'));
  t.ok(modes.includes('enforce') && modes.includes('observe'), 'the compose config has an enforce and an observe service');
  const demo = service(c, 'demo-upstream');
  t.same(demo.profiles, ['demo'], 'demo-upstream belongs to the demo profile');
  for (const x of services.filter((y) => y.protocol === 'http')) {
    t.match(String(x.target), /^http:\/\/demo-upstream:\d+$/, `compose service "${String(x.name)}" targets the demo upstream`);
  }
  for (const s of services.filter((x) => x.protocol === 'tcp')) {
    const port = portOf(String(s.listen));
    t.ok(ports.includes(port), `publishes tcp service "${String(s.name)}" port ${port}`);
  }
  t.notOk(containerPortsOf(crowdsec).length, 'the LAPI is not published on the host');

  // Bind-mounted host files exist.
  for (const svc of [crowdsec, proxy]) {
    for (const m of mountsOf(svc).filter((x) => x.source.startsWith('./'))) {
      t.ok(existsSync(join(ROOT, m.source)), `${m.source} exists`);
    }
  }
});

t.test('environment variable names', async (t) => {
  t.ok(CLI_ENV.size >= 14, `${CLI_ENV.size} variables known`);
  const example = read('proxy.env.example');
  const composeText = read('docker-compose.yml');
  for (const [file, text] of [
    ['proxy.env.example', example],
    ['docker-compose.yml', composeText],
  ] as const) {
    for (const name of new Set(text.match(/\bNB_PROXY_[A-Z0-9_]+/g) ?? [])) {
      t.ok(CLI_ENV.has(name), `${file}: ${name} is read by the CLI`);
    }
  }

  const lines = example.split(/\r?\n/);
  for (const name of CLI_ENV) {
    const idx = lines.findIndex((l) => new RegExp(`^#?${name}=`).test(l));
    t.ok(idx >= 0, `proxy.env.example has ${name}`);
    const above = lines[idx - 1] ?? '';
    t.ok(/^#\s*\S/.test(above) && !/^#?\s*NB_PROXY_[A-Z0-9_]+=/.test(above), `${name} has a comment line above it`);
  }
  const env = parseDotenv(example);
  t.equal(env.NB_PROXY_CROWDSEC_API_URL, 'http://crowdsec:8080', 'LAPI URL is the crowdsec service');
  t.equal(env.NB_PROXY_CROWDSEC_API_KEY, 'change-me-run-npm-run-gen-key', 'API key placeholder');
  const active = Object.keys(env);
  t.same(active.sort(), ['NB_PROXY_CROWDSEC_API_KEY', 'NB_PROXY_CROWDSEC_API_URL'], 'only URL and key are set; the rest are commented out');
  for (const name of CLI_ENV) {
    const def = defaultOf(name);
    const line = lines.find((l) => l.startsWith(`#${name}=`));
    if (line && def && !def.startsWith('(')) {
      t.equal(line.slice(name.length + 2), def, `${name} shows its default ${def}`);
    }
  }
});

t.test('AppSec: crowdsec runs the component, the proxy knows where', async (t) => {
  const c = compose();
  const crowdsec = service(c, 'crowdsec');
  const proxy = service(c, 'proxy');
  const acquis = parseYaml(read('docker/acquis-appsec.yaml')) as Obj;
  const mount = mountsOf(crowdsec).find((m) => m.source === './docker/acquis-appsec.yaml');
  t.match(mount?.target ?? '', /^\/etc\/crowdsec\/acquis\.d\/[^/]+\.yaml$/, 'acquisition mounted into /etc/crowdsec/acquis.d/');
  t.ok(mount?.readOnly, 'read-only');
  t.equal(acquis.source, 'appsec');
  t.equal(acquis.appsec_config, 'crowdsecurity/appsec-default');
  t.equal(acquis.listen_addr, '0.0.0.0:7422', 'listens on the compose network');
  t.equal((acquis.labels as Obj | undefined)?.type, 'appsec');
  const collections = String((crowdsec.environment as Obj | undefined)?.COLLECTIONS ?? '').split(/\s+/);
  for (const col of ['crowdsecurity/appsec-virtual-patching', 'crowdsecurity/appsec-generic-rules']) t.ok(collections.includes(col), `${col} installed`);
  const url = new URL(String((proxy.environment as Obj | undefined)?.NB_PROXY_APPSEC_URL));
  t.equal(url.hostname, 'crowdsec', 'the proxy reaches the crowdsec container');
  t.equal(url.port, String(acquis.listen_addr).split(':')[1], 'on the port the component listens on');
  t.notOk(JSON.stringify(crowdsec.ports ?? []).includes('7422'), 'not published on the host');
  t.match(read('proxy.env.example'), /^#NB_PROXY_APPSEC_URL=http:\/\/crowdsec:7422\/$/m, 'proxy.env.example shows the same URL');
});

t.test('CrowdSec reads the access log', async (t) => {
  const c = compose();
  const crowdsec = service(c, 'crowdsec');
  const proxy = service(c, 'proxy');
  const acquis = parseYaml(read('docker/acquis-netbird-proxy.yaml')) as Obj;
  const parser = parseYaml(read('docker/parsers/netbird-proxy-logs.yaml')) as Obj;

  const acqMount = mountsOf(crowdsec).find((m) => m.source === './docker/acquis-netbird-proxy.yaml');
  t.match(acqMount?.target ?? '', /^\/etc\/crowdsec\/acquis\.d\/[^/]+\.yaml$/, 'acquisition mounted into /etc/crowdsec/acquis.d/');
  const parserMount = mountsOf(crowdsec).find((m) => m.source === './docker/parsers/netbird-proxy-logs.yaml');
  t.match(parserMount?.target ?? '', /^\/etc\/crowdsec\/parsers\/s01-parse\/[^/]+\.yaml$/, 'parser mounted into parsers/s01-parse/');

  const files = (acquis.filenames as string[] | undefined) ?? [String(acquis.filename)];
  t.equal(files.length, 1, 'one log file');
  const logFile = files[0];
  const logDir = posix.dirname(logFile);
  const csLog = mountsOf(crowdsec).find((m) => m.target === logDir);
  const pxLog = mountsOf(proxy).find((m) => m.target === logDir);
  t.ok(csLog && pxLog && csLog.source === pxLog.source, `${logDir} is the same volume in both containers`);
  t.ok(csLog && Object.keys((c.volumes as Obj) ?? {}).includes(csLog.source), 'a declared named volume');
  t.ok(csLog?.readOnly, 'read-only for crowdsec');
  t.notOk(pxLog?.readOnly, 'writable for the proxy');
  t.equal(
    parseDotenv(read('proxy.env.example').replace(/^#(NB_PROXY_ACCESS_LOG=)/m, '$1')).NB_PROXY_ACCESS_LOG,
    logFile,
    'proxy.env.example shows the path CrowdSec reads',
  );
  t.equal(acquis.force_inotify, true, 'the file is picked up once the proxy creates it');

  const type = String((acquis.labels as Obj | undefined)?.type);
  t.match(String(parser.filter), new RegExp(`evt\\.Parsed\\.program == '${type}'`), `parser takes the acquisition type "${type}"`);
  t.equal(parser.onsuccess, 'next_stage', 'parser hands over to s02 (crowdsecurity/http-logs)');
  const statics = (parser.statics as Obj[]) ?? [];
  const meta = new Map(statics.filter((s) => s.meta).map((s) => [String(s.meta), s]));
  const parsed = new Set(statics.filter((s) => s.parsed).map((s) => String(s.parsed)));
  t.equal(meta.get('log_type')?.value, 'http_access-log', 'meta.log_type http_access-log');
  t.equal(meta.get('service')?.value, 'http', 'meta.service http');
  for (const m of ['source_ip', 'http_status', 'http_path', 'http_verb']) t.ok(meta.has(m), `meta.${m}`);
  for (const p of ['request', 'verb', 'status', 'remote_addr']) t.ok(parsed.has(p), `parsed.${p} (read by http-logs and the scenarios)`);
  for (const field of ['client_ip', 'method', 'path', 'status', 'msg', 'protocol', 'deny_reason']) {
    t.match(read('docker/parsers/netbird-proxy-logs.yaml'), new RegExp(`'${field}'`), `reads the access-log field ${field}`);
  }
});

t.test('the parser feeds a real CrowdSec agent (replay) into crowdsecurity/http-probing', async (t) => {
  // Debian's crowdsec 1.4.6 (the tests' LAPI, see test/harness/lapi.ts) with hub files from the
  // same package; the parser uses only helpers present from 1.4 to 1.7.
  ensureCrowdsec();
  const lapi = await startLapi({ logLevel: 'warning' });
  t.teardown(() => lapi.close());
  const dir = mkdtempSync(join(tmpdir(), 'nbp-agent-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const hub = join(CROWDSEC_ROOT, 'usr/share/crowdsec/hub');
  const put = (from: string, to: string) => {
    mkdirSync(join(dir, to, '..'), { recursive: true });
    copyFileSync(from, join(dir, to));
  };
  cpSync(join(CROWDSEC_ROOT, 'etc/crowdsec/patterns'), join(dir, 'patterns'), { recursive: true });
  put(join(hub, 'parsers/s00-raw/crowdsecurity/syslog-logs.yaml'), 'parsers/s00-raw/syslog-logs.yaml'); // + non-syslog
  put(join(ROOT, 'docker/parsers/netbird-proxy-logs.yaml'), 'parsers/s01-parse/netbird-proxy-logs.yaml');
  put(join(hub, 'parsers/s02-enrich/crowdsecurity/dateparse-enrich.yaml'), 'parsers/s02-enrich/dateparse-enrich.yaml');
  put(join(hub, 'parsers/s02-enrich/crowdsecurity/http-logs.yaml'), 'parsers/s02-enrich/http-logs.yaml');
  // As shipped but without `reprocess: true`: in replay mode CrowdSec 1.4.6 hangs for good when an
  // overflow reaches its output after acquisition ended (the reprocessed event is sent to the parsers'
  // input, which nobody reads any more); under load that race lost 1 run in 4 here. Reprocessing only
  // feeds scenarios chained on overflows, which this test has none of.
  const probing = readFileSync(join(hub, 'scenarios/crowdsecurity/http-probing.yaml'), 'utf8');
  t.match(probing, /^reprocess: true$/m, 'the hub scenario as this test knows it');
  mkdirSync(join(dir, 'scenarios'), { recursive: true });
  writeFileSync(join(dir, 'scenarios/http-probing.yaml'), probing.replace(/^reprocess: true$/m, 'reprocess: false'));
  mkdirSync(join(dir, 'data'));
  mkdirSync(join(dir, 'hub'));
  copyFileSync(join(hub, '.index.json'), join(dir, 'hub/.index.json')); // '{}' crashes the agent's hub scan
  writeFileSync(join(dir, 'simulation.yaml'), 'simulation: false\n');
  writeFileSync(join(dir, 'acquis.yaml'), read('docker/acquis-netbird-proxy.yaml'));
  const lapiCfg = parseYaml(readFileSync(lapi.cfgPath, 'utf8')) as { api: { client: { credentials_path: string } } };
  const cfg = join(dir, 'config.yaml');
  writeFileSync(
    cfg,
    JSON.stringify({
      common: { daemonize: false, log_media: 'stdout', log_level: 'info' },
      config_paths: {
        config_dir: dir,
        data_dir: join(dir, 'data'),
        simulation_path: join(dir, 'simulation.yaml'),
        hub_dir: join(dir, 'hub'),
        index_path: join(dir, 'hub/.index.json'),
      },
      crowdsec_service: { acquisition_path: join(dir, 'acquis.yaml'), parser_routines: 1 },
      api: { client: { credentials_path: lapiCfg.api.client.credentials_path } },
      prometheus: { enabled: false },
    }),
  );

  const acquis = parseYaml(read('docker/acquis-netbird-proxy.yaml')) as { labels: { type: string } };
  const now = Date.now();
  const line = (o: Record<string, unknown>) =>
    JSON.stringify({
      level: 30,
      time: now,
      pid: 1,
      hostname: 'h',
      msg: 'access',
      service: 'web',
      protocol: 'http',
      client_ip: '203.0.113.7',
      country: 'DE',
      method: 'GET',
      host: 'app.example.com',
      path: '/',
      status: 404,
      bytes_in: 0,
      bytes_out: 9,
      duration_ms: 1.2,
      deny_reason: '',
      metadata: {},
      ...o,
    });
  const lines = [
    ...Array.from({ length: 12 }, (_, i) => line({ path: `/probe${i}.php?id=${i}` })), // a scanner
    ...Array.from({ length: 12 }, (_, i) => line({ client_ip: '198.51.100.9', path: `/x${i}`, status: 403, deny_reason: 'country' })),
    ...Array.from({ length: 12 }, (_, i) =>
      line({ client_ip: '198.51.100.10', service: 'ssh', protocol: 'tcp', method: null, path: null, status: null, host: null, bytes_in: i }),
    ),
    JSON.stringify({ level: 30, time: now, msg: 'listening', addr: '0.0.0.0:8080' }),
  ];
  const log = join(dir, 'access.log');
  writeFileSync(log, lines.join('\n') + '\n');

  const r = spawnSync(CROWDSEC_BIN, ['-c', cfg, '-dsn', `file://${log}`, '-type', acquis.labels.type, '-no-api'], { encoding: 'utf8', timeout: 120_000 });
  t.equal(r.status, 0, 'crowdsec replayed the log', { stderr: (r.stdout + r.stderr).split('\n').slice(-15).join('\n') });
  t.match(r.stdout + r.stderr, /Ip 203\.0\.113\.7 performed 'crowdsecurity\/http-probing'/, 'the scanner overflowed http-probing');

  const alerts = JSON.parse((await lapi.cscli(['alerts', 'list', '-o', 'json'])) || '[]') as Array<{ scenario: string; source: { value: string } }>;
  const got = (alerts ?? []).map((a) => `${a.source.value} ${a.scenario}`);
  t.same(got, ['203.0.113.7 crowdsecurity/http-probing'], 'one alert: the scanner; none for refused requests or tcp lines');
  const decisions = JSON.parse(await lapi.cscli(['decisions', 'list', '-o', 'json'])) as Array<{ decisions: Array<{ value: string; type: string }> }> | null;
  t.same(
    (decisions ?? []).flatMap((a) => a.decisions.map((d) => `${d.type} ${d.value}`)),
    ['ban 203.0.113.7'],
    'and a ban decision the bouncer pulls',
  );
});

t.test('crowdsec entrypoint wrapper', { skip: existsSync('/bin/bash') ? false : 'no /bin/bash' }, async (t) => {
  const entry = service(compose(), 'crowdsec').entrypoint as string[];
  const dir = mkdtempSync(join(tmpdir(), 'nbp-entry-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // Stand-ins for the image's /docker_start.sh and cscli, and for its config file.
  writeFileSync(
    join(dir, 'docker_start.sh'),
    [
      // How the image finds bouncer keys and names.
      'for B in $(compgen -A variable | grep -i BOUNCER_KEY); do',
      '  echo "register $(printf %s "$B" | cut -d_ -f3-) ${!B}"',
      'done',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'cscli'), `#!/bin/sh\necho "cscli $*" >> "${dir}/cscli.log"\n`);
  chmodSync(join(dir, 'cscli'), 0o755);
  const config = join(dir, 'config.yaml');
  const script = entry[2]
    .replace(/\$\$/g, '$') // what compose hands to the container
    .replaceAll('/docker_start.sh', join(dir, 'docker_start.sh'))
    .replaceAll('/etc/crowdsec/config.yaml', config);
  const run = (key: string | undefined) => {
    rmSync(join(dir, 'cscli.log'), { force: true });
    const env: NodeJS.ProcessEnv = { PATH: `${dir}:${process.env.PATH ?? ''}` };
    if (key !== undefined) env.NB_PROXY_CROWDSEC_API_KEY = key;
    const r = spawnSync('/bin/bash', ['-c', script, ...entry.slice(3)], { env, encoding: 'utf8' });
    const cscli = existsSync(join(dir, 'cscli.log')) ? readFileSync(join(dir, 'cscli.log'), 'utf8') : '';
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, cscli };
  };

  let r = run('k3y');
  t.equal(r.status, 0, 'first start: runs the image entrypoint');
  t.equal(r.stdout.trim(), 'register netbird_proxy k3y', 'registers bouncer netbird_proxy with the key from proxy.env');
  t.equal(r.cscli, '', 'no configuration yet: nothing to delete');

  writeFileSync(config, 'x: 1\n');
  r = run('n3w');
  t.equal(r.stdout.trim(), 'register netbird_proxy n3w', 'later start: registers the current key');
  t.equal(r.cscli.trim(), 'cscli bouncers delete netbird_proxy', 'after deleting the previous registration');

  for (const key of [undefined, '', 'change-me-run-npm-run-gen-key']) {
    r = run(key);
    t.equal(r.status, 1, `key ${JSON.stringify(key)}: refuses to start`);
    t.match(r.stderr, /npm run gen-key/, 'and says how to fix it');
    t.equal(r.stdout, '', 'without starting crowdsec');
  }
});

t.test('scripts/gen-key.js', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nbp-genkey-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'proxy.env');
  const gen = (...args: string[]) => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts/gen-key.js'), '--file', file, ...args], { encoding: 'utf8' });
    return { status: r.status, out: r.stdout + r.stderr };
  };
  const keyIn = (): string | undefined => parseDotenv(readFileSync(file)).NB_PROXY_CROWDSEC_API_KEY;

  let r = gen();
  t.equal(r.status, 0, 'creates the file');
  const first = keyIn() ?? '';
  t.match(first, /^[0-9a-f]{64}$/, 'with a 256-bit hex key');
  t.notOk(r.out.includes(first), 'key not printed');
  t.match(r.out, new RegExp(file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'says where it wrote');
  t.equal(statSync(file).mode & 0o777, 0o600, 'mode 0600');
  const admin = parseDotenv(readFileSync(file)).NB_PROXY_ADMIN_TOKEN ?? '';
  t.match(admin, /^[0-9a-f]{48}$/, 'and an admin token (compose exposes the admin listener inside its network)');
  t.notOk(r.out.includes(admin), 'token not printed');
  const strip = (s: string) => s.replace(/^NB_PROXY_CROWDSEC_API_KEY=.*$/m, '').replace(/^#?NB_PROXY_ADMIN_TOKEN=.*$/m, '');
  t.equal(strip(readFileSync(file, 'utf8')), strip(read('proxy.env.example')), 'everything else as in proxy.env.example');

  const before = readFileSync(file, 'utf8');
  r = gen();
  t.equal(r.status, 0, 'leaves a real key alone without --force, and succeeds (idempotent)');
  t.equal(readFileSync(file, 'utf8'), before, 'file unchanged');
  t.match(r.out, /--force/, 'mentions --force');
  t.notOk(r.out.includes(first), 'key not printed');

  r = gen('--force');
  t.equal(r.status, 0, '--force replaces it');
  const second = keyIn() ?? '';
  t.match(second, /^[0-9a-f]{64}$/);
  t.not(second, first, 'a new key');
  t.notOk(r.out.includes(second) || r.out.includes(first), 'neither key printed');

  writeFileSync(file, 'NB_PROXY_LOG_LEVEL=debug\nNB_PROXY_CROWDSEC_API_KEY=change-me-run-npm-run-gen-key\n');
  r = gen();
  t.equal(r.status, 0, 'placeholder replaced without --force');
  t.match(keyIn() ?? '', /^[0-9a-f]{64}$/);
  t.equal(parseDotenv(readFileSync(file)).NB_PROXY_LOG_LEVEL, 'debug', 'other settings kept');

  writeFileSync(file, 'NB_PROXY_LOG_LEVEL=debug\n');
  r = gen();
  t.equal(r.status, 0, 'missing line appended');
  t.match(keyIn() ?? '', /^[0-9a-f]{64}$/);

  r = gen('--bogus');
  t.equal(r.status, 2, 'unknown argument: usage error');
});

t.test('npm run gen-key writes docker/proxy.env, which a local run never loads', async (t) => {
  // A copy of the repository's layout: gen-key finds its files from its own location.
  const dir = mkdtempSync(join(tmpdir(), 'nbp-genkey-default-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'scripts'));
  mkdirSync(join(dir, 'docker'));
  copyFileSync(join(ROOT, 'scripts/gen-key.js'), join(dir, 'scripts/gen-key.js'));
  copyFileSync(join(ROOT, 'scripts/compose-check.sh'), join(dir, 'scripts/compose-check.sh'));
  copyFileSync(join(ROOT, 'proxy.env.example'), join(dir, 'proxy.env.example'));
  const before = spawnSync('bash', [join(dir, 'scripts/compose-check.sh')], { encoding: 'utf8' });
  t.equal(
    before.stderr,
    "compose-check: docker/proxy.env is missing; create it with: npm run gen-key (a copy of proxy.env.example with a fresh bouncer key; compose's own env file, never read by a local run)\n",
  );
  const r = spawnSync(process.execPath, [join(dir, 'scripts/gen-key.js')], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  t.ok(existsSync(join(dir, 'docker/proxy.env')), 'docker/proxy.env written');
  t.notOk(existsSync(join(dir, 'proxy.env')), './proxy.env (what a local run loads) left alone');
  const check = spawnSync('bash', [join(dir, 'scripts/compose-check.sh')], { encoding: 'utf8' });
  t.equal(check.stdout, 'compose-check: docker/proxy.env is ready\n', 'compose-check reads the file gen-key wrote');
});
