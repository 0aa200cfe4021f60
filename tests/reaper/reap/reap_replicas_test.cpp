// Several reapers on one database, and reapers stopped or cut off mid-pipeline: every dead
// run gets exactly one Crashed and at most one AwaitingRetry.
#include <gtest/gtest.h>

#include "tests/reaper/reap/reap_test_env.hpp"
#include "tests/support/wait.hpp"

namespace lifeline::reaper::reap::testing {
namespace {

using lifeline::testing::wait_until;
using namespace std::chrono_literals;
namespace fp = lifeline::fake_prefect;

bool all_final(ReapEnv& env, std::size_t n) {
  return env.count("SELECT count(*) FROM lifeline_reaps WHERE step IN ('done', 'skipped', 'failed')") ==
         static_cast<std::int64_t>(n);
}

TEST(ReapReplicas, TwoServicesAndTwoHundredExpiringLeases) {
  ReapEnv env;
  std::vector<std::string> runs;
  for (int i = 0; i < 200; ++i) runs.push_back(env.fake.create_run({.state = "RUNNING", .with_deployment = true}));
  env.exec("UPDATE lifeline_reaper_state SET last_sweep_at = now()");
  auto a = env.service(env.config());
  auto b = env.service(env.config());
  a->start();
  b->start();
  for (const auto& r : runs) env.plant({.run_id = r, .expires_in_ms = 300});
  ASSERT_TRUE(wait_until([&] { return all_final(env, runs.size()); }, 60s));
  for (const auto& r : runs) {
    EXPECT_EQ(env.set_state_calls(r, "CRASHED"), 1u) << r;
    EXPECT_LE(env.set_state_calls(r, "SCHEDULED"), 1u) << r;
    EXPECT_EQ(env.states(r, "CRASHED").size(), 1u) << r;
    EXPECT_EQ(env.states(r, "SCHEDULED").back()["name"], "AwaitingRetry") << r;
  }
  // Both replicas took part.
  EXPECT_EQ(env.count("SELECT count(DISTINCT replica) FROM lifeline_audit WHERE decision = 'crash'"), 2);
  a->stop();
  b->stop();
}

TEST(ReapReplicas, AnAnswerLostAfterTheCrashIsRecognisedByTheNextReaper) {
  ReapEnv env;
  const std::string run = env.fake.create_run({.state = "RUNNING", .with_deployment = true});
  env.exec("UPDATE lifeline_reaper_state SET last_sweep_at = now()");
  // The crash is applied, but the connection drops before the answer: the first reaper
  // cannot know it worked.
  env.fake.inject(fp::Fault{.method = "POST", .path = "/api/flow_runs/*/set_state", .kind = fp::FaultKind::Drop,
                            .phase = fp::FaultPhase::AfterHandling, .times = 1});
  auto a = env.service(env.config());
  a->start();
  env.plant({.run_id = run, .expires_in_ms = 100});
  ASSERT_TRUE(wait_until([&] { return env.value("SELECT failures FROM lifeline_reaps") == "1"; }, 10s));
  a->stop();
  EXPECT_EQ(env.value("SELECT step FROM lifeline_reaps"), "crashing");

  auto b = env.service(env.config());
  b->start();
  ASSERT_TRUE(wait_until([&] { return all_final(env, 1); }, 10s));
  EXPECT_EQ(env.states(run, "CRASHED").size(), 1u);
  EXPECT_EQ(env.set_state_calls(run, "CRASHED"), 1u);  // never proposed again
  EXPECT_EQ(env.set_state_calls(run, "SCHEDULED"), 1u);
  EXPECT_EQ(env.fake.flow_run(run)->at("state_name"), "AwaitingRetry");
}

TEST(ReapReplicas, AFailureWhileFreeingKeepsTheHeldCrashAnswer) {
  ReapEnv env;
  const std::string run = env.fake.create_run({.state = "RUNNING", .with_deployment = true});
  env.exec("UPDATE lifeline_reaper_state SET last_sweep_at = now()");
  // The crash is accepted; the next call (the task-run search that frees slots) fails, so the
  // job is deferred with the crash answer the worker held, then taken up by another replica.
  env.fake.inject(fp::Fault{.method = "POST", .path = "/api/task_runs/filter", .kind = fp::FaultKind::Status,
                            .status = 503, .times = 1});
  auto a = env.service(env.config());
  a->start();
  env.plant({.run_id = run, .expires_in_ms = 100});
  ASSERT_TRUE(wait_until([&] { return env.value("SELECT failures FROM lifeline_reaps") == "1"; }, 10s));
  a->stop();
  EXPECT_EQ(env.value("SELECT step FROM lifeline_reaps"), "freeing");
  EXPECT_EQ(env.value("SELECT string_agg(decision, ' ' ORDER BY id) FROM lifeline_audit"),
            "crash crash_accepted deferred");
  EXPECT_EQ(env.value("SELECT answers->0->>'status' FROM lifeline_reaps"), "ACCEPT");

  auto b = env.service(env.config());
  b->start();
  ASSERT_TRUE(wait_until([&] { return all_final(env, 1); }, 10s));
  EXPECT_EQ(env.set_state_calls(run, "CRASHED"), 1u);
  EXPECT_EQ(env.set_state_calls(run, "SCHEDULED"), 1u);
  EXPECT_EQ(env.value("SELECT string_agg(decision, ' ' ORDER BY id) FROM lifeline_audit"),
            "crash crash_accepted deferred freed retry_scheduled");
  b->stop();
}

TEST(ReapReplicas, AServiceStoppedMidPipelineIsFinishedByAnotherWithoutRepeats) {
  ReapEnv env;
  std::vector<std::string> runs;
  for (int i = 0; i < 40; ++i) runs.push_back(env.fake.create_run({.state = "RUNNING", .with_deployment = true}));
  env.exec("UPDATE lifeline_reaper_state SET last_sweep_at = now()");
  env.fake.set_latency(30ms);
  auto a = env.service(env.config());
  a->start();
  for (const auto& r : runs) env.plant({.run_id = r, .expires_in_ms = 50});
  ASSERT_TRUE(wait_until(
      [&] { return env.count("SELECT count(*) FROM lifeline_reaps WHERE step <> 'detected'") >= 5; }, 20s));
  a->stop();  // drains: current steps finish, jobs are put back
  EXPECT_EQ(env.count("SELECT count(*) FROM lifeline_reaps WHERE claimed_by IS NOT NULL"), 0);
  EXPECT_LT(env.count("SELECT count(*) FROM lifeline_reaps WHERE step IN ('done', 'skipped', 'failed')"), 40);

  env.fake.set_latency(0ms);
  env.exec("UPDATE lifeline_reaper_state SET last_sweep_at = now()");
  auto b = env.service(env.config());
  b->start();
  ASSERT_TRUE(wait_until([&] { return all_final(env, runs.size()); }, 30s));
  for (const auto& r : runs) {
    EXPECT_EQ(env.set_state_calls(r, "CRASHED"), 1u) << r;
    EXPECT_EQ(env.set_state_calls(r, "SCHEDULED"), 1u) << r;
  }
}

}  // namespace
}  // namespace lifeline::reaper::reap::testing
