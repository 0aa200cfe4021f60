// Prefect's orchestration rules as pure functions: the answers lifeline relies on.
#include <gtest/gtest.h>

#include "tests/fakes/orchestration.hpp"

namespace lifeline::fake_prefect {
namespace {

using namespace std::chrono_literals;

const WallTime kNow = WallTime{} + std::chrono::hours(24 * 365 * 56);

StateFacts state(StateType t, std::string name = "") {
  StateFacts s;
  s.type = t;
  s.name = name.empty() ? default_state_name(t) : std::move(name);
  return s;
}

FlowRunContext flow_in(StateType t, bool deployment = false) {
  FlowRunContext c;
  c.current = state(t);
  c.has_deployment = deployment;
  c.now = kNow;
  return c;
}

TEST(FlowOrchestration, RunningToCrashedIsAccepted) {
  Decision d = decide_flow_run_transition(flow_in(StateType::Running), state(StateType::Crashed), false);
  EXPECT_EQ(d.status, SetStateStatus::Accept);
  EXPECT_TRUE(d.writes_state());
}

TEST(FlowOrchestration, CrashedFromTerminalStatesIsAborted) {
  for (StateType t : {StateType::Completed, StateType::Failed, StateType::Cancelled, StateType::Crashed}) {
    Decision d = decide_flow_run_transition(flow_in(t), state(StateType::Crashed), false);
    EXPECT_EQ(d.status, SetStateStatus::Abort);
    EXPECT_EQ(d.reason, "Run is already in terminal state " + std::string(to_string(t)) + ".");
    EXPECT_FALSE(d.writes_state());
  }
}

TEST(FlowOrchestration, ForcedCrashOverwritesTerminalStates) {
  Decision d = decide_flow_run_transition(flow_in(StateType::Completed), state(StateType::Crashed), true);
  EXPECT_EQ(d.status, SetStateStatus::Accept);
  EXPECT_FALSE(d.set_retry_type);
}

TEST(FlowOrchestration, CancellingOnlyGoesToCancelled) {
  for (StateType t : {StateType::Crashed, StateType::Running, StateType::Completed, StateType::Scheduled}) {
    Decision d = decide_flow_run_transition(flow_in(StateType::Cancelling), state(t), false);
    EXPECT_EQ(d.status, SetStateStatus::Reject) << to_string(t);
    EXPECT_EQ(d.reason, "Cannot transition flows that are cancelling to a state other than Cancelled.");
  }
  EXPECT_EQ(decide_flow_run_transition(flow_in(StateType::Cancelling), state(StateType::Cancelled), false).status,
            SetStateStatus::Accept);
}

TEST(FlowOrchestration, PausedToCrashedIsAccepted) {
  EXPECT_EQ(decide_flow_run_transition(flow_in(StateType::Paused), state(StateType::Crashed), false).status,
            SetStateStatus::Accept);
}

TEST(FlowOrchestration, CrashedToScheduledNeedsADeployment) {
  Decision without = decide_flow_run_transition(flow_in(StateType::Crashed), state(StateType::Scheduled, "AwaitingRetry"), false);
  EXPECT_EQ(without.status, SetStateStatus::Abort);
  EXPECT_EQ(without.reason, "Cannot reschedule a run without an associated deployment.");

  Decision with = decide_flow_run_transition(flow_in(StateType::Crashed, true), state(StateType::Scheduled, "AwaitingRetry"), false);
  EXPECT_EQ(with.status, SetStateStatus::Accept);
  EXPECT_TRUE(with.set_retry_type);
  EXPECT_EQ(with.retry_type, "reschedule");
  EXPECT_TRUE(with.reset_pause_metadata);
}

TEST(FlowOrchestration, LeavingATerminalStateForPendingClearsRetryType) {
  Decision d = decide_flow_run_transition(flow_in(StateType::Crashed), state(StateType::Pending), false);
  EXPECT_EQ(d.status, SetStateStatus::Accept);
  EXPECT_TRUE(d.set_retry_type);
  EXPECT_EQ(d.retry_type, std::nullopt);
}

TEST(FlowOrchestration, SameTransitionIdAsTheCurrentStateIsRejected) {
  FlowRunContext c = flow_in(StateType::Crashed, true);
  c.current->transition_id = "6b1c2b3e-0000-4000-8000-000000000001";
  StateFacts again = state(StateType::Crashed);
  again.transition_id = c.current->transition_id;
  Decision d = decide_flow_run_transition(c, again, false);
  EXPECT_EQ(d.status, SetStateStatus::Reject);
  EXPECT_EQ(d.reason, "This run has already made this state transition.");
  EXPECT_FALSE(d.writes_state());

  // Once the run moved on, the same proposal is judged afresh.
  FlowRunContext moved = flow_in(StateType::Running, true);
  moved.current->transition_id = "6b1c2b3e-0000-4000-8000-000000000002";
  EXPECT_EQ(decide_flow_run_transition(moved, again, false).status, SetStateStatus::Accept);
}

TEST(FlowOrchestration, RunningWaitsForTheScheduledTime) {
  FlowRunContext c = flow_in(StateType::Pending);
  c.current->scheduled_time = kNow + 29s + 300ms;
  Decision d = decide_flow_run_transition(c, state(StateType::Running), false);
  EXPECT_EQ(d.status, SetStateStatus::Wait);
  EXPECT_EQ(d.delay_seconds, 29);
  EXPECT_EQ(d.reason, "Scheduled time is in the future");
  c.current->scheduled_time = kNow - 1s;
  EXPECT_EQ(decide_flow_run_transition(c, state(StateType::Running), false).status, SetStateStatus::Accept);
}

TEST(FlowOrchestration, PendingFromRunningIsAborted) {
  Decision d = decide_flow_run_transition(flow_in(StateType::Running), state(StateType::Pending), false);
  EXPECT_EQ(d.status, SetStateStatus::Abort);
  EXPECT_EQ(d.reason, "This run is in a RUNNING state and cannot transition to a PENDING state.");
}

TEST(FlowOrchestration, DeploymentSlots) {
  FlowRunContext c = flow_in(StateType::Scheduled, true);
  c.deployment_slot = SlotAvailability::Available;
  Decision take = decide_flow_run_transition(c, state(StateType::Pending), false);
  EXPECT_EQ(take.status, SetStateStatus::Accept);
  EXPECT_TRUE(take.take_deployment_slot);
  EXPECT_TRUE(take.copy_scheduled_time);

  c.deployment_slot = SlotAvailability::Full;
  Decision full = decide_flow_run_transition(c, state(StateType::Pending), false);
  EXPECT_EQ(full.status, SetStateStatus::Reject);
  EXPECT_EQ(full.reason, "Deployment concurrency limit reached.");
  ASSERT_TRUE(full.replacement);
  EXPECT_EQ(full.replacement->name, "AwaitingConcurrencySlot");
  EXPECT_EQ(full.replacement->scheduled_time, kNow + 30s);
  EXPECT_TRUE(full.writes_state());
  EXPECT_FALSE(full.take_deployment_slot);

  for (StateType from : {StateType::Running, StateType::Pending, StateType::Cancelling}) {
    for (StateType to : {StateType::Crashed, StateType::Completed, StateType::Scheduled}) {
      FlowRunContext held = flow_in(from, true);
      for (bool force : {false, true}) {
        Decision d = decide_flow_run_transition(held, state(to), force);
        if (d.writes_state()) {
          EXPECT_TRUE(d.release_deployment_slot) << to_string(from) << "->" << to_string(to);
        }
      }
    }
  }
  EXPECT_FALSE(decide_flow_run_transition(flow_in(StateType::Pending, true), state(StateType::Running), false)
                   .release_deployment_slot);
}

TEST(FlowOrchestration, FailedWithRetriesLeftIsRescheduledInProcess) {
  FlowRunContext c = flow_in(StateType::Running);
  c.retries = 2;
  c.run_count = 1;
  Decision d = decide_flow_run_transition(c, state(StateType::Failed), false);
  EXPECT_EQ(d.status, SetStateStatus::Reject);
  ASSERT_TRUE(d.replacement);
  EXPECT_EQ(d.replacement->name, "AwaitingRetry");
  EXPECT_EQ(d.retry_type, "in_process");
}

TaskRunContext task_in(StateType t, StateType flow = StateType::Running) {
  TaskRunContext c;
  c.current = state(t);
  c.has_flow_run = true;
  c.flow_run_state = state(flow);
  c.now = kNow;
  return c;
}

TEST(TaskOrchestration, FullTagLimitMakesTheTaskWait) {
  TaskRunContext c = task_in(StateType::Pending);
  c.tag_limits.push_back(TagLimitFacts{"x", 1, 1, false});
  Decision d = decide_task_run_transition(c, state(StateType::Running), false);
  EXPECT_EQ(d.status, SetStateStatus::Wait);
  EXPECT_EQ(d.reason, "Concurrency limit reached for tags: x");
  EXPECT_TRUE(d.take_tag_slots.empty());

  c.tag_limits[0].active = 0;
  Decision ok = decide_task_run_transition(c, state(StateType::Running), false);
  EXPECT_EQ(ok.status, SetStateStatus::Accept);
  EXPECT_EQ(ok.take_tag_slots, std::vector<std::string>{"x"});
}

TEST(TaskOrchestration, LeavingRunningReleasesTagSlotsForcedOrNot) {
  for (bool force : {false, true}) {
    Decision d = decide_task_run_transition(task_in(StateType::Running, StateType::Crashed), state(StateType::Crashed), force);
    EXPECT_EQ(d.status, SetStateStatus::Accept);
    EXPECT_TRUE(d.release_tag_slots);
  }
}

TEST(TaskOrchestration, TasksRunOnlyInARunningFlow) {
  Decision d = decide_task_run_transition(task_in(StateType::Pending, StateType::Crashed), state(StateType::Running), false);
  EXPECT_EQ(d.status, SetStateStatus::Abort);
  EXPECT_EQ(d.reason, "The enclosing flow must be running to begin task execution.");
}

TEST(TaskOrchestration, CrashedFromTerminalIsAborted) {
  Decision d = decide_task_run_transition(task_in(StateType::Completed), state(StateType::Crashed), false);
  EXPECT_EQ(d.status, SetStateStatus::Abort);
  EXPECT_EQ(d.reason, "Run is already COMPLETED.");
}

TEST(WaitSeconds, RoundsLikePrefect) {
  EXPECT_EQ(wait_seconds_until(kNow + 29s + 300ms, kNow), 29);
  EXPECT_EQ(wait_seconds_until(kNow + 29s + 700ms, kNow), 30);
  EXPECT_EQ(wait_seconds_until(kNow + 500ms, kNow), 0);
  EXPECT_EQ(wait_seconds_until(kNow - 2s, kNow), -2);
}

}  // namespace
}  // namespace lifeline::fake_prefect
