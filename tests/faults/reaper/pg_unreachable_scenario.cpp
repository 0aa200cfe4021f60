// pg-unreachable: the reaper's PostgreSQL behind a TCP proxy that black-holes connections
// (and, in the long form's second outage, refuses them) for longer than the lease TTL (TTL 5 s;
// one outage of 15 s short, two of 30 s long). Healthy leases could not be renewed during it: without the
// outage rule they would all be expired when the database comes back, and a reaper that
// swept at once would crash every one of them. Checks: zero healthy runs crashed, while
// runs that really died during the outage (simulated leases stopped at its start, leases
// that expired during it, and real pods whose sidecars fenced their workloads) are still
// reaped exactly once afterwards.
//
// The simulated sidecars keep heartbeating through the outage and get 503s: they model
// sidecars whose own fencing deadline is longer than the outage (a longer TTL or
// on-unreachable=continue), which the reaper cannot tell apart and must not reap. The real
// pods (sidecar TTL 5 s, on-unreachable=stop) fence at TTL - margin and exit 3: for the
// reaper they are dead runs like any other.

#include <chrono>
#include <iostream>
#include <memory>
#include <thread>

#include "tests/e2e/processes.hpp"
#include "tests/faults/reaper/heartbeat_fleet.hpp"
#include "tests/faults/reaper/reaper_group.hpp"
#include "tests/faults/reaper/run_book.hpp"
#include "tests/faults/reaper/scenarios.hpp"
#include "tests/faults/reaper/settle.hpp"
#include "tests/faults/reaper/sidecar_pods.hpp"
#include "tests/support/tcp_proxy.hpp"
#include "tests/support/wait.hpp"

namespace lifeline::faults {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::TcpProxy;

ScenarioResult run_pg_unreachable_scenario(ScenarioContext& ctx) {
  ScenarioResult r;
  r.name = "pg-unreachable";
  constexpr int kTtl = 5;
  constexpr int kHealthy = 300;
  constexpr int kPods = 2;
  constexpr int kDieAtStart = 10;  // per outage: renewed until the outage begins, then never again
  constexpr int kExpireDuring = 10;  // per outage: one heartbeat shortly before, expiring inside it
  const auto outage = ctx.is_long() ? 30s : 15s;
  // A black hole (connections hang: the harder case) and, in the long form, a refused port.
  std::vector<TcpProxy::Mode> modes{TcpProxy::Mode::black_hole};
  if (ctx.is_long()) modes.push_back(TcpProxy::Mode::refuse);

  r.note("simulated sidecars keep heartbeating through the outage (503s): they stand for sidecars "
         "whose fencing deadline is longer than the outage, which must not be reaped; the " +
         std::to_string(kPods) + " real pods (TTL " + std::to_string(kTtl) +
         " s) fence during it and count as dead runs");

  auto db = ctx.env.new_database();
  TcpProxy proxy("127.0.0.1", ctx.env.pg().port());
  auto prefect = ctx.env.new_prefect(ctx.seed);
  auto& fake = *prefect.fake;
  HeartbeatFleet fleet({.shards = 8, .interval = 1000ms});
  RunBook book(fake, prefect.deployment_id, &fleet);
  testing::ReaperProcess::Settings s;
  s.database_url = db.uri_via_port(proxy.port());
  s.prefect_api_url = fake.api_url();
  s.interval = "200ms";
  s.retry_delay = "30s";
  s.name = "reaper-pgunreachable";
  ReaperGroup reapers(s, 1, &fleet);

  auto started = start_pods(r, book, reapers.at(0).url(), kPods, "pod-pgunreach", kTtl);
  if (!started) return r;
  Pods pods = std::move(*started);
  for (int i = 0; i < kHealthy; ++i) book.add_healthy(kTtl);
  std::vector<std::vector<std::string>> die_at_start(modes.size());
  for (auto& list : die_at_start)
    for (int i = 0; i < kDieAtStart; ++i) list.push_back(book.add_healthy(kTtl));
  if (!r.check(testing::wait_until([&] { return fleet.renewing_not_acked_since(Clock::time_point{} + 1ns) == 0; },
                                   30s, 20ms),
               "every simulated lease acquired", "leases=" + std::to_string(fleet.size())))
    return r;

  bool pods_marked = false;
  for (std::size_t round = 0; round < modes.size(); ++round) {
    const char* mode_name = modes[round] == TcpProxy::Mode::black_hole ? "black-hole" : "refuse";
    const long acked_before = fleet.totals().ok;
    for (int i = 0; i < kExpireDuring; ++i) book.add_dying(kTtl, 1);
    testing::wait_until([&] { return fleet.totals().ok >= acked_before + kExpireDuring; }, 10s, 10ms);

    const auto t_out = Clock::now();
    proxy.set_mode(modes[round]);
    for (const auto& run : die_at_start[round]) book.mark_dead(run);
    const bool noticed = testing::wait_until(
        [&] { return testing::http_get_status(reapers.at(0).port(), "/readyz") == 503; }, outage, 100ms);
    // The outage lasts its full span whatever happens meanwhile: that span is the fault.
    std::this_thread::sleep_until(t_out + outage);
    const long failures_during = fleet.totals().unavailable + fleet.totals().no_answer;
    proxy.set_mode(TcpProxy::Mode::forward);
    const auto t_back = Clock::now();
    const std::string db_back = db.db_now();
    const bool ready = testing::wait_until(
        [&] { return testing::http_get_status(reapers.at(0).port(), "/readyz") == 200; }, 30s, 50ms);
    const bool resumed = testing::wait_until([&] { return fleet.renewing_not_acked_since(t_back) == 0; }, 30s, 20ms);
    const double resume_s = seconds_since(t_back);
    const bool swept = testing::wait_until([&] { return db.swept_after(db_back, std::chrono::seconds(kTtl + 1)); },
                                           std::chrono::seconds(kTtl + 30), 100ms);
    const std::string what = std::string(mode_name) + " " + std::to_string(outage.count()) + "s";
    r.check(noticed, what + ": the reaper saw its database go (readyz 503)", "failed_heartbeats=" +
            std::to_string(failures_during));
    r.check(ready && resumed, what + ": heartbeats renew every healthy lease again afterwards",
            "resumed_in=" + seconds_text(resume_s) + "s not_renewed=" + std::to_string(fleet.renewing_not_acked_since(t_back)));
    r.check(swept, what + ": sweeps ran after every lease not renewed would have expired", "ttl=" + std::to_string(kTtl) + "s");
    if (!pods_marked) {
      // The real pods could not renew for longer than their TTL: their sidecars fenced.
      int fenced = 0;
      std::string codes;
      for (auto& pod : pods) {
        auto code = pod->sidecar().wait_exit(10s);
        codes += (code ? std::to_string(*code) : std::string("running")) + " ";
        if (code && *code == 3) ++fenced;
        book.mark_dead(pod->settings().run_id);
      }
      pods_marked = true;
      r.check(fenced == kPods, "the real pods fenced their workloads during the outage (exit 3)",
              "exit codes: " + codes);
    }
  }

  settle_and_check(r, book, db, reapers, 60s);
  for (const auto& line : reapers.log_lines("outage rule", 4)) r.note("reaper log: " + line);
  r.load = std::to_string(kHealthy) + " healthy simulated leases + " + std::to_string(kPods) + " pods, TTL " +
           std::to_string(kTtl) + " s";
  r.faults = std::to_string(modes.size()) + " database outage" + (modes.size() > 1 ? "s" : "") + " of " +
             std::to_string(outage.count()) + " s (" + (modes.size() > 1 ? "black-hole, then refused)" : "black-hole)");
  return r;
}

}  // namespace lifeline::faults
