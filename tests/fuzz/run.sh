#!/usr/bin/env bash
# Builds the libFuzzer targets in a clang build tree of their own and runs each for a
# fixed number of executions from its seed corpus. See docs/fuzzing.md.
#
#   tests/fuzz/run.sh [--executions N] [--short] [--keep-going] [--build-dir DIR] [--keep]
#
# --executions N  executions per target (default 200000, the long form)
# --short         20000 executions per target (the CI form)
# --keep-going    go on past a failing input (libFuzzer's fork mode with -ignore_crashes),
#                 so that one known bug does not end a target's run early
# --build-dir DIR the clang build tree (default: build-fuzz at the repository root)
# --keep          keep the work directory (new corpus entries, logs, crash inputs)
# Exit status: 0 when every target passed, 1 when one found a problem, 2 on a usage
# or build error. Crash inputs are copied to DIR/fuzz-findings/.
set -euo pipefail
shopt -s extglob

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
executions=200000
build="$root/build-fuzz"
keep=0
keep_going=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --executions) executions="$2"; shift 2 ;;
    --short) executions=20000; shift ;;
    --build-dir) build="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    --keep-going) keep_going=1; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ "$executions" =~ ^[0-9]+$ ]] || { echo "run.sh: --executions needs a number" >&2; exit 2; }

# target  max input length  dictionary
targets=(
  "fuzz_lease_request 65536 json.dict"      # the reaper's default max_body_bytes
  "fuzz_reaper_config 16384 toml.dict"
  "fuzz_prefect_response 65536 json.dict"
  "fuzz_heartbeat_answer 16384 json.dict"
)
timeout_per_input=10  # seconds; a slower input counts as a hang

CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DLIFELINE_FUZZ=ON -DLIFELINE_BUILD_TESTS=ON \
  -DLIFELINE_BUILD_BENCH=OFF >"$build.configure.log" 2>&1 ||
  { cat "$build.configure.log" >&2; echo "run.sh: configuring $build failed" >&2; exit 2; }
cmake --build "$build" --target lifeline_fuzz -j2 || { echo "run.sh: build failed" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/lifeline-fuzz.XXXXXX")
[[ $keep -eq 1 ]] || trap 'rm -rf "$work"' EXIT
findings="$build/fuzz-findings"
mkdir -p "$findings"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export ASAN_OPTIONS="abort_on_error=0:detect_leaks=1"

passed=0
failed=0
for spec in "${targets[@]}"; do
  read -r name max_len dict <<<"$spec"
  mkdir -p "$work/$name/new" "$work/$name/cwd"
  log="$work/$name/log"
  # New inputs go to a scratch directory (the first one given), never into the seeds.
  # The working directory is empty so that file paths in inputs name nothing.
  mode=()
  [[ $keep_going -eq 0 ]] || mode=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  set +e
  (cd "$work/$name/cwd" && "$build/fuzz/$name" "${mode[@]}" -runs="$executions" -timeout="$timeout_per_input" \
     -max_len="$max_len" -dict="$here/dict/$dict" -artifact_prefix="$work/$name/" \
     -print_final_stats=1 "$work/$name/new" "$here/corpus/$name") >"$log" 2>&1
  rc=$?
  set -e
  # Fork mode exits 0 after failing inputs: the artifacts tell.
  if [[ $rc -eq 0 ]] && compgen -G "$work/$name/@(crash|leak|timeout|oom)-*" >/dev/null; then rc=1; fi
  # Fork mode prints the total as "fuzzed for N iterations" (its stat lines are a job's).
  done_runs=$(sed -n 's/^INFO: fuzzed for \([0-9]*\) iterations.*/\1/p' "$log" | tail -1)
  [[ -n "$done_runs" ]] || done_runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  [[ -n "$done_runs" ]] || done_runs=$(grep -o 'Done [0-9]* runs' "$log" | grep -o '[0-9]*' || true)
  [[ -n "$done_runs" ]] || done_runs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#' || true)
  if [[ $rc -eq 0 ]]; then
    passed=$((passed + 1))
    printf '%-24s %10s executions  passed (corpus %s entries)\n' "$name" "${done_runs:-?}" \
      "$(($(ls "$work/$name/new" | wc -l) + $(ls "$here/corpus/$name" | wc -l)))"
  else
    failed=$((failed + 1))
    printf '%-24s %10s executions  FAILED (exit %d)\n' "$name" "${done_runs:-?}" "$rc"
    for a in "$work/$name"/crash-* "$work/$name"/leak-* "$work/$name"/timeout-* "$work/$name"/oom-*; do
      [[ -e "$a" ]] || continue
      cp "$a" "$findings/$name-$(basename "$a")"
      echo "    input: $findings/$name-$(basename "$a")"
    done
    grep -E 'runtime error|ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|SUMMARY|^fuzz_|terminate called|what\(\)' "$log" |
      sed 's/[0-9]\{6,\}/N/g' | sort -u | head -8 | sed 's/^/    /'
    cp "$log" "$findings/$name.log"
    echo "    log: $findings/$name.log"
  fi
done
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
