#!/usr/bin/env bash
# Checks dashboards/ (run by CI):
#   - lifeline.rules.yml passes `promtool check rules` and its unit tests (`promtool test rules`);
#   - every alert has a unit test and a runbook paragraph (### AlertName) in dashboards/README.md;
#   - lifeline-overview.json is valid JSON, import-ready (DS_PROMETHEUS input, schemaVersion 39,
#     unique panel ids, every panel on ${DS_PROMETHEUS}), and every panel query parses as PromQL
#     (each is checked as a recording rule with promtool, Grafana variables replaced);
#   - every lifeline metric named in the dashboard and the rules is one lifeline exports.
# Needs: promtool (Debian package "prometheus") and jq. Works offline.
# Prints one line per check and, last, "N passed, N failed"; exits non-zero on any failure.
set -u -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dashboards=$(cd "$here/../../dashboards" && pwd)
rules="$dashboards/lifeline.rules.yml"
tests="$dashboards/lifeline.rules.test.yml"
dashboard="$dashboards/lifeline-overview.json"
readme="$dashboards/README.md"
passed=0
failed=0

pass() { passed=$((passed + 1)); echo "PASS $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit; }

# Metrics lifeline exports: the contract's, plus lifeline_reaper_reap_backlog and
# lifeline_reaper_ready (reaper/metrics.cpp). Histograms are named without _bucket/_sum/_count.
known_metrics="lifeline_sidecar_heartbeats_total lifeline_sidecar_heartbeat_duration_seconds
lifeline_sidecar_last_ack_age_seconds lifeline_sidecar_lease_ttl_seconds
lifeline_sidecar_workload_stops_total lifeline_reaper_heartbeats_total lifeline_reaper_leases
lifeline_reaper_reaps_total lifeline_reaper_retries_scheduled_total
lifeline_reaper_detection_delay_seconds lifeline_reaper_prefect_requests_total
lifeline_reaper_prefect_request_duration_seconds lifeline_reaper_store_flush_duration_seconds
lifeline_reaper_build_info lifeline_reaper_reap_backlog lifeline_reaper_ready"

work=$(mktemp -d "${TMPDIR:-/tmp}/lifeline-dashboards.XXXXXX")
trap 'rm -rf "$work"' EXIT

for tool in promtool jq; do
  if command -v "$tool" >/dev/null 2>&1; then pass "tool $tool present"; else fail "tool $tool missing"; fi
done
[ "$failed" -eq 0 ] || finish

# ---- rules -------------------------------------------------------------------------------
if out=$(promtool check rules "$rules" 2>&1); then
  pass "promtool check rules lifeline.rules.yml ($(grep -o '[0-9]* rules found' <<<"$out"))"
else
  fail "promtool check rules lifeline.rules.yml: $out"
fi
if out=$(cd "$dashboards" && promtool test rules "$(basename "$tests")" 2>&1); then
  pass "promtool test rules lifeline.rules.test.yml"
else
  fail "promtool test rules lifeline.rules.test.yml:"
  printf '%s\n' "$out"
fi

alerts=$(sed -nE 's/^[[:space:]]*-[[:space:]]*alert:[[:space:]]*([A-Za-z0-9_]+).*/\1/p' "$rules")
[ -n "$alerts" ] || fail "no alert found in lifeline.rules.yml"
for alert in $alerts; do
  if grep -qE "alertname:[[:space:]]*$alert\$" "$tests"; then pass "alert $alert has a unit test"
  else fail "alert $alert has no unit test in lifeline.rules.test.yml"; fi
  if [ -f "$readme" ] && grep -qE "^###[[:space:]]+$alert\$" "$readme"; then pass "alert $alert has a runbook"
  else fail "alert $alert has no runbook paragraph (### $alert) in dashboards/README.md"; fi
done

# ---- dashboard ---------------------------------------------------------------------------
if ! jq empty "$dashboard" 2>"$work/jq.err"; then
  fail "lifeline-overview.json is not valid JSON: $(cat "$work/jq.err")"
  finish
fi
pass "lifeline-overview.json is valid JSON"

check() {  # check DESCRIPTION JQ-EXPRESSION (must print true)
  if [ "$(jq -r "$2" "$dashboard")" = true ]; then pass "dashboard: $1"; else fail "dashboard: $1"; fi
}
check "has a DS_PROMETHEUS datasource input" \
  '[.__inputs[]? | select(.name == "DS_PROMETHEUS" and .type == "datasource" and .pluginId == "prometheus")] | length == 1'
check "schemaVersion is 39" '.schemaVersion == 39'
check "has a uid and a title" '(.uid | type == "string" and length > 0) and (.title | length > 0)'
check "has namespace and work_pool variables" \
  '[.templating.list[].name] | (index("namespace") != null and index("work_pool") != null)'
check "panel ids are unique" '[.panels[].id] | length == (unique | length)'
check "every panel fits the 24-column grid" 'all(.panels[]; .gridPos.x + .gridPos.w <= 24)'
# shellcheck disable=SC2016  # ${DS_PROMETHEUS} is Grafana's placeholder, not a shell variable
check "every panel and variable uses \${DS_PROMETHEUS}" \
  'all((.panels[] | select(.type != "row")), (.templating.list[] | select(.type == "query")); .datasource.uid == "${DS_PROMETHEUS}")'
check "every panel has a query" 'all(.panels[] | select(.type != "row"); (.targets | length) > 0 and all(.targets[]; (.expr | length) > 0))'

# Every query must parse: one recording rule per query, Grafana's variables replaced.
jq -r '.panels[] | select(.type != "row") | .id as $id | .title as $t | .targets[] |
       [($id | tostring), .refId, $t, (.expr | @base64)] | @tsv' "$dashboard" >"$work/exprs.tsv"
while IFS=$'\t' read -r id ref title expr64; do
  # shellcheck disable=SC2016  # Grafana's $variables, replaced literally
  expr=$(base64 -d <<<"$expr64" |
    sed -e 's/\$__rate_interval/5m/g; s/\$__interval/1m/g; s/\$__range/1h/g' \
        -e 's/\${\([a-z_]*\)}/.*/g; s/\$[a-z_][a-z_]*/.*/g')
  {
    echo "groups:"
    echo "  - name: dashboard"
    echo "    rules:"
    echo "      - record: dashboard:panel_${id}_${ref}"
    echo "        expr: |"
    # shellcheck disable=SC2001  # indents every line
    sed 's/^/          /' <<<"$expr"
  } >"$work/panel.yml"
  if out=$(promtool check rules "$work/panel.yml" 2>&1); then
    pass "query parses: panel $id \"$title\" $ref"
  else
    fail "query does not parse: panel $id \"$title\" $ref: $(grep -v -E '^(Checking|  FAILED:)' <<<"$out" | tr -s ' \n' ' ' | head -c 300)"
  fi
done <"$work/exprs.tsv"

# ---- metric names ------------------------------------------------------------------------
used=$( { jq -r '.. | .expr? // empty' "$dashboard"; cat "$rules" "$tests"; } |
  grep -oE 'lifeline_[a-z0-9_]+' | sed -E 's/_(bucket|sum|count)$//' | sort -u)
for metric in $used; do
  if grep -qw -- "$metric" <<<"$known_metrics"; then pass "metric $metric is exported by lifeline"
  else fail "metric $metric is not a lifeline metric (typo?)"; fi
done
recorded=$(sed -nE 's/^[[:space:]]*-[[:space:]]*record:[[:space:]]*([a-z0-9_:]+).*/\1/p' "$rules")
for name in $( { jq -r '.. | .expr? // empty' "$dashboard"; sed -n '/alert:/,$p' "$rules"; } |
               grep -oE 'lifeline:[a-z0-9_:]+' | sort -u); do
  if grep -qx -- "$name" <<<"$recorded"; then pass "recording rule $name is defined"
  else fail "recording rule $name is used but not defined"; fi
done

finish
