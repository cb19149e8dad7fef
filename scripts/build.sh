#!/usr/bin/env bash
# Configures and builds everything in ./build (warnings are errors).
set -euo pipefail
cd "$(dirname "$0")/.."
# -g1: line tables only (a failing test's backtrace still names functions and lines): a quarter less compile time
# than full debug info, which only a debugger stepping through locals needs (cmake -DCMAKE_BUILD_TYPE=Debug).
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" \
  -DHASG_WERROR=ON >/dev/null
cmake --build build -j2
