// The heartbeat API's non-blocking view of Prefect states, and the orphan selection rules.
#include <gtest/gtest.h>

#include <cstdio>

#include "reaper/reap/orphan_rules.hpp"
#include "reaper/reap/run_status_cache.hpp"

namespace lifeline::reaper::reap {
namespace {

using namespace std::chrono_literals;

prefect::FlowRun run_in(const std::string& id, const std::string& type, WallTime since = {}) {
  prefect::FlowRun r;
  r.id = id;
  r.state = prefect::RunState{"s-" + id, type, type, since, "", "", {}, ""};
  return r;
}

// Run ids as the API hands them over: canonical UUIDs.
std::string run_id(int n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "6f0e2c1a-1111-4222-8333-%012x", n);
  return buf;
}

TEST(RunStatusCache, AnswersAtOnceAndRefreshesAtMostOncePerInterval) {
  FakeClock clock;
  RunStatusCache cache(clock, 10s);
  const std::string a = run_id(1);
  EXPECT_EQ(cache.stop_reason(a), std::nullopt);  // unknown yet: continue
  EXPECT_EQ(cache.stop_reason(a), std::nullopt);
  auto due = cache.take_due(200);
  ASSERT_EQ(due, std::vector<std::string>{a});  // asked twice, read once
  cache.update(due, {run_in(a, "CANCELLING")});
  EXPECT_NE(cache.stop_reason(a), std::nullopt);
  EXPECT_TRUE(cache.take_due(200).empty());  // fresh
  clock.advance(10s);
  EXPECT_NE(cache.stop_reason(a), std::nullopt);  // still the last answer
  EXPECT_EQ(cache.take_due(200), std::vector<std::string>{a});
}

TEST(RunStatusCache, FinishingRunsContinueOthersStop) {
  EXPECT_FALSE(stop_reason_for_state("COMPLETED"));
  EXPECT_FALSE(stop_reason_for_state("FAILED"));
  EXPECT_FALSE(stop_reason_for_state("RUNNING"));
  EXPECT_TRUE(stop_reason_for_state("CANCELLING"));
  EXPECT_TRUE(stop_reason_for_state("CANCELLED"));
  EXPECT_TRUE(stop_reason_for_state("CRASHED"));
}

TEST(RunStatusCache, BatchesAndForgetsRunsLifelineChanged) {
  FakeClock clock;
  RunStatusCache cache(clock, 10s);
  for (int i = 0; i < 450; ++i) (void)cache.stop_reason(run_id(i));
  EXPECT_EQ(cache.take_due(200).size(), 200u);
  EXPECT_EQ(cache.take_due(200).size(), 200u);
  EXPECT_EQ(cache.take_due(200).size(), 50u);
  const std::string r1 = run_id(1);
  cache.update({r1}, {run_in(r1, "CRASHED")});
  EXPECT_TRUE(cache.stop_reason(r1));
  cache.run_changed(r1);  // lifeline rescheduled it: the old answer must not stop the new pod
  EXPECT_FALSE(cache.stop_reason(r1));
  EXPECT_EQ(cache.take_due(200), std::vector<std::string>{r1});
}

TEST(RunStatusCache, DropsRunsNobodyAsksAbout) {
  FakeClock clock;
  RunStatusCache cache(clock, 10s);
  (void)cache.stop_reason(run_id(7));
  cache.update(cache.take_due(10), {});
  clock.advance(31s);
  (void)cache.take_due(10);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(RunStatusCache, KeysAreTheIdsBitsWhateverTheCase) {
  const std::string id = "0123abcd-4567-89ef-fedc-ba9876543210";
  auto key = RunStatusCache::key_of(id);
  ASSERT_TRUE(key);
  EXPECT_EQ(key->hi, 0x0123abcd456789efull);
  EXPECT_EQ(key->lo, 0xfedcba9876543210ull);
  EXPECT_EQ(RunStatusCache::id_of(*key), id);
  EXPECT_EQ(RunStatusCache::key_of("0123ABCD-4567-89EF-FEDC-BA9876543210"), key);

  // Prefect's answer in upper case still updates the entry asked in lower case.
  FakeClock clock;
  RunStatusCache cache(clock, 10s);
  (void)cache.stop_reason(id);
  auto due = cache.take_due(10);
  ASSERT_EQ(due, std::vector<std::string>{id});
  cache.update(due, {run_in("0123ABCD-4567-89EF-FEDC-BA9876543210", "CANCELLED")});
  EXPECT_TRUE(cache.stop_reason(id));
}

TEST(RunStatusCache, AnIdThatIsNotAUuidIsNeverCachedAndContinues) {
  for (std::string bad : {"", "a", "0123abcd-4567-89ef-fedc-ba987654321", "0123abcd-4567-89ef-fedc-ba98765432100",
                          "0123abcd_4567-89ef-fedc-ba9876543210", "0123abcg-4567-89ef-fedc-ba9876543210"})
    EXPECT_FALSE(RunStatusCache::key_of(bad)) << bad;
  FakeClock clock;
  RunStatusCache cache(clock, 10s);
  EXPECT_EQ(cache.stop_reason("not-a-uuid"), std::nullopt);
  cache.run_changed("not-a-uuid");
  EXPECT_TRUE(cache.take_due(10).empty());
  EXPECT_EQ(cache.size(), 0u);
}

TEST(OrphanRules, RunningWithoutLeaseLongerThanTheGrace) {
  Config c;
  c.reaper.orphan_grace = 2min;
  const WallTime now = WallTime{} + 1000h;
  DeploymentNames names;
  std::vector<prefect::FlowRun> runs = {run_in("old", "RUNNING", now - 3min), run_in("young", "RUNNING", now - 1min),
                                        run_in("leased", "RUNNING", now - 3min),
                                        run_in("pending", "PENDING", now - 5min),
                                        run_in("done", "COMPLETED", now - 5min)};
  auto o = select_orphans(runs, {"leased"}, c, names, now);
  ASSERT_EQ(o.size(), 2u);
  EXPECT_EQ(o[0].run_id, "old");
  EXPECT_EQ(o[0].reason, ReapReason::orphan);
  EXPECT_EQ(o[0].state_id, "s-old");
  EXPECT_EQ(o[1].run_id, "pending");
  EXPECT_EQ(o[1].reason, ReapReason::stuck_pending);
}

TEST(OrphanRules, APolicyMayDisableOrShortenTheGrace) {
  Config c;
  c.reaper.orphan_grace = 2min;
  Policy off;
  off.work_pool = "legacy";
  off.orphan_grace = 0s;
  Policy quick;
  quick.work_pool = "fast";
  quick.orphan_grace = 30s;
  c.policies = {off, quick};
  const WallTime now = WallTime{} + 1000h;
  auto legacy = run_in("legacy-run", "RUNNING", now - 1h);
  legacy.work_pool_name = "legacy";
  auto fast = run_in("fast-run", "RUNNING", now - 40s);
  fast.work_pool_name = "fast";
  DeploymentNames names;
  auto o = select_orphans({legacy, fast}, {}, c, names, now);
  ASSERT_EQ(o.size(), 1u);
  EXPECT_EQ(o[0].run_id, "fast-run");
  EXPECT_EQ(shortest_orphan_grace(c), 30s);
  c.reaper.orphan_grace = 0s;
  c.policies.clear();
  EXPECT_EQ(shortest_orphan_grace(c), 0s);
}

}  // namespace
}  // namespace lifeline::reaper::reap
