#!/usr/bin/env bash
# Set-up, build and every test (unit and integration: a real HAProxy, the AWS simulator, awscli and boto3).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
cd build
ctest --output-on-failure -j2 --timeout 300 "$@"
