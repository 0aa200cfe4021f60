#!/usr/bin/env bash
# The demonstration: installs dependencies, builds, then runs lifeline-demo, which starts
# a throwaway PostgreSQL, the fake Prefect API, the reaper and several sidecar "pods" with
# workloads, kills some of them in different ways, and prints what was detected and retried.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
tools/build.sh release
exec build/bin/lifeline-demo "$@"
