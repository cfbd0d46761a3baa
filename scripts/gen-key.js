#!/usr/bin/env node
'use strict';
// Writes a fresh random CrowdSec bouncer key into docker/proxy.env (docker-compose.yml's env file)
// as NB_PROXY_CROWDSEC_API_KEY, and an admin token as NB_PROXY_ADMIN_TOKEN when none is set
// (docker compose binds the admin listener on every interface inside the container, which needs
// a token).
//
//   npm run gen-key                      # docker/proxy.env, read by docker compose only
//                                        # (a local run reads ./proxy.env, so it never takes the
//                                        # container's http://crowdsec:8080 and admin token)
//   npm run gen-key -- --force           # replace a key that is already set
//   node scripts/gen-key.js --file /path/to/proxy.env [--example proxy.env.example]
//
// proxy.env is created from proxy.env.example when it does not exist. An existing file keeps
// every other line; its NB_PROXY_CROWDSEC_API_KEY line is replaced when it is empty or still the
// placeholder, and only with --force when it holds a real key. The key is never printed.
// docker-compose.yml hands the same variable to the crowdsec container, which registers it as
// the bouncer "netbird_proxy".

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const VAR = 'NB_PROXY_CROWDSEC_API_KEY';
const ADMIN_VAR = 'NB_PROXY_ADMIN_TOKEN';
const PLACEHOLDER_PREFIX = 'change-me';
const ROOT = path.resolve(__dirname, '..');
// An active (uncommented) assignment, optionally `export`ed, as dotenv and compose read it.
const activeLine = (name) => new RegExp(`^(\\s*(?:export\\s+)?${name}\\s*=)(.*)$`);

function usage() {
  return [
    'usage: node scripts/gen-key.js [--file <proxy.env>] [--example <proxy.env.example>] [--force]',
    '',
    `Writes a random CrowdSec bouncer key into the env file as ${VAR}.`,
    '  --file <path>     env file to write (default: docker/proxy.env, the env file of docker-compose.yml)',
    '  --example <path>  template used when the env file does not exist (default: proxy.env.example)',
    '  --force           replace a key that is already set',
  ].join('\n');
}

function parseArgs(argv) {
  const opts = { file: path.join(ROOT, 'docker', 'proxy.env'), example: path.join(ROOT, 'proxy.env.example'), force: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = () => {
      if (inline !== undefined) return inline;
      const next = argv[++i];
      if (next === undefined || next === '') throw new UsageError(`${name} needs a value`);
      return next;
    };
    switch (name) {
      case '--file':
        opts.file = path.resolve(value());
        break;
      case '--example':
        opts.example = path.resolve(value());
        break;
      case '--force':
        opts.force = true;
        break;
      case '-h':
      case '--help':
        opts.help = true;
        break;
      default:
        throw new UsageError(`unknown argument: ${arg}`);
    }
  }
  return opts;
}

class UsageError extends Error {}

/** The value as dotenv would read it: trimmed, one pair of surrounding quotes removed, no trailing comment. */
function unquote(raw) {
  let v = raw.trim();
  const q = v[0];
  if ((q === '"' || q === "'") && v.length >= 2 && v.endsWith(q)) return v.slice(1, -1);
  const hash = v.indexOf(' #');
  if (hash >= 0) v = v.slice(0, hash).trim();
  return v;
}

function isPlaceholder(value) {
  return value === '' || value.startsWith(PLACEHOLDER_PREFIX);
}

function newKey() {
  // 64 hex characters: CrowdSec accepts any string as a bouncer key; hex needs no quoting anywhere.
  return crypto.randomBytes(32).toString('hex');
}

/** Returns the new file text, or throws RefuseError when a real key is present and force is off. */
function withKey(text, key, force, name = VAR) {
  const ACTIVE_LINE = activeLine(name);
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text.split(/\r?\n/);
  let found = false;
  const out = lines.map((line) => {
    const m = ACTIVE_LINE.exec(line);
    if (!m) return line;
    if (!isPlaceholder(unquote(m[2])) && !force) throw new RefuseError();
    found = true;
    return `${m[1]}${key}`;
  });
  if (!found) {
    // No active line: turn a commented-out one into the assignment, else append one.
    const commented = new RegExp(`^\\s*#\\s*${name}\\s*=`);
    const idx = out.findIndex((line) => commented.test(line));
    if (idx >= 0) {
      out[idx] = `${name}=${key}`;
    } else {
      while (out.length > 0 && out[out.length - 1] === '') out.pop();
      out.push(`# ${name === VAR ? 'CrowdSec bouncer key' : 'Admin token'}, written by npm run gen-key.`, `${name}=${key}`, '');
    }
  }
  return out.join(eol);
}

class RefuseError extends Error {}

function writeAtomically(file, text, mode) {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, text, { mode });
  try {
    fs.chmodSync(tmp, mode); // writeFileSync's mode is filtered by the umask
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

function main(argv) {
  let opts;
  try {
    opts = parseArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`gen-key: ${err.message}\n${usage()}\n`);
      return 2;
    }
    throw err;
  }
  if (opts.help) {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }

  const key = newKey();
  let created = false;
  let text;
  let mode = 0o600; // it holds a secret
  if (fs.existsSync(opts.file)) {
    text = fs.readFileSync(opts.file, 'utf8');
    mode = fs.statSync(opts.file).mode & 0o777;
  } else {
    if (!fs.existsSync(opts.example)) {
      process.stderr.write(`gen-key: ${opts.file} does not exist and there is no template ${opts.example} to create it from\n`);
      return 1;
    }
    text = fs.readFileSync(opts.example, 'utf8');
    created = true;
  }

  let next = text;
  let wroteKey = false;
  try {
    next = withKey(next, key, opts.force);
    wroteKey = true;
  } catch (err) {
    if (!(err instanceof RefuseError)) throw err;
  }
  let wroteToken = false;
  try {
    next = withKey(next, newKey().slice(0, 48), false, ADMIN_VAR);
    wroteToken = true;
  } catch (err) {
    if (!(err instanceof RefuseError)) throw err;
  }
  if (!wroteKey && !wroteToken) {
    // Idempotent: a key that is already there is what the caller wanted.
    process.stdout.write(`gen-key: ${opts.file} already has a ${VAR}; left unchanged (npm run gen-key -- --force replaces it).\n`);
    return 0;
  }
  writeAtomically(opts.file, next, mode);
  if (wroteToken) process.stdout.write(`gen-key: wrote a new random ${ADMIN_VAR} (not shown) for the admin UI and API.\n`);
  if (!wroteKey) {
    process.stdout.write(`gen-key: ${opts.file} already has a ${VAR}; left unchanged (npm run gen-key -- --force replaces it).\n`);
    return 0;
  }

  const how = created ? `created ${opts.file} from ${path.basename(opts.example)}` : `updated ${opts.file}`;
  process.stdout.write(`gen-key: ${how}: wrote a new random ${VAR} (not shown).\n`);
  if (!created) {
    process.stdout.write('gen-key: apply it with `docker compose up -d` (both containers are recreated; CrowdSec re-registers the bouncer).\n');
  }
  return 0;
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}

module.exports = { main, withKey, isPlaceholder };
