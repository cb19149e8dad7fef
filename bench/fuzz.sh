#!/usr/bin/env bash
# bench/fuzz.sh: builds the libFuzzer targets (fuzz/*_fuzz.cc) with clang, ASan and UBSan, runs them (--jobs at a time) and
# prints one line per target: executions, exec/s, seconds, crashes (crash/leak/timeout/oom files and sanitizer
# reports), corpus size.
#
#   bench/fuzz.sh                          # every target, 10,000,000 executions each (hours on 2 cores)
#   bench/fuzz.sh aws_xml template         # only these targets
#   bench/fuzz.sh --runs 100000            # a short run while developing
#   bench/fuzz.sh --no-build --max-time 600 --timeout 5 --max-len 1024 --jobs 2
#
# Environment: FUZZ_BUILD_DIR (default build-fuzz), FUZZ_NICE (default 10: the fuzzers yield to other work on the
# machine; started in a session of their own, e.g. with setsid, Linux's autogroup scheduling shares the CPU between
# sessions whatever the nice value: `echo 19 > /proc/PID/autogroup` then). --jobs N (default: the number of CPUs) runs N
# targets at a time, each on one core. Allocation stacks are not recorded (ASan's malloc_context_size=0: a quarter of
# the time of the allocating targets); to see where a crashing input's memory was allocated, run it again:
# ASAN_OPTIONS=malloc_context_size=30 BUILD/fuzz/NAME_fuzz FILE. Each target starts from its seed corpus
# (fuzz/corpus/NAME, never written to) plus what earlier runs found (BUILD/fuzz-work/NAME/corpus), with its dictionary
# (fuzz/dict/NAME.dict) if any; an input that crashes is saved in BUILD/fuzz-work/NAME/artifacts/ (to keep it, copy it
# to fuzz/regressions/NAME/: CI replays those). Exits non-zero when any target crashed, leaked, hung or fell short of
# --runs within --max-time.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
NICE=${FUZZ_NICE:-10}
RUNS=10000000
MAX_TIME=1800   # seconds per target: a safety bound, not the goal
TIMEOUT=10      # seconds one input may take before it counts as a hang
MAX_LEN=1024    # bytes per input: real answers are bigger, but every parser's states fit in this (the cost of an
                # execution grows with its length: 4096 made the template and YAML targets 2-4 times slower)
JOBS=$(nproc)
BUILD_FIRST=1
ALL_TARGETS=()
for f in "$ROOT"/fuzz/*_fuzz.cc; do ALL_TARGETS+=("$(basename "$f" _fuzz.cc)"); done

usage() { sed -n '2,/^[^#]/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; }

TARGETS=()
while (($#)); do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --no-build) BUILD_FIRST=0 ;;
    --runs) RUNS=$2; shift ;;
    --max-time) MAX_TIME=$2; shift ;;
    --timeout) TIMEOUT=$2; shift ;;
    --max-len) MAX_LEN=$2; shift ;;
    --jobs) JOBS=$2; shift
            [[ $JOBS =~ ^[1-9][0-9]*$ ]] || { echo "bench/fuzz.sh: --jobs wants a number >= 1, got '$JOBS'" >&2; exit 2; } ;;
    -*) echo "bench/fuzz.sh: unknown option '$1'" >&2; exit 2 ;;
    *)
      [[ " ${ALL_TARGETS[*]} " == *" $1 "* ]] || {
        echo "bench/fuzz.sh: unknown target '$1' (targets: ${ALL_TARGETS[*]})" >&2; exit 2; }
      TARGETS+=("$1") ;;
  esac
  shift
done
((${#TARGETS[@]})) || TARGETS=("${ALL_TARGETS[@]}")

if ! command -v clang++ >/dev/null && ! command -v clang++-14 >/dev/null ||
   ! dpkg-query -W -f='${Status}' libclang-rt-14-dev 2>/dev/null | grep -q "install ok installed"; then
  "$ROOT/scripts/setup.sh" --fuzz || exit 1
fi
CLANG=$(command -v clang++ || command -v clang++-14) || {
  echo "bench/fuzz.sh: clang++ is missing (scripts/setup.sh --fuzz installs clang and libclang-rt-14-dev)" >&2; exit 1; }

# ---- build ---------------------------------------------------------------------------------------------------------
if ((BUILD_FIRST)); then
  echo "== build ($BUILD, $CLANG, ASan + UBSan + libFuzzer)"
  if [[ ! -f $BUILD/build.ninja ]]; then
    launcher=()
    command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$CLANG" \
      -DHASG_FUZZ=ON "${launcher[@]}" >/dev/null || exit 1
  fi
  bins=()
  for t in "${TARGETS[@]}"; do bins+=("${t}_fuzz"); done
  nice -n 10 cmake --build "$BUILD" -j2 --target "${bins[@]}" >"$BUILD/fuzz-build.log" 2>&1 || {
    tail -30 "$BUILD/fuzz-build.log"; echo "bench/fuzz.sh: build failed (log: $BUILD/fuzz-build.log)" >&2; exit 1; }
fi

# ---- run -----------------------------------------------------------------------------------------------------------
# Any sanitizer report ends the run with an artifact; UBSan's with a stack.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:malloc_context_size=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
for t in "${TARGETS[@]}"; do
  [[ -x $BUILD/fuzz/${t}_fuzz ]] || { echo "bench/fuzz.sh: $BUILD/fuzz/${t}_fuzz not built" >&2; exit 1; }
done

# run_target NAME: one target's run; writes its result row to BUILD/fuzz-work/NAME/row and returns 1 unless ok.
run_target() {
  local t=$1 bin=$BUILD/fuzz/${1}_fuzz work=$BUILD/fuzz-work/$1 log before start end rc execs rate secs found reports
  local corpus verdict dict=()
  mkdir -p "$work/corpus" "$work/artifacts"
  # A target's dictionary (fuzz/dict/NAME.dict: keywords and escapes it would take long to guess), when it has one.
  [[ -f $ROOT/fuzz/dict/$t.dict ]] && dict=(-dict="$ROOT/fuzz/dict/$t.dict")
  log=$work/fuzz.log
  # Findings are crash-, leak-, timeout- and oom- files; libFuzzer's slow-unit- files (an input over 10 s, which a
  # busy machine or a stopped process makes) are not failures.
  findings() { find "$work/artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l; }
  before=$(findings)
  start=$(date +%s.%N)
  nice -n "$NICE" "$bin" -runs="$RUNS" -max_total_time="$MAX_TIME" -timeout="$TIMEOUT" -max_len="$MAX_LEN" \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/artifacts/" "${dict[@]}" \
    "$work/corpus" "$ROOT/fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  end=$(date +%s.%N)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", b - a }')
  found=$(( $(findings) - before ))
  reports=$(grep -c -E '^(==[0-9]+==ERROR: |SUMMARY: UndefinedBehaviorSanitizer|.*runtime error: )' "$log")
  corpus=$(find "$work/corpus" -type f | wc -l)
  verdict=ok
  if ((rc != 0 || found > 0 || reports > 0)); then
    verdict=CRASH
    grep -m1 -E 'ERROR: |runtime error|invariant broken|deadly signal|Test unit written' "$log" | sed "s/^/   $t: /"
  elif [[ -z $execs || $execs -lt $RUNS ]]; then
    verdict=SHORT
  fi
  printf '%-15s %12s %9s %8s %8s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "$secs" \
    "$((found > reports ? found : reports))" "$corpus" "$verdict" >"$work/row"
  echo "== $t: $verdict (${execs:-?} executions in ${secs}s; log: $log)"
  [[ $verdict == ok ]]
}

# The verdicts come from the row files, not from the jobs' exit statuses (two jobs ending together while `wait -n`
# waits report one status: the other would be lost).
running=()
for t in "${TARGETS[@]}"; do
  while ((${#running[@]} >= JOBS)); do
    wait -n
    alive=()
    for p in "${running[@]}"; do kill -0 "$p" 2>/dev/null && alive+=("$p"); done
    running=("${alive[@]}")
  done
  echo "== $t: up to $RUNS executions, at most ${MAX_TIME}s"
  rm -f "$BUILD/fuzz-work/$t/row"
  run_target "$t" &
  running+=($!)
done
wait

status=0
echo
printf '%-15s %12s %9s %8s %8s %8s  %s\n' target executions exec/s seconds crashes corpus verdict
for t in "${TARGETS[@]}"; do
  row=$BUILD/fuzz-work/$t/row
  if [[ -f $row ]]; then cat "$row"; [[ $(awk '{print $NF}' "$row") == ok ]] || status=1; else echo "$t: no result"; status=1; fi
done
exit $status
