// The orphan sweep's cursor over Prefect's pages of runs in one state.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "reaper/reap/sweep_cursor.hpp"

namespace lifeline::reaper::reap {
namespace {

// One pass over a list of `total` runs: the offsets it reads.
std::vector<int> pass(SweepCursor& c, int total, int page_size) {
  std::vector<int> offsets;
  c.begin_pass();
  int offset = c.offset();
  for (;;) {
    offsets.push_back(offset);
    int rows = std::max(0, std::min(page_size, total - offset));
    if (!c.page_read(static_cast<std::size_t>(rows), offset)) break;
  }
  return offsets;
}

TEST(SweepCursor, AListThatFitsInOnePassIsReadWholeEveryPass) {
  SweepCursor c(200, 50);
  EXPECT_EQ(pass(c, 450, 200), (std::vector<int>{0, 200, 400}));
  EXPECT_EQ(pass(c, 450, 200), (std::vector<int>{0, 200, 400}));
  EXPECT_EQ(pass(c, 0, 200), (std::vector<int>{0}));
}

TEST(SweepCursor, ALongerListIsCoveredOverSeveralPassesThenStartedOver) {
  SweepCursor c(200, 2);
  EXPECT_EQ(pass(c, 1000, 200), (std::vector<int>{0, 200}));
  EXPECT_EQ(pass(c, 1000, 200), (std::vector<int>{400, 600}));
  // 800 is a full page, 1000 an empty one: the end.
  EXPECT_EQ(pass(c, 1000, 200), (std::vector<int>{800, 1000}));
  EXPECT_EQ(c.offset(), 0);
  EXPECT_EQ(pass(c, 1000, 200), (std::vector<int>{0, 200}));
}

TEST(SweepCursor, AListThatShrankBelowTheCursorStartsOver) {
  SweepCursor c(200, 1);
  EXPECT_EQ(pass(c, 1000, 200), (std::vector<int>{0}));
  EXPECT_EQ(pass(c, 1000, 200), (std::vector<int>{200}));
  EXPECT_EQ(pass(c, 100, 200), (std::vector<int>{400}));  // nothing there any more
  EXPECT_EQ(pass(c, 100, 200), (std::vector<int>{0}));
}

TEST(SweepCursor, AFailedPassIsRepeatedFromWhereItBegan) {
  SweepCursor c(200, 2);
  EXPECT_EQ(pass(c, 1000, 200), (std::vector<int>{0, 200}));
  c.begin_pass();
  int offset = c.offset();
  EXPECT_EQ(offset, 400);
  EXPECT_TRUE(c.page_read(200, offset));
  EXPECT_EQ(offset, 600);
  c.pass_failed();  // e.g. the next page or the lease read failed
  EXPECT_EQ(pass(c, 1000, 200), (std::vector<int>{400, 600}));
}

}  // namespace
}  // namespace lifeline::reaper::reap
