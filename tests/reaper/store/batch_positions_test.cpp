// Matching the rows PostgreSQL returns to the batch that was sent.
#include <gtest/gtest.h>

#include <vector>

#include "reaper/store/batch_positions.hpp"

namespace lifeline::reaper::store {
namespace {

std::vector<RenewRequest> batch_of(std::initializer_list<const char*> ids) {
  std::vector<RenewRequest> b;
  for (const char* id : ids) b.push_back(RenewRequest{id, "pod", "", 0, Duration{1000}, LeasePhase::running});
  return b;
}

constexpr const char* kA = "0d9c6a2e-5f3b-4c1a-9e8d-7b6a5c4d3e2f";
constexpr const char* kB = "1d9c6a2e-5f3b-4c1a-9e8d-7b6a5c4d3e2f";  // differs only in the first digit
constexpr const char* kC = "0d9c6a2e-5f3b-4c1a-9e8d-7b6a5c4d3e20";
constexpr const char* kD = "2a000000-0000-7000-8000-000000000001";

TEST(BatchPositions, FindsRowsInInputOrderWithRefusedOnesLeftOut) {
  auto b = batch_of({kA, kB, kC, kD});
  BatchPositions p(b);
  EXPECT_EQ(p.find(kA), 0u);
  EXPECT_EQ(p.find(kC), 2u);  // kB was refused by the rules: not returned
  EXPECT_EQ(p.find(kD), 3u);
}

TEST(BatchPositions, FindsRowsInAnyOrder) {
  auto b = batch_of({kA, kB, kC, kD});
  BatchPositions p(b);
  EXPECT_EQ(p.find(kC), 2u);
  EXPECT_EQ(p.find(kA), 0u);  // behind the walk: found through the map
  EXPECT_EQ(p.find(kD), 3u);
  EXPECT_EQ(p.find(kB), 1u);
}

TEST(BatchPositions, AnIdNotInTheBatchIsNotFound) {
  auto b = batch_of({kA, kB});
  BatchPositions p(b);
  EXPECT_EQ(p.find(kC), std::nullopt);
  EXPECT_EQ(p.find(kB), 1u);
  EXPECT_EQ(p.find(""), std::nullopt);
  std::vector<RenewRequest> none;
  BatchPositions empty(none);
  EXPECT_EQ(empty.find(kA), std::nullopt);
}

TEST(BatchPositions, RunIdHashSeparatesIdsThatShareTheirTimePrefix) {
  // Version-7 ids of runs created in the same millisecond share their first 12 digits.
  RunIdHash h;
  EXPECT_NE(h("01890a5d-ac96-774b-bcce-b302099a8057"), h("01890a5d-ac96-774b-bcce-b302099a8058"));
  EXPECT_NE(h(kA), h(kC));
  EXPECT_EQ(h(kA), h(std::string(kA)));
}

}  // namespace
}  // namespace lifeline::reaper::store
