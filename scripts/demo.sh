#!/usr/bin/env bash
# The demo: the AWS simulator with an Auto Scaling group of real loopback HTTP servers, HAProxy (master-worker) in
# front of it, haproxy-asg keeping HAProxy's backend equal to the group, and live traffic through HAProxy while the
# group scales out and in. Every request must succeed and HAProxy must never reload.
#
# The group has a termination lifecycle hook that haproxy-asg owns, and the hook's notifications and the EventBridge
# events go to an SQS queue that haproxy-asg listens to: each scale-in shows as it happens (drain, last response and
# removal, hook completed; only then does the instance terminate, its server dying 1 s later), each scale-out as adds.
#
#   scripts/demo.sh                      set-up + build + the demo (~60 s)
#   DEMO_STEP_SECONDS=4 scripts/demo.sh  faster scale steps (default 8)
#   DEMO_HOOKS=0 scripts/demo.sh         without the hook and the queue (polling every second only)
#   DEMO_SKIP_BUILD=1 DEMO_BUILD_DIR=build-x scripts/demo.sh   use binaries already built elsewhere
#
# Loopback only. Everything runs in a temporary directory; all it starts is stopped at the end or on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
step_seconds=${DEMO_STEP_SECONDS:-8}
hooks=${DEMO_HOOKS:-1}
steps=(6 4 8 3 5)
initial=3

if [ "${DEMO_SKIP_BUILD:-0}" != 1 ]; then
  scripts/setup.sh
  scripts/build.sh
fi
bin=$repo/${DEMO_BUILD_DIR:-build}
haproxy_bin=/usr/sbin/haproxy
for b in "$bin/haproxy-asg" "$bin/haproxy-asg-sim" "$bin/haproxy-asg-load" "$haproxy_bin"; do
  [ -x "$b" ] || { echo "demo: $b is missing" >&2; exit 1; }
done

LIB_PROG=demo
. "$repo/scripts/lib.sh"
dir=$(mktemp -d /tmp/haproxy-asg-demo.XXXXXX)
load_pid=""

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# start NAME COMMAND...: runs COMMAND in its own session and process group, output to $dir/NAME.log.
start() {
  local name=$1
  shift
  bg_start "$dir/$name.log" "$@"
}

finish() {
  local rc=$1 load_rc=unknown reloads=unknown hooks_line=""
  if [ -n "$load_pid" ]; then
    kill -INT -- "-$load_pid" 2>/dev/null || true
    load_rc=0
    wait "$load_pid" || load_rc=$?
  fi
  if [ "$hooks" = 1 ] && [ -n "${AWS_ENDPOINT_URL:-}" ]; then
    # The simulator's record of every terminating lifecycle action: who completed it, how long it waited.
    hooks_line=$(curl -sf --max-time 2 "$AWS_ENDPOINT_URL/_sim/lifecycle-actions" | jq -r '
      [.[] | select(.transition == "autoscaling:EC2_INSTANCE_TERMINATING")] |
      "lifecycle hook: \(length) scale-in(s), \([.[] | select(.completed_by == "CompleteLifecycleAction")] | length) completed by haproxy-asg, \([.[] | select(.completed_by == "timeout")] | length) timed out, \([.[] | select(.completed_by == "")] | length) still waiting; longest wait \([.[] | .waited_ms] | max // 0) ms"' 2>/dev/null || true)
  fi
  if [ -f "$dir/haproxy-asg.yaml" ] && [ -S "$dir/admin.sock" ]; then
    say "haproxy-asg status"
    "$bin/haproxy-asg" status --config "$dir/haproxy-asg.yaml" 2>&1 || true
  fi
  if [ -f "$dir/haproxy-asg.log" ]; then
    say "haproxy-asg log (last 25 lines)"
    tail -n 25 "$dir/haproxy-asg.log"
  fi
  if [ -f "$dir/haproxy.log" ]; then
    say "HAProxy's error log: failed or abnormal requests (last 15 lines)"
    # HAProxy's own notices and warnings (servers added, drained, deleted) are left out.
    grep -Ev '^\[(NOTICE|WARNING)\]' "$dir/haproxy.log" | tail -n 15 | grep . || echo "(none)"
  fi
  if [ -S "$dir/master.sock" ]; then
    say "HAProxy master (show proc)"
    local proc
    proc=$(echo "show proc" | socat -t 2 stdio "unix-connect:$dir/master.sock" 2>&1 || true)
    echo "$proc"
    reloads=$(awk '$2 == "master" { print $3 }' <<<"$proc")
  fi
  bg_stop_all
  rm -rf "$dir"
  say "result"
  if ((rc == 130 || rc == 143)); then echo "demo interrupted"; fi
  case $load_rc in
    0) echo "load: every request succeeded" ;;
    unknown) echo "load: not started" ;;
    *) echo "load: FAILED REQUESTS (load tool exit $load_rc; see its summary and HAProxy's error log above)" ;;
  esac
  if [ "$reloads" = 0 ]; then echo "HAProxy reloads: 0"; else echo "HAProxy reloads: $reloads (expected 0)"; fi
  if [ -n "$hooks_line" ]; then echo "$hooks_line"; fi
  if [ "$load_rc" != 0 ] || [ "$reloads" != 0 ]; then rc=1; fi
  exit "$rc"
}
on_exit finish

# ---- the simulator: Auto Scaling + EC2 APIs, and one real HTTP server per instance on 127.50.x.y --------------------
instance_port=$(free_port)
front_port=$(free_port)
metrics_port=$(free_port)
say "starting the AWS simulator (group app, $initial instances, HTTP servers on 127.50.0.x:$instance_port)"
start sim "$bin/haproxy-asg-sim" --port 0 --port-file "$dir/sim.port" --group "app=$initial" \
  --instance-port "$instance_port" --instance-net 50 --pending 1s --terminating "$([ "$hooks" = 1 ] && echo 1s || echo 4s)"
await 10 "the simulator" test -s "$dir/sim.port"
sim_port=$(cat "$dir/sim.port")
export AWS_ENDPOINT_URL=http://127.0.0.1:$sim_port AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true \
  AWS_ACCESS_KEY_ID=AKIDSIMULATOR AWS_SECRET_ACCESS_KEY=simulator-secret-key
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_REGION AWS_ENDPOINT_URL_AUTO_SCALING AWS_ENDPOINT_URL_EC2
echo "simulator on $AWS_ENDPOINT_URL"
in_service() { [ "$(curl -sf "$AWS_ENDPOINT_URL/_sim/state" | grep -c '"lifecycle": "InService"')" -eq "$1" ]; }
await 15 "$initial InService instances" in_service "$initial"
"$bin/haproxy-asg" discover --group app
interval=1s
hooks_yaml=""
events_yaml=""
if [ "$hooks" = 1 ]; then
  # What README "Operating it" does with awscli: a queue, the group's termination hook notifying it, and an
  # EventBridge rule sending Auto Scaling's and EC2's events to it.
  say "termination lifecycle hook \"drain\" on group app; its notifications and EventBridge events to SQS queue \"events\""
  queue_arn=$(curl -sf -XPOST -d '{"name":"events"}' "$AWS_ENDPOINT_URL/_sim/queues" | jq -r .arn)
  curl -sf -XPOST -d "{\"name\":\"drain\",\"transition\":\"autoscaling:EC2_INSTANCE_TERMINATING\",\"heartbeat_timeout\":300,\"default_result\":\"CONTINUE\",\"notification_target_arn\":\"$queue_arn\"}" \
    "$AWS_ENDPOINT_URL/_sim/groups/app/hooks" >/dev/null
  curl -sf -XPOST -d '{"queue":"events"}' "$AWS_ENDPOINT_URL/_sim/eventbridge" >/dev/null
  echo "queue $queue_arn: a scale-in now waits in Terminating:Wait until haproxy-asg completes the hook"
  interval=10s  # the events drive haproxy-asg; polling is the safety net
  hooks_yaml="    lifecycle_hooks: {terminating: drain}"
  events_yaml=$'events:\n  queue_url: '"$AWS_ENDPOINT_URL/123456789012/events"
fi

# ---- HAProxy's template and haproxy-asg's configuration ------------------------------------------------------------
cat >"$dir/haproxy.cfg.template" <<EOF
global
    stats socket $dir/admin.sock mode 600 level admin expose-fd listeners
    stats timeout 30s
    maxconn 1000
    # Only failed or abnormal requests are logged (option log-separate-errors raises them to "err").
    log stderr format short local0 err

defaults
    log global
    mode http
    option httplog
    option dontlog-normal
    option log-separate-errors
    option http-keep-alive
    http-reuse safe
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response response-timeout
    timeout connect 2s
    timeout client 30s
    timeout server 10s
    timeout http-keep-alive 10s

frontend web
    bind 127.0.0.1:$front_port
    default_backend app

backend app
    balance roundrobin
    option httpchk GET /
EOF
cat >"$dir/haproxy-asg.yaml" <<EOF
interval: $interval
haproxy:
  template: haproxy.cfg.template
  config: haproxy.cfg
  runtime_socket: admin.sock
  master_socket: master.sock
  binary: $haproxy_bin
backends:
  - backend: app
    group: app
    port: $instance_port
    server_options: check inter 1s fall 2 rise 1 pool-purge-delay 10s pool-max-conn -1
    drain_timeout: 3s
$hooks_yaml
state_file: state.json
listen: 127.0.0.1:$metrics_port
$events_yaml
EOF

say "haproxy-asg once: HAProxy is not running yet, so it only renders the first haproxy.cfg"
"$bin/haproxy-asg" once --config "$dir/haproxy-asg.yaml"
grep -E '^\s*server ' "$dir/haproxy.cfg" || true

say "starting HAProxy (master-worker) on 127.0.0.1:$front_port and haproxy-asg run"
start haproxy "$haproxy_bin" -W -S "$dir/master.sock" -f "$dir/haproxy.cfg"
await 10 "HAProxy's sockets" test -S "$dir/admin.sock" -a -S "$dir/master.sock"
await 10 "a first answer through HAProxy" curl -sf "http://127.0.0.1:$front_port/"
start haproxy-asg "$bin/haproxy-asg" run --config "$dir/haproxy-asg.yaml"
await 10 "haproxy-asg's health endpoint" curl -sf "http://127.0.0.1:$metrics_port/healthz"
echo "HAProxy and haproxy-asg are up; metrics on http://127.0.0.1:$metrics_port/metrics"

# ---- traffic, then the group scales --------------------------------------------------------------------------------
tty=--no-tty
[ -t 1 ] && tty=--tty
: >"$dir/steps"
banner() {
  local line
  line=$(printf '[%3ds] %s' "$((SECONDS - t0))" "$*")
  echo "$line" >>"$dir/steps"
  [ "$tty" = --tty ] || echo "== $line"
}
say "live traffic: 8 keep-alive connections, 200 req/s through HAProxy, while the group scales every ${step_seconds}s"
bg_start - "$bin/haproxy-asg-load" "http://127.0.0.1:$front_port/" --connections 8 --rate 200 "$tty" \
  --note-file "$dir/steps"
load_pid=$LAST_PID
t0=$SECONDS
# Each membership change as haproxy-asg makes it, from its log into the live view (without a terminal, to stdout).
bg_start - bash -c '
  start=$1 tty=$2
  tail -n 0 -F "$3" 2>/dev/null | while IFS= read -r l; do
    case $l in
      *"lifecycle hook "*" completed for "*) m=${l#*completed for }
        m="${m%% *}: lifecycle hook completed with ${m#* with }, so the group terminates it now" ;;
      *"lifecycle hook "*) continue ;;
      *" add "*) m=${l#* add }; m="${m%% *}: added, in rotation" ;;
      *" drain "*) m=${l#* drain }; m="${m%% *}: draining, no new requests (${m#* (}" ;;
      *" remove "*"(drained)"*) m=${l#* remove }; m="${m%% *}: last response done (0 sessions), removed" ;;
      *" remove "*) m=${l#* remove }; m="${m%% *}: removed (${m#* (}" ;;
      *) continue ;;
    esac
    line=$(printf "[%3ds]   haproxy-asg: %s" "$(($(date +%s) - start))" "$m")
    echo "$line" >>"$4"
    [ "$tty" = --tty ] || echo "== $line"
  done' demo-follow "$(($(date +%s) - (SECONDS - t0)))" "$tty" "$dir/haproxy-asg.log" "$dir/steps"
current=$initial
banner "group app: $current instances"
for n in "${steps[@]}"; do
  pause "$step_seconds"
  if ((n > current)); then what="scale out: $((n - current)) instances launch, haproxy-asg adds them"
  else what="scale in: $((current - n)) instances terminate, haproxy-asg drains and removes them"; fi
  banner "desired $current -> $n ($what)"
  curl -sf -XPOST -d "{\"desired\":$n}" "$AWS_ENDPOINT_URL/_sim/groups/app/desired" >/dev/null
  current=$n
done
pause "$step_seconds"
banner "done"
pause 1
