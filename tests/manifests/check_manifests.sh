#!/usr/bin/env bash
# Offline checks of lifeline's Kubernetes manifests (run by CI):
#   - `kubectl kustomize` builds every kustomization under manifests/;
#   - every object built validates against the Kubernetes API schema (kubernetes-models, with
#     unknown fields rejected as kubectl's strict validation would), CRDs where the models have them;
#   - the reaper requires the bearer token (token_file set, projected from a required Secret);
#   - manifests/prefect/base-job-template.json declares every placeholder, its Job (placeholders
#     replaced by their defaults) is valid, and the sidecar is wired (token, probes, backoffLimit 0).
# Needs: kubectl (with its built-in kustomize), node >= 20 and npm (the npm registry or a warm
# npm cache, for `npm ci`). Set LIFELINE_SKIP_NPM_CI=1 to reuse an installed node_modules.
# Prints one line per check and, last, "N passed, N failed"; exits non-zero on any failure.
set -u -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
manifests="$root/manifests"
passed=0
failed=0
skipped=0

pass() { passed=$((passed + 1)); echo "PASS $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
finish() {
  if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
  else
    echo "$passed passed, $failed failed"
  fi
  [ "$failed" -eq 0 ]
  exit
}

work=$(mktemp -d "${TMPDIR:-/tmp}/lifeline-manifests.XXXXXX")
trap 'rm -rf "$work"' EXIT

for tool in kubectl node npm; do
  if command -v "$tool" >/dev/null 2>&1; then pass "tool $tool present"; else fail "tool $tool missing"; fi
done
[ "$failed" -eq 0 ] || finish

if [ "${LIFELINE_SKIP_NPM_CI:-0}" != 1 ] || [ ! -d "$here/node_modules" ]; then
  if (cd "$here" && npm ci --no-audit --no-fund --prefer-offline --loglevel=error >"$work/npm.log" 2>&1); then
    pass "npm ci (kubernetes-models)"
  else
    cat "$work/npm.log"
    fail "npm ci (kubernetes-models): see the log above"
    finish
  fi
fi

# Runs validate.mjs and adds its PASS/FAIL/SKIP lines to the counts.
run_validator() {
  local out
  out=$(cd "$here" && node validate.mjs "$@" 2>&1)
  local status=$?
  printf '%s\n' "$out"
  local p f s
  p=$(grep -c '^PASS ' <<<"$out")
  f=$(grep -c '^FAIL ' <<<"$out")
  s=$(grep -c '^SKIP ' <<<"$out")
  passed=$((passed + p))
  failed=$((failed + f))
  skipped=$((skipped + s))
  if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then fail "validate.mjs $1 exited $status"; fi
}

builds=()
while IFS= read -r kfile; do
  dir=$(dirname "$kfile")
  rel=${dir#"$root"/}
  out="$work/$(tr '/' '_' <<<"$rel").yaml"
  if kubectl kustomize "$dir" >"$out" 2>"$work/kustomize.err"; then
    pass "kustomize build $rel"
    builds+=("$out")
  else
    fail "kustomize build $rel: $(head -c 400 "$work/kustomize.err")"
  fi
done < <(find "$manifests" -name kustomization.yaml -not -path '*/node_modules/*' | sort)

if [ "${#builds[@]}" -gt 0 ]; then
  run_validator objects "${builds[@]}"
  run_validator reaper-token "${builds[@]}"
fi

template="$manifests/prefect/base-job-template.json"
if [ -f "$template" ]; then
  run_validator job-template "$template"
else
  fail "missing manifests/prefect/base-job-template.json"
fi

# The same template injected for an https:// reaper with a private CA (--reaper-ca-secret), by
# the built sidecar (build/bin, or LIFELINE_SIDECAR_BIN).
sidecar_bin=${LIFELINE_SIDECAR_BIN:-$root/build/bin/lifeline-sidecar}
if [ ! -x "$sidecar_bin" ]; then
  skipped=$((skipped + 1))
  echo "SKIP job template with a reaper CA: no built sidecar at $sidecar_bin"
elif [ -f "$template" ] && "$sidecar_bin" inject --image lifeline/sidecar:0.1.0 \
  --reaper-url https://lifeline-reaper.lifeline:8443 --reaper-ca-secret lifeline-reaper-ca \
  --in "$template" --out "$work/base-job-template-with-ca.json" 2>"$work/inject.err"; then
  pass "inject --reaper-ca-secret"
  run_validator job-template "$work/base-job-template-with-ca.json"
else
  cat "$work/inject.err"
  fail "inject --reaper-ca-secret: see the message above"
fi

finish
