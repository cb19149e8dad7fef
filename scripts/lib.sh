# scripts/lib.sh: process helpers shared by scripts/demo.sh and bench/run.sh. Source it from bash:
#   . "$ROOT/scripts/lib.sh"
#
#   bg_start LOG CMD...       starts CMD in the background in its own session and process group (a stop reaches
#                             its children too), stdin /dev/null, stdout+stderr to LOG ("-": inherited); sets
#                             LAST_PID and remembers it for bg_stop_all
#   bg_stop PID               TERM PID's process group, KILL it if still there after 5 s, reap PID, forget it
#   bg_stop_all               bg_stop every remembered process, the last started first
#   on_exit FUNC [MESSAGE]    runs FUNC once when the script exits, however it exits; INT and TERM exit 130 and
#                             143 (printing MESSAGE to stderr first, when given). FUNC gets the exit status as $1.
#   free_port                 a free TCP port on 127.0.0.1
#   wait_for SECONDS CMD...   polls CMD every 0.1 s until it succeeds; returns 1 after SECONDS
#   await SECONDS WHAT CMD... the same, printing "PROG: timed out waiting for WHAT" when it fails
#   pause SECONDS             sleeps; a trapped signal interrupts it at once
#
# Set LIB_PROG to the name used in messages (default: the script's name). Loopback only.

LIB_PROG=${LIB_PROG:-$(basename "$0")}
LIB_PIDS=()   # process-group leaders started by bg_start, in start order
LAST_PID=""

bg_start() {
  local log=$1
  shift
  # In a script (no job control) a background job shares the shell's process group, so setsid does not fork:
  # $! is CMD itself, the leader of its new group.
  if [[ $log == - ]]; then
    setsid "$@" </dev/null &
  else
    setsid "$@" >"$log" 2>&1 </dev/null &
  fi
  LAST_PID=$!
  LIB_PIDS+=("$LAST_PID")
}

_lib_group_alive() {  # a process of group $1 is still there (zombies do not count)
  local p s
  for p in $(pgrep -g "$1" 2>/dev/null); do
    s=$(cat "/proc/$p/stat" 2>/dev/null) || continue
    s=${s##*) }
    [[ ${s%% *} != Z ]] && return 0
  done
  return 1
}

bg_stop() {
  local pid=$1 p keep=()
  kill -TERM -- "-$pid" 2>/dev/null || true
  for _ in $(seq 50); do _lib_group_alive "$pid" || break; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for p in "${LIB_PIDS[@]}"; do [[ $p == "$pid" ]] || keep+=("$p"); done
  LIB_PIDS=("${keep[@]}")
}

bg_stop_all() {
  local i
  for ((i = ${#LIB_PIDS[@]} - 1; i >= 0; i--)); do bg_stop "${LIB_PIDS[i]}"; done
  LIB_PIDS=()
}

_LIB_EXITED=0
on_exit() {
  _LIB_EXIT_FUNC=$1
  _LIB_INT_MESSAGE=${2:-}
  trap '_lib_exit' EXIT
  trap '_lib_signal 130' INT
  trap '_lib_signal 143' TERM
}
_lib_exit() {
  local rc=$?
  ((_LIB_EXITED)) && return
  _LIB_EXITED=1
  trap '' INT TERM
  "$_LIB_EXIT_FUNC" "$rc"
}
_lib_signal() {
  [[ -n $_LIB_INT_MESSAGE ]] && echo "$_LIB_INT_MESSAGE" >&2
  exit "$1"
}

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS >= deadline)) && return 1
    sleep 0.1
  done
}

await() {
  local seconds=$1 what=$2
  shift 2
  wait_for "$seconds" "$@" || { echo "$LIB_PROG: timed out waiting for $what" >&2; return 1; }
}

pause() { sleep "$1" & wait $! || true; }
