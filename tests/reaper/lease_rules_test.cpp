#include "reaper/lease_rules.hpp"

#include <gtest/gtest.h>

namespace lifeline::reaper {
namespace {

using namespace std::chrono_literals;

LeaseSnapshot lease(std::string holder, std::int64_t epoch, LeaseState state, bool past_expiry = false) {
  return LeaseSnapshot{std::move(holder), epoch, state, past_expiry};
}

TEST(GrantTtl, ClampsToBounds) {
  LeasesConfig c;
  c.min_ttl = 5s;
  c.max_ttl = 10min;
  EXPECT_EQ(grant_ttl(1s, c), 5s);
  EXPECT_EQ(grant_ttl(30s, c), 30s);
  EXPECT_EQ(grant_ttl(1h, c), 10min);
}

TEST(DecideRenewal, NewLeaseStartsAtEpochOne) {
  auto d = decide_renewal(std::nullopt, "pod-a");
  EXPECT_EQ(d.verdict, RenewVerdict::create);
  EXPECT_EQ(d.epoch, 1);
}

TEST(DecideRenewal, SameHolderRenewsAndKeepsEpoch) {
  auto d = decide_renewal(lease("pod-a", 3, LeaseState::active), "pod-a");
  EXPECT_EQ(d.verdict, RenewVerdict::renew);
  EXPECT_EQ(d.epoch, 3);
  // Past expiry but not yet claimed by the reaper: still the holder's.
  EXPECT_EQ(decide_renewal(lease("pod-a", 3, LeaseState::active, true), "pod-a").verdict, RenewVerdict::renew);
}

TEST(DecideRenewal, OtherHolderConflictsWhileLeaseIsLive) {
  auto d = decide_renewal(lease("pod-a", 2, LeaseState::active), "pod-b");
  EXPECT_EQ(d.verdict, RenewVerdict::conflict);
  EXPECT_NE(d.reason.find("pod-a"), std::string::npos);
  EXPECT_EQ(decide_renewal(lease("pod-a", 2, LeaseState::expired, true), "pod-b").verdict, RenewVerdict::conflict);
}

TEST(DecideRenewal, OtherHolderTakesOverAfterReleaseExpiryOrReap) {
  for (auto l : {lease("pod-a", 2, LeaseState::released), lease("pod-a", 2, LeaseState::reaped),
                 lease("pod-a", 2, LeaseState::active, true)}) {
    auto d = decide_renewal(l, "pod-b");
    EXPECT_EQ(d.verdict, RenewVerdict::take_over);
    EXPECT_EQ(d.epoch, 3);
  }
}

TEST(DecideRenewal, SameHolderOfAClosedLeaseIsToldToStop) {
  auto expired = decide_renewal(lease("pod-a", 1, LeaseState::expired, true), "pod-a");
  EXPECT_EQ(expired.verdict, RenewVerdict::stop);
  EXPECT_NE(expired.reason.find("expired"), std::string::npos);
  auto reaped = decide_renewal(lease("pod-a", 1, LeaseState::reaped), "pod-a");
  EXPECT_EQ(reaped.verdict, RenewVerdict::stop);
  EXPECT_NE(reaped.reason.find("reaped"), std::string::npos);
  EXPECT_EQ(decide_renewal(lease("pod-a", 1, LeaseState::released), "pod-a").verdict, RenewVerdict::stop);
}

TEST(DecideRelease, Rules) {
  EXPECT_EQ(decide_release(std::nullopt, "a").verdict, ReleaseVerdict::not_found);
  EXPECT_EQ(decide_release(lease("a", 1, LeaseState::active), "a").verdict, ReleaseVerdict::release);
  EXPECT_EQ(decide_release(lease("a", 1, LeaseState::active), "b").verdict, ReleaseVerdict::not_holder);
  EXPECT_EQ(decide_release(lease("a", 1, LeaseState::released), "a").verdict, ReleaseVerdict::already_released);
  EXPECT_EQ(decide_release(lease("a", 1, LeaseState::expired), "a").verdict, ReleaseVerdict::closed);
  EXPECT_EQ(decide_release(lease("a", 1, LeaseState::reaped), "a").verdict, ReleaseVerdict::closed);
}

TEST(LeaseEnums, RoundTrip) {
  for (auto s : {LeaseState::active, LeaseState::released, LeaseState::expired, LeaseState::reaped})
    EXPECT_EQ(parse_lease_state(to_string(s)), s);
  EXPECT_FALSE(parse_lease_state("gone"));
  EXPECT_EQ(parse_lease_phase("terminating"), LeasePhase::terminating);
  EXPECT_FALSE(parse_lease_phase("Running"));
  EXPECT_EQ(parse_release_outcome("evicted"), ReleaseOutcome::evicted);
  EXPECT_FALSE(parse_release_outcome("crashed"));
}

}  // namespace
}  // namespace lifeline::reaper
