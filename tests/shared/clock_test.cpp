#include "shared/clock.hpp"

#include <gtest/gtest.h>

using namespace lifeline;
using namespace std::chrono_literals;

TEST(FakeClock, MovesOnlyWhenAdvanced) {
  FakeClock c;
  auto s0 = c.steady_now();
  auto w0 = c.wall_now();
  EXPECT_EQ(c.steady_now(), s0);
  c.advance(1500ms);
  EXPECT_EQ(c.steady_now() - s0, 1500ms);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(c.wall_now() - w0), 1500ms);
}
