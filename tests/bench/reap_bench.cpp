// reap_bench: the reaper acting on dead runs, measured end to end against the real
// lifeline-reaper process, a throwaway PostgreSQL and the in-process FakePrefect.
//
//   mass    N leases (a node pool) renewed once, then all silent: time from expiry until
//           every run is Crashed and rescheduled (AwaitingRetry), the Prefect calls per
//           run, the share of the fake's capacity (max_in_flight / latency) used, and
//           where the rest goes (no call in flight at the reaper, a call's time outside
//           the fake's handler, the handler's time beyond the nominal latency).
//   detect  N simulated sidecars heartbeating (interval 1 s, TTL 5 s) die at random
//           times: delay from each death to its Crashed state (the fake's timestamp).
//   evict   the same, but each is evicted (release with outcome "evicted"): delay from
//           the release to Crashed.
//
// Each mode gets a fresh database and a fresh reaper process. Every wait is bounded.

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "reaper/store/pg_connection.hpp"
#include "shared/time_format.hpp"
#include "tests/bench/bench_reaper.hpp"
#include "tests/bench/latency_histogram.hpp"
#include "tests/bench/load_worker.hpp"
#include "tests/bench/process_watch.hpp"
#include "tests/bench/sidecar_swarm.hpp"
#include "tests/fakes/fake_prefect.hpp"

namespace bench = lifeline::bench;
namespace fake = lifeline::fake_prefect;
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;
using Wall = std::chrono::system_clock;

namespace {

struct Options {
  std::string mode = "all";
  int pg_port = 0;
  int postgres_pid = 0;
  std::size_t mass_runs = 10'000;
  std::size_t detect_runs = 1'000;
  std::size_t evict_runs = 1'000;
  int latency_ms = 5;
  int max_in_flight = 16;
  int batch_size = 500;
  std::string interval = "1s";
  int ttl_seconds = 5;
  double death_spread = 20;  // seconds over which deaths are spread
  int max_attempts = 3;
  std::string status_refresh = "10s";
  std::string reaper_preload;  // LD_PRELOAD for the reaper only
  std::string suffix;          // appended to the RESULT labels
};

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--mode") o.mode = v;
    else if (a == "--pg-port") o.pg_port = std::stoi(v);
    else if (a == "--watch-postgres") o.postgres_pid = std::stoi(v);
    else if (a == "--mass-runs") o.mass_runs = std::stoul(v);
    else if (a == "--detect-runs") o.detect_runs = std::stoul(v);
    else if (a == "--evict-runs") o.evict_runs = std::stoul(v);
    else if (a == "--latency-ms") o.latency_ms = std::stoi(v);
    else if (a == "--max-in-flight") o.max_in_flight = std::stoi(v);
    else if (a == "--batch-size") o.batch_size = std::stoi(v);
    else if (a == "--interval") o.interval = v;
    else if (a == "--ttl") o.ttl_seconds = std::stoi(v);
    else if (a == "--death-spread") o.death_spread = std::stod(v);
    else if (a == "--max-attempts") o.max_attempts = std::stoi(v);
    else if (a == "--status-refresh") o.status_refresh = v;
    else if (a == "--reaper-preload") o.reaper_preload = v;
    else if (a == "--label-suffix") o.suffix = v;
    else return false;
  }
  return o.pg_port != 0 && argc % 2 == 1 &&
         (o.mode == "all" || o.mode == "mass" || o.mode == "detect" || o.mode == "evict");
}

double secs(Wall::duration d) { return std::chrono::duration<double>(d).count(); }

// A fresh database on the benchmark's PostgreSQL; returns its URI.
std::string fresh_database(int port, const std::string& name) {
  const std::string base = "postgresql://postgres@127.0.0.1:" + std::to_string(port) + "/";
  auto conn = lifeline::reaper::store::PgConnection::connect(base + "postgres", lifeline::Duration{10'000});
  if (!conn) throw std::runtime_error("cannot connect to PostgreSQL: " + conn.error().message);
  // Names are ours (letters, digits, underscores): safe to splice into DDL. FORCE ends
  // connections a previous, interrupted run may have left.
  (void)conn->exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)", {}, lifeline::Duration{30'000});
  auto r = conn->exec("CREATE DATABASE " + name, {}, lifeline::Duration{30'000});
  if (!r) throw std::runtime_error("CREATE DATABASE failed: " + r.error().message);
  return base + name;
}

// The wall time of the first state in `history` matching type (and name, if given).
std::optional<Wall::time_point> state_time(const std::vector<fake::Json>& history, const std::string& type,
                                           const std::string& name = "") {
  for (const auto& s : history) {
    if (s.value("type", "") != type) continue;
    if (!name.empty() && s.value("name", "") != name) continue;
    if (auto t = lifeline::parse_rfc3339(s.value("timestamp", ""))) return *t;
  }
  return std::nullopt;
}

// "/api/flow_runs/<uuid>/set_state" -> "POST /api/flow_runs/{id}/set_state".
std::string endpoint_of(const fake::RecordedCall& c) {
  static const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
  std::string path = c.path.substr(0, c.path.find('?'));
  return c.method + " " + std::regex_replace(path, uuid, "{id}");
}

std::vector<std::string> create_runs(fake::FakePrefect& prefect, std::size_t n, const std::string& deployment) {
  std::vector<std::string> ids;
  ids.reserve(n);
  fake::RunSpec spec;
  spec.state = "RUNNING";
  spec.deployment_id = deployment;
  spec.work_pool_name = "bench-pool";
  for (std::size_t i = 0; i < n; ++i) ids.push_back(prefect.create_run(spec));
  return ids;
}

std::vector<bench::SidecarLife> lives_for(const std::vector<std::string>& ids, const std::string& prefix) {
  std::vector<bench::SidecarLife> lives(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    lives[i].sidecar = bench::SimulatedSidecar{ids[i], prefix + "-pod-" + std::to_string(i),
                                               "bench-node-" + std::to_string(i % 64)};
  }
  return lives;
}

bench::BenchReaperSettings reaper_settings(const Options& o, const std::string& db, const fake::FakePrefect& prefect,
                                           const std::string& name) {
  bench::BenchReaperSettings s;
  s.database_url = db;
  s.prefect_api_url = prefect.api_url();
  s.interval = o.interval;
  s.max_in_flight = o.max_in_flight;
  s.batch_size = o.batch_size;
  s.max_attempts = o.max_attempts;
  s.status_refresh = o.status_refresh;
  s.preload = o.reaper_preload;
  s.name = name;
  return s;
}

double q_ms(const bench::LatencyHistogram& h, double q) { return static_cast<double>(h.quantile(q)) / 1000.0; }

// ---------------------------------------------------------------------------------------
int run_mass(const Options& o, fake::FakePrefect& prefect, const std::string& deployment) {
  const std::size_t n = o.mass_runs;
  std::printf("mass reaping: %zu leases, fake Prefect %d ms per call, max_in_flight %d, batch_size %d, interval %s, "
              "status_refresh %s\n",
              n, o.latency_ms, o.max_in_flight, o.batch_size, o.interval.c_str(), o.status_refresh.c_str());
  std::fflush(stdout);
  prefect.set_latency(0ms);
  auto t_create = Steady::now();
  auto ids = create_runs(prefect, n, deployment);
  std::printf("  created %zu RUNNING runs in the fake in %.1f s\n", n, secs(Steady::now() - t_create));
  prefect.set_latency(std::chrono::milliseconds(o.latency_ms));
  bench::BenchReaper reaper(reaper_settings(o, fresh_database(o.pg_port, "reap_bench_mass"), prefect, "reaper-mass"));
  prefect.clear_calls();

  auto lives = lives_for(ids, "mass");
  bench::SidecarSwarm swarm("127.0.0.1", reaper.port(), o.ttl_seconds, 1000ms);
  auto beat_start = Steady::now();
  swarm.beat_once(lives, 100);
  std::size_t acked = 0;
  Wall::time_point first_ack = Wall::time_point::max(), last_ack = Wall::time_point::min();
  for (const auto& l : lives) {
    if (!l.last_ack) continue;
    ++acked;
    first_ack = std::min(first_ack, *l.last_ack);
    last_ack = std::max(last_ack, *l.last_ack);
  }
  std::printf("  renewed %zu/%zu leases once in %.2f s (ttl %d s), then silence\n", acked, n,
              secs(Steady::now() - beat_start), o.ttl_seconds);
  if (acked == 0) return 1;
  const auto first_expiry = first_ack + std::chrono::seconds(o.ttl_seconds);
  const auto last_expiry = last_ack + std::chrono::seconds(o.ttl_seconds);

  // Wait on the reaper's own counter (cheap) rather than polling 10,000 runs in the fake,
  // which would contend with the reaper's calls for the fake's lock.
  double reaper_cpu0 = bench::tree_cpu_seconds(reaper.pid());
  const double fake_cpu0 = bench::process_cpu_seconds();  // this process: the fake's handlers
  double pg_cpu0 = o.postgres_pid > 0 ? bench::tree_cpu_seconds(o.postgres_pid) : 0;
  const double load0 = bench::load_average();
  const auto deadline = Steady::now() + std::chrono::seconds(o.ttl_seconds) + 120s;
  // The reaper's own view of its Prefect calls (its client's request to the answer
  // received), to split the unused capacity into slots without a call and time spent
  // outside the fake's handler.
  constexpr const char* kCallSum = "lifeline_reaper_prefect_request_duration_seconds_sum";
  constexpr const char* kCallCount = "lifeline_reaper_prefect_request_duration_seconds_count";
  const std::string m0 = reaper.metrics();
  std::string m_end = m0;
  double retried = 0, reaped = 0;
  while (Steady::now() < deadline) {
    std::this_thread::sleep_for(250ms);
    m_end = reaper.metrics();
    retried = bench::BenchReaper::metric_sum(m_end, "lifeline_reaper_retries_scheduled_total");
    reaped = bench::BenchReaper::metric_sum(m_end, "lifeline_reaper_reaps_total");
    if (retried >= static_cast<double>(acked) || reaped >= static_cast<double>(acked)) break;
  }
  const double reaper_cpu = bench::tree_cpu_seconds(reaper.pid()) - reaper_cpu0;
  const double fake_cpu = bench::process_cpu_seconds() - fake_cpu0;
  const double pg_cpu = o.postgres_pid > 0 ? bench::tree_cpu_seconds(o.postgres_pid) - pg_cpu0 : 0;
  prefect.set_latency(0ms);

  // Exact times from the fake's state histories.
  std::size_t crashed = 0, rescheduled = 0;
  Wall::time_point last_crash = Wall::time_point::min(), last_resched = Wall::time_point::min();
  Wall::time_point first_crash = Wall::time_point::max();
  for (std::size_t i = 0; i < n; ++i) {
    if (!lives[i].last_ack) continue;
    auto h = prefect.history(ids[i]);
    if (auto c = state_time(h, "CRASHED")) {
      ++crashed;
      last_crash = std::max(last_crash, *c);
      first_crash = std::min(first_crash, *c);
    }
    if (auto r = state_time(h, "SCHEDULED", "AwaitingRetry")) {
      ++rescheduled;
      last_resched = std::max(last_resched, *r);
    }
  }
  auto calls = prefect.calls();
  std::map<std::string, std::uint64_t> by_endpoint;
  std::map<int, std::uint64_t> by_status;
  Wall::time_point first_call = Wall::time_point::max(), last_call_end = Wall::time_point::min();
  double busy_seconds = 0;  // sum of call durations: slot-seconds used
  std::size_t before_expiry = 0;  // the run-status refresh of live leases, not reaping
  for (const auto& c : calls) {
    ++by_endpoint[endpoint_of(c)];
    ++by_status[c.status];
    if (c.time < first_expiry) {
      ++before_expiry;
      continue;
    }
    first_call = std::min(first_call, c.time);
    last_call_end = std::max(last_call_end, c.time + c.duration);
    busy_seconds += std::chrono::duration<double>(c.duration).count();
  }
  const double capacity = o.max_in_flight * 1000.0 / o.latency_ms;  // calls per second at most
  const auto end = rescheduled > 0 ? last_resched : last_crash;
  const double from_expiry = secs(end - first_expiry);
  const double busy_window = calls.empty() ? 0 : secs(last_call_end - first_call);
  const double share_total =
      from_expiry > 0 ? static_cast<double>(calls.size() - before_expiry) / (capacity * from_expiry) : 0;
  const double after = static_cast<double>(calls.size() - before_expiry);
  const double share_busy = busy_window > 0 ? after / (capacity * busy_window) : 0;
  const double mean_in_flight = busy_window > 0 ? busy_seconds / busy_window : 0;
  const double mean_call_ms = after > 0 ? busy_seconds * 1000.0 / after : 0;
  auto metric_delta = [&](const char* name) {
    return bench::BenchReaper::metric_sum(m_end, name) - bench::BenchReaper::metric_sum(m0, name);
  };
  const double reaper_call_s = metric_delta(kCallSum);
  const double reaper_calls = metric_delta(kCallCount);
  const double reaper_call_ms = reaper_calls > 0 ? reaper_call_s * 1000.0 / reaper_calls : 0;
  const double reaper_in_flight = busy_window > 0 ? reaper_call_s / busy_window : 0;
  // Of the capacity in the busy window: slots without a call, time of a call spent outside
  // the fake's handler, the handler's time beyond the nominal latency, and the rest used.
  const double held_share = std::min(1.0, reaper_in_flight / o.max_in_flight);
  const double idle_pct = (1.0 - held_share) * 100;
  const double outside_pct =
      reaper_call_ms > 0 ? held_share * std::max(0.0, reaper_call_ms - mean_call_ms) / reaper_call_ms * 100 : 0;
  const double slow_pct =
      reaper_call_ms > 0 ? held_share * std::max(0.0, mean_call_ms - o.latency_ms) / reaper_call_ms * 100 : 0;

  std::printf("  crashed %zu/%zu, rescheduled (AwaitingRetry) %zu/%zu\n", crashed, acked, rescheduled, acked);
  std::printf("  leases expired over %.2f s; first Crashed %.2f s after the first expiry\n",
              secs(last_expiry - first_expiry), secs(first_crash - first_expiry));
  std::printf("  all Crashed %.2f s and all rescheduled %.2f s after the first expiry (goal <= 30 s)\n",
              secs(last_crash - first_expiry), rescheduled > 0 ? secs(last_resched - first_expiry) : -1.0);
  std::printf("  Prefect calls: %zu (%.2f per run; %zu of them before the first expiry); by endpoint:\n",
              calls.size(), static_cast<double>(calls.size()) / static_cast<double>(acked), before_expiry);
  for (const auto& [k, v] : by_endpoint)
    std::printf("    %-55s %8llu  %.2f/run\n", k.c_str(), static_cast<unsigned long long>(v),
                static_cast<double>(v) / static_cast<double>(acked));
  std::printf("    statuses:");
  for (const auto& [k, v] : by_status) std::printf(" %d:%llu", k, static_cast<unsigned long long>(v));
  std::printf("\n");
  std::printf("  capacity %.0f calls/s: used %.1f %% from first expiry to last reschedule (%.1f s), %.1f %% of the "
              "busy window (first to last call, %.1f s)\n",
              capacity, share_total * 100, from_expiry, share_busy * 100, busy_window);
  std::printf("  mean calls in flight %.2f of %d; mean call %.2f ms at the fake (latency %d ms)\n", mean_in_flight,
              o.max_in_flight, mean_call_ms, o.latency_ms);
  std::printf("  mean call %.2f ms at the reaper: %.2f ms per call outside the fake's handler (client, kernel, "
              "wake-ups); calls in flight at the reaper %.2f of %d\n",
              reaper_call_ms, reaper_call_ms - mean_call_ms, reaper_in_flight, o.max_in_flight);
  std::printf("  unused capacity of the busy window: no call in flight at the reaper %.1f %%, calls' time "
              "outside the fake %.1f %%, the fake's handler beyond %d ms %.1f %%\n",
              idle_pct, outside_pct, o.latency_ms, slow_pct);
  std::printf("  first reaping call %.2f s after the first expiry; CPU over %.1f s: reaper %.2f cores, postgres "
              "%.2f cores, fake Prefect (this process) %.2f cores; load %.2f\n",
              secs(first_call - first_expiry), from_expiry, reaper_cpu / std::max(from_expiry, 0.001),
              pg_cpu / std::max(from_expiry, 0.001), fake_cpu / std::max(from_expiry, 0.001), load0);
  // Calls per second, to show the ramp and the tail.
  if (!calls.empty()) {
    std::map<long, int> per_second;
    for (const auto& c : calls)
      ++per_second[static_cast<long>(std::floor(secs(c.time - first_expiry)))];
    std::printf("  calls per second after the first expiry:");
    for (const auto& [s, k] : per_second) std::printf(" [%ld]%d", s, k);
    std::printf("\n");
  }
  std::printf("RESULT label=mass%s runs=%zu crashed=%zu rescheduled=%zu all_crashed_s=%.2f all_rescheduled_s=%.2f "
              "calls=%zu calls_per_run=%.2f capacity_per_s=%.0f share_from_expiry=%.3f share_busy=%.3f "
              "mean_in_flight=%.2f mean_call_ms=%.2f first_call_s=%.2f reaper_cores=%.2f postgres_cores=%.2f "
              "fake_cores=%.2f load1=%.2f reaper_call_ms=%.2f reaper_in_flight=%.2f idle_pct=%.1f outside_pct=%.1f "
              "slow_pct=%.1f\n",
              o.suffix.c_str(), acked, crashed, rescheduled, secs(last_crash - first_expiry),
              rescheduled > 0 ? secs(last_resched - first_expiry) : -1.0, calls.size(),
              static_cast<double>(calls.size()) / static_cast<double>(acked), capacity, share_total, share_busy,
              mean_in_flight, mean_call_ms, secs(first_call - first_expiry), reaper_cpu / std::max(from_expiry, 0.001),
              pg_cpu / std::max(from_expiry, 0.001), fake_cpu / std::max(from_expiry, 0.001), load0,
              reaper_call_ms, reaper_in_flight, idle_pct, outside_pct, slow_pct);
  std::fflush(stdout);
  return crashed == acked ? 0 : 1;
}

// ---------------------------------------------------------------------------------------
int run_deaths(const Options& o, fake::FakePrefect& prefect, const std::string& deployment, bool evict) {
  const std::size_t n = evict ? o.evict_runs : o.detect_runs;
  const char* label = evict ? "evict" : "detect";
  std::printf("%s: %zu simulated sidecars, interval 1 s, ttl %d s, reaper interval %s, deaths spread over %.0f s\n",
              evict ? "eviction (release evicted -> Crashed)" : "detection (pod death -> Crashed)", n, o.ttl_seconds,
              o.interval.c_str(), o.death_spread);
  std::fflush(stdout);
  prefect.set_latency(0ms);
  auto ids = create_runs(prefect, n, deployment);
  prefect.set_latency(std::chrono::milliseconds(o.latency_ms));
  bench::BenchReaper reaper(
      reaper_settings(o, fresh_database(o.pg_port, std::string("reap_bench_") + label), prefect, label));

  auto lives = lives_for(ids, label);
  std::mt19937_64 rng(evict ? 2 : 1);
  std::uniform_real_distribution<double> phase(0.0, 1.0), when(0.0, o.death_spread);
  const auto start = Steady::now() + 500ms;
  // Deaths start once every lease exists and has been renewed a few times.
  const auto first_death = start + std::chrono::seconds(o.ttl_seconds + 2);
  auto dur = [](double s) { return std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(s)); };
  for (auto& l : lives) {
    l.first_beat = start + dur(phase(rng));
    l.death = first_death + dur(when(rng));
    l.how = evict ? bench::SidecarLife::Death::evict : bench::SidecarLife::Death::vanish;
  }
  bench::SidecarSwarm swarm("127.0.0.1", reaper.port(), o.ttl_seconds, 1000ms);
  const double load0 = bench::load_average();
  swarm.run(lives);

  // Wait for the last deaths to be acted on (bounded), polling the runs not yet Crashed.
  std::vector<std::optional<Wall::time_point>> crashed_at(n);
  std::size_t pending = n;
  const auto deadline = Steady::now() + std::chrono::seconds(o.ttl_seconds) + 60s;
  while (pending > 0 && Steady::now() < deadline) {
    std::this_thread::sleep_for(500ms);
    pending = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (crashed_at[i]) continue;
      if (auto t = state_time(prefect.history(ids[i]), "CRASHED")) crashed_at[i] = *t;
      else ++pending;
    }
  }
  prefect.set_latency(0ms);
  bench::LatencyHistogram delays, after_ack;
  std::uint64_t failed_beats = 0, early = 0, release_not_ok = 0;
  for (std::size_t i = 0; i < n; ++i) {
    failed_beats += lives[i].beats_failed;
    if (evict && lives[i].release_status != 200) ++release_not_ok;
    if (!crashed_at[i] || !lives[i].died_at) continue;
    auto d = *crashed_at[i] - *lives[i].died_at;
    if (d < Wall::duration::zero()) {
      ++early;  // Crashed before the death: must never happen (fencing)
      continue;
    }
    delays.record(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(d).count()));
    if (lives[i].last_ack)
      after_ack.record(static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(*crashed_at[i] - *lives[i].last_ack).count()));
  }
  const double goal_ms = evict ? 1000.0 : (o.ttl_seconds + 1) * 1000.0;
  std::printf("  crashed %llu/%zu (%zu never), heartbeats failed %llu, crashed before death %llu%s\n",
              static_cast<unsigned long long>(delays.count()), n, pending,
              static_cast<unsigned long long>(failed_beats), static_cast<unsigned long long>(early),
              evict ? (", releases not 200: " + std::to_string(release_not_ok)).c_str() : "");
  std::printf("  delay %s -> Crashed ms: p50 %.0f  p90 %.0f  p99 %.0f  max %.0f (goal p99 <= %.0f)\n",
              evict ? "release" : "death", q_ms(delays, 0.5), q_ms(delays, 0.9), q_ms(delays, 0.99),
              static_cast<double>(delays.max()) / 1000.0, goal_ms);
  std::printf("  delay last acknowledged heartbeat -> Crashed ms: p50 %.0f  p99 %.0f  max %.0f; load %.2f\n",
              q_ms(after_ack, 0.5), q_ms(after_ack, 0.99), static_cast<double>(after_ack.max()) / 1000.0, load0);
  std::printf("RESULT label=%s%s runs=%zu crashed=%llu p50_ms=%.0f p90_ms=%.0f p99_ms=%.0f max_ms=%.0f goal_ms=%.0f "
              "early=%llu failed_beats=%llu load1=%.2f\n",
              label, o.suffix.c_str(), n, static_cast<unsigned long long>(delays.count()), q_ms(delays, 0.5), q_ms(delays, 0.9),
              q_ms(delays, 0.99), static_cast<double>(delays.max()) / 1000.0, goal_ms,
              static_cast<unsigned long long>(early), static_cast<unsigned long long>(failed_beats), load0);
  std::fflush(stdout);
  return pending == 0 && early == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o)) {
    std::cerr << "usage: reap_bench --pg-port PORT [--mode all|mass|detect|evict] [--watch-postgres PID]\n"
                 "  [--mass-runs N] [--detect-runs N] [--evict-runs N] [--latency-ms MS] [--max-in-flight N]\n"
                 "  [--batch-size N] [--interval DURATION] [--ttl S] [--death-spread S] [--max-attempts N]\n"
                 "  [--status-refresh DURATION] [--reaper-preload LIB] [--label-suffix S]\n";
    return 2;
  }
  alarm(900);  // a hard bound on the whole benchmark, whatever happens
  std::printf("machine: %s\n", bench::machine_summary().c_str());
  fake::FakePrefectOptions fo;
  fo.threads = static_cast<std::size_t>(std::max(64, o.max_in_flight * 4));
  fake::FakePrefect prefect(fo);
  if (auto s = prefect.start(); !s) {
    std::cerr << "fake Prefect did not start: " << s.error << "\n";
    return 1;
  }
  fake::DeploymentSpec ds;
  ds.name = "bench-deployment";
  ds.work_pool_name = "bench-pool";
  const std::string deployment = prefect.create_deployment(ds);
  int rc = 0;
  try {
    if (o.mode == "all" || o.mode == "mass") rc |= run_mass(o, prefect, deployment);
    if (o.mode == "all" || o.mode == "detect") rc |= run_deaths(o, prefect, deployment, false);
    if (o.mode == "all" || o.mode == "evict") rc |= run_deaths(o, prefect, deployment, true);
  } catch (const std::exception& e) {
    std::cerr << "reap_bench: " << e.what() << "\n";
    rc = 1;
  }
  prefect.stop();
  return rc;
}
