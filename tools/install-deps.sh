#!/usr/bin/env bash
# Installs everything lifeline needs to build, test and demonstrate, from Debian 12's
# packages (and npm for the offline Kubernetes schema check). Run as root. Idempotent.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config make
  libboost1.81-dev prometheus-cpp-dev libcpp-httplib-dev libpq-dev libtomlplusplus-dev
  nlohmann-json3-dev libgtest-dev libgmock-dev googletest libbenchmark-dev libssl-dev
  postgresql clang libclang-rt-14-dev
  nginx prometheus gnuplot-nox jq
  procps util-linux iproute2 ca-certificates curl python3
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ! command -v node >/dev/null 2>&1; then missing+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then echo "install-deps: run as root to install packages" >&2; exit 1; fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The packaged PostgreSQL service is not needed: tests and the demo start their own clusters.
echo "dependencies ready"
