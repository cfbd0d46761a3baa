#!/bin/bash
# Entrypoint of the local CrowdSec stand-in (docker/local/crowdsec.Dockerfile). It does, for the
# variables docker-compose.yml uses, what the official image's docker/docker_start.sh does:
#   - first start: copy /staging/etc/crowdsec into the (empty) config volume;
#   - register the local machine ($CUSTOM_HOSTNAME, default localhost) for cscli and the agent;
#   - enable crowdsecurity/linux, crowdsecurity/whitelists and $COLLECTIONS, $PARSERS,
#     $SCENARIOS, $POSTOVERFLOWS (here from Debian's offline hub, by symlink, with the
#     collections' dependencies);
#   - register a bouncer for every BOUNCER_KEY_<name> variable (and /run/secrets/bouncer_key_<name>
#     file) as <name>, only when no bouncer of that name exists;
#   - DISABLE_AGENT -> -no-cs, LEVEL_TRACE/LEVEL_DEBUG/LEVEL_INFO, then exec crowdsec.
# The Central API, console enrolment, TLS and the other variables of the official image are not
# supported: a set one is reported and ignored.
set -euo pipefail

CONFIG_FILE="${CONFIG_FILE:-/etc/crowdsec/config.yaml}"
HUB=/var/lib/crowdsec/hub
istrue() { [ "$(printf '%s' "${1:-}" | tr '[:upper:]' '[:lower:]')" = true ]; }
cscli() { command cscli -c "$CONFIG_FILE" "$@"; }

if [ ! -e /etc/crowdsec/config.yaml ] && [ ! -e /etc/crowdsec/local_api_credentials.yaml ]; then
  echo "Populating configuration directory..."
  mkdir -p /etc/crowdsec
  cp -an /staging/etc/crowdsec/. /etc/crowdsec/
fi
mkdir -p /var/lib/crowdsec/data /etc/crowdsec/acquis.d
for f in /usr/share/crowdsec/data/*; do
  [ -e "/var/lib/crowdsec/data/${f##*/}" ] || cp "$f" /var/lib/crowdsec/data/
done

# Local machine: cscli (decisions add/delete, lapi status) and the agent log in with it.
machine="${CUSTOM_HOSTNAME:-localhost}"
creds="$(sed -n 's/^ *credentials_path: *//p' "$CONFIG_FILE" | head -n 1)"
if grep -qx "login: $machine" "$creds" 2>/dev/null \
   && cscli machines list -o json 2>/dev/null | grep -Eq "\"machineId\": *\"$machine\""; then
  echo "Local agent already registered"
else
  echo "Generate local agent credentials"
  cscli machines delete "$machine" >/dev/null 2>&1 || true
  cscli machines add "$machine" --auto --force -f "$creds"
fi

# Items of a top-level block list ("parsers:\n  - a/b") in a hub YAML file.
yaml_list() {
  awk -v key="$2:" '
    $0 == key { on = 1; next }
    on && /^[ \t]*- / { sub(/^[ \t]*- */, ""); gsub(/["\047]/, ""); print; next }
    on && /^[^ \t]/ { on = 0 }' "$1"
}

# enable_item <collections|parsers|scenarios|postoverflows> <author/name>
enable_item() {
  local type="$1" item="$2" src dst stage dep sub
  if [ "$type" = parsers ] || [ "$type" = postoverflows ]; then
    src="$(find -L "$HUB/$type" -path "*/$item.yaml" | head -n 1)"
    stage="$(basename "$(dirname "$(dirname "$src")")")"
    dst="/etc/crowdsec/$type/$stage/${item##*/}.yaml"
  else
    src="$HUB/$type/$item.yaml"
    dst="/etc/crowdsec/$type/${item##*/}.yaml"
  fi
  if [ -z "$src" ] || [ ! -e "$src" ]; then
    echo "hub: $type $item is not in the offline hub, skipped" >&2
    return 0
  fi
  [ -e "$dst" ] && return 0
  mkdir -p "$(dirname "$dst")"
  ln -s "$src" "$dst"
  echo "Enabled $type $item"
  if [ "$type" = collections ]; then
    for sub in parsers scenarios postoverflows collections; do
      for dep in $(yaml_list "$src" "$sub"); do enable_item "$sub" "$dep"; done
    done
  fi
}

enable_item collections crowdsecurity/linux
enable_item parsers crowdsecurity/whitelists
for c in ${COLLECTIONS:-}; do enable_item collections "$c"; done
for p in ${PARSERS:-}; do enable_item parsers "$p"; done
for s in ${SCENARIOS:-}; do enable_item scenarios "$s"; done
for p in ${POSTOVERFLOWS:-}; do enable_item postoverflows "$p"; done

register_bouncer() {
  if cscli bouncers list -o json | grep -Eq "\"name\": *\"$1\""; then return 0; fi
  if cscli bouncers add "$1" -k "$2" >/dev/null; then
    echo "Registered bouncer for $1"
  else
    echo "Failed to register bouncer for $1"
  fi
}
for var in $(compgen -A variable | grep -i BOUNCER_KEY || true); do
  key="${!var}"
  name="$(printf '%s' "$var" | cut -d_ -f3-)"
  if [ -n "$key" ] && [ -n "$name" ]; then register_bouncer "$name" "$key"; fi
done
shopt -s nullglob extglob
for file in /run/secrets/@(bouncer_key|BOUNCER_KEY)*; do
  key="$(cat "$file")"
  name="$(basename "$file" | cut -d_ -f2-)"
  if [ -n "$key" ] && [ -n "$name" ]; then register_bouncer "$name" "$key"; fi
done
shopt -u nullglob extglob

for unsupported in ENROLL_KEY USE_TLS LOCAL_API_URL AGENT_USERNAME DISABLE_LOCAL_API DSN TYPE; do
  if [ -n "${!unsupported:-}" ]; then echo "local CrowdSec image: $unsupported is not supported here, ignored" >&2; fi
done

# Debian's 1.4.6 has no AppSec component (it arrived in 1.6) and refuses an acquisition of an
# unknown source: acquisitions of source appsec (docker/acquis-appsec.yaml) are left out here,
# through a filtered copy of acquis.d. AppSec needs the real image.
acq=/var/lib/crowdsec/acquis.d
rm -rf "$acq"
mkdir -p "$acq"
for f in /etc/crowdsec/acquis.d/*.yaml; do
  [ -e "$f" ] || continue
  if grep -Eq '^source:[[:space:]]*appsec[[:space:]]*$' "$f"; then
    echo "local CrowdSec image: $f is an AppSec acquisition (CrowdSec 1.6+), left out" >&2
    continue
  fi
  ln -s "$f" "$acq/"
done
sed -i "s#^\(  acquisition_dir:\).*#\1 $acq#" "$CONFIG_FILE"

args=(-c "$CONFIG_FILE")
if istrue "${DISABLE_AGENT:-}"; then args+=(-no-cs); fi
if istrue "${LEVEL_TRACE:-}"; then args+=(-trace); fi
if istrue "${LEVEL_DEBUG:-}"; then args+=(-debug); fi
if istrue "${LEVEL_INFO:-}"; then args+=(-info); fi
exec crowdsec "${args[@]}"
