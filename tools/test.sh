#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs dependencies, builds with warnings as
# errors, runs every test (unit, integration against a real PostgreSQL, end-to-end with
# real processes), the end-to-end test ten times in a row, the fault suite's short form,
# then every test again under AddressSanitizer + UndefinedBehaviorSanitizer, the fuzzers'
# short form, and the manifest, image and dashboard checks.
#   tools/test.sh            everything
#   tools/test.sh --quick    release build and tests only
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
[ "${1:-}" = "--quick" ] && quick=1

tools/install-deps.sh

pgdir=$(mktemp -d /tmp/lifeline-ci-pg.XXXXXX)
# Every process a test starts writes its output to a file in $TMPDIR (tests/support
# Subprocess); a run starts thousands, so they go to a directory of this run, removed at the end.
testtmp=$(mktemp -d /tmp/lifeline-ci-tmp.XXXXXX)
cleanup() { tools/pg-temp.sh stop "$pgdir" >/dev/null 2>&1 || true; rm -rf "$pgdir" "$testtmp"; }
trap cleanup EXIT
export LIFELINE_TEST_PG_PORT=$(tools/pg-temp.sh start "$pgdir")
echo "test PostgreSQL on 127.0.0.1:$LIFELINE_TEST_PG_PORT"
export TMPDIR=$testtmp

failed=0
run_ctest() {  # dir label
  echo "=== ctest ($2)"
  if ! ctest --test-dir "$1" --output-on-failure -j2 --timeout 600; then
    echo "ctest ($2): some tests failed, re-running failures once to show them"
    ctest --test-dir "$1" --output-on-failure --rerun-failed --timeout 600 || failed=1
  fi
}

echo "=== build (release, -Werror)"
tools/build.sh release -DLIFELINE_BUILD_BENCH=OFF
run_ctest build release

if [ $quick -eq 0 ]; then
  echo "=== end-to-end test, 10 times in a row"
  if [ -x build/bin/e2e_test ]; then
    build/bin/e2e_test --gtest_filter='EndToEnd.*' --gtest_repeat=10 --gtest_brief=1 || failed=1
  fi

  echo "=== fault suite (short form)"
  tests/faults/run.sh --short --build-dir build || failed=1

  echo "=== build (ASan + UBSan)"
  tools/build.sh asan
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=0
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  run_ctest build-asan asan+ubsan
  unset ASAN_OPTIONS UBSAN_OPTIONS

  echo "=== fuzzing (short form: a fixed number of executions per libFuzzer target)"
  tests/fuzz/run.sh --short || failed=1

  echo "=== manifests, job template, images, dashboards and alert rules"
  bash tests/manifests/check_manifests.sh || failed=1
  bash tests/dashboards/check_dashboards.sh || failed=1
  bash tests/manifests/check_image_libs.sh build/bin/lifeline-sidecar docker/sidecar.Dockerfile || failed=1
  bash tests/manifests/check_image_libs.sh build/bin/lifeline-sidecar-tls docker/sidecar.Dockerfile || failed=1
  bash tests/manifests/check_image_libs.sh build/bin/lifeline-reaper docker/reaper.Dockerfile || failed=1
fi

if [ $failed -ne 0 ]; then
  echo "lifeline test suite: FAILED"
  exit 1
fi
echo "lifeline test suite: all passed"
