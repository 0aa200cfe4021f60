#include "sidecar/retry_backoff.hpp"

#include <gtest/gtest.h>

namespace lifeline::sidecar {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(RetryBackoff, PolicyScalesWithTheInterval) {
  auto p = BackoffPolicy::for_interval(seconds(5));
  EXPECT_EQ(p.first, milliseconds(250));
  EXPECT_EQ(p.cap, milliseconds(1250));
  EXPECT_EQ(BackoffPolicy::for_interval(milliseconds(100)).first, milliseconds(20));
}

TEST(RetryBackoff, DoublesUpToTheCap) {
  FakeClock clock;
  auto p = BackoffPolicy::for_interval(seconds(5));
  SteadyTime now = clock.steady_now(), next = now + seconds(5);
  EXPECT_EQ(*next_retry(p, 0, now, next, milliseconds(100)), now + milliseconds(250));
  EXPECT_EQ(*next_retry(p, 1, now, next, milliseconds(100)), now + milliseconds(500));
  EXPECT_EQ(*next_retry(p, 2, now, next, milliseconds(100)), now + milliseconds(1000));
  EXPECT_EQ(*next_retry(p, 3, now, next, milliseconds(100)), now + milliseconds(1250));
  EXPECT_EQ(*next_retry(p, 30, now, next, milliseconds(100)), now + milliseconds(1250));
}

TEST(RetryBackoff, NeverRunsIntoTheNextRegularHeartbeat) {
  FakeClock clock;
  auto p = BackoffPolicy::for_interval(seconds(5));
  SteadyTime now = clock.steady_now();
  // 250ms + 2.5s request timeout would end after the next tick 2s away: leave it to the tick.
  EXPECT_FALSE(next_retry(p, 0, now, now + seconds(2), milliseconds(2500)).has_value());
  EXPECT_TRUE(next_retry(p, 0, now, now + seconds(3), milliseconds(2500)).has_value());
}

TEST(RetryBackoff, RetriesInsideOneIntervalStayInsideIt) {
  // Simulate a whole interval of failures that each take the full request timeout.
  FakeClock clock;
  Duration interval = seconds(5), timeout = seconds(1);
  auto p = BackoffPolicy::for_interval(interval);
  SteadyTime tick = clock.steady_now(), next = tick + interval;
  clock.advance(timeout);  // the regular heartbeat timed out
  int retries = 0;
  while (auto at = next_retry(p, retries, clock.steady_now(), next, timeout)) {
    ASSERT_LE(*at + timeout, next);
    clock.advance(*at - clock.steady_now() + timeout);
    ++retries;
  }
  EXPECT_GE(retries, 1);
  EXPECT_LE(clock.steady_now(), next);
}

}  // namespace
}  // namespace lifeline::sidecar
