#!/usr/bin/env node
// The docs check of `npm run lint`, over README.md and docs/*.md:
//  - every relative link resolves to a file of the repository, and a #anchor into a Markdown file
//    to one of its headings (GitHub's slugs);
//  - every `--flag` mentioned is one the binary has (its --help and its subcommands' --help), or
//    belongs to another tool named in OTHER_TOOLS;
//  - docs/benchmarks.md shows the newest committed run in bench/results/.
// Needs dist/ (npm run build), like scripts/settings-table.js.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');

/** Flags of other programs that the docs show in their commands. */
const OTHER_TOOLS = {
  '--minutes': 'npm run fuzz',
  '--seed': 'npm run fuzz',
  '--check': 'node scripts/settings-table.js',
  '--profile': 'docker compose',
  '--build': 'docker compose',
  '--iptables': 'dockerd',
  '--storage-driver': 'dockerd',
  '--bridge': 'dockerd',
  '--ip': 'cscli',
  '--range': 'cscli',
  '--scope': 'cscli',
  '--value': 'cscli',
  '--type': 'cscli',
  '--reason': 'cscli',
  '--duration': 'cscli',
  '--silent': 'npm',
  '--prefix': 'npm',
  '--force': 'scripts/gen-key.js',
  '--file': 'scripts/gen-key.js',
  '--example': 'scripts/gen-key.js',
  '--quick': 'npm run bench',
  '--save': 'npm run bench',
  '--min-semi-space-size': 'node',
  '--variant': 'debootstrap',
  '--max-semi-space-size': 'node',
  '--expose-gc': 'node',
  '--now': 'systemctl',
  '--kill-whom': 'systemctl',
  '--signal': 'systemctl',
  '--interface': 'curl',
  '--tls': 'scripts/lapi.sh',
  '--port': 'scripts/lapi.sh',
  '--key': 'scripts/lapi.sh',
  '--x': "an unknown flag, in the README's error table",
};

function docs(root) {
  const dir = path.join(root, 'docs');
  return [
    'README.md',
    ...fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.md'))
      .map((f) => path.join('docs', f)),
  ];
}

/** GitHub's heading anchors of a Markdown file. */
function anchors(file) {
  const seen = new Map();
  const out = new Set();
  let fence = false;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (/^\s*```/.test(line)) fence = !fence;
    const m = fence ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = m[1]
      .replace(/<[^>]+>/g, '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

function ourFlags() {
  const bin = path.join(ROOT, 'bin', 'netbird-proxy');
  const flags = new Set();
  for (const sub of [[], ['validate'], ['status'], ['healthcheck']]) {
    const help = execFileSync(process.execPath, [bin, ...sub, '--help'], { encoding: 'utf8' });
    for (const m of help.matchAll(/--[a-z0-9][a-z0-9-]*/g)) flags.add(m[0]);
  }
  return flags;
}

/** The Markdown without fenced blocks' and inline code's link syntax mattering: links only from prose. */
function links(text) {
  const prose = text.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]);
}

function check(root = ROOT, known = ourFlags()) {
  const problems = [];
  for (const doc of docs(root)) {
    const abs = path.join(root, doc);
    const text = fs.readFileSync(abs, 'utf8');
    for (const link of links(text)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue; // http:, https:, mailto:
      const [target, anchor] = link.split('#');
      const file = target === '' ? abs : path.resolve(path.dirname(abs), decodeURIComponent(target));
      if (!file.startsWith(root) || !fs.existsSync(file)) {
        problems.push(`${doc}: link ${link}: ${path.relative(root, file)} does not exist`);
        continue;
      }
      if (anchor !== undefined && anchor !== '' && file.endsWith('.md') && !anchors(file).has(anchor.toLowerCase())) {
        problems.push(`${doc}: link ${link}: ${path.relative(root, file)} has no heading #${anchor}`);
      }
    }
    text.split('\n').forEach((line, i) => {
      for (const m of line.matchAll(/(?<![\w-])--[a-z0-9][a-z0-9-]*/g)) {
        if (!known.has(m[0]) && OTHER_TOOLS[m[0]] === undefined) {
          problems.push(
            `${doc}:${i + 1}: ${m[0]} is not a netbird-proxy flag (netbird-proxy [validate|status|healthcheck] --help) nor listed in scripts/check-docs.js OTHER_TOOLS`,
          );
        }
      }
    });
  }
  const resultsDir = path.join(root, 'bench', 'results');
  const results = (fs.existsSync(resultsDir) ? fs.readdirSync(resultsDir) : []).filter((f) => /^\d{4}-\d\d-\d\d.*\.json$/.test(f)).sort();
  const newest = results.at(-1);
  if (newest !== undefined && !fs.readFileSync(path.join(root, 'docs', 'benchmarks.md'), 'utf8').includes(`bench/results/${newest}`)) {
    problems.push(`docs/benchmarks.md: does not show the newest committed run, bench/results/${newest}`);
  }
  return problems;
}

if (require.main === module) {
  const problems = check();
  for (const p of problems) console.error(p);
  if (problems.length > 0) process.exit(1);
  console.log(`docs: links, flags and benchmark results check out (${docs(ROOT).length} files)`);
}

module.exports = { check, anchors, links };
