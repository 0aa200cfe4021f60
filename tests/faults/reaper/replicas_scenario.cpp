// replicas: two, then three reapers on one database share a few hundred expiring leases
// (TTLs spread so expiries arrive over several seconds) next to healthy ones; heartbeats
// are spread over the replicas. When a third of the dead runs are done, one replica is
// SIGKILLed and not restarted: the others must finish its claimed jobs once the claims
// lapse. Exactly once per run, whichever replica did which step.

#include <chrono>
#include <iostream>

#include "tests/faults/reaper/heartbeat_fleet.hpp"
#include "tests/faults/reaper/reaper_group.hpp"
#include "tests/faults/reaper/run_book.hpp"
#include "tests/faults/reaper/scenarios.hpp"
#include "tests/faults/reaper/settle.hpp"
#include "tests/support/wait.hpp"

namespace lifeline::faults {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

ScenarioResult run_replicas_scenario(ScenarioContext& ctx) {
  ScenarioResult r;
  r.name = "replicas";
  const int dying = ctx.is_long() ? 600 : 200;
  constexpr int kHealthy = 100;
  constexpr int kHealthyTtl = 5;
  for (int replicas : {2, 3}) {
    std::cout << "  -- " << replicas << " replicas" << std::endl;
    auto db = ctx.env.new_database();
    auto prefect = ctx.env.new_prefect(ctx.seed + static_cast<std::uint64_t>(replicas));
    auto& fake = *prefect.fake;
    fake.set_latency(15ms);  // the kill must find work in flight
    HeartbeatFleet fleet({.shards = 6, .interval = 1000ms});
    RunBook book(fake, prefect.deployment_id, &fleet);
    testing::ReaperProcess::Settings s;
    s.database_url = db.uri();
    s.prefect_api_url = fake.api_url();
    s.interval = "200ms";
    s.claim_timeout = "3s";
    s.retry_delay = "30s";
    s.name = "reaper-replicas" + std::to_string(replicas);
    ReaperGroup reapers(s, replicas, &fleet);

    for (int i = 0; i < kHealthy; ++i) book.add_healthy(kHealthyTtl);
    std::uniform_int_distribution<int> ttl(1, 6);
    for (int i = 0; i < dying; ++i) book.add_dying(ttl(ctx.rng), 1);

    const bool third_done = testing::wait_until([&] { return book.dead_reaped_count() >= dying / 3; }, 60s, 50ms);
    const int victim = static_cast<int>(ctx.rng() % static_cast<std::uint64_t>(replicas));
    reapers.kill(victim);
    const std::string snapshot = db.pipeline_snapshot();
    std::cout << "  killed replica " << victim << " of " << replicas << " with " << book.dead_reaped_count()
              << " runs done; pipeline: " << snapshot << std::endl;
    r.check(third_done, std::to_string(replicas) + " replicas: a replica was killed midway",
            "victim=" + std::to_string(victim) + " pipeline: " + snapshot);

    auto t = settle_and_check(r, book, db, reapers, 90s);
    r.note(std::to_string(replicas) + " replicas: " + std::to_string(db.replicas_that_decided()) +
           " replica processes recorded decisions; healthy leases' longest renewal gap " +
           std::to_string(t.healthy_max_gap.count()) + " ms");
  }
  r.load = "2 and 3 replicas, " + std::to_string(kHealthy) + " healthy + " + std::to_string(dying) +
           " dying leases each";
  r.faults = "1 replica SIGKILLed in each";
  return r;
}

}  // namespace lifeline::faults
