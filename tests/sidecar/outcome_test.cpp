#include "sidecar/outcome.hpp"

#include <gtest/gtest.h>

namespace lifeline::sidecar {
namespace {

Ending exec_ending(std::optional<int> code) {
  Ending e;
  e.verb = Verb::exec;
  e.workload_code = code;
  return e;
}

TEST(Outcome, ExecPassesTheChildStatusThrough) {
  auto e = exec_ending(7);
  EXPECT_EQ(decide_exit_status(e), 7);
  auto r = decide_release(e);
  EXPECT_EQ(r.outcome, ReleaseOutcome::exited);
  EXPECT_EQ(r.exit_code, 7);
}

TEST(Outcome, UnreachableIs3AndStopIs4) {
  auto e = exec_ending(143);
  e.cause = StopCause::unreachable;
  EXPECT_EQ(decide_exit_status(e), 3);
  EXPECT_EQ(decide_release(e).outcome, ReleaseOutcome::evicted);
  e.cause = StopCause::stop_directive;
  EXPECT_EQ(decide_exit_status(e), 4);
  e.verb = Verb::run;
  EXPECT_EQ(decide_exit_status(e), 4);
}

TEST(Outcome, EvictionReleasesEvictedUnlessTheWorkloadFinishedCleanly) {
  auto e = exec_ending(143);
  e.terminating = true;
  EXPECT_EQ(decide_release(e).outcome, ReleaseOutcome::evicted);
  EXPECT_EQ(decide_release(e).exit_code, 143);
  EXPECT_EQ(decide_exit_status(e), 143);
  e.workload_code = 0;
  EXPECT_EQ(decide_release(e).outcome, ReleaseOutcome::exited);
}

TEST(Outcome, RunModeExitsZeroAndReportsUnknownAsZero) {
  Ending e;
  e.verb = Verb::run;
  EXPECT_EQ(decide_exit_status(e), 0);
  EXPECT_EQ(decide_release(e).outcome, ReleaseOutcome::exited);
  EXPECT_EQ(decide_release(e).exit_code, 0);
  e.workload_code = 137;  // seen as a zombie: SIGKILLed
  EXPECT_EQ(decide_release(e).exit_code, 137);
  EXPECT_EQ(decide_exit_status(e), 0);
  e.terminating = true;
  e.workload_code.reset();
  EXPECT_EQ(decide_release(e).outcome, ReleaseOutcome::evicted);
}

TEST(Outcome, NeverStartedWorkload) {
  Ending e;
  e.verb = Verb::exec;
  e.started = false;
  e.cause = StopCause::unreachable;
  EXPECT_EQ(decide_exit_status(e), 3);
  EXPECT_EQ(decide_release(e).outcome, ReleaseOutcome::evicted);
  e.cause = StopCause::none;
  e.terminating = true;
  EXPECT_EQ(decide_exit_status(e), 143);
}

}  // namespace
}  // namespace lifeline::sidecar
