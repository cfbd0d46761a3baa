#!/usr/bin/env bash
# Run before the first `docker-compose up`: compose needs docker/proxy.env (both containers read it)
# and stops with its own env-file error without it. This says what to do instead.
# Usage: bash scripts/compose-check.sh   (from the repository root, beside docker-compose.yml)
set -u
cd "$(dirname "$0")/.."
env=docker/proxy.env
if [ ! -f "$env" ]; then
  echo "compose-check: $env is missing; create it with: npm run gen-key (a copy of proxy.env.example with a fresh bouncer key; compose's own env file, never read by a local run)" >&2
  exit 1
fi
key="$(sed -n 's/^[[:space:]]*\(export[[:space:]]\+\)\{0,1\}NB_PROXY_CROWDSEC_API_KEY[[:space:]]*=[[:space:]]*//p' "$env" | tail -n 1)"
case "$key" in
  "" | change-me*)
    echo "compose-check: NB_PROXY_CROWDSEC_API_KEY in $env is empty or the placeholder; run: npm run gen-key" >&2
    exit 1 ;;
esac
echo "compose-check: $env is ready"
