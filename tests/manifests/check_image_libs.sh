#!/usr/bin/env bash
# check_image_libs.sh BINARY DOCKERFILE
#
# Checks that the runtime stage of DOCKERFILE (its last FROM) copies BINARY into the image (a
# COPY naming a file of the same name) and provides every shared library the BINARY needs: for each library `ldd` resolves, the Debian package that owns it (`dpkg -S`) must
# be installed by that stage's `apt-get install`, be a dependency of one it installs (apt pulls it
# in), or be part of debian:12-slim itself (the base set below).
#
# The base set: debian:12-slim is Debian's minbase (Priority: required packages plus apt), so it
# has the libraries dpkg, apt, coreutils, util-linux, bash, login and PAM link against. Only those
# a C++ program plausibly links are listed; anything else must be installed explicitly.
#   libc6 (libc, libm, ld.so), libgcc-s1, libstdc++6 (apt is C++), zlib1g (dpkg), libzstd1,
#   liblzma5, libbz2-1.0 (dpkg, apt), libcrypt1 (login), libselinux1, libpcre2-8-0 (coreutils),
#   libgnutls30, libnettle8, libhogweed6, libgmp10, libp11-kit0, libtasn1-6, libidn2-0,
#   libunistring2, libffi8 (apt's TLS), libsystemd0, liblz4-1, libgcrypt20, libgpg-error0 (apt),
#   libudev1, libseccomp2 (apt), libacl1, libattr1 (coreutils), libuuid1, libblkid1, libmount1
#   (util-linux), libtinfo6 (bash), libpam0g (login), libcap2, libcap-ng0, libaudit1, libdb5.3.
#
# Needs dpkg, ldd and the runtime packages installed on this machine (they are: the -dev packages
# the build needs depend on them). Works offline. Last line: "N passed, N failed".
set -u -o pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 BINARY DOCKERFILE" >&2
  exit 2
fi
binary=$1
dockerfile=$2
passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit; }

base="libc6 libgcc-s1 libstdc++6 zlib1g libzstd1 liblzma5 libbz2-1.0 libcrypt1 libselinux1
libpcre2-8-0 libgnutls30 libnettle8 libhogweed6 libgmp10 libp11-kit0 libtasn1-6 libidn2-0
libunistring2 libffi8 libsystemd0 liblz4-1 libgcrypt20 libgpg-error0 libudev1 libseccomp2 libacl1
libattr1 libuuid1 libblkid1 libmount1 libtinfo6 libpam0g libcap2 libcap-ng0 libaudit1 libdb5.3"

[ -f "$binary" ] || { fail "binary $binary not found (build it first)"; finish; }
[ -f "$dockerfile" ] || { fail "Dockerfile $dockerfile not found"; finish; }

# Packages the runtime stage installs: the words of `apt-get install` commands after the last FROM.
runtime=$(awk '
  /^[[:space:]]*FROM[[:space:]]/ { stage = "" }
  { stage = stage "\n" $0 }
  END { print stage }' "$dockerfile" |
  sed -e ':a' -e '/\\$/N; s/\\\n/ /; ta' |
  grep -E 'apt-get[[:space:]]+install' |
  sed -E 's/.*apt-get[[:space:]]+install//; s/&&.*//' |
  tr ' ' '\n' | grep -v -E '^(-|$)' | sed -E 's/[=:].*//' | sort -u)
if [ -z "$runtime" ]; then
  echo "NOTE the runtime stage of $dockerfile installs no package"
else
  echo "NOTE runtime stage installs: $(tr '\n' ' ' <<<"$runtime")"
fi

# The runtime stage must ship the binary: a COPY whose source has the binary's file name.
name=$(basename "$binary")
if awk '/^[[:space:]]*FROM[[:space:]]/ { stage = "" } { stage = stage "\n" $0 } END { print stage }' "$dockerfile" |
  grep -E '^[[:space:]]*COPY[[:space:]]' | grep -qE "/${name}[[:space:]]"; then
  pass "$name is copied into the image by the runtime stage"
else
  fail "$name: the runtime stage of $dockerfile does not COPY it"
fi

# Everything those packages pull in, from the dependency fields of the installed packages.
declare -A closure=()
queue=$runtime
while [ -n "$queue" ]; do
  next=""
  for pkg in $queue; do
    [ -n "${closure[$pkg]:-}" ] && continue
    closure[$pkg]=1
    deps=$(dpkg-query -W -f='${Depends}, ${Pre-Depends}' "$pkg" 2>/dev/null) || {
      echo "NOTE $pkg is not installed here: its dependencies are not followed"
      continue
    }
    for dep in $(tr ',|' '\n' <<<"$deps" | sed -E 's/\(.*\)//; s/:any//; s/[[:space:]]//g' | grep -v '^$'); do
      [ -z "${closure[$dep]:-}" ] && next="$next $dep"
    done
  done
  queue=$next
done

owner() {
  local path=$1 candidate pkg
  for candidate in "$path" "$(readlink -f "$path")" "${path/#\/usr\/lib\//\/lib\/}" "${path/#\/lib\//\/usr\/lib\/}"; do
    pkg=$(dpkg -S "$candidate" 2>/dev/null | head -n1 | cut -d: -f1) && [ -n "$pkg" ] && { echo "$pkg"; return 0; }
  done
  return 1
}

libs=$(ldd "$binary" 2>&1) || { fail "ldd $binary: $libs"; finish; }
while read -r line; do
  path=$(sed -nE 's/.*=> (\/[^ ]+) .*/\1/p; s/^[[:space:]]*(\/[^ ]+) \(.*/\1/p' <<<"$line" | head -n1)
  if [ -z "$path" ]; then
    case "$line" in
      *linux-vdso*|*linux-gate*) continue ;;
      *"not found"*) fail "$(sed -E 's/^[[:space:]]+//' <<<"$line")"; continue ;;
      *) continue ;;
    esac
  fi
  lib=$(basename "$path")
  if ! pkg=$(owner "$path"); then
    fail "$lib ($path) belongs to no Debian package"
    continue
  fi
  if grep -qx "$pkg" <<<"$runtime"; then
    pass "$lib from $pkg (installed by the runtime stage)"
  elif grep -qw -- "$pkg" <<<"$base"; then
    pass "$lib from $pkg (in debian:12-slim)"
  elif [ -n "${closure[$pkg]:-}" ]; then
    pass "$lib from $pkg (a dependency of the runtime stage's packages)"
  else
    fail "$lib from $pkg: add $pkg to the runtime stage of $dockerfile"
  fi
done <<<"$libs"

finish
