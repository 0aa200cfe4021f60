// pg_upsert_bench: PostgreSQL alone doing what the reaper's store does for heartbeats,
// the store's own ceiling: the same group-commit upsert (reaper/store/lease_store.cpp,
// called through LeaseStore::renew_batch, so the SQL cannot drift from the store's), in
// batches of a set size, from one or more connections, each batch committed with the
// server's fsync and synchronous_commit as configured (on, in tools/pg-temp.sh).
//
// Each connection renews its own disjoint share of --leases leases round-robin (like the
// steady state of many sidecars; disjoint so connections never wait on each other's row
// locks). Leases are created before the window opens.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "reaper/store/embedded_schema.hpp"
#include "reaper/store/lease_store.hpp"
#include "reaper/store/migrator.hpp"
#include "reaper/store/pg_connection.hpp"
#include "shared/clock.hpp"
#include "shared/log.hpp"
#include "tests/bench/heartbeat_request.hpp"
#include "tests/bench/latency_histogram.hpp"
#include "tests/bench/load_worker.hpp"
#include "tests/bench/process_watch.hpp"

namespace bench = lifeline::bench;
namespace store = lifeline::reaper::store;
using Steady = std::chrono::steady_clock;

namespace {

struct Options {
  std::string db;
  std::size_t leases = 100'000;
  std::size_t batch = 1000;
  std::size_t connections = 1;
  double warmup = 2;
  double duration = 10;
  int postgres_pid = 0;  // to report its CPU
  std::string label = "pg_upsert";
};

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--db") o.db = v;
    else if (a == "--leases") o.leases = std::stoul(v);
    else if (a == "--batch") o.batch = std::max<std::size_t>(1, std::stoul(v));
    else if (a == "--connections") o.connections = std::max<std::size_t>(1, std::stoul(v));
    else if (a == "--warmup") o.warmup = std::stod(v);
    else if (a == "--duration") o.duration = std::stod(v);
    else if (a == "--watch-postgres") o.postgres_pid = std::stoi(v);
    else if (a == "--label") o.label = v;
    else return false;
  }
  return !o.db.empty() && argc % 2 == 1;
}

store::RenewRequest request_of(const bench::SimulatedSidecar& s, std::int64_t seq) {
  store::RenewRequest r;
  r.run_id = s.run_id;
  r.holder = s.holder;
  r.node = s.node;
  r.seq = seq;
  r.ttl = lifeline::Duration{30'000};
  return r;
}

struct ThreadResult {
  std::uint64_t rows = 0;
  std::uint64_t batches = 0;
  std::uint64_t failures = 0;
  bench::LatencyHistogram batch_latency;
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o)) {
    std::cerr << "usage: pg_upsert_bench --db URI [--leases N] [--batch N] [--connections N] [--warmup S] "
                 "[--duration S] [--watch-postgres PID] [--label NAME]\n";
    return 2;
  }
  lifeline::SystemClock clock;
  lifeline::Logger log(clock, "pg_upsert_bench", lifeline::LogLevel::warn);
  const lifeline::Duration timeout{30'000};

  auto setup = store::PgConnection::connect(o.db, timeout);
  if (!setup) {
    std::cerr << "connect: " << setup.error().message << "\n";
    return 1;
  }
  if (auto m = store::apply_migrations(*setup, store::embedded_migrations(), timeout, log); !m) {
    std::cerr << "migrate: " << m.error().message << "\n";
    return 1;
  }
  std::string settings;
  for (const char* name : {"fsync", "synchronous_commit", "wal_sync_method", "shared_buffers"}) {
    auto r = setup->exec(std::string("SELECT current_setting('") + name + "')", {}, timeout);
    if (r && r->rows() == 1) settings += std::string(" ") + name + "=" + std::string(r->text(0, 0));
  }

  const std::uint32_t tag = static_cast<std::uint32_t>(std::random_device{}());
  std::vector<bench::SimulatedSidecar> sidecars;
  sidecars.reserve(o.leases);
  for (std::size_t i = 0; i < o.leases; ++i) sidecars.push_back(bench::bench_sidecar(tag, i));

  // Create every lease first (inserts), so the window measures renewals (updates).
  {
    store::LeaseStore s(*setup);
    if (auto p = s.prepare(); !p) {
      std::cerr << "prepare: " << p.error().message << "\n";
      return 1;
    }
    std::vector<store::RenewRequest> batch;
    for (std::size_t i = 0; i < o.leases; ++i) {
      batch.push_back(request_of(sidecars[i], 1));
      if (batch.size() == 2000 || i + 1 == o.leases) {
        if (auto r = s.renew_batch(batch, timeout); !r) {
          std::cerr << "create: " << r.error().message << "\n";
          return 1;
        }
        batch.clear();
      }
    }
  }

  const auto t0 = Steady::now();
  const auto measure_start = t0 + std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(o.warmup));
  const auto measure_end =
      measure_start + std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(o.duration));
  std::vector<ThreadResult> results(o.connections);
  std::vector<std::thread> threads;
  std::atomic<int> connect_failures{0};
  for (std::size_t t = 0; t < o.connections; ++t) {
    threads.emplace_back([&, t] {
      auto conn = store::PgConnection::connect(o.db, timeout);
      if (!conn) {
        ++connect_failures;
        return;
      }
      store::LeaseStore s(*conn);
      if (!s.prepare()) {
        ++connect_failures;
        return;
      }
      const std::size_t first = o.leases * t / o.connections;
      const std::size_t last = o.leases * (t + 1) / o.connections;
      std::size_t next = first;
      std::int64_t seq = 1;
      std::vector<store::RenewRequest> batch;
      batch.reserve(o.batch);
      ThreadResult& res = results[t];
      while (true) {
        auto started = Steady::now();
        if (started >= measure_end) break;
        batch.clear();
        for (std::size_t k = 0; k < o.batch && k < last - first; ++k) {
          batch.push_back(request_of(sidecars[next], seq));
          if (++next == last) {
            next = first;
            ++seq;
          }
        }
        auto r = s.renew_batch(batch, timeout);
        auto done = Steady::now();
        if (started < measure_start) continue;
        if (!r) {
          ++res.failures;
          continue;
        }
        ++res.batches;
        res.rows += batch.size();
        res.batch_latency.record(
            static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(done - started).count()));
      }
    });
  }
  // Sample CPU at the window's edges.
  std::this_thread::sleep_until(measure_start);
  double pg_cpu = o.postgres_pid > 0 ? bench::tree_cpu_seconds(o.postgres_pid) : 0.0;
  double own_cpu = bench::process_cpu_seconds();
  const double load = bench::load_average();
  std::this_thread::sleep_until(measure_end);
  if (o.postgres_pid > 0) pg_cpu = bench::tree_cpu_seconds(o.postgres_pid) - pg_cpu;
  own_cpu = bench::process_cpu_seconds() - own_cpu;
  for (auto& th : threads) th.join();

  ThreadResult total;
  for (const auto& r : results) {
    total.rows += r.rows;
    total.batches += r.batches;
    total.failures += r.failures;
    total.batch_latency.merge(r.batch_latency);
  }
  std::int64_t table_bytes = 0, leases_now = 0;
  if (auto r = setup->exec("SELECT pg_total_relation_size('lifeline_leases'), (SELECT count(*) FROM lifeline_leases)",
                           {}, timeout);
      r && r->rows() == 1) {
    table_bytes = r->integer(0, 0);
    leases_now = r->integer(0, 1);
  }
  const double rows_per_s = static_cast<double>(total.rows) / o.duration;
  const auto& h = total.batch_latency;
  std::printf("pg_upsert_bench %s: %zu leases, batch %zu, %zu connection(s), window %.1f s;%s\n", o.label.c_str(),
              o.leases, o.batch, o.connections, o.duration, settings.c_str());
  std::printf("  %.0f rows/s committed, %.1f commits/s, batch ms p50 %.2f p99 %.2f max %.2f, failures %llu%s\n",
              rows_per_s, static_cast<double>(total.batches) / o.duration, h.quantile(0.5) / 1000.0,
              h.quantile(0.99) / 1000.0, static_cast<double>(h.max()) / 1000.0,
              static_cast<unsigned long long>(total.failures), connect_failures > 0 ? " (connect failures)" : "");
  std::printf("  postgres CPU %.2f cores, client CPU %.2f cores, load %.2f; lifeline_leases %lld bytes for %lld rows "
              "(%.0f bytes per lease)\n",
              pg_cpu / o.duration, own_cpu / o.duration, load, static_cast<long long>(table_bytes),
              static_cast<long long>(leases_now),
              leases_now > 0 ? static_cast<double>(table_bytes) / static_cast<double>(leases_now) : 0.0);
  std::printf("RESULT label=%s leases=%zu batch=%zu connections=%zu rows_per_s=%.0f commits_per_s=%.1f "
              "batch_p50_ms=%.3f batch_p99_ms=%.3f failures=%llu postgres_cores=%.3f client_cores=%.3f load1=%.2f "
              "table_bytes=%lld table_rows=%lld bytes_per_lease=%.0f\n",
              o.label.c_str(), o.leases, o.batch, o.connections, rows_per_s,
              static_cast<double>(total.batches) / o.duration, h.quantile(0.5) / 1000.0, h.quantile(0.99) / 1000.0,
              static_cast<unsigned long long>(total.failures), pg_cpu / o.duration, own_cpu / o.duration, load,
              static_cast<long long>(table_bytes), static_cast<long long>(leases_now),
              leases_now > 0 ? static_cast<double>(table_bytes) / static_cast<double>(leases_now) : 0.0);
  return total.rows > 0 ? 0 : 1;
}
