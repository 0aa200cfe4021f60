// kills: a reaper SIGKILLed at random moments while leases keep expiring, restarted at
// once; in the second half a second replica runs too, so the survivor takes the victim's
// jobs over when its claims lapse. One long-lived run set with a steady stream of new
// dying leases makes 100 kills a matter of minutes: every kill lands on a pipeline with
// jobs in every step. Each kill's moment is drawn from the seed; what the pipeline held at
// that instant is read from the database right after the kill and printed.

#include <chrono>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "tests/faults/reaper/heartbeat_fleet.hpp"
#include "tests/faults/reaper/reaper_group.hpp"
#include "tests/faults/reaper/run_book.hpp"
#include "tests/faults/reaper/scenarios.hpp"
#include "tests/faults/reaper/settle.hpp"
#include "tests/support/wait.hpp"

namespace lifeline::faults {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// "crashing=2 rescheduling=1 undetected=3" -> {crashing: 2, rescheduling: 1, undetected: 3}
std::map<std::string, long> parse_snapshot(const std::string& snapshot) {
  std::map<std::string, long> out;
  std::istringstream in(snapshot);
  std::string item;
  while (in >> item) {
    auto eq = item.find('=');
    if (eq != std::string::npos) out[item.substr(0, eq)] = std::stol(item.substr(eq + 1));
  }
  return out;
}

// Jobs recorded at `crashing` whose run already carries the Crashed state they proposed:
// killed after the crash was applied, while its answer was on the way or the slots were
// being freed (the answer is held until the job's next record, docs/reaping.md). A
// restarted reaper must recognise its own Crashed state and free the slots again.
long crash_applied_jobs(const ScenarioDatabase& db, const fake_prefect::FakePrefect& fake) {
  std::istringstream in(db.value(
      "SELECT coalesce(string_agg(run_id || ' ' || crash_transition_id, ' '), '') FROM lifeline_reaps "
      "WHERE step = 'crashing' AND crash_transition_id IS NOT NULL"));
  long n = 0;
  std::string run_id, transition_id;
  while (in >> run_id >> transition_id) {
    const auto run = fake.flow_run(run_id);
    if (!run || !run->contains("state") || !(*run)["state"].is_object()) continue;
    const auto& details = (*run)["state"].value("state_details", fake_prefect::Json::object());
    const auto it = details.find("transition_id");
    if (it != details.end() && it->is_string() && it->get<std::string>() == transition_id) ++n;
  }
  return n;
}

}  // namespace

ScenarioResult run_kills_scenario(ScenarioContext& ctx) {
  ScenarioResult r;
  r.name = "kills";
  const int kills = ctx.is_long() ? 100 : 12;
  constexpr int kHealthy = 40;
  constexpr int kHealthyTtl = 10;  // outlives a restart on a busy machine
  constexpr auto kDyingEvery = 100ms;  // 10 runs a second die

  auto db = ctx.env.new_database();
  auto prefect = ctx.env.new_prefect(ctx.seed);
  auto& fake = *prefect.fake;
  fake.set_latency(50ms);  // each Prefect call takes a while, so kills land in the middle of steps
  HeartbeatFleet fleet({.shards = 4, .interval = 1000ms});
  RunBook book(fake, prefect.deployment_id, &fleet);
  book.give_dying_runs_task_runs("fault-suite");

  testing::ReaperProcess::Settings s;
  s.database_url = db.uri();
  s.prefect_api_url = fake.api_url();
  s.interval = "100ms";
  s.claim_timeout = "2s";  // a killed replica's claims lapse quickly
  s.retry_delay = "30s";   // AwaitingRetry stays the current state for the checks
  s.name = "reaper-kills";
  ReaperGroup reapers(s, 2, &fleet, 1);  // the second slot joins in the second half

  for (int i = 0; i < kHealthy; ++i) book.add_healthy(kHealthyTtl);
  if (!r.check(testing::wait_until([&] { return fleet.renewing_not_acked_since(Clock::time_point{} + 1ns) == 0; },
                                   20s),
               "every healthy lease acquired", "healthy=" + std::to_string(kHealthy)))
    return r;

  std::map<std::string, int> interrupted;  // step -> kills that found jobs in it
  auto every_step = [&] {
    return (interrupted["undetected"] + interrupted["detected"]) > 0 && interrupted["crashing"] > 0 &&
           interrupted["crash_applied"] > 0 && interrupted["rescheduling"] > 0;
  };
  // The planned kills, then more (up to three times as many) while some step has not yet
  // been caught with a job in it: a kill's moment is random, and a step's window is one
  // Prefect call, so a short run can miss one by chance.
  std::uniform_int_distribution<int> kill_after_ms(150, 3000);
  std::uniform_int_distribution<int> dying_ttl(1, 2);
  auto next_dying = Clock::now();
  int done_kills = 0;
  const int max_kills = 3 * kills;
  for (int k = 0; k < max_kills && (k < kills || !every_step()); ++k) {
    if (k == kills / 2 && !reapers.running(1)) reapers.start(1);
    const int delay_ms = kill_after_ms(ctx.rng);
    const auto kill_at = Clock::now() + std::chrono::milliseconds(delay_ms);
    while (Clock::now() < kill_at) {
      if (Clock::now() >= next_dying) {
        book.add_dying(dying_ttl(ctx.rng), 1);
        next_dying += kDyingEvery;
      }
      std::this_thread::sleep_until(std::min(next_dying, kill_at));  // pacing the load, not waiting on a condition
    }
    int slot = 0;
    if (reapers.running(1)) slot = static_cast<int>(ctx.rng() % 2);
    reapers.kill(slot);
    ++done_kills;
    const std::string snapshot = db.pipeline_snapshot() + " crash_applied=" + std::to_string(crash_applied_jobs(db, fake));
    for (const auto& [step, n] : parse_snapshot(snapshot))
      if (n > 0) ++interrupted[step];
    std::cout << "  kill " << (k + 1) << "/" << kills << (k >= kills ? " (extra)" : "") << " slot=" << slot << " after=" << delay_ms
              << "ms pipeline: " << snapshot << std::endl;
    reapers.start(slot);
  }
  const int dead_made = book.size() - kHealthy;

  auto t = settle_and_check(r, book, db, reapers, ctx.is_long() ? 180s : 90s);
  r.check(done_kills >= kills, "the reaper was SIGKILLed as planned",
          "kills=" + std::to_string(done_kills) + " processes_started=" + std::to_string(reapers.started()));
  std::ostringstream steps;
  for (const char* step : {"undetected", "detected", "crashing", "crash_applied", "freeing", "rescheduling"})
    steps << step << "=" << interrupted[step] << " ";
  r.check(every_step(),
          "kills landed before claim, mid Crashed, after the crash was applied (mid free slots) and mid reschedule",
          "kills with jobs in step: " + steps.str());
  const auto totals = fleet.totals();
  r.note("healthy leases' longest gap between acknowledged renewals " +
         std::to_string(t.healthy_max_gap.count()) + " ms (TTL " + std::to_string(kHealthyTtl) +
         " s); heartbeats ok=" + std::to_string(totals.ok) + " no_answer=" + std::to_string(totals.no_answer) +
         " unavailable=" + std::to_string(totals.unavailable));
  r.load = std::to_string(kHealthy) + " healthy + " + std::to_string(dead_made) + " dying simulated leases";
  r.faults = std::to_string(done_kills) + " SIGKILLs (1-2 replicas)";
  return r;
}

}  // namespace lifeline::faults
