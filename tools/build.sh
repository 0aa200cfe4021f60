#!/usr/bin/env bash
# Configures and builds one flavour of lifeline.
#   tools/build.sh [release|asan|tsan] [extra cmake args...]
# Build trees: build (release), build-asan, build-tsan.
set -euo pipefail
cd "$(dirname "$0")/.."
flavour=${1:-release}
shift || true
case "$flavour" in
  release) dir=build; args=(-DCMAKE_BUILD_TYPE=Release) ;;
  # Sanitizer trees: -O1 with line tables only (-g1) builds much faster than RelWithDebInfo
  # and still gives readable stacks; the benchmarks are not built there. Warnings are errors
  # in the release tree; here GCC 12 warns falsely about instrumented code (e.g.
  # -Wmismatched-new-delete on Asio coroutine frames), so they are reported, not fatal.
  asan) dir=build-asan; args=(-DCMAKE_BUILD_TYPE=None "-DCMAKE_CXX_FLAGS=-O1 -g1" -DLIFELINE_SANITIZE=ON -DLIFELINE_BUILD_BENCH=OFF -DLIFELINE_WERROR=OFF) ;;
  tsan) dir=build-tsan; args=(-DCMAKE_BUILD_TYPE=None "-DCMAKE_CXX_FLAGS=-O1 -g1" -DLIFELINE_TSAN=ON -DLIFELINE_BUILD_BENCH=OFF -DLIFELINE_WERROR=OFF) ;;
  *) echo "usage: tools/build.sh [release|asan|tsan]" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" -G Ninja -DLIFELINE_WERROR=ON "${args[@]}" "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)"
echo "built $dir"
