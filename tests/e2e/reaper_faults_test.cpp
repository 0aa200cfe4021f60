// The reaper under its own faults, end to end with real processes: SIGKILLed in the
// middle of its Prefect pipeline and restarted, Prefect answering 503 for a minute, and its
// PostgreSQL restarted (with a few sidecars, and under a heavy heartbeat load).
// Nothing may be lost and nothing done twice; healthy runs must not be reaped.

#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <iostream>
#include <chrono>
#include <mutex>
#include <thread>

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

ReaperProcess::Settings reaper_settings(std::string database_url, const FakePrefect& fake, std::string interval) {
  ReaperProcess::Settings s;
  s.database_url = std::move(database_url);
  s.prefect_api_url = fake.api_url();
  s.interval = std::move(interval);
  return s;
}

// `n` real pods (sidecar + `sleep`) holding leases on new Running runs with deployments,
// each ready (its first heartbeat acknowledged).
std::vector<std::unique_ptr<SidecarPod>> start_healthy_pods(FakePrefect& fake, const ReaperProcess& reaper, int n,
                                                            const std::string& ttl) {
  std::vector<std::unique_ptr<SidecarPod>> pods;
  for (int i = 0; i < n; ++i) {
    RunSpec spec;
    spec.with_deployment = true;
    SidecarPod::Settings p;
    p.run_id = fake.create_run(spec);
    p.reaper_url = reaper.url();
    p.holder = "pod-healthy-" + std::to_string(i);
    p.interval = "1s";
    p.ttl = ttl;
    p.kill_grace = "1s";
    pods.push_back(std::make_unique<SidecarPod>(p));
    EXPECT_TRUE(pods.back()->wait_ready(10s)) << pods.back()->sidecar().stderr_text();
  }
  return pods;
}

// One heartbeat, as a sidecar would send it; true when the lease was granted.
bool heartbeat(httplib::Client& cli, const std::string& run, const std::string& holder, int ttl_seconds,
               int seq = 1) {
  Json body{{"holder", holder}, {"node", "node-1"}, {"ttl_seconds", ttl_seconds}, {"seq", seq}, {"phase", "running"}};
  auto res = cli.Put("/v1/leases/" + run, body.dump(), "application/json");
  return res && res->status == 200 && Json::parse(res->body).value("directive", "") == "continue";
}

bool heartbeat(std::uint16_t port, const std::string& run, const std::string& holder, int ttl_seconds) {
  httplib::Client cli("127.0.0.1", port);
  return heartbeat(cli, run, holder, ttl_seconds);
}

TEST(ReaperFaults, ReaperKilledMidPipelineIsFinishedByItsSuccessorWithoutRepeats) {
  FakePrefect fake;
  ASSERT_TRUE(fake.start());
  auto s = reaper_settings(TempPostgres::shared().create_database(), fake, "100ms");
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
  auto s = reaper_settings(pg.create_database(), fake, "200ms");
  ReaperProcess reaper(s);

  auto pods = start_healthy_pods(fake, reaper, 3, "8s");
  ASSERT_FALSE(HasFailure());

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
  for (const auto& pod : pods) EXPECT_EQ(count_states(fake, pod->settings().run_id, "CRASHED"), 0);
  EXPECT_TRUE(fake.calls_to("POST", "/api/flow_runs/*/set_state").empty());
}

// Prefect answers 503 to everything for a full minute while 30 leases expire. The reaper
// backs off (it does not hammer a Prefect that is down), loses nothing, and once Prefect is
// back every run gets exactly one Crashed and one AwaitingRetry. A healthy pod keeps its
// lease throughout: a Prefect outage is no reason to reap anyone.
TEST(ReaperFaults, PrefectAnswering503ForAMinuteLosesNothingAndRepeatsNothing) {
  FakePrefect fake;
  ASSERT_TRUE(fake.start());
  auto s = reaper_settings(TempPostgres::shared().create_database(), fake, "100ms");
  s.retry_delay = "30s";
  ReaperProcess reaper(s);

  auto pods = start_healthy_pods(fake, reaper, 1, "5s");
  ASSERT_FALSE(HasFailure());
  SidecarPod& healthy = *pods.front();
  const std::string healthy_run = healthy.settings().run_id;

  constexpr int kRuns = 30;
  std::vector<std::string> runs;
  for (int i = 0; i < kRuns; ++i) {
    RunSpec spec;
    spec.with_deployment = true;
    runs.push_back(fake.create_run(spec));
  }
  constexpr auto kOutage = 60s;
  fake_prefect::Fault outage;
  outage.path = "/api/**";
  outage.status = 503;
  outage.for_duration = kOutage;
  fake.inject(outage);
  const auto outage_start = std::chrono::system_clock::now();
  httplib::Client cli("127.0.0.1", reaper.port());
  for (int i = 0; i < kRuns; ++i)
    ASSERT_TRUE(heartbeat(cli, runs[i], "pod-" + std::to_string(i), 1)) << "heartbeats must not need Prefect";

  // Half-way through the outage: the leases have expired, the reaper has tried and failed
  // (after the first failures it pauses claiming and probes), and nothing has reached
  // Prefect's state.
  ASSERT_TRUE(wait_until([&] { return !fake.calls_to("", "/api/flow_runs/*").empty(); }, 20s));
  std::this_thread::sleep_until(std::chrono::steady_clock::now() + (kOutage / 2));  // the outage is the condition
  for (const auto& r : runs) EXPECT_EQ(count_states(fake, r, "CRASHED"), 0) << r;

  // Once Prefect is back, the backoff (at most 60 s +20 %) brings every job back.
  ASSERT_TRUE(wait_until(
      [&] {
        for (const auto& r : runs)
          if (count_states(fake, r, "SCHEDULED", "AwaitingRetry") == 0) return false;
        return true;
      },
      kOutage + 100s))
      << reaper.process().stderr_text();
  for (const auto& r : runs) {
    EXPECT_EQ(count_states(fake, r, "CRASHED"), 1) << r;
    EXPECT_EQ(count_states(fake, r, "SCHEDULED", "AwaitingRetry"), 1) << r;
  }
  EXPECT_EQ(count_states(fake, healthy_run, "CRASHED"), 0);
  EXPECT_TRUE(healthy.sidecar().running());
  EXPECT_EQ(http_get_status(healthy.health_port(), "/readyz"), 200);

  // Backoff, not a flood: a failing job waits 0.5 s doubling to 60 s, and a failure pauses
  // new claims, so a minute's outage costs at most a few calls per job. Without backoff,
  // 30 jobs on a 100 ms tick would have made thousands of calls.
  std::size_t during_outage = 0;
  for (const auto& c : fake.calls_to("", "/api/**"))
    if (c.time < outage_start + kOutage && c.status == 503) ++during_outage;
  std::cerr << "calls answered 503 during the outage: " << during_outage << "\n";
  EXPECT_GE(during_outage, 1u);
  EXPECT_LT(during_outage, static_cast<std::size_t>(kRuns * 8)) << "the reaper did not back off";
}

// PostgreSQL restarted while 1,000 leases are renewed every 2 s (500 heartbeats a second,
// group-committed) next to three real pods. Heartbeats are refused with 503 while the
// database is gone and succeed again after; no lease is reaped, none is lost.
TEST(ReaperFaults, PostgresRestartedUnderHeavyHeartbeatLoadReapsNothing) {
  TempPostgres pg;  // its own cluster: this test restarts it
  FakePrefect fake;
  ASSERT_TRUE(fake.start());
  auto s = reaper_settings(pg.create_database(), fake, "200ms");
  ReaperProcess reaper(s);

  auto pods = start_healthy_pods(fake, reaper, 3, "10s");
  ASSERT_FALSE(HasFailure());

  // Simulated sidecars, one keep-alive connection per thread, for runs Running in Prefect.
  constexpr int kThreads = 8;
  constexpr int kLeasesPerThread = 125;
  constexpr auto kCycle = 2s;
  using Clock = std::chrono::steady_clock;
  std::atomic<bool> stop{false};
  std::atomic<long> ok{0}, refused{0}, lost{0};
  std::mutex mu;
  std::vector<Clock::time_point> last_ok(kThreads * kLeasesPerThread);
  std::vector<std::thread> threads;
  std::vector<std::string> lease_runs;
  for (int i = 0; i < kThreads * kLeasesPerThread; ++i) lease_runs.push_back(fake.create_run(RunSpec{}));
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      httplib::Client cli("127.0.0.1", reaper.port());
      cli.set_read_timeout(5, 0);
      for (int seq = 1; !stop && seq < 10'000; ++seq) {
        const auto cycle_end = Clock::now() + kCycle;
        for (int k = 0; k < kLeasesPerThread && !stop; ++k) {
          const int i = t * kLeasesPerThread + k;
          Json body{{"holder", "sim-" + std::to_string(i)}, {"node", "node-2"}, {"ttl_seconds", 10},
                    {"seq", seq}, {"phase", "running"}};
          auto res = cli.Put("/v1/leases/" + lease_runs[i], body.dump(), "application/json");
          if (res && res->status == 200) {
            if (Json::parse(res->body).value("directive", "") != "continue") ++lost;  // stop: reaped or taken
            ++ok;
            std::lock_guard lock(mu);
            last_ok[i] = Clock::now();
          } else if (res && res->status != 503) {
            ++lost;  // 409 or 404: the lease is no longer ours
          } else {
            ++refused;
          }
        }
        std::this_thread::sleep_until(cycle_end);  // pacing: one renewal per lease per cycle
      }
    });
  }
  auto all_renewed_since = [&](Clock::time_point since) {
    std::lock_guard lock(mu);
    for (const auto& t : last_ok)
      if (t < since) return false;
    return true;
  };
  ASSERT_TRUE(wait_until([&] { return all_renewed_since(Clock::time_point{} + 1ns); }, 30s))
      << "the load never reached every lease; ok=" << ok << " refused=" << refused;

  pg.stop();
  ASSERT_TRUE(wait_until([&] { return http_get_status(reaper.port(), "/readyz") == 503; }, 10s));
  // The database stays down until the load has run into it (the heartbeaters send in bursts).
  ASSERT_TRUE(wait_until([&] { return refused > 0; }, 10s));
  const long ok_before_start = ok;
  pg.start();
  const auto restarted = Clock::now();
  ASSERT_TRUE(wait_until([&] { return http_get_status(reaper.port(), "/readyz") == 200; }, 20s));
  ASSERT_TRUE(wait_until([&] { return all_renewed_since(restarted); }, 30s))
      << "some leases were not renewed after the restart; refused=" << refused << " lost=" << lost;
  const auto renewed_after = Clock::now();
  // A full sweep after the renewals: the sweep gauges count every lease as active.
  std::string metrics;
  ASSERT_TRUE(wait_until(
      [&] {
        return Clock::now() > renewed_after + 1s && http_get_status(reaper.port(), "/metrics", &metrics) == 200 &&
               metrics.find("lifeline_reaper_leases{state=\"active\"} 1003") != std::string::npos;
      },
      15s))
      << metrics;
  stop = true;
  for (auto& th : threads) th.join();

  EXPECT_EQ(lost, 0);
  EXPECT_GE(ok - ok_before_start, kThreads * kLeasesPerThread) << "every lease renewed after the restart";
  for (auto& pod : pods) {
    EXPECT_TRUE(pod->sidecar().running());
    EXPECT_EQ(http_get_status(pod->health_port(), "/readyz"), 200);
  }
  EXPECT_TRUE(fake.calls_to("POST", "/api/flow_runs/*/set_state").empty());
}

}  // namespace
}  // namespace lifeline::testing
