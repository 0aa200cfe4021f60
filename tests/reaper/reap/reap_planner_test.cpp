// The reap decisions on a fake clock: what is skipped and why, crash proposals and their
// deterministic transition ids, resumption, and when a retry is scheduled.
#include <gtest/gtest.h>

#include "reaper/reap/reap_planner.hpp"
#include "reaper/reap/transition_ids.hpp"
#include "shared/time_format.hpp"

namespace lifeline::reaper::reap {
namespace {

using prefect::FlowRun;
using prefect::RunState;
using namespace std::chrono_literals;

const std::string kRun = "14d7c629-90d3-468e-a1b7-71ed2f9956b3";
const std::string kRunning = "01a208c8-5162-7b0d-b99c-c70b367bf7fa";

class PlannerTest : public ::testing::Test {
 protected:
  PlannerTest() {
    job.run_id = kRun;
    job.job_key = "lease:1";
    job.lease_epoch = 1;
    job.holder = "flow-run-abc-xyz12";
    job.node = "node-7";
    job.ttl = 30s;
    job.last_renewed_at = *parse_rfc3339("2026-11-23T14:02:11Z");
    job.detected_at = *job.last_renewed_at + 30s;
    ctx.now = job.detected_at + 1s;
    ctx.policy.max_attempts = 3;
    ctx.policy.delay = 10s;
    ctx.policy.max_delay = 5min;
    ctx.policy.multiplier = 2.0;
    ctx.policy.jitter = 0.0;
    ctx.policy.orphan_grace = 2min;
    run.id = kRun;
    run.deployment_id = "a7ed5eee-1112-4740-b37f-2b898179bbab";
    run.state = RunState{kRunning, "RUNNING", "Running", *job.last_renewed_at - 5min, "", "", {}, ""};
  }
  ReapJob job;
  PlanContext ctx;
  FlowRun run;
  FakeClock clock;
};

TEST_F(PlannerTest, ExpiredLeaseOfARunningRunProposesCrashedWithTheContractMessage) {
  auto a = plan_step(job, &run, ctx);
  ASSERT_EQ(a.kind, ActionKind::crash);
  EXPECT_EQ(a.message,
            "lifeline: no heartbeat from pod flow-run-abc-xyz12 on node node-7 since 2026-11-23T14:02:11Z (lease ttl 30s)");
  EXPECT_EQ(a.transition_id, transition_id(kRun, kRunning, "crash"));
  EXPECT_EQ(a.seen_state_id, kRunning);
  EXPECT_EQ(a.deployment_id, run.deployment_id);
}

TEST_F(PlannerTest, SkipsEveryStateLifelineMustNotTouch) {
  const std::pair<std::string, std::string> cases[] = {
      {"COMPLETED", "skipped_terminal"}, {"FAILED", "skipped_terminal"},     {"CANCELLED", "skipped_terminal"},
      {"CRASHED", "skipped_terminal"},   {"PAUSED", "skipped_paused"},       {"CANCELLING", "skipped_cancelling"},
      {"SCHEDULED", "skipped_rescheduled"}};
  for (const auto& [type, outcome] : cases) {
    run.state->type = type;
    auto a = plan_step(job, &run, ctx);
    EXPECT_EQ(a.kind, ActionKind::skip) << type;
    EXPECT_EQ(a.outcome, outcome) << type;
    EXPECT_FALSE(a.why.empty());
  }
}

TEST_F(PlannerTest, AMissingRunIsSkippedAsNotFound) {
  auto a = plan_step(job, nullptr, ctx);
  EXPECT_EQ(a.kind, ActionKind::skip);
  EXPECT_EQ(a.outcome, "not_found");
}

TEST_F(PlannerTest, ARunThatStartedAgainAfterTheLeaseEndedBelongsToANewerAttempt) {
  run.state->timestamp = job.detected_at + 20s;
  auto a = plan_step(job, &run, ctx);
  EXPECT_EQ(a.kind, ActionKind::skip);
  EXPECT_EQ(a.outcome, "skipped_rescheduled");
  run.state->timestamp = job.detected_at + 1s;  // within the clock slack: same incarnation
  EXPECT_EQ(plan_step(job, &run, ctx).kind, ActionKind::crash);
}

TEST_F(PlannerTest, APendingRunWhosePodDiedIsCrashed) {
  run.state->type = "PENDING";
  EXPECT_EQ(plan_step(job, &run, ctx).kind, ActionKind::crash);
}

TEST_F(PlannerTest, EachReasonHasItsOwnMessage) {
  job.reason = ReapReason::evicted;
  EXPECT_NE(plan_step(job, &run, ctx).message.find("was terminated (evicted)"), std::string::npos);
  job.reason = ReapReason::exit_code;
  job.exit_code = 137;
  EXPECT_NE(plan_step(job, &run, ctx).message.find("exited with code 137"), std::string::npos);
  job.reason = ReapReason::incomplete;
  job.exit_code = 0;
  ctx.completion_grace = 60s;
  EXPECT_NE(plan_step(job, &run, ctx).message.find("never reported a final state (completion grace 1m0s)"),
            std::string::npos);
  job.reason = ReapReason::orphan;
  job.seen_state_id = kRunning;
  EXPECT_EQ(plan_step(job, &run, ctx).message,
            "lifeline: run RUNNING since 2026-11-23T13:57:11Z with no lifeline heartbeat (orphan grace 2m0s)");
  job.reason = ReapReason::stuck_pending;
  run.state->type = "PENDING";
  EXPECT_NE(plan_step(job, &run, ctx).message.find("PENDING since"), std::string::npos);
}

TEST_F(PlannerTest, AnOrphanIsCrashedOnlyInTheStateTheSweepSaw) {
  job.reason = ReapReason::orphan;
  job.job_key = "orphan:" + kRunning;
  job.lease_epoch = 0;
  job.seen_state_id = kRunning;
  EXPECT_EQ(plan_step(job, &run, ctx).kind, ActionKind::crash);
  run.state->id = "01a208c8-0000-7000-8000-000000000000";
  EXPECT_EQ(plan_step(job, &run, ctx).outcome, "skipped_rescheduled");
}

TEST_F(PlannerTest, AResumedCrashRecognisesItsOwnCrashedState) {
  job.step = ReapStep::crashing;
  job.seen_state_id = kRunning;
  job.crash_transition_id = transition_id(kRun, kRunning, "crash");
  // Sent but not recorded: the run shows our transition id.
  run.state = RunState{"c1", "CRASHED", "Crashed", job.detected_at + 2s, "", job.crash_transition_id, {}, ""};
  EXPECT_EQ(plan_step(job, &run, ctx).kind, ActionKind::free_slots);
  // Not sent yet: the run is still in the Running state seen: propose again, same id.
  run.state = RunState{kRunning, "RUNNING", "Running", job.detected_at - 5min, "", "", {}, ""};
  auto a = plan_step(job, &run, ctx);
  EXPECT_EQ(a.kind, ActionKind::crash);
  EXPECT_EQ(a.transition_id, job.crash_transition_id);
  // Someone else crashed it meanwhile: leave it.
  run.state = RunState{"other", "CRASHED", "Crashed", job.detected_at + 2s, "", "", {}, ""};
  EXPECT_EQ(plan_step(job, &run, ctx).kind, ActionKind::skip);
}

TEST_F(PlannerTest, ReschedulesOnlyFromTheCrashedStateLifelineWrote) {
  job.step = ReapStep::rescheduling;
  job.seen_state_id = kRunning;
  job.crash_transition_id = transition_id(kRun, kRunning, "crash");
  job.crashed_state_id = "c1";
  job.retry_transition_id = transition_id(kRun, kRunning, "reschedule");
  job.scheduled_time = ctx.now + 10s;
  job.retry_message = "lifeline: retry 1 of 3 after crash (expired)";
  run.state = RunState{"c1", "CRASHED", "Crashed", ctx.now, "", job.crash_transition_id, {}, ""};
  auto a = plan_step(job, &run, ctx);
  ASSERT_EQ(a.kind, ActionKind::reschedule);
  EXPECT_EQ(a.transition_id, job.retry_transition_id);
  EXPECT_EQ(a.scheduled_time, job.scheduled_time);
  EXPECT_EQ(a.message, job.retry_message);

  run.state = RunState{"s1", "SCHEDULED", "AwaitingRetry", ctx.now, "", job.retry_transition_id, {}, ""};
  a = plan_step(job, &run, ctx);
  EXPECT_EQ(a.kind, ActionKind::finish);
  EXPECT_TRUE(a.retry_applied);

  run.state = RunState{"p1", "PENDING", "Pending", ctx.now, "", "", {}, ""};
  a = plan_step(job, &run, ctx);
  EXPECT_EQ(a.kind, ActionKind::finish);
  EXPECT_FALSE(a.retry_applied);
}

TEST_F(PlannerTest, RetryIsDecidedByPolicyAttemptsAndDeployment) {
  job.seen_state_id = kRunning;
  job.deployment_id = run.deployment_id;
  auto d = decide_retry(job, ctx);
  ASSERT_TRUE(d.retry);
  EXPECT_EQ(d.attempt, 1);
  EXPECT_EQ(*d.scheduled_time, ctx.now + 10s);
  EXPECT_EQ(d.transition_id, transition_id(kRun, kRunning, "reschedule"));
  EXPECT_EQ(d.message, "lifeline: retry 1 of 3 after crash (expired)");

  ctx.retries_used = 2;
  d = decide_retry(job, ctx);
  ASSERT_TRUE(d.retry);
  EXPECT_EQ(*d.scheduled_time, ctx.now + 40s);  // 10 s x 2^2

  ctx.retries_used = 3;
  d = decide_retry(job, ctx);
  EXPECT_FALSE(d.retry);
  EXPECT_NE(d.why.find("exhausted"), std::string::npos);

  ctx.retries_used = 0;
  job.deployment_id.clear();
  d = decide_retry(job, ctx);
  EXPECT_FALSE(d.retry);
  EXPECT_NE(d.why.find("no deployment"), std::string::npos);

  job.deployment_id = run.deployment_id;
  ctx.policy.max_attempts = 0;
  EXPECT_FALSE(decide_retry(job, ctx).retry);
}

TEST(ProposalApplied, AcceptOrTheDuplicateRejectGoOnAnythingElseStops) {
  prefect::OrchestrationResult r;
  r.status = "ACCEPT";
  EXPECT_TRUE(proposal_applied(r));
  r.status = "REJECT";
  r.reason = "This run has already made this state transition.";
  EXPECT_TRUE(proposal_applied(r));
  r.reason = "Run is in CANCELLING state.";
  EXPECT_FALSE(proposal_applied(r));
  r.status = "ABORT";
  r.reason = "Run is already in terminal state COMPLETED.";
  EXPECT_FALSE(proposal_applied(r));
}

TEST(TransitionIds, AreDeterministicAndDistinctPerStep) {
  const auto a = transition_id(kRun, kRunning, "crash");
  EXPECT_EQ(a, transition_id(kRun, kRunning, "crash"));
  EXPECT_NE(a, transition_id(kRun, kRunning, "reschedule"));
  EXPECT_NE(a, transition_id(kRun, "01a208c8-0000-7000-8000-000000000000", "crash"));
  EXPECT_EQ(a.size(), 36u);
  EXPECT_EQ(a[14], '5');  // version 5
}

}  // namespace
}  // namespace lifeline::reaper::reap
