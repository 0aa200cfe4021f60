// pg-restart: PostgreSQL stopped (and in the long form also SIGKILLed) and started again
// while a thousand or more simulated leases renew every second and three real pods
// heartbeat next to them. Heartbeats are refused (503) while the database is gone and
// succeed again after; no healthy lease is reaped, the pods' workloads keep running, and
// runs that died just before the restart are still reaped exactly once.

#include <chrono>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "tests/e2e/processes.hpp"
#include "tests/faults/reaper/heartbeat_fleet.hpp"
#include "tests/faults/reaper/reaper_group.hpp"
#include "tests/faults/reaper/run_book.hpp"
#include "tests/faults/reaper/scenarios.hpp"
#include "tests/faults/reaper/settle.hpp"
#include "tests/faults/reaper/sidecar_pods.hpp"
#include "tests/support/wait.hpp"

namespace lifeline::faults {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// The pod's sidecar renews again: no failure since its last acknowledged heartbeat.
bool pod_renewing(testing::SidecarPod& pod) {
  std::string body;
  if (testing::http_get_status(pod.health_port(), "/status", &body) != 200) return false;
  auto j = nlohmann::json::parse(body, nullptr, false);
  return j.is_object() && j.value("consecutive_failures", -1) == 0 && j.value("seconds_since_last_ack", 99.0) < 1.5;
}

}  // namespace

ScenarioResult run_pg_restart_scenario(ScenarioContext& ctx) {
  ScenarioResult r;
  r.name = "pg-restart";
  const int leases = ctx.is_long() ? 2000 : 1000;
  const int restarts = ctx.is_long() ? 3 : 1;
  constexpr int kTtl = 10;
  constexpr int kPods = 3;
  constexpr int kDying = 30;

  auto db = ctx.env.new_database();
  auto prefect = ctx.env.new_prefect(ctx.seed);
  auto& fake = *prefect.fake;
  HeartbeatFleet fleet({.shards = 16, .interval = 1000ms});
  RunBook book(fake, prefect.deployment_id, &fleet);
  testing::ReaperProcess::Settings s;
  s.database_url = db.uri();
  s.prefect_api_url = fake.api_url();
  s.interval = "200ms";
  s.retry_delay = "30s";
  s.name = "reaper-pgrestart";
  ReaperGroup reapers(s, 1, &fleet);

  auto started = start_pods(r, book, reapers.at(0).url(), kPods, "pod-pgrestart", kTtl);
  if (!started) return r;
  Pods pods = std::move(*started);
  for (int i = 0; i < leases; ++i) book.add_healthy(kTtl);
  if (!r.check(testing::wait_until([&] { return fleet.renewing_not_acked_since(Clock::time_point{} + 1ns) == 0; },
                                   60s, 50ms),
               "every simulated lease acquired", "leases=" + std::to_string(leases)))
    return r;
  for (int i = 0; i < kDying; ++i) book.add_dying(3, 1);  // these die just before the restart

  for (int round = 0; round < restarts; ++round) {
    // The load right before the outage: how long the next two renewals of every lease take.
    const auto ok_start = fleet.totals().ok;
    const auto t_rate = Clock::now();
    testing::wait_until([&] { return fleet.totals().ok >= ok_start + 2L * leases; }, 20s, 10ms);
    const double rate = static_cast<double>(fleet.totals().ok - ok_start) / seconds_since(t_rate);
    const bool crash = ctx.is_long() && round % 2 == 1;
    const long failed_before = fleet.totals().unavailable + fleet.totals().no_answer;
    const auto t_down = Clock::now();
    if (crash) ctx.env.pg().kill();
    else ctx.env.pg().stop();
    const bool refused =
        testing::wait_until([&] { return fleet.totals().unavailable + fleet.totals().no_answer > failed_before; }, 15s);
    ctx.env.pg().start();
    const auto t_back = Clock::now();
    const std::string db_back = db.db_now();
    const bool resumed = testing::wait_until([&] { return fleet.renewing_not_acked_since(t_back) == 0; }, 30s, 20ms);
    const double resume_s = seconds_since(t_back);
    bool pods_ok = testing::wait_until(
        [&] {
          for (auto& pod : pods)
            if (!pod->sidecar().running() || !pod_renewing(*pod)) return false;
          return true;
        },
        20s, 100ms);
    // Any lease the restart left unrenewed would now have expired, and a sweep has run.
    const bool swept = testing::wait_until([&] { return db.swept_after(db_back, std::chrono::seconds(kTtl + 1)); },
                                           std::chrono::seconds(kTtl + 30), 100ms);
    const std::string what = std::string(crash ? "SIGKILL" : "fast stop") + " #" + std::to_string(round + 1);
    r.check(rate >= 0.8 * leases, what + ": the load was on when PostgreSQL went down",
            "renewals_per_s=" + seconds_text(rate) + " leases=" + std::to_string(leases) + " renewing each 1s");
    r.check(refused, what + ": heartbeats were refused while PostgreSQL was down",
            "down_for=" + seconds_text(std::chrono::duration<double>(t_back - t_down).count()) + "s unavailable=" +
                std::to_string(fleet.totals().unavailable) + " no_answer=" + std::to_string(fleet.totals().no_answer));
    r.check(resumed, what + ": every simulated lease renewed again after the restart",
            "resumed_in=" + seconds_text(resume_s) + "s not_renewed=" + std::to_string(fleet.renewing_not_acked_since(t_back)));
    r.check(pods_ok, what + ": the real pods kept their workloads and renew again", "pods=" + std::to_string(kPods));
    r.check(swept, what + ": a sweep ran after every unrenewed lease would have expired", "ttl=" + std::to_string(kTtl) + "s");
  }

  settle_and_check(r, book, db, reapers, 60s);
  r.load = thousands(leases) + " simulated leases renewing each 1 s + " + std::to_string(kPods) + " pods";
  r.faults = std::to_string(restarts) + " PostgreSQL restart" + (restarts > 1 ? "s (stop, SIGKILL)" : " (stop)");
  return r;
}

}  // namespace lifeline::faults
