#!/usr/bin/env bash
# Debian packages the tests need beyond npm: pebble (Let's Encrypt's test ACME server and
# pebble-challtestsrv) for the TLS/ACME tests, sqlite3 for a CrowdSec test. Idempotent: installs only what is missing, and
# fails (never skips) when the package cannot be installed.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

missing=()
[ -x /usr/bin/pebble ] && [ -x /usr/bin/pebble-challtestsrv ] || missing+=(pebble)
command -v openssl >/dev/null || missing+=(openssl)
# test/e2e/quick-start.test.ts runs the README's curl lines with the real curl.
command -v curl >/dev/null || missing+=(curl)
# test/e2e/crowdsec-resync.test.ts removes a decision from the LAPI's database, as a restore would.
command -v sqlite3 >/dev/null || missing+=(sqlite3)
if [ ${#missing[@]} -eq 0 ]; then
  echo "test dependencies present: pebble, openssl, curl, sqlite3"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
# Another apt run on the machine holds the dpkg lock for a while; wait for it instead of failing.
$sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
$sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
for bin in /usr/bin/pebble /usr/bin/pebble-challtestsrv; do
  [ -x "$bin" ] || { echo "$bin missing after apt-get install pebble" >&2; exit 1; }
done
echo "installed: ${missing[*]}"
