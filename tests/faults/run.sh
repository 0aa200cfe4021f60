#!/usr/bin/env bash
# The fault suite: real PostgreSQL, the fake Prefect API, real reapers and sidecars with
# workloads, under kills, evictions, CPU starvation, partitions, reaper and database faults
# and a misbehaving Prefect. Each driver prints PASS/FAIL lines, a markdown table and
# RESULT lines, and exits non-zero when anything was lost, done twice or done wrongly.
#
#   tests/faults/run.sh [--short|--long] [--build-dir DIR]
#
# --short     the CI form (a few minutes in all; the default)
# --long      the on-demand form: a 30-minute soak, 100 partition trials, 100 reaper kills,
#             Prefect faults lasting minutes
# --build-dir a built tree with bin/fault_soak and bin/fault_reaper (default: build)
# Uses $LIFELINE_TEST_PG_PORT's PostgreSQL if set (as tools/test.sh does), else each
# driver starts its own throwaway cluster. Logs go to DIR/faults-<form>/.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
form=--short
build="$root/build"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --short|--long) form="$1"; shift ;;
    --build-dir) build="$2"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
logs="$build/faults-${form#--}"
mkdir -p "$logs"
failed=0
for driver in fault_soak fault_reaper; do
  if [[ ! -x "$build/bin/$driver" ]]; then
    echo "run.sh: $build/bin/$driver is not built" >&2
    exit 2
  fi
  echo "=== $driver $form"
  start=$(date +%s)
  if "$build/bin/$driver" "$form" 2>"$logs/$driver.stderr" | tee "$logs/$driver.out"; then
    echo "=== $driver: passed in $(( $(date +%s) - start )) s"
  else
    echo "=== $driver: FAILED after $(( $(date +%s) - start )) s; last lines of its log:"
    tail -n 40 "$logs/$driver.stderr" || true
    failed=1
  fi
done
exit $failed
