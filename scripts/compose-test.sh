#!/usr/bin/env bash
# The compose stack for real: builds the images locally and runs docs/compose.md's steps against
# the running stack (README "Testing the integration", in compose). Prints one PASS or FAIL line
# per check and MEASURE lines, and exits non-zero when any check failed.
#
#   npm run test:compose            (= bash scripts/compose-test.sh)
#
# It installs docker.io, docker-compose and debootstrap when missing, starts dockerd when none
# answers (and stops only that one), and builds the local stand-ins of node:24-bookworm-slim and
# crowdsecurity/crowdsec once per machine (scripts/local-images.sh). The stack runs from a copy
# of the work tree in a temp dir (its own docker/proxy.env, config and compose project), so a user's
# docker/proxy.env, config and running stack are left alone. The copy's docker/proxy.env polls every 2s.
#
# Env: NB_CROWDSEC_IMAGE / NB_NODE_IMAGE to test other images (default: the local stand-ins);
#      COMPOSE_TEST_KEEP=1 leaves the stack and the copy for a look afterwards.
set -uo pipefail
# The whole script is one compound command, read before it runs: editing the file during a run
# cannot change what the run does.
{
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/docker-engine.sh
. "$root/scripts/docker-engine.sh"

POLL_S=2
HEALTH_TIMEOUT_S=300
n=0
failed=0
t_start=$(date +%s)
pass() { n=$((n + 1)); echo "PASS $n - $*"; }
fail() { n=$((n + 1)); failed=$((failed + 1)); echo "FAIL $n - $*"; }
check() { # check <description> <command...>
  local what="$1"; shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
measure() { echo "MEASURE $*"; }
now_ms() { date +%s%3N; }
note() { echo "# $*"; }

work=""
cleanup() {
  local rc=$?
  if [ -n "$work" ] && [ -d "$work" ]; then
    if [ "${COMPOSE_TEST_KEEP:-}" = 1 ]; then
      note "kept: $work (project $COMPOSE_PROJECT_NAME)"
    else
      (cd "$work" && dc --profile demo down -v --remove-orphans >/dev/null 2>&1)
      rm -rf "$work"
    fi
  fi
  engine_stop
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
note "engine"
if ! engine_install; then fail "install docker.io, docker-compose, debootstrap"; exit 1; fi
if ! command -v curl >/dev/null; then apt-get install -y -qq curl >/dev/null || { fail "install curl"; exit 1; }; fi
if ! engine_start; then fail "a Docker engine answers"; exit 1; fi
pass "a Docker engine answers ($(docker version -f '{{.Server.Version}}' 2>/dev/null)); $(docker-compose version --short 2>/dev/null | sed 's/^/docker-compose /')"

t0=$(now_ms)
if ! bash "$root/scripts/local-images.sh"; then fail "local base images"; exit 1; fi
measure "local base images: $(( ($(now_ms) - t0) / 1000 )) s"
export NB_CROWDSEC_IMAGE="${NB_CROWDSEC_IMAGE:-netbird-proxy-local/crowdsec:1.4.6}"
export NB_NODE_IMAGE="${NB_NODE_IMAGE:-netbird-proxy-local/node:24-bookworm-slim}"

# A copy of the work tree: what `git clone` plus the uncommitted edits would give.
work="$(mktemp -d /tmp/nbp-compose.XXXXXX)"
tar -C "$root" --exclude=./node_modules --exclude=./.cache --exclude=./.git --exclude=./dist \
  --exclude=./.tap --exclude=./.build --exclude=./proxy.env --exclude=./docker/proxy.env --exclude=./.env -c . | tar -C "$work" -x
# The build's npm ci trusts the host's CAs (a TLS-intercepting gateway sits in front of the registry here).
[ -f /etc/ssl/certs/ca-certificates.crt ] && cp /etc/ssl/certs/ca-certificates.crt "$work/docker/build-ca/host-ca.pem"
cd "$work" || exit 1
export COMPOSE_PROJECT_NAME="nbpcomposetest"
free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
port_busy() { ss -ltnH "( sport = :$1 )" 2>/dev/null | grep -q .; }
HTTP_PORT=8080; ADMIN_PORT=9090
port_busy "$HTTP_PORT" && HTTP_PORT=$(free_port)
port_busy "$ADMIN_PORT" && ADMIN_PORT=$(free_port)
export NB_HTTP_PORT="$HTTP_PORT" NB_HTTPS_PORT=8443 NB_ADMIN_PORT="$ADMIN_PORT"
note "work copy $work; project $COMPOSE_PROJECT_NAME; http 127.0.0.1:$HTTP_PORT, admin 127.0.0.1:$ADMIN_PORT"
note "images: crowdsec $NB_CROWDSEC_IMAGE, node $NB_NODE_IMAGE"
dc() { docker-compose "$@"; }

# Helpers against the running stack.
get() { # get <host> [path] -> prints "<status>"
  curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "Host: $1" "http://127.0.0.1:$HTTP_PORT${2:-/}"
}
wait_status() { # wait_status <host> <status> <timeout_s> -> 0 when seen; sets waited_ms
  local host="$1" want="$2" deadline=$(( $(now_ms) + $3 * 1000 )) start; start=$(now_ms)
  while [ "$(now_ms)" -lt "$deadline" ]; do
    if [ "$(get "$host")" = "$want" ]; then waited_ms=$(( $(now_ms) - start )); return 0; fi
    sleep 0.25
  done
  waited_ms=$(( $(now_ms) - start )); return 1
}
health() { docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$(dc ps -q "$1")" 2>/dev/null; }
wait_healthy() { # wait_healthy <timeout_s> <service...>
  local deadline=$(( $(date +%s) + $1 )) s all; shift
  while [ "$(date +%s)" -lt "$deadline" ]; do
    all=1
    for s in "$@"; do [ "$(health "$s")" = healthy ] || all=0; done
    [ "$all" = 1 ] && return 0
    sleep 1
  done
  for s in "$@"; do note "$s: $(health "$s")"; done
  return 1
}
access_lines() { dc logs --no-color proxy 2>/dev/null | sed -n 's/^[^|]*| //p' | grep '"msg":"access"'; }
last_access() { access_lines | grep "\"host\":\"$1\"" | tail -n 1; }
json_field() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{let v=JSON.parse(s);for(const k of process.argv[1].split("."))v=v==null?undefined:v[k];process.stdout.write(v===undefined?"":typeof v==="object"?JSON.stringify(v):String(v))})' "$1"; }
cscli() { dc exec -T crowdsec cscli "$@"; }

# ---------------------------------------------------------------------------------------------
note "step 0: docker/proxy.env missing"
out="$(bash scripts/compose-check.sh 2>&1)"; rc=$?
check "without docker/proxy.env, scripts/compose-check.sh exits 1 and says: run npm run gen-key" \
  test "$rc" = 1 -a -n "$(grep -F 'docker/proxy.env is missing' <<<"$out" | grep -F 'npm run gen-key')"
note "$out"
out="$(dc up -d 2>&1)"; rc=$?
check "without docker/proxy.env, docker-compose up -d itself refuses and names the file" test "$rc" -ne 0 -a -n "$(grep -F proxy.env <<<"$out")"
note "docker-compose: $out"
node scripts/gen-key.js --file docker/proxy.env >/dev/null
printf '\nNB_PROXY_CROWDSEC_POLL_INTERVAL=%ss\n' "$POLL_S" >> docker/proxy.env
check "after npm run gen-key, compose-check passes" bash scripts/compose-check.sh

# ---------------------------------------------------------------------------------------------
note "step 1: docker-compose --profile demo up -d --build"
t0=$(now_ms)
if dc --profile demo up -d --build >"$work/up.log" 2>&1; then
  t_up=$(now_ms)
  pass "docker-compose --profile demo up -d --build"
else
  fail "docker-compose --profile demo up -d --build"; tail -n 30 "$work/up.log"; exit 1
fi
measure "up -d --build: $(( (t_up - t0) / 1000 )) s"
if wait_healthy "$HEALTH_TIMEOUT_S" crowdsec proxy demo-upstream; then
  pass "crowdsec, proxy and demo-upstream are healthy"
else
  fail "crowdsec, proxy and demo-upstream are healthy"; dc logs --no-color --tail 40; exit 1
fi
dc ps | sed 's/^/#   /'
measure "up returned -> all healthy: $(( ($(now_ms) - t_up) / 1000 )) s (from the start of up: $(( ($(now_ms) - t0) / 1000 )) s)"
size=$(docker image inspect -f '{{.Size}}' netbird-proxy:local)
measure "image netbird-proxy:local: $(( size / 1000000 )) MB"
check "the proxy runs as the unprivileged node user (uid 1000)" test "$(dc exec -T proxy id -u | tr -d '\r')" = 1000
check "the proxy image ships Node 24" grep -q '^v24\.' <<<"$(dc exec -T proxy node --version | tr -d '\r')"
check "the root filesystem is read-only (read_only: true)" \
  test -n "$(dc exec -T proxy sh -c 'touch /app/x 2>&1; touch /tmp/x 2>&1' | grep -c 'Read-only file system' | grep -x 2)"
check "the bundled country database is loaded" grep -q '"msg":"country database loaded"' <<<"$(dc logs --no-color proxy)"
check "admin /healthz answers on the host's 127.0.0.1:$ADMIN_PORT" test "$(curl -s --max-time 5 "http://127.0.0.1:$ADMIN_PORT/healthz")" = ok
ports="$(docker port "$(dc ps -q proxy)" 9090/tcp)"
check "the admin port is published on 127.0.0.1 only ($ports)" test "$ports" = "127.0.0.1:$ADMIN_PORT"
check "the container's HEALTHCHECK is netbird-proxy healthcheck" \
  grep -q '"netbird-proxy","healthcheck"' <<<"$(docker inspect -f '{{json .Config.Healthcheck.Test}}' "$(dc ps -q proxy)")"

# ---------------------------------------------------------------------------------------------
note "step 2: docker-compose logs proxy | grep -i crowdsec"
cs_logs="$(dc logs --no-color proxy | grep -i crowdsec)"
echo "$cs_logs" | sed 's/^/#   /' | head -n 5
check "logs: connecting to CrowdSec LAPI at http://crowdsec:8080" grep -q 'connecting to CrowdSec LAPI at http://crowdsec:8080' <<<"$cs_logs"
check "logs: CrowdSec bouncer started" grep -q '"msg":"CrowdSec bouncer started"' <<<"$cs_logs"
check "logs: CrowdSec bouncer synced initial decisions" grep -q '"msg":"CrowdSec bouncer synced initial decisions"' <<<"$cs_logs"
check "the crowdsec entrypoint registered BOUNCER_KEY_netbird_proxy as bouncer netbird_proxy" \
  grep -Eq '"name": *"netbird_proxy"' <<<"$(cscli bouncers list -o json 2>/dev/null)"
check "no API key in the proxy's logs" test -z "$(dc logs --no-color proxy | grep -F "$(sed -n 's/^NB_PROXY_CROWDSEC_API_KEY=//p' docker/proxy.env)")"

# ---------------------------------------------------------------------------------------------
note "step 3: cscli decisions add --ip <client> --duration 5m --reason \"netbird test\""
check "enforce route (app.example.com) answers 200 before any decision" test "$(get app.example.com)" = 200
check "the demo upstream answers through the proxy" grep -q 'hello from the demo upstream: GET app.example.com/' \
  <<<"$(curl -s --max-time 10 -H 'Host: app.example.com' "http://127.0.0.1:$HTTP_PORT/")"
client_ip="$(last_access app.example.com | json_field client_ip)"
note "the test client as the proxy sees it: $client_ip"
check "the client address is in the access log" test -n "$client_ip"
cscli decisions add --ip "$client_ip" --duration 5m --reason "netbird test" >/dev/null 2>&1
if wait_status app.example.com 403 $((POLL_S + 8)); then
  pass "enforce route answers 403 after the ban (${waited_ms} ms)"
else
  fail "enforce route answers 403 after the ban"
fi
measure "ban -> 403: ${waited_ms} ms (poll interval ${POLL_S}s)"
entry="$(last_access app.example.com)"
check "its access entry says deny_reason crowdsec_ban" test "$(json_field deny_reason <<<"$entry")" = crowdsec_ban
check "observe route (observe.example.com) answers 200" test "$(get observe.example.com)" = 200
entry="$(last_access observe.example.com)"
check "its access entry carries metadata crowdsec_verdict ban, crowdsec_mode observe" \
  test "$(json_field metadata <<<"$entry")" = '{"crowdsec_verdict":"ban","crowdsec_scope":"ip","crowdsec_mode":"observe"}'

# ---------------------------------------------------------------------------------------------
note "step 4: cscli decisions delete --ip <client>"
cscli decisions delete --ip "$client_ip" >/dev/null 2>&1
if wait_status app.example.com 200 $((POLL_S + 8)); then
  pass "200 is back after the delete within a poll interval plus slack (${waited_ms} ms)"
else
  fail "200 is back after the delete"
fi
measure "delete -> 200: ${waited_ms} ms"

# ---------------------------------------------------------------------------------------------
note "step 5: docker-compose restart crowdsec"
cscli decisions add --ip "$client_ip" --duration 5m --reason "netbird test" >/dev/null 2>&1
wait_status app.example.com 403 $((POLL_S + 8)) || fail "banned again before the restart"
dc restart crowdsec >"$work/restart.log" 2>&1 &
restart_pid=$!
codes=""
while kill -0 "$restart_pid" 2>/dev/null; do codes="$codes $(get app.example.com)"; sleep 0.3; done
wait "$restart_pid"; restart_rc=$?
codes="$codes $(get app.example.com)"
note "answers while crowdsec restarted:$codes"
check "docker-compose restart crowdsec" test "$restart_rc" = 0
check "the ban held from the cache while crowdsec was down (every answer 403)" test -z "$(tr ' ' '\n' <<<"$codes" | grep -v -e '^$' -e '^403$')"
wait_healthy 120 crowdsec || fail "crowdsec healthy again"
cscli decisions delete --ip "$client_ip" >/dev/null 2>&1
if wait_status app.example.com 200 $((POLL_S * 2 + 60)); then pass "after the restart, deleting the ban is seen (${waited_ms} ms)"; else fail "after the restart, deleting the ban is seen"; fi
cscli decisions add --ip "$client_ip" --duration 5m --reason "netbird test" >/dev/null 2>&1
if wait_status app.example.com 403 $((POLL_S + 8)); then pass "a new ban after the restart is enforced (${waited_ms} ms)"; else fail "a new ban after the restart is enforced"; fi
grep -q 'serving [0-9]* cached decisions' <<<"$(dc logs --no-color proxy)" \
  && note "proxy logged: $(dc logs --no-color proxy | grep -o 'CrowdSec LAPI pull failed, serving [0-9]* cached decisions[^"]*' | head -n 1)"

# ---------------------------------------------------------------------------------------------
note "step 6: docker-compose --profile demo down && docker-compose --profile demo up -d"
# The recreated network may get another subnet, so the client's address (the gateway) changes:
# a range ban over the private block it is in must still apply afterwards.
case "$client_ip" in
  10.*) block=10.0.0.0/8 ;;
  172.*) block=172.16.0.0/12 ;;
  192.168.*) block=192.168.0.0/16 ;;
  *) block="$client_ip/32" ;;
esac
cscli decisions add --range "$block" --duration 5m --reason "netbird test" >/dev/null 2>&1
t0=$(now_ms)
if dc --profile demo down >"$work/down.log" 2>&1 && dc --profile demo up -d >"$work/up2.log" 2>&1; then
  pass "down && up -d"
else
  fail "down && up -d"; tail -n 20 "$work/down.log" "$work/up2.log"
fi
if wait_healthy "$HEALTH_TIMEOUT_S" crowdsec proxy demo-upstream; then pass "healthy again"; else fail "healthy again"; fi
measure "warm down + up -> healthy: $(( ($(now_ms) - t0) / 1000 )) s"
decisions="$(cscli decisions list -o raw 2>/dev/null)"
check "the decisions survived in the volume (cscli decisions list: $client_ip and $block)" \
  test -n "$(grep -F "$client_ip" <<<"$decisions")" -a -n "$(grep -F "$block" <<<"$decisions")"
if wait_status app.example.com 403 $((POLL_S + 8)); then pass "and the new proxy enforces them (403)"; else fail "and the new proxy enforces them (403)"; fi
old_ip="$client_ip"
client_ip="$(last_access app.example.com | json_field client_ip)"
note "the client as the proxy sees it now: $client_ip (was $old_ip)"
check "the refusal is crowdsec_ban" test "$(last_access app.example.com | json_field deny_reason)" = crowdsec_ban

# ---------------------------------------------------------------------------------------------
note "step 7: edit config/compose/services.yaml on the host"
check "observe.example.com is let through (observe) before the edit" test "$(get observe.example.com)" = 200
sed -i 's/access: { crowdsec: observe }/access: { crowdsec: enforce }/' config/compose/services.yaml
if wait_status observe.example.com 403 20; then pass "after switching it to enforce on the host, the proxy refuses it (${waited_ms} ms)"; else fail "the edit is picked up inside the container"; fi
check "the proxy logged config reloaded" grep -q '"msg":"config reloaded"' <<<"$(dc logs --no-color proxy)"

# ---------------------------------------------------------------------------------------------
note "step 8: docker-compose exec proxy netbird-proxy status"
status_out="$(dc exec -T proxy netbird-proxy status 2>&1)"
echo "$status_out" | sed 's/^/#   /'
check "status shows the bouncer synced" grep -Eq '^ Synced +yes' <<<"$status_out"
check "status shows State synced" grep -Eq '^ State +synced' <<<"$status_out"
check "status counts the bans" grep -Eq '^ ban +[1-9][0-9]*$' <<<"$status_out"
check "status lists both services with their CrowdSec mode" grep -Eq '^ app +http +app\.example\.com .* enforce' <<<"$status_out"
check "status says ready" grep -q '^Readiness: ready' <<<"$status_out"
# The admin listener binds every interface inside the container, so it has a token (gen-key
# wrote NB_PROXY_ADMIN_TOKEN); /status needs it, /healthz and /readyz do not.
admin_token=$(sed -n 's/^NB_PROXY_ADMIN_TOKEN=//p' docker/proxy.env)
check "GET /status from the host through the published admin port says synced" \
  test "$(curl -s --max-time 5 -H "Authorization: Bearer $admin_token" "http://127.0.0.1:$ADMIN_PORT/status" | json_field crowdsec.synced)" = true
check "GET /status without the admin token is refused" \
  test "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$ADMIN_PORT/status")" = 401

# ---------------------------------------------------------------------------------------------
note "step 9: NB_PROXY_ACCESS_LOG=/var/log/netbird-proxy/access.log in docker/proxy.env"
cscli decisions delete --all >/dev/null 2>&1
echo "NB_PROXY_ACCESS_LOG=/var/log/netbird-proxy/access.log" >> docker/proxy.env
dc --profile demo up -d >"$work/up3.log" 2>&1 || { fail "up -d with the access log"; tail -n 20 "$work/up3.log"; }
wait_healthy "$HEALTH_TIMEOUT_S" crowdsec proxy demo-upstream || fail "healthy with the access log"
wait_status app.example.com 200 $((POLL_S + 30)) || fail "app.example.com answers 200 with the access log"
for i in 1 2 3 4 5; do get app.example.com "/page$i" >/dev/null; done
owner="$(dc exec -T proxy stat -c '%U %s' /var/log/netbird-proxy/access.log 2>&1 | tr -d '\r')"
note "access.log owner and size: $owner"
check "the access log is written to the shared volume by the node user" grep -Eq '^node [1-9][0-9]*$' <<<"$owner"
check "it holds the requests" grep -q '"path":"/page5"' <<<"$(dc exec -T proxy cat /var/log/netbird-proxy/access.log)"
deadline=$(( $(date +%s) + 60 )); metrics=""
while [ "$(date +%s)" -lt "$deadline" ]; do
  metrics="$(cscli metrics 2>/dev/null)"
  grep -Eq 'file:/var/log/netbird-proxy/access.log *\| *[1-9]' <<<"$metrics" && break
  sleep 2
done
grep -i 'netbird-proxy/access.log' <<<"$metrics" | sed 's/^/#   /'
check "the crowdsec container's acquisition reads it (cscli metrics: lines read)" \
  grep -Eq 'file:/var/log/netbird-proxy/access.log *\| *[1-9]' <<<"$metrics"
check "and parses its lines (cscli metrics: lines parsed)" \
  grep -Eq 'file:/var/log/netbird-proxy/access.log *\| *[1-9][0-9]* *\| *[1-9]' <<<"$metrics"

# ---------------------------------------------------------------------------------------------
measure "compose test total: $(( $(date +%s) - t_start )) s"
echo "compose-test result: $((n - failed)) of $n checks passed, $failed failed"
[ "$failed" -eq 0 ]
exit
}
