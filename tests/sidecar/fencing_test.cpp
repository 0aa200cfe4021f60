#include "sidecar/fencing.hpp"

#include <gtest/gtest.h>

namespace lifeline::sidecar {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(Fencing, MarginIsOneSecondOrFivePercent) {
  EXPECT_EQ(fencing::drift_margin(seconds(10)), seconds(1));
  EXPECT_EQ(fencing::drift_margin(seconds(30)), milliseconds(1500));
  EXPECT_EQ(fencing::drift_margin(seconds(600)), seconds(30));
}

TEST(Fencing, DeadlineIsLastAckPlusTtlMinusMarginMinusGrace) {
  FakeClock clock;
  SteadyTime sent = clock.steady_now();
  // 30s - 1.5s margin - 10s grace = 18.5s after the acknowledged send.
  EXPECT_EQ(fencing::stop_deadline(sent, seconds(30), seconds(10)), sent + milliseconds(18'500));
  // The workload is dead (SIGKILL at the latest) before the reaper's earliest action.
  SteadyTime dead_by = fencing::stop_deadline(sent, seconds(30), seconds(10)) + seconds(10);
  EXPECT_LT(dead_by, sent + seconds(30));
}

TEST(Fencing, DefaultsPass) {
  EXPECT_TRUE(fencing::check(seconds(5), seconds(30), seconds(10), milliseconds(2500)).ok());
}

TEST(Fencing, IntervalTooCloseToTtlIsRefusedWithTheNumbers) {
  auto r = fencing::check(seconds(10), seconds(30), seconds(10), seconds(5));
  ASSERT_FALSE(r.ok());
  const std::string& m = r.error().message;
  EXPECT_NE(m.find("18.5s"), std::string::npos) << m;  // the budget
  EXPECT_NE(m.find("25s"), std::string::npos) << m;    // what is needed: 2 x 10s + 5s
  EXPECT_NE(m.find("--ttl"), std::string::npos) << m;
}

TEST(Fencing, KillGraceLongerThanTtlIsRefused) {
  EXPECT_FALSE(fencing::check(seconds(1), seconds(10), seconds(20), milliseconds(500)).ok());
}

TEST(Fencing, BoundaryIsInclusive) {
  // budget = 10s - 1s - 1s = 8s; needed = 2 x 3.5s + 1s = 8s.
  EXPECT_TRUE(fencing::check(milliseconds(3500), seconds(10), seconds(1), seconds(1)).ok());
  EXPECT_FALSE(fencing::check(milliseconds(3501), seconds(10), seconds(1), seconds(1)).ok());
}

TEST(Fencing, SmallerGrantedTtlShortensTheInterval) {
  // Asked 30s, granted 12s: budget 12 - 1 - 2 = 9s; (9s - 1s) / 2 = 4s.
  auto r = fencing::fit_interval(seconds(5), seconds(12), seconds(2), seconds(1));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, seconds(4));
  EXPECT_TRUE(fencing::check(*r, seconds(12), seconds(2), seconds(1)).ok());
}

TEST(Fencing, GrantThatFitsKeepsTheConfiguredInterval) {
  auto r = fencing::fit_interval(seconds(5), seconds(60), seconds(10), seconds(1));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, seconds(5));
}

TEST(Fencing, GrantTooSmallForAnyIntervalIsAnError) {
  EXPECT_FALSE(fencing::fit_interval(seconds(5), seconds(5), seconds(10), seconds(1)).ok());
}

}  // namespace
}  // namespace lifeline::sidecar
