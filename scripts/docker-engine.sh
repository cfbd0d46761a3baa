#!/usr/bin/env bash
# Sourced by scripts/compose-test.sh: installs the Docker engine, docker-compose and debootstrap
# from Debian when missing, and starts dockerd when none answers. Only a dockerd started here is
# stopped again (engine_stop).
#
# Debian's docker.io is 20.10: no BuildKit; with --iptables=false published ports go through the
# userland proxy, and vfs storage works on any filesystem (overlay-on-overlay does not).

ENGINE_STARTED_PID=""
ENGINE_LOG="${ENGINE_LOG:-/tmp/netbird-proxy-dockerd.log}"

engine_install() {
  local pkgs=()
  command -v dockerd >/dev/null || pkgs+=(docker.io)
  command -v docker-compose >/dev/null || pkgs+=(docker-compose)
  command -v debootstrap >/dev/null || pkgs+=(debootstrap)
  # `docker` may come from elsewhere (a newer static client); docker.io brings one too.
  command -v docker >/dev/null || pkgs+=(docker.io)
  [ "${#pkgs[@]}" -eq 0 ] && return 0
  echo "installing ${pkgs[*]} (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${pkgs[@]}" >/dev/null
}

engine_start() {
  if docker info >/dev/null 2>&1; then
    echo "using the running Docker engine"
    return 0
  fi
  echo "starting dockerd (vfs, no iptables, no default bridge); log: $ENGINE_LOG"
  dockerd --storage-driver=vfs --iptables=false --bridge=none >"$ENGINE_LOG" 2>&1 &
  ENGINE_STARTED_PID=$!
  local i
  for i in $(seq 1 120); do
    if docker info >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$ENGINE_STARTED_PID" 2>/dev/null; then
      echo "dockerd exited; last lines of $ENGINE_LOG:" >&2
      tail -n 20 "$ENGINE_LOG" >&2
      ENGINE_STARTED_PID=""
      return 1
    fi
    sleep 0.5
  done
  echo "dockerd did not answer within 60 s" >&2
  return 1
}

engine_stop() {
  [ -n "$ENGINE_STARTED_PID" ] || return 0
  echo "stopping the dockerd started by this run (pid $ENGINE_STARTED_PID)"
  kill "$ENGINE_STARTED_PID" 2>/dev/null || true
  local i
  for i in $(seq 1 60); do
    kill -0 "$ENGINE_STARTED_PID" 2>/dev/null || break
    sleep 0.5
  done
  kill -9 "$ENGINE_STARTED_PID" 2>/dev/null || true
  ENGINE_STARTED_PID=""
}
