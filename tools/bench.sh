#!/usr/bin/env bash
# Builds lifeline in Release and runs every benchmark of docs/performance.md in sequence,
# then prints a table of figures. Not part of the test suite. Every server listens on
# 127.0.0.1 only; every step is bounded by `timeout`; the whole run takes < 15 minutes.
#
#   tools/bench.sh           full run (about 10 minutes on 2 cores)
#   tools/bench.sh --quick   small sizes, to check the machinery (about 3 minutes)
#
# Environment: BUILD_DIR (default build-bench), BENCH_JOBS (build parallelism, default 2),
# BENCH_KEEP=1 keeps the work directory (logs, configs, RESULT lines), BENCH_API_THREADS
# (the ingest reaper's [server] api_threads, default 2: compare with 1).
# Needs: PostgreSQL 15 server binaries, nginx, python3 (Debian packages postgresql, nginx).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build-bench}
quick=0
[ "${1:-}" = "--quick" ] && quick=1

if [ "$quick" = 1 ]; then
  warm=2; dur=5; conns=2000; mass=2000; mass_small=500; detect=200; evict=200; spread=8; mem_conns=200; mem_per=50
else
  warm=3; dur=10; conns=19900; mass=10000; mass_small=1000; detect=1000; evict=1000; spread=20; mem_conns=1000; mem_per=100
fi

echo "== building (Release) in $build"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLIFELINE_BUILD_BENCH=ON -DLIFELINE_BUILD_TESTS=ON >/dev/null
timeout 1200 cmake --build "$build" --target lifeline-reaper heartbeat_loadgen pg_upsert_bench reap_bench lifeline_bench_nodelay \
  -j "${BENCH_JOBS:-2}" | tail -n 1
bin=$build/bin

# 20,000 connections need that many descriptors in the reaper (and in each load worker).
ulimit -n "$(ulimit -Hn)" || true

work=$(mktemp -d /tmp/lifeline-bench.XXXXXX)
chmod 755 "$work"
results=$work/results.txt
: >"$results"
reaper_pid=""
nginx_started=0
cleanup() {
  [ -n "$reaper_pid" ] && kill -TERM "$reaper_pid" 2>/dev/null || true
  [ "$nginx_started" = 1 ] && kill -QUIT "$(cat "$work/nginx/nginx.pid" 2>/dev/null)" 2>/dev/null || true
  tools/pg-temp.sh stop "$work/pg" >/dev/null 2>&1 || true
  if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "work directory kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {  # wait_port PORT: up to 30 s
  for _ in $(seq 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on port $1" >&2
  return 1
}
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
metric() {  # metric NAME: sum of the reaper's samples of NAME
  timeout 10 python3 - "$reaper_port" "$1" <<'PY'
import sys, urllib.request
port, name = sys.argv[1], sys.argv[2]
text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
total = 0.0
for line in text.splitlines():
    if line.startswith(name + " ") or line.startswith(name + "{"):
        total += float(line.rsplit(" ", 1)[1])
print(total)
PY
}

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "   fd limit $(ulimit -n); work directory $work"

echo "== PostgreSQL (throwaway, fsync on)"
pg_port=$(tools/pg-temp.sh start "$work/pg")
pg_pid=$(head -n1 "$work/pg/data/postmaster.pid")
psql_q() { psql -h 127.0.0.1 -p "$pg_port" -U postgres -X -q -t -A "$@"; }

start_reaper() {  # start_reaper NAME: fresh database NAME, reaper on a free port
  local name=$1
  psql_q -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name" >/dev/null
  reaper_port=$(free_port)
  cat >"$work/$name.toml" <<TOML
[server]
listen = "127.0.0.1:$reaper_port"
api_threads = ${BENCH_API_THREADS:-2}
[database]
url = "postgresql://postgres@127.0.0.1:$pg_port/$name"
[prefect]
api_url = "http://127.0.0.1:9/api"
[reaper]
orphan_grace = "0s"
TOML
  "$bin/lifeline-reaper" --config "$work/$name.toml" >"$work/$name.out" 2>"$work/$name.log" &
  reaper_pid=$!
  wait_port "$reaper_port"
  sleep 1
}
stop_reaper() {
  kill -TERM "$reaper_pid" 2>/dev/null || true
  for _ in $(seq 200); do kill -0 "$reaper_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$reaper_pid" 2>/dev/null || true
  wait "$reaper_pid" 2>/dev/null || true
  reaper_pid=""
}
loadgen() {  # loadgen ARGS...: runs the load generator, keeps its RESULT line
  local out
  out=$(timeout 300 "$bin/heartbeat_loadgen" --warmup "$warm" --duration "$dur" "$@") || true
  echo "$out" | grep -v '^RESULT' | sed 's/^/   /'
  echo "$out" | grep '^RESULT' >>"$results" || true
}

echo "== reaper: heartbeat ingest"
start_reaper bench_ingest
echo "RESULT label=reaper_idle rss_kib=$(rss_kib "$reaper_pid")" >>"$results"
loadgen --label reaper_20k --port "$reaper_port" --connections "$conns" --rate 20000 \
  --watch "reaper=$reaper_pid" --watch "postgres=$pg_pid"
b_sum0=$(metric lifeline_reaper_store_batch_size_sum); b_cnt0=$(metric lifeline_reaper_store_batch_size_count)
loadgen --label reaper_50k --port "$reaper_port" --connections "$conns" --rate 50000 \
  --watch "reaper=$reaper_pid" --watch "postgres=$pg_pid"
b_sum1=$(metric lifeline_reaper_store_batch_size_sum); b_cnt1=$(metric lifeline_reaper_store_batch_size_count)
mean_batch=$(python3 -c "s=$b_sum1-$b_sum0; c=$b_cnt1-$b_cnt0; print(round(s/c) if c else 1000)")
echo "RESULT label=reaper_50k_batch mean_batch=$mean_batch" >>"$results"
echo "   group commit: mean batch $mean_batch heartbeats per commit"
loadgen --label reaper_max --port "$reaper_port" --connections 4000 --rate 0 \
  --watch "reaper=$reaper_pid" --watch "postgres=$pg_pid"
stop_reaper

echo "== reaper: memory per lease and table bytes per lease"
start_reaper bench_memory
rss0=$(rss_kib "$reaper_pid")
mem_leases=$((mem_conns * mem_per))
# Warm-up long enough for every lease to be created before the window.
timeout 300 "$bin/heartbeat_loadgen" --label reaper_memory --port "$reaper_port" --connections "$mem_conns" \
  --leases-per-connection "$mem_per" --rate 20000 --warmup $((mem_leases / 20000 + 2)) --duration 3 \
  --watch "reaper=$reaper_pid" | grep '^RESULT' >"$work/mem.txt" || true
rss1=$(sed -n 's/.*reaper_rss_kib=\([0-9]*\).*/\1/p' "$work/mem.txt")
read -r tbytes trows <<<"$(psql_q -d bench_memory -F ' ' -c "SELECT pg_total_relation_size('lifeline_leases'), count(*) FROM lifeline_leases")"
echo "RESULT label=memory leases=$mem_leases active_rows=$trows rss0_kib=$rss0 rss1_kib=${rss1:-0} rss_bytes_per_lease=$(( ( ${rss1:-0} - rss0) * 1024 / mem_leases )) table_bytes=$tbytes table_bytes_per_lease=$(( tbytes / (trows > 0 ? trows : 1) ))" | tee -a "$results" | sed 's/^RESULT /   /'
stop_reaper

echo "== nginx baseline (fixed 200 JSON to PUT)"
mkdir -p "$work/nginx"
nginx_port=$(free_port)
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes 2;
daemon on;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
worker_rlimit_nofile 20000;
events { worker_connections 19000; }
http {
  access_log off;
  keepalive_timeout 300s;
  keepalive_requests 100000000;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  server {
    listen 127.0.0.1:$nginx_port backlog=4096 reuseport;
    location / {
      default_type application/json;
      return 200 '{"run_id":"00000000-0000-4000-8000-000000000000","epoch":1,"ttl_seconds":30,"directive":"continue"}';
    }
  }
}
CONF
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx"
nginx_started=1
wait_port "$nginx_port"
nginx_pid=$(cat "$work/nginx/nginx.pid")
loadgen --label nginx_20k --port "$nginx_port" --connections "$conns" --rate 20000 --watch "nginx=$nginx_pid"
loadgen --label nginx_50k --port "$nginx_port" --connections "$conns" --rate 50000 --watch "nginx=$nginx_pid"
loadgen --label nginx_max --port "$nginx_port" --connections 4000 --rate 0 --watch "nginx=$nginx_pid"
kill -QUIT "$nginx_pid" 2>/dev/null || true
nginx_started=0

echo "== PostgreSQL alone: the store's upsert at the reaper's batch size"
psql_q -c "DROP DATABASE IF EXISTS bench_pg" -c "CREATE DATABASE bench_pg" >/dev/null
for c in 1 2; do
  out=$(timeout 120 "$bin/pg_upsert_bench" --db "postgresql://postgres@127.0.0.1:$pg_port/bench_pg" \
    --leases 100000 --batch "$mean_batch" --connections "$c" --warmup "$warm" --duration "$dur" \
    --watch-postgres "$pg_pid" --label "pg_alone_c$c" 2>/dev/null) || true
  echo "$out" | grep -v '^RESULT' | sed 's/^/   /'
  echo "$out" | grep '^RESULT' >>"$results" || true
done

echo "== reaping: mass expiry, detection, eviction (fake Prefect in process)"
# The Prefect client and the fake set TCP_NODELAY themselves now; the preload shim
# (lifeline_bench_nodelay) stays available as a measurement aid but is not needed.
reap() {  # reap ARGS...
  local out
  out=$(timeout 600 "$bin/reap_bench" --pg-port "$pg_port" --watch-postgres "$pg_pid" --death-spread "$spread" \
    --detect-runs "$detect" --evict-runs "$evict" "$@") || true
  echo "$out" | grep -v '^RESULT' | grep -v '^machine' | sed 's/^/   /'
  echo "$out" | grep '^RESULT' >>"$results" || true
}
reap --mode mass --mass-runs "$mass_small"
reap --mode mass --mass-runs "$mass" --label-suffix _full
reap --mode detect
reap --mode evict

echo
echo "== figures (load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))"
python3 - "$results" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    parts = line.split()[1:]
    d = dict(p.split("=", 1) for p in parts if "=" in p)
    rows[d.get("label")] = d
def g(label, key, default="n/a"):
    return rows.get(label, {}).get(key, default)
def f(x, fmt="{:.0f}"):
    try: return fmt.format(float(x))
    except (TypeError, ValueError): return "n/a"
def ratio(a, b):
    try: return "{:.2f}".format(float(a) / float(b))
    except (TypeError, ValueError, ZeroDivisionError): return "n/a"
out = []
def row(name, value, goal=""):
    out.append(f"| {name} | {value} | {goal} |")
out.append("| figure | measured | goal |")
out.append("|---|---|---|")
row("keep-alive connections held (reaper, 20k/s run)", f"{g('reaper_20k','open_at_end')} of {g('reaper_20k','connections')} ({g('reaper_20k','connected')} connected)", ">= 20,000")
row("durable heartbeats/s at 50k/s offered (reaper)", f"{f(g('reaper_50k','ok_per_s'))} ok/s, p99 {f(g('reaper_50k','p99_ms'),'{:.1f}')} ms, errors {g('reaper_50k','errors')}", ">= 50,000")
row("max durable heartbeats/s, closed loop, 4000 conns (reaper)", f"{f(g('reaper_max','ok_per_s'))} ok/s, p99 {f(g('reaper_max','p99_ms'),'{:.1f}')} ms", "")
row("latency at 20,000/s (reaper) p50 / p99 / p99.9", f"{f(g('reaper_20k','p50_ms'),'{:.1f}')} / {f(g('reaper_20k','p99_ms'),'{:.1f}')} / {f(g('reaper_20k','p999_ms'),'{:.1f}')} ms", "p99 <= 50 ms")
row("group commit: mean heartbeats per commit at 50k/s", g('reaper_50k_batch','mean_batch'), "")
row("reaper CPU at 20k/s / 50k/s (cores)", f"{f(g('reaper_20k','reaper_cores'),'{:.2f}')} / {f(g('reaper_50k','reaper_cores'),'{:.2f}')}", "")
row("PostgreSQL CPU at 20k/s / 50k/s (cores)", f"{f(g('reaper_20k','postgres_cores'),'{:.2f}')} / {f(g('reaper_50k','postgres_cores'),'{:.2f}')}", "")
row("load generator CPU at 20k/s / 50k/s (cores)", f"{f(g('reaper_20k','loadgen_cores'),'{:.2f}')} / {f(g('reaper_50k','loadgen_cores'),'{:.2f}')}", "not the bottleneck")
row("nginx fixed 200: max req/s (closed loop) / p99 at 20k/s", f"{f(g('nginx_max','ok_per_s'))} / {f(g('nginx_20k','p99_ms'),'{:.1f}')} ms", "baseline")
row("ratio reaper/nginx: max throughput", ratio(g('reaper_max','ok_per_s'), g('nginx_max','ok_per_s')), "")
row("PostgreSQL alone, same upsert, batch " + g('pg_alone_c1','batch') + ", 1 / 2 connections", f"{f(g('pg_alone_c1','rows_per_s'))} / {f(g('pg_alone_c2','rows_per_s'))} rows/s", "baseline")
row("ratio reaper/PostgreSQL-alone (1 connection, like the store)", ratio(g('reaper_max','ok_per_s'), g('pg_alone_c1','rows_per_s')), "")
row("reaper RSS per active lease", f"{g('memory','rss_bytes_per_lease')} B ({g('memory','leases')} leases; idle RSS {f(float(g('memory','rss0_kib','0'))/1024,'{:.1f}')} MiB)", "<= 1 KiB")
row("PostgreSQL table+index bytes per lease", f"{g('memory','table_bytes_per_lease')} B", "stated")
def mass_row(label, what):
    row(f"mass reaping {what}: runs, all Crashed / all rescheduled after the first expiry",
        f"{g(label,'runs')} runs: {g(label,'crashed')} crashed, {g(label,'rescheduled')} rescheduled; {g(label,'all_crashed_s')} s / {g(label,'all_rescheduled_s')} s", "10,000 in <= 30 s")
    row(f"mass reaping {what}: Prefect calls per run; mean call at the fake",
        f"{g(label,'calls_per_run')}; {g(label,'mean_call_ms')} ms (latency 5 ms)", "")
    row(f"mass reaping {what}: share of fake capacity (from expiry / busy window); mean in flight",
        f"{f(float(g(label,'share_from_expiry','0'))*100,'{:.0f}')} % / {f(float(g(label,'share_busy','0'))*100,'{:.0f}')} %; {g(label,'mean_in_flight')} of 16", ">= 80 %")
    row(f"mass reaping {what}: unused capacity of the busy window: no call in flight at the reaper / call time outside the fake / fake beyond 5 ms",
        f"{g(label,'idle_pct')} % / {g(label,'outside_pct')} % / {g(label,'slow_pct')} % (mean call at the reaper {g(label,'reaper_call_ms')} ms, {g(label,'reaper_in_flight')} of 16 in flight)", "where the rest goes")
mass_row("mass", "(small)")
mass_row("mass_full", "(full size)")
row("detection: death -> Crashed p50 / p99, interval 1 s, TTL 5 s",
    f"{g('detect','p50_ms')} / {g('detect','p99_ms')} ms ({g('detect','crashed')} runs)", "<= 6000 ms")
row("eviction: release -> Crashed p50 / p99",
    f"{g('evict','p50_ms')} / {g('evict','p99_ms')} ms ({g('evict','crashed')} runs)", "p99 <= 1000 ms")
print("\n".join(out))
PY
