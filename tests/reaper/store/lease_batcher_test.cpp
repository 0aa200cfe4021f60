// Group commit against a real PostgreSQL: many heartbeats share a round trip, each is
// answered after its batch commits, and an unreachable database is answered at once.
#include "reaper/store/lease_batcher.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

#include "shared/uuid.hpp"
#include "tests/reaper/reaper_harness.hpp"
#include "tests/support/postgres_fixture.hpp"
#include "tests/support/wait.hpp"

namespace lifeline::reaper::store {
namespace {

using namespace std::chrono_literals;
using lifeline::testing::TempPostgres;
using lifeline::testing::wait_until;
using reaper::testing::ReaperHarness;

std::string db_of(const std::string& uri) { return uri.substr(uri.rfind('/') + 1); }

RenewRequest request(const std::string& run, const std::string& holder, std::int64_t seq = 1) {
  return RenewRequest{run, holder, "node-1", seq, Duration{30'000}, LeasePhase::running};
}

// Collects completions posted to the io thread.
struct Answers {
  std::mutex mu;
  std::vector<RenewResult> results;
  std::size_t size() {
    std::lock_guard lk(mu);
    return results.size();
  }
  void add(RenewResult r) {
    std::lock_guard lk(mu);
    results.push_back(std::move(r));
  }
};

TEST(LeaseBatcher, ManyHeartbeatsShareFewRoundTrips) {
  auto uri = TempPostgres::shared().create_database();
  Config config;
  config.database.flush_window = Duration{20};
  config.database.max_batch = 1000;
  ReaperHarness h(uri, config);
  ASSERT_TRUE(wait_until([&] { return h.batcher().available(); }, 10s));

  constexpr int kCount = 600;
  Answers answers;
  std::atomic<int> visible_at_answer{0};
  std::vector<std::string> runs;
  for (int i = 0; i < kCount; ++i) runs.push_back(uuid_v4());
  // A second connection checks, at the moment each answer is delivered, that the
  // renewal is already committed (visible to another session).
  auto probe = PgConnection::connect(uri, Duration{5'000});
  ASSERT_TRUE(probe.ok());
  std::mutex probe_mu;
  for (int i = 0; i < kCount; ++i) {
    h.batcher().async_renew(request(runs[i], "pod-" + std::to_string(i), 7), [&, run = runs[i]](RenewResult r) {
      if (r.status == RenewStatus::renewed) {
        std::lock_guard lk(probe_mu);
        const PgParam p[] = {PgParam::text(run)};
        auto q = probe->exec("SELECT seq FROM lifeline_leases WHERE run_id = $1::uuid", p, Duration{5'000});
        if (q.ok() && q->rows() == 1 && q->integer(0, 0) == 7) ++visible_at_answer;
      }
      answers.add(std::move(r));
    });
  }
  ASSERT_TRUE(wait_until([&] { return answers.size() == kCount; }, 30s));
  for (const auto& r : answers.results) {
    EXPECT_EQ(r.status, RenewStatus::renewed) << r.reason;
    EXPECT_EQ(r.epoch, 1);
  }
  EXPECT_EQ(visible_at_answer.load(), kCount);
  EXPECT_EQ(TempPostgres::shared().query_value("SELECT count(*) FROM lifeline_leases", db_of(uri)),
            std::to_string(kCount));
  // 600 heartbeats submitted together: a handful of round trips, not 600.
  EXPECT_LE(h.batcher().batches_committed(), 10u);
  EXPECT_GE(h.batcher().batches_committed(), 1u);
}

TEST(LeaseBatcher, SameRunTwiceInABatchIsAppliedInOrder) {
  auto uri = TempPostgres::shared().create_database();
  Config config;
  config.database.flush_window = Duration{20};
  ReaperHarness h(uri, config);
  ASSERT_TRUE(wait_until([&] { return h.batcher().available(); }, 10s));
  std::string run = uuid_v4();
  Answers answers;
  h.batcher().async_renew(request(run, "pod-a", 1), [&](RenewResult r) { answers.add(std::move(r)); });
  h.batcher().async_renew(request(run, "pod-a", 2), [&](RenewResult r) { answers.add(std::move(r)); });
  h.batcher().async_renew(request(run, "pod-b", 3), [&](RenewResult r) { answers.add(std::move(r)); });
  ASSERT_TRUE(wait_until([&] { return answers.size() == 3; }, 10s));
  EXPECT_EQ(answers.results[0].status, RenewStatus::renewed);
  EXPECT_EQ(answers.results[1].status, RenewStatus::renewed);
  EXPECT_EQ(answers.results[2].status, RenewStatus::conflict);
  EXPECT_EQ(TempPostgres::shared().query_value("SELECT holder || ' ' || seq FROM lifeline_leases", db_of(uri)),
            "pod-a 2");
}

TEST(LeaseBatcher, UnreachableDatabaseIsAnsweredAtOnceAndRecovers) {
  TempPostgres pg;  // its own cluster: this test stops it
  auto uri = pg.create_database();
  Config config;
  config.database.commit_timeout = Duration{2'000};
  ReaperHarness h(uri, config);
  ASSERT_TRUE(wait_until([&] { return h.batcher().available(); }, 10s));
  Answers first;
  h.batcher().async_renew(request(uuid_v4(), "pod-a"), [&](RenewResult r) { first.add(std::move(r)); });
  ASSERT_TRUE(wait_until([&] { return first.size() == 1; }, 10s));
  EXPECT_EQ(first.results[0].status, RenewStatus::renewed);

  pg.stop();
  // The idle store notices within its ping interval.
  ASSERT_TRUE(wait_until([&] { return !h.batcher().available(); }, 10s));
  EXPECT_EQ(h.metrics().ready().Value(), 0);
  Answers down;
  auto asked = std::chrono::steady_clock::now();
  h.batcher().async_renew(request(uuid_v4(), "pod-b"), [&](RenewResult r) { down.add(std::move(r)); });
  ASSERT_TRUE(wait_until([&] { return down.size() == 1; }, 10s));
  EXPECT_LT(std::chrono::steady_clock::now() - asked, 500ms);
  EXPECT_EQ(down.results[0].status, RenewStatus::unavailable);

  pg.start();
  ASSERT_TRUE(wait_until([&] { return h.batcher().available(); }, 20s));
  EXPECT_EQ(h.metrics().ready().Value(), 1);
  Answers up;
  h.batcher().async_renew(request(uuid_v4(), "pod-c"), [&](RenewResult r) { up.add(std::move(r)); });
  ASSERT_TRUE(wait_until([&] { return up.size() == 1; }, 10s));
  EXPECT_EQ(up.results[0].status, RenewStatus::renewed);
}

}  // namespace
}  // namespace lifeline::reaper::store
