// prefect: Prefect answering 503, timing out (answers later than the reaper's 2 s Prefect
// timeout) and closing connections without an answer, each for a span (20 s short, 2 min
// long) while leases keep expiring, with a recovery between kinds (every run dead so far
// reaped) so that each span starts from a reaper that is not already backed off. Each fault is applied first
// before the request is handled (nothing changes) and then after it (the change is made,
// the reaper does not hear of it: the retry must be recognised by its transition id, and a
// delayed request may land after the reaper's retry). Afterwards every dead run has
// exactly one CRASHED and one AwaitingRetry.

#include <chrono>
#include <iostream>
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
using fake_prefect::Fault;
using fake_prefect::FaultKind;
using fake_prefect::FaultPhase;

ScenarioResult run_prefect_scenario(ScenarioContext& ctx) {
  ScenarioResult r;
  r.name = "prefect";
  const auto span = ctx.is_long() ? std::chrono::milliseconds(120s) : std::chrono::milliseconds(20s);
  constexpr int kHealthy = 50;
  constexpr int kTtl = 5;
  constexpr auto kDyingEvery = 400ms;

  auto db = ctx.env.new_database();
  auto prefect = ctx.env.new_prefect(ctx.seed);
  auto& fake = *prefect.fake;
  HeartbeatFleet fleet({.shards = 4, .interval = 1000ms});
  RunBook book(fake, prefect.deployment_id, &fleet);
  book.give_dying_runs_task_runs("fault-suite");
  testing::ReaperProcess::Settings s;
  s.database_url = db.uri();
  s.prefect_api_url = fake.api_url();
  s.interval = "100ms";
  s.retry_delay = "30s";
  s.prefect_timeout = "2s";
  s.name = "reaper-prefect";
  ReaperGroup reapers(s, 1, &fleet);
  for (int i = 0; i < kHealthy; ++i) book.add_healthy(kTtl);
  if (!r.check(testing::wait_until([&] { return fleet.renewing_not_acked_since(Clock::time_point{} + 1ns) == 0; },
                                   20s),
               "every healthy lease acquired", "healthy=" + std::to_string(kHealthy)))
    return r;

  struct Kind {
    const char* name;
    FaultKind kind;
  };
  const Kind kinds[] = {{"503", FaultKind::Status}, {"timeout", FaultKind::Delay}, {"close", FaultKind::Drop}};
  std::uniform_int_distribution<int> dying_ttl(1, 3);
  auto next_dying = Clock::now();
  int injected = 0;
  for (const auto& k : kinds) {
    for (FaultPhase phase : {FaultPhase::BeforeHandling, FaultPhase::AfterHandling}) {
      const auto half = span / 2;
      Fault f;
      f.path = "/api/**";
      f.kind = k.kind;
      f.phase = phase;
      f.status = 503;
      f.delay = 3s;  // longer than the reaper's 2 s Prefect timeout
      f.for_duration = half;
      const auto since = std::chrono::system_clock::now();
      const auto t0 = Clock::now();
      fake.inject(f);
      ++injected;
      while (Clock::now() < t0 + half) {
        if (Clock::now() >= next_dying) {
          book.add_dying(dying_ttl(ctx.rng), 1);
          next_dying += kDyingEvery;
        }
        std::this_thread::sleep_until(std::min(next_dying, t0 + half));  // pacing the load and the span
      }
      // How many calls the fault hit: answered 503, closed (status 0), or answered too late.
      int hit = 0, calls = 0;
      for (const auto& c : fake.calls_to("", "/api/**")) {
        if (c.time < since) continue;
        ++calls;
        if ((k.kind == FaultKind::Status && c.status == 503) || (k.kind == FaultKind::Drop && c.status == 0) ||
            (k.kind == FaultKind::Delay && c.duration >= 2s))
          ++hit;
      }
      const std::string what = std::string(k.name) + (phase == FaultPhase::BeforeHandling ? " before" : " after") +
                               " handling for " + std::to_string(half.count() / 1000) + "s";
      r.check(hit > 0, what + ": the fault reached the reaper's calls",
              "calls=" + std::to_string(calls) + " hit=" + std::to_string(hit));
    }
    // Prefect is back: the backed-off jobs return (each kind starts from a reaper that has
    // recovered, so its span is not just a continuation of the previous one's backoff).
    fake.clear_faults();
    const auto t_back = Clock::now();
    const bool recovered = testing::wait_until([&] { return book.all_dead_reaped(); }, 120s, 250ms);
    r.check(recovered, std::string(k.name) + ": every run that died so far was reaped once Prefect was back",
            "reaped=" + std::to_string(book.dead_reaped_count()) + " after " + seconds_text(seconds_since(t_back)) +
                "s");
  }
  settle_and_check(r, book, db, reapers, 120s);
  r.load = std::to_string(kHealthy) + " healthy + " + std::to_string(book.size() - kHealthy) +
           " dying simulated leases";
  r.faults = "503, timeout, close: " + std::to_string(span.count() / 1000) + " s each (" +
             std::to_string(injected) + " half-spans, before/after handling)";
  return r;
}

}  // namespace lifeline::faults
