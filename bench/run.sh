#!/usr/bin/env bash
# bench/run.sh: haproxy-asg's benchmarks, each measured value beside its target in one table at the end.
#
#   bench/run.sh                    # build if needed, then every row (about 13 minutes)
#   bench/run.sh churn throughput   # only these rows (churn calls apply footprint footprint20k throughput hooks
#                                   # events nohook cluster health cloudwatch tls)
#   bench/run.sh soak               # the 10-minute soak (never part of the default run)
#   bench/run.sh --no-build calls   # skip the build step
#   bench/run.sh --keep apply       # keep the work directory (logs, configs, wrk output) and print its path
#
# Environment: BENCH_BUILD_DIR (default build-bench), BENCH_CHURN_SECONDS (60), BENCH_SEED (42),
# BENCH_ROUNDS (3, throughput rounds), BENCH_HOOKS_SECONDS (30: the churn of the hooks, events, nohook rows),
# BENCH_CLUSTER_SECONDS (30: the churn of each of the cluster row's two runs), BENCH_SOAK_SECONDS (600: the soak's
# length).
# Loopback only: every bind, server and request is on 127.0.0.0/8.
# See bench/README.md for what each row measures and how.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BENCH_BUILD_DIR:-$ROOT/build-bench}
CHURN_S=${BENCH_CHURN_SECONDS:-60}
SEED=${BENCH_SEED:-42}
ROUNDS=${BENCH_ROUNDS:-3}
HAPROXY_BIN=/usr/sbin/haproxy
WRK=/usr/bin/wrk
PY=/usr/bin/python3
SOAK_S=${BENCH_SOAK_SECONDS:-600}
ALL_ROWS=(churn calls apply footprint footprint20k throughput hooks events nohook cluster health cloudwatch tls)
CR_ARGS=()

usage() { sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

BUILD_FIRST=1
KEEP=0
ROWS=()
for a in "$@"; do
  case "$a" in
    -h|--help) usage; exit 0 ;;
    --no-build) BUILD_FIRST=0 ;;
    --keep) KEEP=1 ;;
    churn|calls|apply|footprint|footprint20k|throughput|hooks|events|nohook|cluster|health|cloudwatch|tls|soak) ROWS+=("$a") ;;
    *) echo "bench/run.sh: unknown argument '$a' (rows: ${ALL_ROWS[*]})" >&2; exit 2 ;;
  esac
done
[[ ${#ROWS[@]} -eq 0 ]] && ROWS=("${ALL_ROWS[@]}")

for tool in "$HAPROXY_BIN" "$WRK" /usr/bin/socat /usr/bin/curl /usr/bin/jq /usr/bin/openssl "$PY"; do
  [[ -x $tool ]] || { echo "bench/run.sh: $tool is missing (scripts/setup.sh installs it)" >&2; exit 1; }
done

# ---- build ---------------------------------------------------------------------------------------------------------
if [[ $BUILD_FIRST -eq 1 ]]; then
  echo "== build ($BUILD)"
  if [[ ! -f $BUILD/build.ninja ]]; then
    cmake -S "$ROOT" -B "$BUILD" -G Ninja -DHASG_WERROR=ON >/dev/null || exit 1
  fi
  cmake --build "$BUILD" -j2 --target haproxy-asg haproxy-asg-sim churn_bench floor_bench >/dev/null || {
    echo "bench/run.sh: build failed (run: cmake --build $BUILD)" >&2; exit 1; }
fi
HASG=$BUILD/haproxy-asg
SIM=$BUILD/haproxy-asg-sim
CHURN=$BUILD/bench/churn_bench
FLOOR=$BUILD/bench/floor_bench
for b in "$HASG" "$SIM" "$CHURN" "$FLOOR"; do
  [[ -x $b ]] || { echo "bench/run.sh: $b not built" >&2; exit 1; }
done

# ---- processes, clean-up ------------------------------------------------------------------------------------------
LIB_PROG=bench/run.sh
. "$ROOT/scripts/lib.sh"
WORK=$(mktemp -d /tmp/hasg-bench.XXXXXX)
cleanup() { bg_stop_all; }
finish() {
  cleanup
  [[ -n ${WATCHDOG:-} ]] && kill "$WATCHDOG" 2>/dev/null
  if [[ $KEEP -eq 1 ]]; then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
WATCHDOG_S=1200
[[ " ${ROWS[*]} " == *" soak "* ]] && WATCHDOG_S=$((WATCHDOG_S + SOAK_S + 120))
on_exit finish "bench/run.sh: interrupted (or the $((WATCHDOG_S / 60))-minute watchdog fired)"
# A hard bound on the whole run, whatever hangs (20 minutes, plus the soak's length and set-up when it runs). It
# holds no descriptor of ours and takes its sleep along when finish stops it.
( exec </dev/null >/dev/null 2>&1; sleep "$WATCHDOG_S" & s=$!; trap 'kill $s; wait $s; exit 0' TERM; wait $s && kill -TERM $$ ) &
WATCHDOG=$!


aws_env() {  # aws_env PORT: the daemon's AWS settings, pointed at the simulator
  export AWS_ENDPOINT_URL=http://127.0.0.1:$1 AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true \
         AWS_ACCESS_KEY_ID=AKIDSIMULATOR AWS_SECRET_ACCESS_KEY=simulator-secret-key
  unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL_AUTO_SCALING AWS_ENDPOINT_URL_EC2
}
sock() { echo "$2" | /usr/bin/socat -t 5 - "UNIX-CONNECT:$1" 2>/dev/null; }
reloads() { sock "$1/master.sock" "show proc" | awk '$2 == "master" {print $3; exit}'; }
metric() {  # metric PORT 'NAME{labels}': the value of one sample of the daemon's /metrics (0 when absent)
  curl -s --max-time 5 "http://127.0.0.1:$1/metrics" |
    awk -v k="$2" '$1 == k {v = $2} END {print (v == "" ? 0 : v)}'
}
cycles() { metric "$1" 'haproxy_asg_cycles_total{outcome="ok"}'; }
wait_cycle() {  # wait_cycle PORT: returns just after the daemon finished its next successful cycle
  local c0 deadline
  c0=$(cycles "$1"); deadline=$((SECONDS + 15))
  while [[ $(cycles "$1") == "$c0" ]]; do
    ((SECONDS >= deadline)) && { echo "bench/run.sh: no daemon cycle for 15 s" >&2; return 1; }
    sleep 0.02
  done
}
sim_calls() {  # sim_calls PORT [ACTION]: AWS calls the simulator accepted (all actions, or one)
  curl -s --max-time 5 "http://127.0.0.1:$1/_sim/state" |
    jq -r --arg a "${2:-}" 'if $a == "" then ([.calls[]] | add // 0) else (.calls[$a] // 0) end'
}
set_desired() {
  curl -s --max-time 5 -X POST -d "{\"desired\":$3}" "http://127.0.0.1:$1/_sim/groups/$2/desired" >/dev/null
}
servers_in() {  # servers_in DIR BACKEND: servers HAProxy has in BACKEND
  sock "$1/admin.sock" "show servers state $2" | awk 'NF > 18 && $1 !~ /^#/ {n++} END {print n + 0}'
}
fcalc() { awk "BEGIN {printf \"$1\", $2}"; }

start_haproxy() {  # start_haproxy DIR: master-worker, master CLI on DIR/master.sock; waits for both sockets
  bg_start "$1/haproxy.log" "$HAPROXY_BIN" -W -S "$1/master.sock" -f "$1/haproxy.cfg"
  HAPROXY_PID=$LAST_PID
  wait_for 10 test -S "$1/admin.sock" && wait_for 10 sh -c "echo 'show info' | /usr/bin/socat -t 2 - UNIX-CONNECT:$1/admin.sock | grep -q Name" ||
    { echo "bench/run.sh: HAProxy did not start:" >&2; tail -5 "$1/haproxy.log" >&2; return 1; }
}
start_daemon() {  # start_daemon DIR: haproxy-asg run; waits for its first successful cycle
  bg_start "$1/daemon.log" "$HASG" run --config "$1/haproxy-asg.yaml"
  DAEMON_PID=$LAST_PID
  wait_for 15 sh -c "curl -s http://127.0.0.1:$2/metrics | grep -q '^haproxy_asg_cycles_total{outcome=\"ok\"}'" ||
    { echo "bench/run.sh: haproxy-asg run made no successful cycle:" >&2; tail -5 "$1/daemon.log" >&2; return 1; }
}
start_sim() {  # start_sim DIR ARGS...: the simulator program; sets SIM_PORT
  local d=$1; shift
  bg_start "$d/sim.log" "$SIM" --port-file "$d/sim.port" "$@"
  wait_for 10 test -s "$d/sim.port" || { echo "bench/run.sh: simulator did not start" >&2; cat "$d/sim.log" >&2; return 1; }
  SIM_PORT=$(cat "$d/sim.port")
}

global_section() {  # global_section DIR
  cat <<EOF
global
    stats socket $1/admin.sock mode 600 level admin expose-fd listeners
    stats timeout 30s
    maxconn 4000
    log stderr format short local0 warning

EOF
}
# Production-like defaults (as packaging/haproxy.cfg.template): keep-alive both sides, idle connection reuse,
# retries with redispatch.
defaults_section() {
  cat <<'EOF'
defaults
    log global
    mode http
    option http-keep-alive
    http-reuse safe
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response response-timeout
    timeout connect 2s
    timeout client 30s
    timeout server 10s
    timeout http-keep-alive 10s
    timeout queue 10s

EOF
}
yaml_head() {  # yaml_head DIR INTERVAL METRICS_PORT [MAX_REMOVE_SHARE]
  cat <<EOF
interval: $2
haproxy:
  template: $1/haproxy.cfg.template
  config: $1/haproxy.cfg
  runtime_socket: $1/admin.sock
  master_socket: $1/master.sock
  binary: $HAPROXY_BIN
max_remove_share: ${4:-50%}
listen: 127.0.0.1:$3
log_format: text
backends:
EOF
}

# wrk's report -> "requests rps non2xx socket_errors"
parse_wrk() {
  awk '
    / requests in / {req = $1}
    /^Requests\/sec:/ {rps = $2}
    /Non-2xx or 3xx responses:/ {bad = $NF}
    /Socket errors:/ {gsub(/,/, ""); serr = $4 + $6 + $8 + $10}
    END {printf "%d %.0f %d %d\n", req, rps, bad, serr}' "$1"
}

# ---- results -------------------------------------------------------------------------------------------------------
TABLE=()
DETAILS=()
row() { TABLE+=("$1"$'\t'"$2"$'\t'"$3"$'\t'"$4"); }   # row NAME MEASURED TARGET VERDICT
detail() { DETAILS+=("$1"); echo "   $1"; }
verdict() { if awk "BEGIN {exit !($1)}"; then echo PASS; else echo MISS; fi; }

CHURN_SERVER_OPTIONS="check inter 1s fall 2 rise 1 pool-purge-delay 10s pool-max-conn -1"

# ---- row 1: churn ------------------------------------------------------------------------------------------------
# churn_run MODE NET [NAME]: MODE "daemon" (haproxy-asg run) or "reload" (render + reload every second); NAME names the
# work directory (default MODE). The churn's shape comes from these variables (the churn row's values when unset; the
# hooks, events and nohook rows set them): CR_SECONDS CR_PERIOD CR_CONNS CR_INTERVAL CR_TERMINATING, CR_ARGS (more
# churn_bench arguments, an array), CR_BACKEND_YAML (more lines of the backend), CR_TOP_YAML (more top-level lines
# of the YAML; @SIM_PORT@ becomes the simulator's port).
churn_run() {
  local mode=$1 net=$2 d=$WORK/churn-${3:-$1} iport fport mport churn_pid loop_pid="" secs=${CR_SECONDS:-$CHURN_S}
  mkdir -p "$d"
  iport=$(free_port); fport=$(free_port); mport=$(free_port)
  bg_start "$d/sim.log" "$CHURN" --port-file "$d/sim.port" --out "$d/churn.json" --instance-port "$iport" \
     --instance-net "$net" --pending 500ms --terminating "${CR_TERMINATING:-3s}" --period "${CR_PERIOD:-1s}" \
     --duration "$secs" --seed "$SEED" --initial 5 --min 2 --max 10 ${CR_ARGS[@]+"${CR_ARGS[@]}"}
  churn_pid=$LAST_PID
  wait_for 10 test -s "$d/sim.port" || { echo "churn_bench did not start" >&2; cat "$d/sim.log" >&2; return 1; }
  local sim_port; sim_port=$(cat "$d/sim.port")
  aws_env "$sim_port"
  { global_section "$d"; defaults_section; cat <<EOF
frontend web
    bind 127.0.0.1:$fport
    default_backend app

backend app
    balance roundrobin
    option httpchk GET /
EOF
  } >"$d/haproxy.cfg.template"
  { yaml_head "$d" "${CR_INTERVAL:-1s}" "$mport"; cat <<EOF
  - backend: app
    group: app
    port: $iport
    server_options: $CHURN_SERVER_OPTIONS
    drain_timeout: 2s
EOF
    [[ -n ${CR_BACKEND_YAML:-} ]] && echo "$CR_BACKEND_YAML"
    [[ -n ${CR_TOP_YAML:-} ]] && echo "${CR_TOP_YAML//@SIM_PORT@/$sim_port}"
  } >"$d/haproxy-asg.yaml"
  sleep 0.7  # the first instances leave Pending
  "$HASG" once --config "$d/haproxy-asg.yaml" >"$d/once.log" 2>&1 || { cat "$d/once.log" >&2; return 1; }
  start_haproxy "$d" || return 1
  if [[ $mode == daemon ]]; then
    start_daemon "$d" "$mport" || return 1
  else
    # The recipe haproxy-asg replaces: every second, render the whole file from discovery and reload HAProxy
    # through the master CLI, changed or not. No runtime API, no draining, no lifecycle hooks.
    bg_start "$d/loop.log" bash -c '
      while :; do
        t0=$(date +%s%N)
        if "$0" render --config "$1/haproxy-asg.yaml" >"$1/haproxy.cfg.new"; then mv -f "$1/haproxy.cfg.new" "$1/haproxy.cfg"; fi
        echo reload | /usr/bin/socat -t 2 - UNIX-CONNECT:"$1/master.sock" >/dev/null
        rest=$(( 1000000000 - ($(date +%s%N) - t0) ))
        (( rest > 0 )) && sleep "$(printf "0.%09d" "$rest")"
      done' "$HASG" "$d"
    loop_pid=$LAST_PID
  fi
  wait_for 10 curl -sf --max-time 2 "http://127.0.0.1:$fport/" || { echo "no answer through HAProxy" >&2; return 1; }
  sleep 2
  local r0; r0=$(reloads "$d")
  kill -USR1 "$churn_pid"
  timeout $((secs + 30)) "$WRK" -t2 -c"${CR_CONNS:-20}" -d$((secs + 5))s --timeout 5s "http://127.0.0.1:$fport/" >"$d/wrk.txt" 2>&1
  local r1; r1=$(reloads "$d")
  kill -TERM "$churn_pid"
  wait_for 20 test -s "$d/churn.json"
  [[ -n $loop_pid ]] && bg_stop "$loop_pid"
  [[ $mode == daemon ]] && bg_stop "$DAEMON_PID"
  bg_stop "$HAPROXY_PID"
  bg_stop "$churn_pid"
  [[ -s $d/churn.json ]] || { echo "churn_bench wrote no result" >&2; return 1; }
  read -r CH_REQ CH_RPS CH_BAD CH_SERR < <(parse_wrk "$d/wrk.txt")
  CH_FAIL=$((CH_BAD + CH_SERR))
  CH_SERR_TEXT=$(awk -F': ' '/Socket errors:/ {print $2}' "$d/wrk.txt"); CH_SERR_TEXT=${CH_SERR_TEXT:-none}
  CH_P50=$(jq -r '.latency_ms.p50' "$d/churn.json"); CH_P99=$(jq -r '.latency_ms.p99' "$d/churn.json")
  CH_UNSERVED=$(jq -r '.unserved' "$d/churn.json"); CH_SERVED=$(jq -r '.served' "$d/churn.json")
  CH_CHANGES=$(jq -r '.changes' "$d/churn.json")
  CH_TERMINATED=$(jq -r '.terminated' "$d/churn.json")
  CH_RELOADS=$((r1 - r0))
  read -r LC_DONE LC_TIMEOUT LC_WAITING LC_OTHER LC_P50 LC_P99 LC_MAX < <(jq -r '.lifecycle |
    "\(.completed) \(.timeout) \(.waiting) \(.other) \(.wait_ms.p50) \(.wait_ms.p99) \(.wait_ms.max)"' "$d/churn.json")
  CH_LOG_REMOVED=0 CH_LOG_COMPLETED=0 CH_ADD_P50=-1 CH_ADD_P99=-1 CH_ADD_N=0
  if [[ $mode == daemon ]]; then
    # InService -> the daemon's "add app/ID" log line (wall clock, ms): the daemon's own reaction, without HAProxy
    # and the load's timing.
    read -r CH_ADD_N CH_ADD_P50 CH_ADD_P99 < <("$PY" -c '
import json, math, re, sys, time
ins = json.load(open(sys.argv[1])).get("in_service_unix_ms", {})
lat = []
for line in open(sys.argv[2]):
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{3}) \w+: add [^/ ]+/(\S+) ", line)
    if m and m.group(3) in ins:
        t = time.mktime(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")) * 1000 + int(m.group(2))
        lat.append(t - ins[m.group(3)])
lat.sort()
pct = lambda p: lat[max(1, math.ceil(p / 100 * len(lat))) - 1] if lat else -1
print(len(lat), pct(50), pct(99))' "$d/churn.json" "$d/daemon.log")
    CH_LOG_REMOVED=$(grep -c 'remove .*(drained)' "$d/daemon.log")
    CH_LOG_COMPLETED=$(grep -c 'lifecycle hook .* completed for' "$d/daemon.log")
  fi
  return 0
}

bench_churn() {
  local mode label
  for mode in daemon reload; do
    if [[ $mode == daemon ]]; then label="churn, haproxy-asg run"; else label="churn, render+reload every 1s"; fi
    echo "== $label: wrk $((CHURN_S + 5)) s, group changes every 1 s for $CHURN_S s (seed $SEED)"
    if ! churn_run "$mode" $([[ $mode == daemon ]] && echo 61 || echo 62); then
      row "$label" "FAILED TO RUN" "" "MISS"; cleanup; continue
    fi
    detail "$label: $CH_REQ requests, $CH_RPS req/s; non-2xx/3xx $CH_BAD, socket errors $CH_SERR ($CH_SERR_TEXT); $CH_CHANGES group changes; reloads $CH_RELOADS"
    detail "$label: InService->first request over $CH_SERVED instances: p50 $(fcalc %.0f "$CH_P50") ms, p99 $(fcalc %.0f "$CH_P99") ms; InService but never served: $CH_UNSERVED"
    if [[ $mode == daemon ]]; then
      row "$label: failed requests" "$CH_FAIL of $CH_REQ ($CH_RPS req/s)" "0" "$(verdict "$CH_FAIL == 0")"
      row "$label: InService->first request p50" "$(fcalc %.0f "$CH_P50") ms" "<= 1500 ms" \
          "$(verdict "$CH_P50 >= 0 && $CH_P50 <= 1500 && $CH_UNSERVED == 0")"
      row "$label: InService->first request p99" "$(fcalc %.0f "$CH_P99") ms (unserved: $CH_UNSERVED)" "(report)" "-"
      row "$label: reloads during the run" "$CH_RELOADS" "0" "$(verdict "$CH_RELOADS == 0")"
    else  # the baseline: reported beside the daemon's numbers, no target of its own
      row "$label: failed requests" "$CH_FAIL of $CH_REQ ($CH_RPS req/s)" "(baseline)" "-"
      row "$label: InService->first request p50" "$(fcalc %.0f "$CH_P50") ms" "(baseline)" "-"
      row "$label: InService->first request p99" "$(fcalc %.0f "$CH_P99") ms (unserved: $CH_UNSERVED)" "(baseline)" "-"
      row "$label: reloads during the run" "$CH_RELOADS" "(baseline)" "-"
    fi
  done
}

# ---- rows 6-8: lifecycle hooks and events (issue 8) ---------------------------------------------------------------
# The churn with slow streamed answers (headers at once, the body over 0.5 s: a server that dies mid-answer fails that
# request, HAProxy cannot retry it), wrk -c40, a change every 2 s, and departing servers dying 0.5 s after
# termination proceeds (after their hook completed; with no hook, right after leaving the group).
HOOKS_S=${BENCH_HOOKS_SECONDS:-30}
hooks_setup() {  # hooks_setup HOOK(0/1) EVENTS(0/1) INTERVAL
  CR_SECONDS=$HOOKS_S CR_PERIOD=2s CR_CONNS=40 CR_INTERVAL=$3 CR_TERMINATING=500ms
  CR_ARGS=(--instance-delay-ms 500 --delay-jitter-ms 100 --stream)
  CR_BACKEND_YAML="" CR_TOP_YAML=""
  if [[ $1 == 1 ]]; then
    CR_ARGS+=(--hook drain --hook-heartbeat 60)
    CR_BACKEND_YAML="    lifecycle_hooks: {terminating: drain}"
  fi
  if [[ $2 == 1 ]]; then
    CR_ARGS+=(--queue events)
    CR_TOP_YAML=$'events:\n  queue_url: http://127.0.0.1:@SIM_PORT@/123456789012/events'
  fi
}
hooks_reset() { unset CR_SECONDS CR_PERIOD CR_CONNS CR_INTERVAL CR_TERMINATING CR_BACKEND_YAML CR_TOP_YAML; CR_ARGS=(); }
hooks_details() {  # hooks_details LABEL
  detail "$1: $CH_REQ requests, $CH_RPS req/s; non-2xx/3xx $CH_BAD, socket errors $CH_SERR ($CH_SERR_TEXT); $CH_CHANGES group changes, $CH_TERMINATED instances terminated; reloads $CH_RELOADS"
  detail "$1: InService->first request over $CH_SERVED instances: p50 $(fcalc %.0f "$CH_P50") ms, p99 $(fcalc %.0f "$CH_P99") ms; InService but never served: $CH_UNSERVED"
  if ((LC_DONE + LC_TIMEOUT + LC_WAITING + LC_OTHER > 0)); then
    detail "$1: terminating lifecycle actions: $LC_DONE completed (CompleteLifecycleAction), $LC_TIMEOUT timed out, $LC_WAITING still waiting at the end, $LC_OTHER other; Terminating:Wait->completion p50 $(fcalc %.0f "$LC_P50") ms, p99 $(fcalc %.0f "$LC_P99") ms, max $(fcalc %.0f "$LC_MAX") ms"
  fi
  ((CH_ADD_N > 0)) && detail "$1: InService->add (the daemon log's 'add' line) over $CH_ADD_N instances: p50 $(fcalc %.0f "$CH_ADD_P50") ms, p99 $(fcalc %.0f "$CH_ADD_P99") ms"
  ((CH_LOG_REMOVED + CH_LOG_COMPLETED > 0)) &&
    detail "$1: daemon log: $CH_LOG_REMOVED 'remove ... (drained)', $CH_LOG_COMPLETED 'lifecycle hook ... completed'"
  return 0
}
hooks_lc_text() { echo "$LC_DONE completed, $LC_TIMEOUT timed out, $LC_WAITING still waiting"; }

bench_hooks() {
  local label mode
  for mode in daemon reload; do
    hooks_setup 1 0 1s
    if [[ $mode == daemon ]]; then label="hooks, haproxy-asg run"; else label="hooks, render+reload every 1s"; fi
    echo "== $label: termination hook, wrk -c40 on 0.5 s streamed answers, a change every 2 s for $HOOKS_S s, interval 1s"
    if ! churn_run "$mode" $([[ $mode == daemon ]] && echo 67 || echo 68) "hooks-$mode"; then
      row "$label" "FAILED TO RUN" "" "MISS"; cleanup; hooks_reset; continue
    fi
    hooks_reset
    hooks_details "$label"
    if [[ $mode == daemon ]]; then
      row "$label: failed requests" "$CH_FAIL of $CH_REQ ($CH_RPS req/s)" "0" "$(verdict "$CH_FAIL == 0")"
      row "$label: hooks completed / timed out" "$(hooks_lc_text)" "0 timed out" \
          "$(verdict "$LC_TIMEOUT == 0 && $LC_WAITING == 0 && $LC_DONE > 0")"
      row "$label: Terminating:Wait->completion p50" "$(fcalc %.0f "$LC_P50") ms" "<= 1500 ms" \
          "$(verdict "$LC_P50 >= 0 && $LC_P50 <= 1500")"
      row "$label: Terminating:Wait->completion p99" "$(fcalc %.0f "$LC_P99") ms" "(report)" "-"
    else
      row "$label: failed requests" "$CH_FAIL of $CH_REQ ($CH_RPS req/s)" "(baseline)" "-"
      row "$label: hooks completed / timed out" "$(hooks_lc_text) (HeartbeatTimeout 60 s)" "(baseline)" "-"
    fi
  done
}

bench_events() {
  local label="events, haproxy-asg run"
  hooks_setup 1 1 30s
  echo "== $label: termination hook + SQS queue (hook notifications, EventBridge events), interval 30s, same load"
  if ! churn_run daemon 69 events; then row "$label" "FAILED TO RUN" "" "MISS"; cleanup; hooks_reset; return; fi
  hooks_reset
  hooks_details "$label"
  row "$label: failed requests" "$CH_FAIL of $CH_REQ ($CH_RPS req/s)" "0" "$(verdict "$CH_FAIL == 0")"
  row "$label: InService->first request p50" "$(fcalc %.0f "$CH_P50") ms" "<= 300 ms" \
      "$(verdict "$CH_P50 >= 0 && $CH_P50 <= 300 && $CH_UNSERVED == 0")"
  row "$label: InService->first request p99" "$(fcalc %.0f "$CH_P99") ms (unserved: $CH_UNSERVED)" "(report)" "-"
  row "$label: InService->add in HAProxy p50 / p99" "$(fcalc %.0f "$CH_ADD_P50") / $(fcalc %.0f "$CH_ADD_P99") ms" "(report)" "-"
  row "$label: Terminating:Wait->completion p50" "$(fcalc %.0f "$LC_P50") ms" "<= 1000 ms" \
      "$(verdict "$LC_P50 >= 0 && $LC_P50 <= 1000")"
  row "$label: Terminating:Wait->completion p99" "$(fcalc %.0f "$LC_P99") ms" "(report)" "-"
  row "$label: hooks completed / timed out" "$(hooks_lc_text)" "0 timed out" \
      "$(verdict "$LC_TIMEOUT == 0 && $LC_WAITING == 0 && $LC_DONE > 0")"
}

bench_nohook() {
  local label mode
  for mode in daemon reload; do
    hooks_setup 0 0 1s
    if [[ $mode == daemon ]]; then label="nohook, haproxy-asg run"; else label="nohook, render+reload every 1s"; fi
    echo "== $label: no hook, instances die 0.5 s after leaving the group, same load"
    if ! churn_run "$mode" $([[ $mode == daemon ]] && echo 70 || echo 71) "nohook-$mode"; then
      row "$label" "FAILED TO RUN" "" "MISS"; cleanup; hooks_reset; continue
    fi
    hooks_reset
    hooks_details "$label"
    if [[ $mode == daemon ]]; then
      row "$label: failed requests" "$CH_FAIL of $CH_REQ ($CH_RPS req/s)" "(report)" "-"
    else
      row "$label: failed requests" "$CH_FAIL of $CH_REQ ($CH_RPS req/s)" "(baseline)" "-"
    fi
  done
}

# ---- row: two load balancers, one group (issue 10) ----------------------------------------------------------------
# Two HAProxies, each with its own `haproxy-asg run`, in front of one group with a termination hook. The clients of
# node 1 ask for 0.5 s answers, those of node 2 for 3 s answers (?delay_ms=, streamed: a cut answer cannot be
# retried); a departing instance dies 0.5 s after its hook completes; a change every 3 s. Run "cluster": both daemons
# with `cluster: {group: lb, node_id}` (the simulated group lb of two InService instances is the balancers' group), so
# the hook completes once both drained the instance. Run "alone": no `cluster:`, each node completes the hook as soon
# as it drained the instance itself, so node 1 lets it die under node 2's answers in flight (the demonstration).
CLUSTER_S=${BENCH_CLUSTER_SECONDS:-30}
# cluster_run VARIANT NET: VARIANT "cluster" or "alone". Sets CL_REQ[n] CL_RPS[n] CL_FAIL[n] CL_BAD[n] CL_SERR_TEXT[n]
# CL_DONE_LOG[n] CL_ALREADY_LOG[n] CL_RECORDS_LOG[n] CL_TIMEOUT_LOG[n] (node n = 1, 2) and LC_* from the simulator.
cluster_run() {
  local variant=$1 net=$2 d=$WORK/cluster-$1 iport sim_port churn_pid secs=$CLUSTER_S n nd fport mport
  local ids=() fports=() wpids=() delays=(500 3000) req rps bad serr
  mkdir -p "$d"
  iport=$(free_port)
  bg_start "$d/sim.log" "$CHURN" --port-file "$d/sim.port" --out "$d/churn.json" --instance-port "$iport" \
     --instance-net "$net" --pending 500ms --terminating 500ms --period 3s --duration "$secs" --seed "$SEED" \
     --initial 5 --min 2 --max 10 --stream --delay-jitter-ms 100 --hook drain --hook-heartbeat 60 \
     --lb-group lb --lb-nodes 2
  churn_pid=$LAST_PID
  wait_for 10 test -s "$d/sim.port" || { echo "churn_bench did not start" >&2; cat "$d/sim.log" >&2; return 1; }
  sim_port=$(cat "$d/sim.port")
  aws_env "$sim_port"
  sleep 0.7  # the first instances leave Pending
  mapfile -t ids < <(curl -s --max-time 5 "http://127.0.0.1:$sim_port/_sim/state" |
                     jq -r '.groups[] | select(.name == "lb") | .instances[] | select(.lifecycle == "InService") | .id')
  ((${#ids[@]} == 2)) || { echo "bench/run.sh: the balancers' group lb has ${#ids[@]} InService instances, not 2" >&2; return 1; }
  for n in 1 2; do
    nd=$d/node$n
    mkdir -p "$nd"
    fport=$(free_port); mport=$(free_port)
    fports+=("$fport")
    { global_section "$nd"; defaults_section; cat <<EOF
frontend web
    bind 127.0.0.1:$fport
    default_backend app

backend app
    balance roundrobin
    option httpchk GET /
EOF
    } >"$nd/haproxy.cfg.template"
    # drain_timeout 10s: node 2's 3 s answers drain well within it.
    { yaml_head "$nd" 1s "$mport"; cat <<EOF
  - backend: app
    group: app
    port: $iport
    server_options: $CHURN_SERVER_OPTIONS
    drain_timeout: 10s
    lifecycle_hooks: {terminating: drain}
EOF
      [[ $variant == cluster ]] && printf 'cluster:\n  group: lb\n  node_id: %s\n' "${ids[n - 1]}"
    } >"$nd/haproxy-asg.yaml"
    "$HASG" once --config "$nd/haproxy-asg.yaml" >"$nd/once.log" 2>&1 || { cat "$nd/once.log" >&2; return 1; }
    start_haproxy "$nd" || return 1
    start_daemon "$nd" "$mport" || return 1
  done
  for n in 1 2; do
    wait_for 10 curl -sf --max-time 2 "http://127.0.0.1:${fports[n - 1]}/" || { echo "no answer through HAProxy $n" >&2; return 1; }
  done
  sleep 2
  kill -USR1 "$churn_pid"
  # wrk runs the churn and 8 s more: the last scale-in's hooks complete and its 3 s answers end within it.
  for n in 1 2; do
    bg_start "$d/wrk$n.txt" timeout $((secs + 40)) "$WRK" -t2 -c40 -d$((secs + 8))s --timeout 10s \
      "http://127.0.0.1:${fports[n - 1]}/?delay_ms=${delays[n - 1]}"
    wpids+=("$LAST_PID")
  done
  for n in 1 2; do wait "${wpids[n - 1]}" 2>/dev/null; done
  kill -TERM "$churn_pid"
  wait_for 20 test -s "$d/churn.json"
  bg_stop_all
  [[ -s $d/churn.json ]] || { echo "churn_bench wrote no result" >&2; return 1; }
  for n in 1 2; do
    read -r req rps bad serr < <(parse_wrk "$d/wrk$n.txt")
    CL_REQ[n]=$req CL_RPS[n]=$rps CL_BAD[n]=$bad CL_FAIL[n]=$((bad + serr))
    CL_SERR_TEXT[n]=$(awk -F': ' '/Socket errors:/ {print $2}' "$d/wrk$n.txt"); CL_SERR_TEXT[n]=${CL_SERR_TEXT[n]:-none}
    CL_DONE_LOG[n]=$(grep -c 'lifecycle hook .* completed for' "$d/node$n/daemon.log")
    CL_ALREADY_LOG[n]=$(grep -c 'no action waits for .* (completed elsewhere)' "$d/node$n/daemon.log")
    CL_RECORDS_LOG[n]=$(grep -c 'cluster: recorded ' "$d/node$n/daemon.log")
    CL_TIMEOUT_LOG[n]=$(grep -c 'drain timeout .* passed waiting for' "$d/node$n/daemon.log")
  done
  CH_CHANGES=$(jq -r '.changes' "$d/churn.json"); CH_TERMINATED=$(jq -r '.terminated' "$d/churn.json")
  read -r LC_DONE LC_CONTINUE LC_TIMEOUT LC_WAITING LC_OTHER LC_P50 LC_P99 LC_MAX < <(jq -r '.lifecycle |
    "\(.completed) \(.completed_continue) \(.timeout) \(.waiting) \(.other) \(.wait_ms.p50) \(.wait_ms.p99) \(.wait_ms.max)"' "$d/churn.json")
  return 0
}

bench_cluster() {
  local variant label n net failed hooks
  for variant in cluster alone; do
    if [[ $variant == cluster ]]; then label="cluster, 2 nodes"; net=75; else label="cluster, each node alone"; net=76; fi
    echo "== $label: termination hook; node 1's clients get 0.5 s answers, node 2's 3 s answers (wrk -c40 each); instances die 0.5 s after their hook completes; a change every 3 s for $CLUSTER_S s"
    CL_REQ=() CL_RPS=() CL_FAIL=() CL_BAD=() CL_SERR_TEXT=() CL_DONE_LOG=() CL_ALREADY_LOG=() CL_RECORDS_LOG=() CL_TIMEOUT_LOG=()
    if ! cluster_run "$variant" "$net"; then row "$label" "FAILED TO RUN" "" "MISS"; cleanup; continue; fi
    for n in 1 2; do
      detail "$label: node $n ($([[ $n == 1 ]] && echo 0.5 || echo 3) s answers): ${CL_REQ[n]} requests, ${CL_RPS[n]} req/s; non-2xx/3xx ${CL_BAD[n]}, socket errors $((CL_FAIL[n] - CL_BAD[n])) (${CL_SERR_TEXT[n]}); daemon log: ${CL_DONE_LOG[n]} hooks completed, ${CL_ALREADY_LOG[n]} 'completed elsewhere' (no active action), ${CL_RECORDS_LOG[n]} drain records written, ${CL_TIMEOUT_LOG[n]} completed at the drain timeout"
    done
    detail "$label: $CH_CHANGES group changes, $CH_TERMINATED instances terminated; terminating lifecycle actions: $LC_DONE completed by CompleteLifecycleAction ($LC_CONTINUE CONTINUE), $LC_TIMEOUT timed out, $LC_WAITING still waiting at the end, $LC_OTHER other; Terminating:Wait->completion p50 $(fcalc %.0f "$LC_P50") ms, p99 $(fcalc %.0f "$LC_P99") ms, max $(fcalc %.0f "$LC_MAX") ms"
    failed="${CL_FAIL[1]} of ${CL_REQ[1]} / ${CL_FAIL[2]} of ${CL_REQ[2]}"
    hooks="$LC_DONE completed ($LC_CONTINUE CONTINUE), $LC_TIMEOUT timed out, $LC_WAITING still waiting"
    if [[ $variant == cluster ]]; then
      row "$label: failed requests node 1 (0.5 s) / node 2 (3 s)" "$failed" "0" \
          "$(verdict "${CL_FAIL[1]} + ${CL_FAIL[2]} == 0 && ${CL_REQ[1]} > 0 && ${CL_REQ[2]} > 0")"
      row "$label: hooks completed / timed out" "$hooks" "0 timed out" \
          "$(verdict "$LC_TIMEOUT == 0 && $LC_WAITING == 0 && $LC_DONE > 0 && $LC_CONTINUE == $LC_DONE")"
      row "$label: Terminating:Wait->completion p50 / p99" "$(fcalc %.0f "$LC_P50") / $(fcalc %.0f "$LC_P99") ms" "(report)" "-"
    else
      row "$label: failed requests node 1 (0.5 s) / node 2 (3 s)" "$failed" "> 0 (the demonstration)" \
          "$(verdict "${CL_FAIL[1]} + ${CL_FAIL[2]} > 0")"
      row "$label: hooks completed / timed out" "$hooks" "(report)" "-"
    fi
    cleanup
  done
}

# ---- health feedback and load published (issue 9) -----------------------------------------------------------------
# lb_setup DIR NET METRICS_PORT INTERVAL DESIRED BACKEND_YAML TOP_YAML: a simulator group "app", HAProxy with frontend
# FE_PORT -> backend app (HTTP checks, retries with redispatch), haproxy-asg run; waits until HAProxy serves DESIRED.
lb_setup() {
  local d=$1 net=$2 mport=$3 interval=$4 desired=$5 backend_yaml=$6 top_yaml=$7 iport
  mkdir -p "$d"; iport=$(free_port); FE_PORT=$(free_port)
  start_sim "$d" --instance-port "$iport" --instance-net "$net" --group "app=$desired" || return 1
  aws_env "$SIM_PORT"
  lb_template "$d" "" >"$d/haproxy.cfg.template"
  { yaml_head "$d" "$interval" "$mport"; cat <<EOF
  - backend: app
    group: app
    port: $iport
    server_options: $CHURN_SERVER_OPTIONS
    drain_timeout: 2s
$backend_yaml
$top_yaml
EOF
  } >"$d/haproxy-asg.yaml"
  "$HASG" once --config "$d/haproxy-asg.yaml" >"$d/once.log" 2>&1 || { cat "$d/once.log" >&2; return 1; }
  start_haproxy "$d" && start_daemon "$d" "$mport" || return 1
  wait_for 15 sh -c "[ \$(echo 'show stat app 4 -1' | /usr/bin/socat -t 2 - UNIX-CONNECT:$d/admin.sock | grep -c ',UP,') -eq $desired ]" ||
    { echo "bench/run.sh: HAProxy does not serve the group's $desired instances" >&2; return 1; }
}
lb_template() {  # lb_template DIR EXTRA_DEFAULTS
  global_section "$1"; defaults_section; [[ -n $2 ]] && printf '%s\n\n' "$2"
  cat <<EOF
frontend web
    bind 127.0.0.1:$FE_PORT
    default_backend app

backend app
    balance roundrobin
    option httpchk GET /
EOF
}
up_servers() { echo 'show stat app 4 -1' | /usr/bin/socat -t 2 - "UNIX-CONNECT:$1/admin.sock" | grep -c ',UP,'; }

bench_health() {
  local label="health feedback" d=$WORK/health mport victim t0 t_report=-1 t_replaced=-1 now budget req rps bad serr
  echo "== $label: an instance's application dies under wrk -c20 (down_for 5s, checks inter 1s fall 2, interval 1s)"
  mport=$(free_port)
  if ! lb_setup "$d" 73 "$mport" 1s 4 "    health_feedback: {down_for: 5s, max_share: 25%}" ""; then
    row "$label" "FAILED TO RUN" "" MISS; cleanup; return
  fi
  bg_start "$d/wrk.txt" "$WRK" -t2 -c20 -d40s --timeout 5s "http://127.0.0.1:$FE_PORT/"
  local wrk_pid=$LAST_PID
  sleep 5
  victim=$(curl -s "http://127.0.0.1:$SIM_PORT/_sim/state" | jq -r '[.groups[0].instances[].id] | max')
  t0=$(date +%s.%N)
  curl -s -X POST -d '{}' "http://127.0.0.1:$SIM_PORT/_sim/instances/$victim/kill" >/dev/null
  while :; do
    now=$(date +%s.%N)
    if [[ $t_report == -1 && $(sim_calls "$SIM_PORT" SetInstanceHealth) -ge 1 ]]; then t_report=$(fcalc %.1f "$now - $t0"); fi
    if [[ $t_report != -1 ]] && (( $(curl -s "http://127.0.0.1:$SIM_PORT/_sim/state" | jq '.unhealthy_replacements') >= 1 )) &&
       (( $(up_servers "$d") == 4 )) &&
       ! echo 'show stat app 4 -1' | /usr/bin/socat -t 2 - "UNIX-CONNECT:$d/admin.sock" | grep -q "^app,$victim,"; then
      t_replaced=$(fcalc %.1f "$now - $t0"); break
    fi
    (( $(fcalc %.0f "$now - $t0") > 30 )) && break
    sleep 0.1
  done
  wait "$wrk_pid" 2>/dev/null
  read -r req rps bad serr < <(parse_wrk "$d/wrk.txt")
  budget=8  # down_for 5 s + fall 2 x inter 1 s + one interval
  detail "$label: killed $victim's server; reported after $t_report s, replaced and serving again after $t_replaced s"
  row "$label: application dead -> reported Unhealthy" "$t_report s" "<= $budget s" "$(verdict "$t_report >= 0 && $t_report <= $budget")"
  row "$label: dead -> replacement in service" "$t_replaced s" "(report)" "-"
  row "$label: failed requests" "$((bad + serr)) of $req ($rps req/s)" "0" "$(verdict "$bad + $serr == 0")"
  cleanup
}

bench_cloudwatch() {
  local label="cloudwatch" d=$WORK/cloudwatch mport r0 published req rps bad serr ratio now_s
  echo "== $label: wrk -c20 60 s, a reload at 20 s and a scale-in 4 -> 3 at 35 s, period 10s"
  mport=$(free_port)
  if ! lb_setup "$d" 74 "$mport" 1s 4 "" $'cloudwatch:\n  namespace: HAProxyASG-Bench\n  period: 10s'; then
    row "$label" "FAILED TO RUN" "" MISS; cleanup; return
  fi
  bg_start "$d/wrk.txt" "$WRK" -t2 -c20 -d60s --timeout 5s "http://127.0.0.1:$FE_PORT/"
  local wrk_pid=$LAST_PID
  sleep 20
  r0=$(reloads "$d")
  lb_template "$d" "    timeout http-request 9s" >"$d/haproxy.cfg.template"  # a structural change: a reload
  wait_for 15 sh -c "[ \$(echo 'show proc' | /usr/bin/socat -t 5 - UNIX-CONNECT:$d/master.sock | awk '\$2 == \"master\" {print \$3; exit}') -gt $r0 ]" ||
    echo "bench/run.sh: no reload after the template changed" >&2
  sleep 15
  set_desired "$SIM_PORT" app 3
  wait "$wrk_pid" 2>/dev/null
  read -r req rps bad serr < <(parse_wrk "$d/wrk.txt")
  bg_stop "$DAEMON_PID"  # SIGTERM: the daemon publishes the period in progress
  now_s=$(date -u +%s)
  published=$(/usr/bin/aws --endpoint-url "http://127.0.0.1:$SIM_PORT" --output json cloudwatch get-metric-statistics \
      --namespace HAProxyASG-Bench --metric-name RequestCount --dimensions Name=AutoScalingGroupName,Value=app \
      --start-time "$(date -u -d @$((now_s - 3600)) +%FT%TZ)" --end-time "$(date -u -d @$((now_s + 600)) +%FT%TZ)" \
      --period 60 --statistics Sum 2>"$d/aws.err" | jq '[.Datapoints[].Sum] | add // 0')
  ratio=$(fcalc %.4f "${published:-0} / ($req > 0 ? $req : 1)")
  detail "$label: wrk $req requests ($bad non-2xx, $serr socket errors), published RequestCount $published (awscli get-metric-statistics), reloads $(( $(reloads "$d") - r0 ))"
  row "$label: published RequestCount / wrk requests" "$published / $req = $ratio" "1 +- 0.02" \
      "$(verdict "$ratio >= 0.98 && $ratio <= 1.02")"
  # The forced reload closes idle keep-alive connections in the old worker; a request wrk sends on one at that
  # moment fails (a read error): the cost of a reload that haproxy-asg avoids for membership changes.
  row "$label: failed requests (a forced reload)" "$((bad + serr)) of $req ($rps req/s)" "(report)" "-"
  cleanup
}

# ---- row 2: AWS calls ----------------------------------------------------------------------------------------------
bench_calls() {
  echo "== AWS calls: 3 groups, interval 1s"
  local d=$WORK/calls mport c0 k0 c1 k1 n=10 b
  mkdir -p "$d"; mport=$(free_port)
  start_sim "$d" --instance-port 0 --instance-net 65 --group web=3 --group api=3 --group jobs=3 || { row "AWS calls" "FAILED TO RUN" "" MISS; return; }
  aws_env "$SIM_PORT"
  { global_section "$d"; defaults_section
    for b in web api jobs; do printf 'backend %s\n    balance roundrobin\n\n' "$b"; done; } >"$d/haproxy.cfg.template"
  { yaml_head "$d" 1s "$mport"
    for b in web api jobs; do printf '  - backend: %s\n    group: %s\n    port: 8080\n    server_options: pool-purge-delay 10s pool-max-conn -1\n' "$b" "$b"; done
  } >"$d/haproxy-asg.yaml"
  "$HASG" once --config "$d/haproxy-asg.yaml" >"$d/once.log" 2>&1 || { cat "$d/once.log" >&2; row "AWS calls" "FAILED TO RUN" "" MISS; cleanup; return; }
  if ! { start_haproxy "$d" && start_daemon "$d" "$mport"; }; then row "AWS calls" "FAILED TO RUN" "" MISS; cleanup; return; fi
  wait_cycle "$mport"; wait_cycle "$mport"
  c0=$(cycles "$mport"); k0=$(sim_calls "$SIM_PORT")
  for _ in $(seq $n); do wait_cycle "$mport"; done
  c1=$(cycles "$mport"); k1=$(sim_calls "$SIM_PORT")
  local steady; steady=$(fcalc %.2f "($k1 - $k0) / ($c1 - $c0)")
  detail "steady: $((k1 - k0)) AWS calls in $((c1 - c0)) idle cycles (3 groups)"
  row "AWS calls per steady cycle (3 groups)" "$steady" "1" "$(verdict "$steady == 1")"
  detail "for comparison with the footprint row: daemon VmRSS at 9 instances $(awk '/^VmRSS:/ {printf "%.1f MB", $2 / 1024}' "/proc/$DAEMON_PID/status") (RssAnon $(awk '/^RssAnon:/ {printf "%.1f MB", $2 / 1024}' "/proc/$DAEMON_PID/status"))"
  # One change: 5 instances more in one group, right after a cycle.
  wait_cycle "$mport"
  local a0 i0 a1 i1 s0; a0=$(sim_calls "$SIM_PORT" DescribeAutoScalingGroups); i0=$(sim_calls "$SIM_PORT" DescribeInstances)
  s0=$(servers_in "$d" web)
  set_desired "$SIM_PORT" web 8
  wait_cycle "$mport"
  a1=$(sim_calls "$SIM_PORT" DescribeAutoScalingGroups); i1=$(sim_calls "$SIM_PORT" DescribeInstances)
  detail "scale-out web 3 -> 8: servers $s0 -> $(servers_in "$d" web); that cycle: DescribeAutoScalingGroups $((a1 - a0)), DescribeInstances $((i1 - i0))"
  row "AWS calls in the cycle applying a scale-out (+5)" "$((a1 - a0 + i1 - i0)) ($((a1 - a0)) ASG + $((i1 - i0)) EC2)" "(report)" "-"
  cleanup
}

# ---- row 3: apply time for 500 changes -----------------------------------------------------------------------------
bench_apply() {
  echo "== apply 500 additions, then 500 removals (one group, HAProxy running, interval 1s)"
  local d=$WORK/apply mport iport r0 r1 s0 s1 n cyc secs
  mkdir -p "$d"; mport=$(free_port); iport=$(free_port)
  start_sim "$d" --instance-port "$iport" --instance-net 63 --group big=0 || { row "apply 500" "FAILED TO RUN" "" MISS; return; }
  aws_env "$SIM_PORT"
  { global_section "$d"; defaults_section; printf 'backend big\n    balance roundrobin\n    option httpchk GET /\n'; } >"$d/haproxy.cfg.template"
  { yaml_head "$d" 1s "$mport" 100%; cat <<EOF
  - backend: big
    group: big
    port: $iport
    server_options: check inter 2s pool-purge-delay 10s pool-max-conn -1
    drain_timeout: 2s
EOF
  } >"$d/haproxy-asg.yaml"
  "$HASG" once --config "$d/haproxy-asg.yaml" >"$d/once.log" 2>&1 || { cat "$d/once.log" >&2; row "apply 500" "FAILED TO RUN" "" MISS; cleanup; return; }
  if ! { start_haproxy "$d" && start_daemon "$d" "$mport"; }; then row "apply 500" "FAILED TO RUN" "" MISS; cleanup; return; fi
  wait_cycle "$mport"
  r0=$(reloads "$d")
  # apply_until TARGET_SERVERS: cycles (and their summed duration) from the change until HAProxy has TARGET servers.
  apply_until() {
    local want=$1 sum0 sum1 c=0
    sum0=$(metric "$mport" haproxy_asg_cycle_duration_seconds_sum)
    while ((c < 10)); do
      wait_cycle "$mport" || break
      c=$((c + 1))
      [[ $(servers_in "$d" big) == "$want" ]] && break
    done
    sum1=$(metric "$mport" haproxy_asg_cycle_duration_seconds_sum)
    APPLY_CYCLES=$c
    APPLY_MS=$(fcalc %.0f "($sum1 - $sum0) * 1000")
  }
  wait_cycle "$mport"
  set_desired "$SIM_PORT" big 500
  apply_until 500
  local add_ms=$APPLY_MS add_cycles=$APPLY_CYCLES added; added=$(servers_in "$d" big)
  wait_cycle "$mport"
  set_desired "$SIM_PORT" big 0
  apply_until 0
  local del_ms=$APPLY_MS del_cycles=$APPLY_CYCLES left; left=$(servers_in "$d" big)
  r1=$(reloads "$d")
  detail "500 additions: HAProxy has $added servers after $add_cycles cycle(s) taking $add_ms ms in all"
  detail "500 removals: $left servers left after $del_cycles cycle(s) (drain, then delete) taking $del_ms ms in all"
  row "apply 500 additions" "$add_ms ms ($add_cycles cycle, $added servers)" "< 500 ms" "$(verdict "$add_ms < 500 && $added == 500")"
  row "apply 500 removals" "$del_ms ms ($del_cycles cycles, $left left)" "< 500 ms" "$(verdict "$del_ms < 500 && $left == 0")"
  row "reloads during both" "$((r1 - r0))" "0" "$(verdict "$((r1 - r0)) == 0")"
  cleanup
}

# ---- row: certificate rotation under HTTPS load -------------------------------------------------------------------
# The served certificate file replaced by rename (as editors and certbot do) while wrk runs over HTTPS, once with
# keep-alive and once with a new connection (a full handshake) per request: the time from the rename until a new
# handshake gets the new certificate (polled with openssl s_client, so one s_client run, ~20 ms, is the
# resolution), failed requests, and reloads by the master's "show proc".
tls_cert() {  # tls_cert DIR NAME: DIR/NAME.pem, a self-signed certificate for NAME.test and its key
  /usr/bin/openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=$2.test" \
    -keyout "$1/$2.key" -out "$1/$2.crt" >/dev/null 2>&1 && cat "$1/$2.crt" "$1/$2.key" >"$1/$2.pem"
}
tls_subject() {  # tls_subject PORT: the CN a new handshake gets
  /usr/bin/openssl s_client -connect "127.0.0.1:$1" </dev/null 2>/dev/null | sed -n 's/^subject=CN = //p'
}
bench_tls() {
  local rounds=5 d=$WORK/tls mport iport hport n r0 r1 t0 ms secs deadline got ka cl
  echo "== tls: the certificate file replaced $rounds times under wrk over HTTPS (keep-alive, and Connection: close)"
  mkdir -p "$d/certs"; mport=$(free_port); iport=$(free_port); hport=$(free_port)
  for n in $(seq 0 $rounds); do tls_cert "$d" "c$n" || { row "tls" "FAILED TO RUN (openssl)" "" MISS; return; }; done
  cp "$d/c0.pem" "$d/certs/site.pem"
  start_sim "$d" --instance-port "$iport" --instance-net 66 --group app=2 || { row "tls" "FAILED TO RUN" "" MISS; return; }
  aws_env "$SIM_PORT"
  { global_section "$d"; printf 'global\n    crt-base %s\n\n' "$d/certs"; defaults_section
    printf 'frontend https\n    bind 127.0.0.1:%s ssl crt site.pem alpn h2,http/1.1\n    default_backend app\n\n' "$hport"
    printf 'backend app\n    balance roundrobin\n'; } >"$d/haproxy.cfg.template"
  { yaml_head "$d" 5s "$mport"; printf '  - backend: app\n    group: app\n    port: %s\n    server_options: %s\n' \
      "$iport" "pool-purge-delay 10s pool-max-conn -1"; } >"$d/haproxy-asg.yaml"
  "$HASG" once --config "$d/haproxy-asg.yaml" >"$d/once.log" 2>&1 || { cat "$d/once.log" >&2; row "tls" "FAILED TO RUN" "" MISS; cleanup; return; }
  if ! { start_haproxy "$d" && start_daemon "$d" "$mport"; }; then row "tls" "FAILED TO RUN" "" MISS; cleanup; return; fi
  await 15 "the certificate watch's first look" sh -c \
    "curl -s http://127.0.0.1:$mport/metrics | grep -q '^haproxy_asg_certificate_expiry_days{'" || { row "tls" "FAILED TO RUN" "" MISS; cleanup; return; }
  r0=$(reloads "$d")
  secs=$((rounds * 2 + 6))
  bg_start "$d/wrk-keepalive.txt" "$WRK" -t1 -c8 -d"${secs}s" "https://127.0.0.1:$hport/"; ka=$LAST_PID
  bg_start "$d/wrk-close.txt" "$WRK" -t1 -c4 -d"${secs}s" -H 'Connection: close' "https://127.0.0.1:$hport/"; cl=$LAST_PID
  pause 2
  local times=()
  for n in $(seq 1 $rounds); do
    cp "$d/c$n.pem" "$d/certs/.site.pem.new"
    t0=$(date +%s%N)
    mv "$d/certs/.site.pem.new" "$d/certs/site.pem"
    deadline=$((SECONDS + 10)); got=""
    while [[ $got != "c$n.test" ]] && ((SECONDS < deadline)); do got=$(tls_subject "$hport"); done
    if [[ $got != "c$n.test" ]]; then times+=(99999); detail "round $n: c$n.test not served within 10 s"; continue; fi
    ms=$(( ($(date +%s%N) - t0) / 1000000 )); times+=("$ms")
    pause 1
  done
  wait "$ka" 2>/dev/null; wait "$cl" 2>/dev/null
  r1=$(reloads "$d")
  local ka_req ka_bad ka_serr cl_req cl_bad cl_serr max med
  read -r ka_req _ ka_bad ka_serr < <(parse_wrk "$d/wrk-keepalive.txt")
  read -r cl_req _ cl_bad cl_serr < <(parse_wrk "$d/wrk-close.txt")
  max=$(printf '%s\n' "${times[@]}" | sort -n | tail -1)
  med=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
  detail "rename -> new handshakes get the new certificate, per round: ${times[*]} ms"
  detail "wrk keep-alive: $ka_req requests ($ka_bad non-2xx, $ka_serr socket errors); Connection: close: $cl_req requests ($cl_bad non-2xx, $cl_serr socket errors)"
  detail "daemon: $(grep -c 'replaced without a reload' "$d/daemon.log") rotations logged; reloads by show proc: $r0 -> $r1"
  row "tls: file replaced -> served by new handshakes (max of $rounds)" "$max ms (median $med)" "<= 1000 ms" "$(verdict "$max <= 1000")"
  row "tls: failed requests (keep-alive; new connections)" "$((ka_bad + ka_serr)) of $ka_req; $((cl_bad + cl_serr)) of $cl_req" "0" \
    "$(verdict "$ka_bad + $ka_serr + $cl_bad + $cl_serr == 0 && $ka_req > 0 && $cl_req > 0")"
  row "tls: reloads during rotations" "$((r1 - r0))" "0" "$(verdict "$r1 - $r0 == 0")"
  cleanup
}

# ---- row 4: daemon footprint at 5,000 (and 20,000) instances --------------------------------------------------------
# footprint_run GROUPS PER_GROUP NET LABEL: the simulator with GROUPS groups of PER_GROUP instances (no instance
# servers), HAProxy with GROUPS managed backends and no health checks, haproxy-asg run at interval 500 ms. Over ~20
# steady cycles: CPU per cycle (utime + stime), the cycle's wall time, how many were skipped as unchanged; RssAnon,
# VmRSS and VmHWM at the end; then floor_bench against the same simulator: the XML parse alone (the floor).
footprint_run() {
  local ng=$1 per=$2 net=$3 label=$4
  echo "== daemon RSS and CPU at $label instances in $ng groups (interval 500ms, no health checks)"
  local d=$WORK/footprint-$ng mport g groups=() i tck c0 c1 t0 t1 sum0 sum1 k0 k1 rss hwm names
  mkdir -p "$d"; mport=$(free_port)
  names=$(seq -f 'g%03g' 1 "$ng")
  for g in $names; do groups+=(--group "$g=$per"); done
  start_sim "$d" --instance-port 0 --instance-net "$net" "${groups[@]}" || { row "footprint $label" "FAILED TO RUN" "" MISS; return; }
  aws_env "$SIM_PORT"
  { global_section "$d"; defaults_section
    for g in $names; do printf 'backend %s\n    balance roundrobin\n\n' "$g"; done; } >"$d/haproxy.cfg.template"
  { yaml_head "$d" 500ms "$mport"
    for g in $names; do printf '  - backend: %s\n    group: %s\n    port: 8080\n    server_options: pool-purge-delay 10s pool-max-conn -1\n' "$g" "$g"; done
  } >"$d/haproxy-asg.yaml"
  "$HASG" once --config "$d/haproxy-asg.yaml" >"$d/once.log" 2>&1 || { cat "$d/once.log" >&2; row "footprint $label" "FAILED TO RUN" "" MISS; cleanup; return; }
  if ! { start_haproxy "$d" && start_daemon "$d" "$mport"; }; then row "footprint $label" "FAILED TO RUN" "" MISS; cleanup; return; fi
  for _ in 1 2 3 4; do wait_cycle "$mport"; done
  local total=0; for g in $names; do total=$((total + $(servers_in "$d" "$g"))); done
  tck=$(getconf CLK_TCK)
  cpu() { awk '{print $14 + $15}' "/proc/$DAEMON_PID/stat"; }
  # About 20 cycles at 500 ms, unwatched (each /metrics scrape costs the daemon CPU too), then up to the end of the
  # next cycle.
  wait_cycle "$mport"
  c0=$(cycles "$mport"); t0=$(cpu); sum0=$(metric "$mport" haproxy_asg_cycle_duration_seconds_sum)
  k0=$(metric "$mport" haproxy_asg_cycles_skipped_total)
  sleep 9.5; wait_cycle "$mport"
  t1=$(cpu); c1=$(cycles "$mport"); sum1=$(metric "$mport" haproxy_asg_cycle_duration_seconds_sum)
  k1=$(metric "$mport" haproxy_asg_cycles_skipped_total)
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$DAEMON_PID/status"); hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$DAEMON_PID/status")
  local anon file; anon=$(awk '/^RssAnon:/ {printf "%.1f", $2 / 1024}' "/proc/$DAEMON_PID/status")
  file=$(awk '/^RssFile:/ {printf "%.1f", $2 / 1024}' "/proc/$DAEMON_PID/status")
  local cpu_ms rss_mb hwm_mb wall_ms
  cpu_ms=$(fcalc %.1f "($t1 - $t0) * 1000 / $tck / ($c1 - $c0)")
  wall_ms=$(fcalc %.1f "($sum1 - $sum0) * 1000 / ($c1 - $c0)")
  rss_mb=$(fcalc %.1f "$rss / 1024"); hwm_mb=$(fcalc %.1f "$hwm / 1024")
  # The floor, against the same simulator and its same answers, right after the measured cycles.
  local floor parse_ms disc_ms ratio
  floor=$("$FLOOR" --config "$d/haproxy-asg.yaml" --rounds 20 2>"$d/floor.err") || { cat "$d/floor.err" >&2; floor=""; }
  parse_ms=$(awk '$1 == "xml_parse_ms" {print $2}' <<<"$floor"); disc_ms=$(awk '$1 == "discovery_ms" {print $2}' <<<"$floor")
  ratio=$( [[ -n $parse_ms ]] && fcalc %.1f "$cpu_ms / $parse_ms" || echo "?")
  detail "$label: $total servers in HAProxy; $((c1 - c0)) steady cycles ($(fcalc %.0f "$k1 - $k0") skipped as unchanged): CPU $((t1 - t0)) ticks (1/$tck s) in all, $cpu_ms ms/cycle; cycle wall time $wall_ms ms; VmRSS $rss_mb MB (RssAnon $anon MB heap and stacks, RssFile $file MB mapped binary and shared libraries), VmHWM $hwm_mb MB"
  detail "$label: floor_bench: $(awk '$1 == "pages" {p = $2} $1 == "bytes" {b = $2} END {printf "%d page(s), %.1f MB of XML", p, b / 1048576}' <<<"$floor"); XML parse alone ${parse_ms:-?} ms, whole discovery (sign, HTTP, parse, members) ${disc_ms:-?} ms of CPU (mean of 20)"
  FP_CPU=$cpu_ms FP_ANON=$anon FP_RSS=$rss_mb FP_HWM=$hwm_mb FP_WALL=$wall_ms FP_PARSE=${parse_ms:-?} FP_RATIO=$ratio
  cleanup
}

bench_footprint() {
  footprint_run 20 250 66 "5,000"
  row "daemon RssAnon, 5,000 instances / 20 groups" "$FP_ANON MB (VmRSS $FP_RSS, peak $FP_HWM)" "<= 10 MB" "$(verdict "$FP_ANON <= 10")"
  row "daemon CPU per unchanged cycle, same" "$FP_CPU ms = ${FP_RATIO}x XML parse ($FP_PARSE ms; wall $FP_WALL ms)" "<= 10 ms" "$(verdict "$FP_CPU <= 10")"
}

bench_footprint20k() {
  footprint_run 100 200 67 "20,000"
  row "daemon RssAnon, 20,000 instances / 100 groups" "$FP_ANON MB (VmRSS $FP_RSS, peak $FP_HWM)" "<= 30 MB" "$(verdict "$FP_ANON <= 30")"
  row "daemon CPU per unchanged cycle, same" "$FP_CPU ms = ${FP_RATIO}x XML parse ($FP_PARSE ms; wall $FP_WALL ms)" "<= 40 ms" "$(verdict "$FP_CPU <= 40")"
}

# ---- row 12: soak (only when asked for: bench/run.sh soak) --------------------------------------------------------
# 5,000 instances in 20 groups of 250, every instance a real HTTP server on 127.77.x.y (Pending 0.5 s; a departing
# instance's server dies 3 s after it leaves the group), HAProxy with 20 managed backends, haproxy-asg run at
# interval 1 s with drain_timeout 2s. A change every second for BENCH_SOAK_SECONDS: odd seconds scale g001 (the group
# wrk hits, with health checks) out or in by 2 in turn, even seconds another group, in turn, the same way. No
# lifecycle hooks: the drain races the server's death as in the churn row, and what is measured here is whether the
# daemon holds steady (memory, descriptors, cycle time) with membership moving under load. wrk -t2 -c20 through
# HAProxy the whole time.
bench_soak() {
  echo "== soak: 5,000 instances in 20 groups, a change every second for $SOAK_S s, wrk through HAProxy throughout"
  local d=$WORK/soak mport iport fport g names groups=() loop_pid sampler_pid
  mkdir -p "$d"; mport=$(free_port); iport=$(free_port); fport=$(free_port)
  names=$(seq -f 'g%03g' 1 20)
  for g in $names; do groups+=(--group "$g=250"); done
  start_sim "$d" --instance-port "$iport" --instance-net 77 --pending 500ms --terminating 3s "${groups[@]}" ||
    { row "soak" "FAILED TO RUN" "" MISS; return; }
  aws_env "$SIM_PORT"
  { global_section "$d"; defaults_section; cat <<EOF
frontend web
    bind 127.0.0.1:$fport
    default_backend g001

backend g001
    balance roundrobin
    option httpchk GET /

EOF
    for g in $names; do [[ $g == g001 ]] || printf 'backend %s\n    balance roundrobin\n\n' "$g"; done; } >"$d/haproxy.cfg.template"
  { yaml_head "$d" 1s "$mport"
    for g in $names; do
      printf '  - backend: %s\n    group: %s\n    port: %s\n    drain_timeout: 2s\n' "$g" "$g" "$iport"
      if [[ $g == g001 ]]; then echo "    server_options: $CHURN_SERVER_OPTIONS"; else echo "    server_options: pool-purge-delay 10s pool-max-conn -1"; fi
    done
  } >"$d/haproxy-asg.yaml"
  "$HASG" once --config "$d/haproxy-asg.yaml" >"$d/once.log" 2>&1 || { cat "$d/once.log" >&2; row "soak" "FAILED TO RUN" "" MISS; cleanup; return; }
  if ! { start_haproxy "$d" && start_daemon "$d" "$mport"; }; then row "soak" "FAILED TO RUN" "" MISS; cleanup; return; fi
  wait_for 20 curl -sf --max-time 2 "http://127.0.0.1:$fport/" || { echo "bench/run.sh: no answer through HAProxy" >&2; row "soak" "FAILED TO RUN" "" MISS; cleanup; return; }
  for _ in 1 2 3; do wait_cycle "$mport"; done
  # The changes: one a second, alternately g001 and the next of the others; each group alternates +2 and -2.
  bg_start "$d/changes.log" bash -c '
    port=$1 secs=$2; shift 2; others=("$@"); declare -A size; n=0
    for ((t = 1; t <= secs; t++)); do
      t0=$(date +%s%N)
      if ((t % 2 == 1)); then g=g001; else g=${others[n % ${#others[@]}]}; n=$((n + 1)); fi
      if [[ ${size[$g]:-250} == 250 ]]; then size[$g]=252; else size[$g]=250; fi
      curl -s --max-time 2 -X POST -d "{\"desired\":${size[$g]}}" "http://127.0.0.1:$port/_sim/groups/$g/desired" >/dev/null &&
        echo "$t $g ${size[$g]}"
      rest=$(( 1000000000 - ($(date +%s%N) - t0) ))
      ((rest > 0)) && sleep "$(printf "0.%09d" "$rest")"
    done' _ "$SIM_PORT" "$SOAK_S" $(grep -v '^g001$' <<<"$names")
  loop_pid=$LAST_PID
  # Every 5 s: seconds since the start, RssAnon and VmRSS (kB), the daemon's open descriptors.
  bg_start "$d/samples.txt" bash -c '
    start=$(date +%s)
    while kill -0 "$1" 2>/dev/null; do
      echo "$(( $(date +%s) - start )) $(awk "/^RssAnon:/ {a = \$2} /^VmRSS:/ {r = \$2} END {print a, r}" /proc/$1/status) $(ls /proc/$1/fd | wc -l)"
      sleep 5
    done' _ "$DAEMON_PID"
  sampler_pid=$LAST_PID
  hist() { curl -s --max-time 5 "http://127.0.0.1:$mport/metrics" | awk '/^haproxy_asg_cycle_duration_seconds_bucket/'; }
  local h0 c0 e0 k0 r0 h1 c1 e1 k1 r1
  h0=$(hist); c0=$(cycles "$mport"); e0=$(metric "$mport" 'haproxy_asg_cycles_total{outcome="error"}')
  k0=$(metric "$mport" haproxy_asg_cycles_skipped_total); r0=$(reloads "$d")
  timeout $((SOAK_S + 60)) "$WRK" -t2 -c20 -d"${SOAK_S}s" --timeout 5s "http://127.0.0.1:$fport/" >"$d/wrk.txt" 2>&1
  h1=$(hist); c1=$(cycles "$mport"); e1=$(metric "$mport" 'haproxy_asg_cycles_total{outcome="error"}')
  k1=$(metric "$mport" haproxy_asg_cycles_skipped_total); r1=$(reloads "$d")
  bg_stop "$loop_pid"; bg_stop "$sampler_pid"
  local req rps bad serr fail changes n within over
  read -r req rps bad serr < <(parse_wrk "$d/wrk.txt"); fail=$((bad + serr))
  changes=$(wc -l <"$d/changes.log")
  # The soak's cycles per histogram bucket (all of them: the +Inf bucket's count, which may be a cycle ahead of the
  # counters read just after it): the smallest bound holding them all, and how many took over 1 s.
  read -r within over n < <(paste -d' ' <(echo "$h0") <(echo "$h1") | awk '
    { match($1, /le="[^"]*"/); le[NR] = substr($1, RSTART + 4, RLENGTH - 5); d[NR] = $4 - $2 }
    END { all = d[NR]; for (i = 1; i <= NR; i++) { if (bound == "" && d[i] >= all) bound = le[i]; if (le[i] == "1") at1 = d[i] }
          print bound, all - at1, all }')
  # A sample lands between cycles or, about as often as a cycle lasts, in one (a few MB more, one more descriptor: the
  # connection to AWS or HAProxy): each minute's median says between cycles, its maximum the cycle's peak.
  minute() {  # minute FROM TO COLUMN: "median max" of the samples' COLUMN with FROM <= t < TO
    awk -v a="$1" -v b="$2" -v c="$3" '$1 >= a && $1 < b {v[n++] = $c} END {
      if (n == 0) {print "0 0"; exit}
      for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (v[j] < v[i]) {t = v[i]; v[i] = v[j]; v[j] = t}
      print v[int((n - 1) / 2)], v[n - 1]}' "$d/samples.txt"
  }
  local a2 a2max al almax f1 f1max fl flmax rss_end
  read -r a2 a2max < <(minute 60 120 2); read -r al almax < <(minute $((SOAK_S - 60)) $((SOAK_S + 1)) 2)
  read -r f1 f1max < <(minute 0 60 4); read -r fl flmax < <(minute $((SOAK_S - 60)) $((SOAK_S + 1)) 4)
  rss_end=$(awk -v s="$SOAK_S" '$1 <= s {v = $3} END {printf "%.1f", v / 1024}' "$d/samples.txt")
  detail "soak: $req requests, $rps req/s; non-2xx/3xx $bad, socket errors $serr; $changes group changes; $(fcalc %.0f "$c1 - $c0") cycles ok ($(fcalc %.0f "$k1 - $k0") skipped as unchanged), $(fcalc %.0f "$e1 - $e0") failed; reloads $((r1 - r0))"
  detail "soak: RssAnon median (max) $(fcalc %.1f "$a2 / 1024") ($(fcalc %.1f "$a2max / 1024")) MB in minute 2, $(fcalc %.1f "$al / 1024") ($(fcalc %.1f "$almax / 1024")) MB in the last minute; VmRSS at the end $rss_end MB; descriptors median (max) $f1 ($f1max) in the first minute, $fl ($flmax) in the last (a sample every 5 s)"
  row "soak ${SOAK_S}s: failed requests" "$fail of $req ($rps req/s, $changes changes)" "0" "$(verdict "$fail == 0 && $req > 0")"
  # Judged on the medians, what the daemon holds between cycles; a minute's maximum is whichever of its 12 samples
  # fell inside a cycle that changed something (several MB more, given back by malloc_trim when it ends), reported
  # beside them.
  row "soak: RssAnon last minute - minute 2 (median; max)" "$(fcalc %+.2f "($al - $a2) / 1024"); $(fcalc %+.2f "($almax - $a2max) / 1024") MB" "<= 1 MB" \
    "$(verdict "$al - $a2 <= 1024 && $a2 > 0")"
  # Growth is judged on the median (the count between cycles: a leak of one a cycle would add ~500); a minute's
  # maximum is whichever sample fell inside a cycle, with the up to 2 connections a cycle holds open (AWS, HAProxy's
  # socket), so it may differ by those from one minute to another without anything leaking.
  row "soak: daemon descriptors first -> last minute (median; max)" "$f1 -> $fl; $f1max -> $flmax" "no growth" "$(verdict "$fl <= $f1 && $flmax <= $f1max + 2")"
  row "soak: cycles over the 1 s interval" "$over of $n (all <= $within s by the histogram)" "0" "$(verdict "$over == 0 && $e1 - $e0 == 0")"
  row "soak: reloads" "$((r1 - r0))" "0" "$(verdict "$r1 - $r0 == 0")"
  cleanup
}

# ---- row 5: managed vs static backend throughput --------------------------------------------------------------------
bench_throughput() {
  echo "== req/s: managed backend vs the same servers written by hand ($ROUNDS rounds of wrk -t2 -c20 -d10s each)"
  local d=$WORK/throughput mport iport fm fs addrs i r m s ms=() ss=()
  mkdir -p "$d"; mport=$(free_port); iport=$(free_port); fm=$(free_port); fs=$(free_port)
  # The 4 instances stay Pending for 3 s, their servers already up: their addresses go into the static backend, and
  # `once` renders the managed backend still empty, so haproxy-asg adds them at runtime once they are InService.
  start_sim "$d" --instance-port "$iport" --instance-net 64 --pending 3s --group app=4 || { row "throughput" "FAILED TO RUN" "" MISS; return; }
  aws_env "$SIM_PORT"
  mapfile -t addrs < <(curl -s "http://127.0.0.1:$SIM_PORT/_sim/state" | jq -r '.groups[0].instances[].address')
  { global_section "$d"; defaults_section; cat <<EOF
frontend managed_fe
    bind 127.0.0.1:$fm
    default_backend managed

frontend static_fe
    bind 127.0.0.1:$fs
    default_backend static

backend managed
    balance roundrobin
    option httpchk GET /

backend static
    balance roundrobin
    option httpchk GET /
EOF
    i=1; for a in "${addrs[@]}"; do echo "    server s$i $a:$iport $CHURN_SERVER_OPTIONS"; i=$((i + 1)); done
  } >"$d/haproxy.cfg.template"
  { yaml_head "$d" 1s "$mport"; cat <<EOF
  - backend: managed
    group: app
    port: $iport
    server_options: $CHURN_SERVER_OPTIONS
    drain_timeout: 2s
EOF
  } >"$d/haproxy-asg.yaml"
  "$HASG" once --config "$d/haproxy-asg.yaml" >"$d/once.log" 2>&1 || { cat "$d/once.log" >&2; row "throughput" "FAILED TO RUN" "" MISS; cleanup; return; }
  grep -q "server i-" "$d/haproxy.cfg" && echo "bench/run.sh: warning: managed servers already in the file, not added at runtime" >&2
  if ! { start_haproxy "$d" && start_daemon "$d" "$mport"; }; then row "throughput" "FAILED TO RUN" "" MISS; cleanup; return; fi
  wait_for 10 sh -c "[ \$(echo 'show servers state managed' | /usr/bin/socat -t 2 - UNIX-CONNECT:$d/admin.sock | awk 'NF > 18 && \$1 !~ /^#/' | wc -l) -eq 4 ]"
  sleep 2
  "$WRK" -t2 -c20 -d2s "http://127.0.0.1:$fm/" >/dev/null 2>&1; "$WRK" -t2 -c20 -d2s "http://127.0.0.1:$fs/" >/dev/null 2>&1
  run_wrk() { timeout 30 "$WRK" -t2 -c20 -d10s --timeout 5s "http://127.0.0.1:$1/" >"$d/wrk-$2.txt" 2>&1; parse_wrk "$d/wrk-$2.txt" | awk '{print $2}'; }
  for r in $(seq "$ROUNDS"); do
    if ((r % 2 == 1)); then m=$(run_wrk "$fm" "m$r"); s=$(run_wrk "$fs" "s$r"); else s=$(run_wrk "$fs" "s$r"); m=$(run_wrk "$fm" "m$r"); fi
    ms+=("$m"); ss+=("$s")
    detail "round $r: managed $m req/s, static $s req/s"
  done
  local mm sm ratio
  detail "HAProxy reloads during the row: $(reloads "$d") (0: the managed servers were added through the Runtime API)"
  mm=$(printf '%s\n' "${ms[@]}" | awk '{t += $1} END {printf "%.0f", t / NR}')
  sm=$(printf '%s\n' "${ss[@]}" | awk '{t += $1} END {printf "%.0f", t / NR}')
  ratio=$(fcalc %.3f "$mm / $sm")
  row "req/s managed / static (mean of $ROUNDS)" "$mm / $sm = $ratio" ">= 0.95" "$(verdict "$ratio >= 0.95")"
  cleanup
}

START=$SECONDS
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
for r in "${ROWS[@]}"; do
  "bench_$r"
  cleanup
done

echo
echo "== results ($((SECONDS - START)) s; $(nproc) CPUs; load average $LOAD0 at start, $(cut -d' ' -f1-3 /proc/loadavg) at end; $("$HAPROXY_BIN" -v | head -1 | awk '{print "HAProxy", $3}'))"
{
  printf 'ROW\tMEASURED\tTARGET\tRESULT\n'
  printf '%s\n' "${TABLE[@]}"
} | column -t -s $'\t'
