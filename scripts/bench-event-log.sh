#!/usr/bin/env bash
# Request-path cost of the admin event log, on loopback with wrk:
#   off     --event-log-size 0 (no ring, no counters)
#   closed  default ring (10000), nobody watching: the ring append only
#   stream  default ring with a live /api/events/stream subscriber receiving every request
# Variants are interleaved with a rotating order, and reported as medians; on a shared machine the
# per-round ratios to "off" (measured seconds apart) are the figures to trust.
# Usage: bash scripts/bench-event-log.sh [rounds=5] [seconds=8] [connections=32]
# Needs: npm run build, wrk (apt-get install wrk), curl. Pins the proxy to CPU 0, the rest to CPU 1;
# as root it also raises their priority (nice -10) so other jobs on a shared machine disturb less.
set -euo pipefail
cd "$(dirname "$0")/.."
PRIO=()
[ "$(id -u)" = 0 ] && PRIO=(nice -n -10)
ROUNDS=${1:-5}
SECS=${2:-8}
CONNS=${3:-32}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
[ -f dist/cli.js ] || { echo "run npm run build first" >&2; exit 1; }
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
UP=$(free_port)
"${PRIO[@]}" taskset -c 1 node -e "require('http').createServer((q,r)=>{r.writeHead(200,{'content-type':'text/plain','content-length':2});r.end('ok')}).listen($UP,'127.0.0.1')" &
pids+=($!)
cat >"$work/services.yaml" <<EOF
services:
  - name: bench
    protocol: http
    domains: [bench.example.com]
    target: http://127.0.0.1:$UP
EOF

start_proxy() { # $1 = event log size; prints "pid http admin"
  local http admin
  http=$(free_port); admin=$(free_port)
  "${PRIO[@]}" taskset -c 0 node bin/netbird-proxy --config "$work/services.yaml" --http-addr "127.0.0.1:$http" \
    --admin-addr "127.0.0.1:$admin" --env-file /dev/null --access-log "$work/access-$1.log" \
    --event-log-size "$1" >"$work/proxy-$1.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$admin/healthz" >/dev/null && break; sleep 0.1; done
  echo "$pid $http $admin"
}

read -r P_OFF H_OFF A_OFF < <(start_proxy 0)
read -r P_ON H_ON A_ON < <(start_proxy 10000)
pids+=("$P_OFF" "$P_ON")

# CPU time of every thread of a process, in ns (robust on a shared machine, unlike throughput).
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%.0f", s}'; }

run_wrk() { # $1 port, $2 proxy pid -> "requests/s cpu-us-per-request"
  local before after out reqs rps
  before=$(cpu_ns "$2")
  out=$("${PRIO[@]}" taskset -c 1 wrk -t1 -c"$CONNS" -d"${SECS}s" -H 'Host: bench.example.com' "http://127.0.0.1:$1/")
  after=$(cpu_ns "$2")
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  awk -v r="$rps" -v n="$reqs" -v d="$((after - before))" 'BEGIN {printf "%s %.1f", r, d / n / 1000}'
}
warm() { "${PRIO[@]}" taskset -c 1 wrk -t1 -c"$CONNS" -d2s -H 'Host: bench.example.com' "http://127.0.0.1:$1/" >/dev/null; }

declare -A rps cpu
for v in off closed stream; do rps[$v]=""; cpu[$v]=""; done
record() { # $1 variant, $2 "rps cpu"
  rps[$1]+="${2% *} "; cpu[$1]+="${2#* } "
  printf '  %-7s %10s req/s %8s us CPU/request\n' "$1" "${2% *}" "${2#* }"
}
warm "$H_OFF"; warm "$H_ON"
measure() { # $1 variant
  case $1 in
    off) warm "$H_OFF"; record off "$(run_wrk "$H_OFF" "$P_OFF")" ;;
    closed) warm "$H_ON"; record closed "$(run_wrk "$H_ON" "$P_ON")" ;;
    stream)
      taskset -c 1 curl -sN "http://127.0.0.1:$A_ON/api/events/stream" >"$work/stream.txt" &
      local cpid=$!
      sleep 0.5
      warm "$H_ON"; record stream "$(run_wrk "$H_ON" "$P_ON")"
      kill "$cpid" 2>/dev/null || true
      wait "$cpid" 2>/dev/null || true
      echo "          ($(grep -c '^event: events' "$work/stream.txt" || true) SSE batches, $(grep -c '^data: ' "$work/stream.txt" || true) events streamed)"
      ;;
  esac
}
# The order rotates every round, so drift on a shared machine does not favour one variant.
orders=("off closed stream" "closed stream off" "stream off closed")
for r in $(seq 1 "$ROUNDS"); do
  echo "round $r"
  for v in ${orders[$(( (r - 1) % 3 ))]}; do measure "$v"; done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ratios() { # $1 $2: space-separated lists -> per-round ratios a/b
  paste -d' ' <(tr ' ' '\n' <<<"$1" | grep -v '^$') <(tr ' ' '\n' <<<"$2" | grep -v '^$') | awk '{printf "%s ", $1 / $2}'
}
echo
echo "medians over $ROUNDS rounds of ${SECS}s, $CONNS connections (CPU = all proxy threads, per request):"
for v in off closed stream; do
  r=$(echo "${rps[$v]}" | median); c=$(echo "${cpu[$v]}" | median)
  printf '  %-7s %8.0f req/s %7.1f us CPU/request\n' "$v" "$r" "$c"
done
echo "median of per-round ratios to off:"
for v in closed stream; do
  rr=$(ratios "${rps[$v]}" "${rps[off]}" | median); cr=$(ratios "${cpu[$v]}" "${cpu[off]}" | median)
  awk -v v="$v" -v rr="$rr" -v cr="$cr" 'BEGIN {printf "  %-7s req/s %+.1f%%   CPU/request %+.1f%%\n", v, (rr - 1) * 100, (cr - 1) * 100}'
done
