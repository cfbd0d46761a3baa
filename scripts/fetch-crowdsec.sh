#!/usr/bin/env bash
# Extracts Debian's crowdsec package (LAPI + cscli) into .cache/crowdsec for tests.
# `apt-get install crowdsec` fails in its postinst, so the .deb is unpacked instead.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/.cache/crowdsec"
bins=("$dest/usr/bin/crowdsec" "$dest/usr/bin/cscli")

# Prints the sonames the binaries need but the system lacks.
missing_libs() {
  ldd "${bins[@]}" 2>/dev/null | awk '/not found/ {print $1}' | sort -u
}

ensure_libs() {
  local missing
  missing="$(missing_libs)"
  [ -z "$missing" ] && return 0
  # The package depends on libc6 and libsqlite3-0 only; map sonames we know.
  local pkgs=()
  for so in $missing; do
    case "$so" in
      libsqlite3.so.*) pkgs+=(libsqlite3-0) ;;
      *) echo "fetch-crowdsec: unknown missing library $so" >&2; return 1 ;;
    esac
  done
  apt-get install -y -q "${pkgs[@]}" >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q "${pkgs[@]}" >/dev/null; }
  [ -z "$(missing_libs)" ] || { echo "fetch-crowdsec: still missing: $(missing_libs)" >&2; return 1; }
  echo "fetch-crowdsec: installed ${pkgs[*]}"
}

if [ -x "${bins[0]}" ] && [ -x "${bins[1]}" ]; then
  ensure_libs
  echo "fetch-crowdsec: already in $dest"
  exit 0
fi

tmp="$(mktemp -d)"
stage="$dest.tmp.$$"
trap 'rm -rf "$tmp" "$stage"' EXIT
cd "$tmp"
# apt-get download runs as the _apt user when it can; let it write here.
chmod 777 "$tmp"
if ! apt-get download -q crowdsec >/dev/null 2>&1; then
  apt-get update -q >/dev/null
  apt-get download -q crowdsec >/dev/null
fi
deb="$(ls crowdsec_*.deb)"
# Extract beside dest and rename, so parallel test runs never see a half-extracted tree.
mkdir -p "$stage"
dpkg-deb -x "$deb" "$stage"
# rename(2) refuses to replace a non-empty dir: then another run won the race (or dest is stale).
{ [ -x "${bins[0]}" ] && [ -x "${bins[1]}" ]; } || rm -rf "$dest"
mv -T "$stage" "$dest" 2>/dev/null || true
for b in "${bins[@]}"; do [ -x "$b" ] || { echo "fetch-crowdsec: $b missing after extracting $deb" >&2; exit 1; }; done
ensure_libs
echo "fetch-crowdsec: extracted $deb into $dest"
