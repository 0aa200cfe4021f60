// The reaper under its own faults, end to end with real processes: SIGKILLed in the
// middle of its Prefect pipeline and restarted, and its PostgreSQL restarted under load.
// Nothing may be lost and nothing done twice; healthy runs must not be reaped.

#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <chrono>

#include "tests/e2e/processes.hpp"
#include "tests/fakes/fake_prefect.hpp"
#include "tests/support/postgres_fixture.hpp"
#include "tests/support/wait.hpp"

namespace lifeline::testing {
namespace {

using namespace std::chrono_literals;
using fake_prefect::FakePrefect;
using fake_prefect::Json;
using fake_prefect::RunSpec;

int count_states(FakePrefect& fake, const std::string& run, const std::string& type, const std::string& name = "") {
  int n = 0;
  for (const auto& s : fake.history(run))
    if (s.value("type", "") == type && (name.empty() || s.value("name", "") == name)) ++n;
  return n;
}

// One heartbeat, as a sidecar would send it; true when the lease was granted.
bool heartbeat(std::uint16_t port, const std::string& run, const std::string& holder, int ttl_seconds) {
  httplib::Client cli("127.0.0.1", port);
  Json body{{"holder", holder}, {"node", "node-1"}, {"ttl_seconds", ttl_seconds}, {"seq", 1}, {"phase", "running"}};
  auto res = cli.Put("/v1/leases/" + run, body.dump(), "application/json");
  return res && res->status == 200 && Json::parse(res->body).value("directive", "") == "continue";
}

TEST(ReaperFaults, ReaperKilledMidPipelineIsFinishedByItsSuccessorWithoutRepeats) {
  FakePrefect fake;
  ASSERT_TRUE(fake.start());
  ReaperProcess::Settings s;
  s.database_url = TempPostgres::shared().create_database();
  s.prefect_api_url = fake.api_url();
  s.interval = "100ms";
  s.claim_timeout = "2s";  // the killed reaper's claims lapse quickly
  s.retry_delay = "30s";
  auto reaper = std::make_unique<ReaperProcess>(s);

  constexpr int kRuns = 20;
  std::vector<std::string> runs;
  for (int i = 0; i < kRuns; ++i) {
    RunSpec spec;
    spec.with_deployment = true;
    runs.push_back(fake.create_run(spec));
  }
  fake.set_latency(60ms);  // slow enough that the pipeline is mid-way when the reaper dies
  for (int i = 0; i < kRuns; ++i) ASSERT_TRUE(heartbeat(reaper->port(), runs[i], "pod-" + std::to_string(i), 1));

  // The leases expire after 1 s; kill the reaper once some runs were crashed, not all rescheduled.
  ASSERT_TRUE(wait_until([&] { return fake.calls_to("POST", "/api/flow_runs/*/set_state").size() >= 6; }, 20s))
      << reaper->process().stderr_text();
  reaper->process().signal(SIGKILL);
  ASSERT_TRUE(reaper->process().wait_exit(5s).has_value());
  int rescheduled_before = 0;
  for (const auto& r : runs) rescheduled_before += count_states(fake, r, "SCHEDULED", "AwaitingRetry");
  EXPECT_LT(rescheduled_before, kRuns) << "the reaper finished before it was killed; the test proves nothing";

  s.name = "reaper-successor";
  auto successor = std::make_unique<ReaperProcess>(s);
  ASSERT_TRUE(wait_until(
      [&] {
        for (const auto& r : runs)
          if (count_states(fake, r, "SCHEDULED", "AwaitingRetry") == 0) return false;
        return true;
      },
      60s))
      << successor->process().stderr_text();
  for (const auto& r : runs) {
    EXPECT_EQ(count_states(fake, r, "CRASHED"), 1) << r;
    EXPECT_EQ(count_states(fake, r, "SCHEDULED", "AwaitingRetry"), 1) << r;
  }
}

TEST(ReaperFaults, PostgresRestartShorterThanTheTtlReapsNothing) {
  TempPostgres pg;  // its own cluster: this test restarts it
  FakePrefect fake;
  ASSERT_TRUE(fake.start());
  ReaperProcess::Settings s;
  s.database_url = pg.create_database();
  s.prefect_api_url = fake.api_url();
  s.interval = "200ms";
  ReaperProcess reaper(s);

  std::vector<std::string> runs;
  std::vector<std::unique_ptr<SidecarPod>> pods;
  for (int i = 0; i < 3; ++i) {
    RunSpec spec;
    spec.with_deployment = true;
    runs.push_back(fake.create_run(spec));
    SidecarPod::Settings p;
    p.run_id = runs.back();
    p.reaper_url = reaper.url();
    p.holder = "pod-pg-" + std::to_string(i);
    p.interval = "1s";
    p.ttl = "8s";
    p.kill_grace = "1s";
    pods.push_back(std::make_unique<SidecarPod>(p));
    ASSERT_TRUE(pods.back()->wait_ready(10s)) << pods.back()->sidecar().stderr_text();
  }

  pg.stop();
  ASSERT_TRUE(wait_until([&] { return http_get_status(reaper.port(), "/readyz") == 503; }, 10s));
  pg.start();
  ASSERT_TRUE(wait_until([&] { return http_get_status(reaper.port(), "/readyz") == 200; }, 20s));

  // Every sidecar renews again after the restart; its workload kept running.
  for (auto& pod : pods) {
    std::string status;
    ASSERT_TRUE(wait_until(
        [&] {
          return http_get_status(pod->health_port(), "/status", &status) == 200 &&
                 Json::parse(status).value("consecutive_failures", -1) == 0 &&
                 Json::parse(status).value("seconds_since_last_ack", 99.0) < 1.5;
        },
        15s))
        << status;
    EXPECT_TRUE(pod->sidecar().running());
    EXPECT_EQ(http_get_status(pod->health_port(), "/readyz"), 200);
  }
  // A sweep has run since (the gauges come from it); still nothing was reaped.
  std::string metrics;
  ASSERT_TRUE(wait_until(
      [&] {
        return http_get_status(reaper.port(), "/metrics", &metrics) == 200 &&
               metrics.find("lifeline_reaper_leases{state=\"active\"} 3") != std::string::npos;
      },
      10s))
      << metrics;
  for (const auto& r : runs) EXPECT_EQ(count_states(fake, r, "CRASHED"), 0) << r;
  EXPECT_TRUE(fake.calls_to("POST", "/api/flow_runs/*/set_state").empty());
}

}  // namespace
}  // namespace lifeline::testing
