#!/usr/bin/env bash
# Starts a throwaway CrowdSec LAPI set up like the tests' (test/harness/lapi.ts) and keeps it in
# the foreground; Ctrl-C stops it and removes its temp dir.
# Usage: scripts/lapi.sh [--tls] [--port N] [--key KEY]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export LAPI_TLS=0 LAPI_PORT="" LAPI_KEY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --tls) LAPI_TLS=1 ;;
    --port) LAPI_PORT="$2"; shift ;;
    --key) LAPI_KEY="$2"; shift ;;
    *) echo "usage: $0 [--tls] [--port N] [--key KEY]" >&2; exit 2 ;;
  esac
  shift
done
# The harness is TypeScript: compile it with the scripts (npm run build:scripts) and run the output.
npm run --silent build:scripts
exec node -e '
const { startLapi } = require("./.build/test/harness/lapi");
const { makeTestPki } = require("./.build/test/harness/pki");
const { mkdtempSync, rmSync } = require("node:fs");
const { join } = require("node:path");
const { tmpdir } = require("node:os");
(async () => {
  const env = process.env;
  let pkiDir, pki;
  if (env.LAPI_TLS === "1") {
    pkiDir = mkdtempSync(join(tmpdir(), "lapi-pki-"));
    pki = await makeTestPki(pkiDir);
  }
  const lapi = await startLapi({
    apiKey: env.LAPI_KEY || undefined,
    port: env.LAPI_PORT ? Number(env.LAPI_PORT) : undefined,
    tls: pki && { certFile: pki.serverCert, keyFile: pki.serverKey, caCertPath: pki.caCert, bouncersAllowedOu: ["bouncer-ou"] },
  });
  console.log(`url:     ${lapi.url}\napi key: ${lapi.apiKey}\ncscli:   ${process.cwd()}/.cache/crowdsec/usr/bin/cscli -c ${lapi.cfgPath}\nlog:     ${lapi.logPath}`);
  if (pki) console.log(`ca: ${pki.caCert}\nclient cert: ${pki.clientCert}\nclient key: ${pki.clientKey}`);
  const bye = async () => { await lapi.close(); if (pkiDir) rmSync(pkiDir, { recursive: true, force: true }); process.exit(0); };
  process.on("SIGINT", bye);
  process.on("SIGTERM", bye);
  setInterval(() => {}, 1 << 30);
})().catch((e) => { console.error(e.message); process.exit(1); });
'
