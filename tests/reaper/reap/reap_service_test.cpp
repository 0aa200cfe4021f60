// ReapService against a real PostgreSQL and the in-process fake Prefect: the Prefect
// sequence of the contract, skips, freeing slots, policies, dry run, orphans, completion
// checks, the outage rule, Prefect outages and the run-status cache.
#include <gtest/gtest.h>

#include <algorithm>

#include "reaper/prefect/prefect_requests.hpp"
#include "reaper/reap/transition_ids.hpp"
#include "tests/reaper/reap/reap_test_env.hpp"
#include "tests/support/wait.hpp"

namespace lifeline::reaper::reap::testing {
namespace {

using lifeline::testing::wait_until;
using namespace std::chrono_literals;
namespace fp = lifeline::fake_prefect;

class ReapServiceTest : public ::testing::Test {
 protected:
  // Starts a service and waits for its first sweep (so its startup outage grant is done).
  std::unique_ptr<ReapService> start(const Config& c) {
    auto s = env.service(c);
    s->start();
    EXPECT_TRUE(first_sweep_done());
    return s;
  }
  bool first_sweep_done() {
    return wait_until([&] { return !env.value("SELECT last_sweep_at FROM lifeline_reaper_state").empty(); }, 10s);
  }
  std::string job_value(const std::string& run, const std::string& column) {
    return env.value("SELECT " + column + " FROM lifeline_reaps WHERE run_id = '" + run + "'");
  }
  bool job_final(const std::string& run) {
    auto step = job_value(run, "step");
    return step == "done" || step == "skipped" || step == "failed";
  }
  ReapEnv env;
};

TEST_F(ReapServiceTest, ExpiredLeaseGetsOneCrashedThenOneAwaitingRetry) {
  const std::string run = env.fake.create_run({.state = "RUNNING", .with_deployment = true});
  const std::string running_id = env.states(run, "RUNNING").back()["id"];
  auto svc = start(env.config());
  env.plant({.run_id = run, .expires_in_ms = 200});

  ASSERT_TRUE(wait_until([&] { return !env.states(run, "SCHEDULED").empty() && job_final(run); }, 10s));
  auto crashed = env.states(run, "CRASHED");
  ASSERT_EQ(crashed.size(), 1u);
  EXPECT_EQ(crashed[0]["state_details"]["transition_id"], transition_id(run, running_id, "crash"));
  const std::string msg = crashed[0]["message"];
  EXPECT_EQ(msg.rfind("lifeline: no heartbeat from pod flow-run-abc-xyz12 on node node-7 since ", 0), 0u) << msg;
  EXPECT_NE(msg.find("(lease ttl 30s)"), std::string::npos) << msg;
  auto retry = env.states(run, "SCHEDULED");
  EXPECT_EQ(retry.back()["name"], "AwaitingRetry");
  EXPECT_EQ(retry.back()["state_details"]["transition_id"], transition_id(run, running_id, "reschedule"));
  EXPECT_EQ(env.set_state_calls(run, "CRASHED"), 1u);
  EXPECT_EQ(env.set_state_calls(run, "SCHEDULED"), 1u);
  EXPECT_EQ(env.fake.flow_run(run)->at("state_type"), "SCHEDULED");

  EXPECT_EQ(job_value(run, "step"), "done");
  EXPECT_EQ(job_value(run, "outcome"), "crashed");
  EXPECT_EQ(env.value("SELECT state FROM lifeline_leases WHERE run_id = '" + run + "'"), "reaped");
  EXPECT_EQ(env.value("SELECT attempts FROM lifeline_run_attempts WHERE run_id = '" + run + "'"), "1");
  // Every decision in order, each at its step: the crash answer is held until the slots
  // are freed and then written first. The answers: the crash, the freeing calls (none
  // here), the retry.
  EXPECT_EQ(env.value("SELECT string_agg(step || ':' || decision, ' ' ORDER BY id) FROM lifeline_audit "
                      "WHERE run_id = '" + run + "'"),
            "crashing:crash freeing:crash_accepted rescheduling:freed done:retry_scheduled");
  EXPECT_EQ(env.value("SELECT (answers->0->>'status') || ' ' || jsonb_typeof(answers->1) || ' ' || "
                      "(answers->2->'state'->>'name') || ' ' || jsonb_array_length(answers) "
                      "FROM lifeline_reaps WHERE run_id = '" + run + "'"),
            "ACCEPT array AwaitingRetry 3");
  EXPECT_EQ(env.metrics.reaps("expired", "crashed").Value(), 1);
  EXPECT_EQ(env.metrics.retries_scheduled().Value(), 1);
  svc->stop();
}

TEST_F(ReapServiceTest, EvictedReleaseIsCrashedWithinASecondOfTheNotify) {
  const std::string run = env.fake.create_run({.state = "RUNNING", .with_deployment = true});
  Config c = env.config();
  c.reaper.interval = Duration{30'000};  // only the wake-up path can be this fast
  auto svc = start(c);
  env.plant({.run_id = run, .state = "released", .expires_in_ms = 20'000, .release_outcome = "evicted"});
  const auto released = std::chrono::steady_clock::now();
  env.exec("NOTIFY lifeline_wakeup");
  ASSERT_TRUE(wait_until([&] { return !env.states(run, "CRASHED").empty(); }, 5s));
  EXPECT_LT(std::chrono::steady_clock::now() - released, 1s);
  EXPECT_NE(std::string(env.states(run, "CRASHED")[0]["message"]).find("evicted"), std::string::npos);
  ASSERT_TRUE(wait_until([&] { return job_final(run); }, 5s));
  EXPECT_EQ(job_value(run, "reason"), "evicted");
}

TEST_F(ReapServiceTest, LeaseIsDetectedAtItsExpiryNotAtTheNextInterval) {
  const std::string run = env.fake.create_run({.state = "RUNNING"});
  Config c = env.config();
  c.reaper.interval = Duration{30'000};  // the tick alone would take up to 30 s
  auto svc = start(c);
  env.plant({.run_id = run, .expires_in_ms = 1'500});
  const auto planted = std::chrono::steady_clock::now();
  svc->wake();  // a detection that sees the lease (not yet expired) and learns its expiry
  ASSERT_TRUE(wait_until([&] { return !env.states(run, "CRASHED").empty(); }, 10s));
  const auto took = std::chrono::steady_clock::now() - planted;
  EXPECT_GE(took, 1'400ms);  // never before the expiry (database and test clocks agree here)
  EXPECT_LT(took, 4s);
  ASSERT_TRUE(wait_until([&] { return job_final(run); }, 5s));
  EXPECT_EQ(job_value(run, "reason"), "expired");
}

// A reap worker gives its database connection back after a while without a job and opens
// one again for the next: a replica at rest holds its own connections, not one per worker.
TEST_F(ReapServiceTest, IdleWorkersGiveTheirDatabaseConnectionsBack) {
  // The scheduler's and the sweeper's connections (the listener has a name of its own).
  const std::string connections =
      "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
      "AND application_name = 'lifeline-reaper' AND pid <> pg_backend_pid()";
  constexpr std::int64_t kAtRest = 2;
  env.fake.set_latency(100ms);  // each job takes a while, so several workers hold connections
  auto svc = env.service(env.config());  // max_in_flight 4: 8 workers
  svc->set_worker_idle_close(500ms);
  svc->start();
  ASSERT_TRUE(first_sweep_done());
  std::vector<std::string> runs;
  for (int i = 0; i < 8; ++i) {
    runs.push_back(env.fake.create_run({.state = "RUNNING"}));
    env.plant({.run_id = runs.back()});
  }
  svc->wake();
  EXPECT_TRUE(wait_until([&] { return env.count(connections) > kAtRest; }, 10s));
  ASSERT_TRUE(wait_until([&] { return std::all_of(runs.begin(), runs.end(), [&](auto& r) { return job_final(r); }); },
                         30s));
  EXPECT_TRUE(wait_until([&] { return env.count(connections) <= kAtRest; }, 10s))
      << env.count(connections) << " connections a while after the last job";

  // The next job opens a connection again.
  const std::string late = env.fake.create_run({.state = "RUNNING"});
  env.plant({.run_id = late});
  svc->wake();
  ASSERT_TRUE(wait_until([&] { return job_final(late); }, 10s));
  EXPECT_EQ(job_value(late, "step"), "done");
  env.fake.set_latency(0ms);
  svc->stop();
}

TEST_F(ReapServiceTest, WakeCallAndNonZeroExitCodeAlsoActAtOnce) {
  const std::string run = env.fake.create_run({.state = "RUNNING"});
  Config c = env.config();
  c.reaper.interval = Duration{30'000};
  auto svc = start(c);
  env.plant({.run_id = run, .state = "released", .expires_in_ms = 20'000, .release_outcome = "exited",
             .exit_code = 137});
  svc->wake();
  ASSERT_TRUE(wait_until([&] { return job_final(run); }, 3s));
  EXPECT_EQ(job_value(run, "reason"), "exit_code");
  EXPECT_NE(std::string(env.states(run, "CRASHED").at(0)["message"]).find("exited with code 137"), std::string::npos);
}

TEST_F(ReapServiceTest, TerminalPausedCancellingAndRescheduledRunsAreLeftAlone) {
  const std::pair<std::string, std::string> cases[] = {{"COMPLETED", "skipped_terminal"},
                                                       {"PAUSED", "skipped_paused"},
                                                       {"CANCELLING", "skipped_cancelling"},
                                                       {"SCHEDULED", "skipped_rescheduled"}};
  std::vector<std::string> runs;
  for (const auto& [state, outcome] : cases) runs.push_back(env.fake.create_run({.state = state, .with_deployment = true}));
  auto svc = start(env.config());
  for (const auto& r : runs) env.plant({.run_id = r, .expires_in_ms = 100});
  for (std::size_t i = 0; i < runs.size(); ++i) {
    ASSERT_TRUE(wait_until([&] { return job_final(runs[i]); }, 10s)) << cases[i].first;
    EXPECT_EQ(job_value(runs[i], "step"), "skipped") << cases[i].first;
    EXPECT_EQ(job_value(runs[i], "outcome"), cases[i].second) << cases[i].first;
    EXPECT_EQ(env.fake.calls_to("POST", "/api/flow_runs/" + runs[i] + "/set_state").size(), 0u) << cases[i].first;
    EXPECT_EQ(env.value("SELECT state FROM lifeline_leases WHERE run_id = '" + runs[i] + "'"), "reaped");
  }
}

TEST_F(ReapServiceTest, TaskRunsAndInProcessSubflowsAreCrashed) {
  const std::string run = env.fake.create_run({.state = "RUNNING", .with_deployment = true});
  const std::string task = env.fake.create_task_run({.flow_run_id = run, .state = "RUNNING", .tags = {"db"}});
  const std::string pending_task = env.fake.create_task_run({.flow_run_id = run, .state = "PENDING"});
  const std::string sub = env.fake.create_run({.state = "RUNNING", .parent_run_id = run});
  const std::string sub_task = env.fake.create_task_run({.flow_run_id = sub, .state = "RUNNING"});
  auto svc = start(env.config());
  env.plant({.run_id = run, .expires_in_ms = 100});
  ASSERT_TRUE(wait_until([&] { return job_final(run); }, 10s));
  for (const auto& t : {task, pending_task, sub_task}) EXPECT_EQ(env.fake.task_run(t)->at("state_type"), "CRASHED") << t;
  EXPECT_EQ(env.fake.flow_run(sub)->at("state_type"), "CRASHED");
  EXPECT_EQ(job_value(run, "freed_task_runs"), "3");
  EXPECT_EQ(job_value(run, "freed_subflows"), "1");
}

TEST_F(ReapServiceTest, ARunWithoutDeploymentIsOnlyCrashed) {
  const std::string run = env.fake.create_run({.state = "RUNNING"});
  auto svc = start(env.config());
  env.plant({.run_id = run, .expires_in_ms = 100});
  ASSERT_TRUE(wait_until([&] { return job_final(run); }, 10s));
  EXPECT_EQ(env.fake.flow_run(run)->at("state_type"), "CRASHED");
  EXPECT_EQ(env.set_state_calls(run, "SCHEDULED"), 0u);
  EXPECT_NE(job_value(run, "note").find("not rescheduled"), std::string::npos);
}

TEST_F(ReapServiceTest, AttemptsAreCappedByTheMatchingPolicy) {
  const std::string run = env.fake.create_run({.state = "RUNNING", .with_deployment = true, .work_pool_name = "gpu"});
  Config c = env.config();
  Policy gpu;
  gpu.work_pool = "gpu";
  gpu.max_attempts = 1;
  c.policies = {gpu};
  env.exec("INSERT INTO lifeline_run_attempts (run_id, attempts) VALUES ('" + run + "', 1)");
  auto svc = start(c);
  env.plant({.run_id = run, .expires_in_ms = 100});
  ASSERT_TRUE(wait_until([&] { return job_final(run); }, 10s));
  EXPECT_EQ(env.fake.flow_run(run)->at("state_type"), "CRASHED");
  EXPECT_EQ(env.set_state_calls(run, "SCHEDULED"), 0u);
  EXPECT_NE(env.value("SELECT string_agg(reason, ' | ') FROM lifeline_audit WHERE run_id = '" + run + "'")
                .find("retries exhausted (1 of 1 used)"),
            std::string::npos);
}

TEST_F(ReapServiceTest, DryRunDecidesButChangesNothingInPrefect) {
  const std::string run = env.fake.create_run({.state = "RUNNING", .with_deployment = true});
  Config c = env.config();
  c.reaper.dry_run = true;
  auto svc = start(c);
  env.plant({.run_id = run, .expires_in_ms = 100});
  ASSERT_TRUE(wait_until([&] { return job_final(run); }, 10s));
  EXPECT_EQ(job_value(run, "outcome"), "dry_run");
  EXPECT_NE(job_value(run, "note").find("would propose CRASHED"), std::string::npos);
  EXPECT_EQ(env.fake.calls_to("POST", "/api/flow_runs/*/set_state").size(), 0u);
  EXPECT_EQ(env.fake.flow_run(run)->at("state_type"), "RUNNING");
}

TEST_F(ReapServiceTest, OrphansAndStuckPendingRunsAreFoundWithoutLeases) {
  const std::string orphan = env.fake.create_run({.state = "RUNNING", .with_deployment = true});
  const std::string pending = env.fake.create_run({.state = "PENDING", .with_deployment = true});
  const std::string leased = env.fake.create_run({.state = "RUNNING", .with_deployment = true});
  Config c = env.config();
  c.reaper.orphan_grace = Duration{500};
  env.plant({.run_id = leased, .expires_in_ms = 60'000});
  auto svc = start(c);
  ASSERT_TRUE(wait_until([&] { return job_final(orphan) && job_final(pending); }, 10s));
  EXPECT_EQ(job_value(orphan, "reason"), "orphan");
  EXPECT_EQ(job_value(pending, "reason"), "stuck_pending");
  EXPECT_EQ(env.fake.flow_run(pending)->at("state_type"), "SCHEDULED");  // crashed, then retried
  EXPECT_NE(std::string(env.states(orphan, "CRASHED").at(0)["message"]).find("no lifeline heartbeat"),
            std::string::npos);
  EXPECT_EQ(env.fake.flow_run(leased)->at("state_type"), "RUNNING");
  EXPECT_EQ(env.count("SELECT count(*) FROM lifeline_reaps WHERE run_id = '" + leased + "'"), 0);
}

// More runs in a state than one sweep reads: later sweeps go on down the list, so an orphan
// on the last page is found (it never was while every sweep read the same first pages).
TEST_F(ReapServiceTest, OrphanSweepGoesOnPastWhatOnePassReads) {
  std::vector<std::string> runs;
  for (int i = 0; i < 2 * prefect::kMaxPageSize + 10; ++i)
    runs.push_back(env.fake.create_run({.state = "RUNNING", .with_deployment = true}));
  // Prefect lists them by id, highest first: the lowest id is on the last page.
  std::sort(runs.begin(), runs.end());
  const std::string orphan = runs.front();
  for (std::size_t i = 1; i < runs.size(); ++i) env.plant({.run_id = runs[i], .expires_in_ms = 120'000});
  Config c = env.config();
  c.reaper.orphan_grace = Duration{500};
  auto s = env.service(c);
  s->set_orphan_pages_per_pass(1);
  s->start();
  ASSERT_TRUE(wait_until([&] { return job_final(orphan); }, 20s));
  EXPECT_EQ(job_value(orphan, "reason"), "orphan");
  EXPECT_EQ(env.count("SELECT count(*) FROM lifeline_reaps"), 1);
}

TEST_F(ReapServiceTest, ExitZeroButStillRunningAfterCompletionGraceIsIncomplete) {
  const std::string stuck = env.fake.create_run({.state = "RUNNING", .with_deployment = true});
  const std::string done = env.fake.create_run({.state = "COMPLETED"});
  Config c = env.config();
  c.leases.completion_grace = Duration{300};
  auto svc = start(c);
  env.plant({.run_id = stuck, .state = "released", .expires_in_ms = 20'000, .release_outcome = "exited", .exit_code = 0});
  env.plant({.run_id = done, .state = "released", .expires_in_ms = 20'000, .release_outcome = "exited", .exit_code = 0});
  ASSERT_TRUE(wait_until([&] { return job_final(stuck); }, 10s));
  EXPECT_EQ(job_value(stuck, "reason"), "incomplete");
  EXPECT_NE(std::string(env.states(stuck, "CRASHED").at(0)["message"]).find("never reported a final state"),
            std::string::npos);
  ASSERT_TRUE(wait_until(
      [&] { return env.value("SELECT state_type FROM lifeline_completion_checks WHERE run_id = '" + done + "'") == "COMPLETED"; },
      10s));
  EXPECT_EQ(env.count("SELECT count(*) FROM lifeline_reaps WHERE run_id = '" + done + "'"), 0);
  EXPECT_EQ(env.value("SELECT state FROM lifeline_leases WHERE run_id = '" + done + "'"), "released");
}

TEST_F(ReapServiceTest, AfterItsOwnOutageTheReaperExtendsLeasesInsteadOfReaping) {
  const std::string run = env.fake.create_run({.state = "RUNNING", .with_deployment = true});
  // Lapsed while no reaper was sweeping (nobody ever swept): the sidecar could not renew.
  env.plant({.run_id = run, .expires_in_ms = -5'000});
  auto svc = start(env.config());
  EXPECT_EQ(env.value("SELECT state FROM lifeline_leases WHERE run_id = '" + run + "'"), "active");
  EXPECT_EQ(env.value("SELECT expires_at > now() + interval '20 seconds' FROM lifeline_leases WHERE run_id = '" + run + "'"),
            "t");
  EXPECT_EQ(env.count("SELECT count(*) FROM lifeline_reaps"), 0);
  EXPECT_EQ(env.fake.calls_to("POST", "/api/flow_runs/*/set_state").size(), 0u);
}

TEST_F(ReapServiceTest, WhileAnotherReplicaKeptSweepingLapsedLeasesAreReaped) {
  const std::string run = env.fake.create_run({.state = "RUNNING"});
  // Expires shortly with a 30 s TTL: a startup extension would push it 30 s away.
  env.plant({.run_id = run, .expires_in_ms = 300});
  env.exec("UPDATE lifeline_reaper_state SET last_sweep_at = now(), last_sweep_by = 'other-replica'");
  auto svc = env.service(env.config());
  svc->start();
  ASSERT_TRUE(wait_until([&] { return job_final(run); }, 10s));
  EXPECT_EQ(env.fake.flow_run(run)->at("state_type"), "CRASHED");
}

TEST_F(ReapServiceTest, PrefectAnswering503ForAWhileLosesNothing) {
  std::vector<std::string> runs;
  for (int i = 0; i < 10; ++i) runs.push_back(env.fake.create_run({.state = "RUNNING", .with_deployment = true}));
  auto svc = start(env.config());
  env.fake.inject(fp::Fault{.path = "/api/**", .status = 503, .for_duration = 1500ms});
  for (const auto& r : runs) env.plant({.run_id = r, .expires_in_ms = 50});
  ASSERT_TRUE(wait_until([&] { return env.count("SELECT count(*) FROM lifeline_reaps WHERE failures > 0") > 0; }, 10s));
  ASSERT_TRUE(wait_until(
      [&] {
        for (const auto& r : runs)
          if (!job_final(r)) return false;
        return true;
      },
      60s));
  for (const auto& r : runs) {
    EXPECT_EQ(env.states(r, "CRASHED").size(), 1u) << r;
    EXPECT_EQ(env.states(r, "SCHEDULED").back()["name"], "AwaitingRetry") << r;
    EXPECT_EQ(job_value(r, "outcome"), "crashed");
  }
  EXPECT_GT(env.metrics.prefect_requests("read_flow_run", "503").Value(), 0);
}

TEST_F(ReapServiceTest, RunStatusAnswersFromCacheAndRefreshesInBatches) {
  const std::string cancelling = env.fake.create_run({.state = "CANCELLING"});
  const std::string completed = env.fake.create_run({.state = "COMPLETED"});
  const std::string running = env.fake.create_run({.state = "RUNNING"});
  auto svc = start(env.config());
  auto& status = svc->run_status();
  EXPECT_FALSE(status.stop_reason(cancelling));  // not known yet: never blocks
  (void)status.stop_reason(completed);
  (void)status.stop_reason(running);
  ASSERT_TRUE(wait_until([&] { return status.stop_reason(cancelling).has_value(); }, 5s));
  EXPECT_FALSE(status.stop_reason(completed));
  EXPECT_FALSE(status.stop_reason(running));
  EXPECT_EQ(env.fake.calls_to("GET", "/api/flow_runs/*").size(), 0u);  // batch filters only
  EXPECT_GE(env.fake.calls_to("POST", "/api/flow_runs/filter").size(), 1u);
  // Crashed by someone else while its pod still runs: stop.
  env.fake.set_flow_run_state(running, fp::Json{{"type", "CRASHED"}, {"name", "Crashed"}});
  ASSERT_TRUE(wait_until([&] { return status.stop_reason(running).has_value(); }, 5s));
}

TEST_F(ReapServiceTest, EmitsAReapedEventWhenAsked) {
  const std::string run = env.fake.create_run({.state = "RUNNING"});
  Config c = env.config();
  c.prefect.emit_events = true;
  auto svc = start(c);
  env.plant({.run_id = run, .expires_in_ms = 100});
  auto reaped_event = [&] {
    for (const auto& e : env.fake.events())
      if (e["event"] == "lifeline.run.reaped" && e["resource"]["prefect.resource.id"] == "prefect.flow-run." + run)
        return true;
    return false;
  };
  EXPECT_TRUE(wait_until(reaped_event, 10s));
}

}  // namespace
}  // namespace lifeline::reaper::reap::testing
