// The lease store against a real PostgreSQL: migrations, the lease rules in SQL
// (renewal, takeover, epochs, conflicts, stop), releases and listings.
#include "reaper/store/lease_store.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "reaper/store/embedded_schema.hpp"
#include "reaper/store/migrator.hpp"
#include "tests/support/postgres_fixture.hpp"
#include "tests/support/wait.hpp"

namespace lifeline::reaper::store {
namespace {

using namespace std::chrono_literals;
using testing::TempPostgres;

constexpr Duration kTimeout{5'000};
const std::string kRun = "11111111-2222-4333-8444-555555555555";
const std::string kRun2 = "11111111-2222-4333-8444-666666666666";

class LeaseStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    uri_ = TempPostgres::shared().create_database();
    auto c = PgConnection::connect(uri_, kTimeout);
    ASSERT_TRUE(c.ok()) << c.error().message;
    conn_.emplace(std::move(*c));
    auto m = apply_migrations(*conn_, embedded_migrations(), kTimeout, log_);
    ASSERT_TRUE(m.ok()) << m.error().message;
    store_.emplace(*conn_);
    ASSERT_TRUE(store_->prepare().ok());
  }

  std::string db() const { return uri_.substr(uri_.rfind('/') + 1); }
  std::string sql(const std::string& q) const { return TempPostgres::shared().query_value(q, db()); }
  void exec(const std::string& q) const { TempPostgres::shared().exec(q, db()); }

  RenewResult renew(const std::string& run, const std::string& holder, Duration ttl = 30s, std::int64_t seq = 1,
                    LeasePhase phase = LeasePhase::running) {
    RenewRequest r{run, holder, "node-1", seq, ttl, phase};
    auto res = store_->renew_batch(std::span<const RenewRequest>(&r, 1), kTimeout);
    EXPECT_TRUE(res.ok()) << res.error().message;
    return res.ok() ? (*res)[0] : RenewResult{};
  }

  SystemClock clock_;
  Logger log_{clock_, "test", LogLevel::warn};
  std::string uri_;
  std::optional<PgConnection> conn_;
  std::optional<LeaseStore> store_;
};

TEST_F(LeaseStoreTest, MigrationsAreRecordedAndIdempotent) {
  EXPECT_EQ(sql("SELECT count(*) FROM lifeline_schema_migrations WHERE version = 1"), "1");
  auto again = apply_migrations(*conn_, embedded_migrations(), kTimeout, log_);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->applied.empty());
  EXPECT_GE(again->schema_version, 1);
  EXPECT_EQ(sql("SELECT reloptions::text FROM pg_class WHERE relname = 'lifeline_leases'"), "{fillfactor=70}");
  // No index on a column a renewal changes (renewed_at, expires_at, seq), so renewals stay
  // HOT: the primary key, the state index, and two partial indexes on columns (and
  // predicates) that change only on release or reap.
  EXPECT_EQ(sql("SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes "
                "WHERE tablename = 'lifeline_leases'"),
            "lifeline_leases_finished_idx,lifeline_leases_pkey,lifeline_leases_state_idx,"
            "lifeline_leases_unsettled_idx");
  for (const char* renewed : {"renewed_at", "expires_at", "seq"})
    EXPECT_EQ(sql(std::string("SELECT count(*) FROM pg_indexes WHERE tablename = 'lifeline_leases' "
                              "AND indexdef LIKE '%") + renewed + "%'"),
              "0")
        << renewed;
}

TEST_F(LeaseStoreTest, ConcurrentMigrationsApplyOnce) {
  std::string uri = TempPostgres::shared().create_database();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0}, applied{0};
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] {
      auto c = PgConnection::connect(uri, kTimeout);
      if (!c) return;
      auto m = apply_migrations(*c, embedded_migrations(), kTimeout, log_);
      if (m) {
        ++ok;
        applied += static_cast<int>(m->applied.size());
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 4);
  EXPECT_EQ(applied.load(), static_cast<int>(embedded_migrations().size()));
}

TEST_F(LeaseStoreTest, CreateThenRenewKeepsEpoch) {
  auto first = renew(kRun, "pod-a", 30s, 1);
  EXPECT_EQ(first.status, RenewStatus::renewed);
  EXPECT_EQ(first.epoch, 1);
  EXPECT_EQ(first.ttl, 30s);
  auto second = renew(kRun, "pod-a", 20s, 2, LeasePhase::terminating);
  EXPECT_EQ(second.status, RenewStatus::renewed);
  EXPECT_EQ(second.epoch, 1);
  EXPECT_EQ(sql("SELECT seq || ' ' || ttl_ms || ' ' || phase || ' ' || state || ' ' || node FROM lifeline_leases"),
            "2 20000 terminating active node-1");
  // expires_at = renewed_at + ttl, both from the database clock.
  EXPECT_EQ(sql("SELECT expires_at - renewed_at = interval '20 seconds' FROM lifeline_leases"), "t");
  EXPECT_EQ(sql("SELECT renewed_at <= now() AND renewed_at > now() - interval '1 minute' FROM lifeline_leases"), "t");
}

TEST_F(LeaseStoreTest, OtherHolderConflictsWhileLive) {
  renew(kRun, "pod-a");
  auto b = renew(kRun, "pod-b");
  EXPECT_EQ(b.status, RenewStatus::conflict);
  EXPECT_NE(b.reason.find("pod-a"), std::string::npos);
  EXPECT_EQ(sql("SELECT holder || ' ' || epoch FROM lifeline_leases"), "pod-a 1");
}

TEST_F(LeaseStoreTest, TakeoverAfterExpiryReleaseOrReapBumpsEpoch) {
  renew(kRun, "pod-a");
  exec("UPDATE lifeline_leases SET expires_at = now() - interval '1 second'");
  auto b = renew(kRun, "pod-b");
  EXPECT_EQ(b.status, RenewStatus::renewed);
  EXPECT_EQ(b.epoch, 2);

  ReleaseRequest rel{kRun, "pod-b", ReleaseOutcome::evicted, std::nullopt};
  ASSERT_EQ(store_->release(rel, kTimeout)->status, ReleaseStatus::released);
  auto c = renew(kRun, "pod-c");
  EXPECT_EQ(c.status, RenewStatus::renewed);
  EXPECT_EQ(c.epoch, 3);
  // The takeover clears the previous holder's release.
  EXPECT_EQ(sql("SELECT coalesce(release_outcome, 'none') || ' ' || state FROM lifeline_leases"), "none active");

  exec("UPDATE lifeline_leases SET state = 'reaped'");
  auto d = renew(kRun, "pod-d");
  EXPECT_EQ(d.status, RenewStatus::renewed);
  EXPECT_EQ(d.epoch, 4);
}

TEST_F(LeaseStoreTest, HolderOfExpiredOrReapedLeaseIsToldToStop) {
  renew(kRun, "pod-a");
  exec("UPDATE lifeline_leases SET state = 'expired', expires_at = now() - interval '1 second'");
  std::string before = sql("SELECT renewed_at::text FROM lifeline_leases");
  auto s = renew(kRun, "pod-a");
  EXPECT_EQ(s.status, RenewStatus::stop);
  EXPECT_NE(s.reason.find("expired"), std::string::npos);
  EXPECT_EQ(sql("SELECT renewed_at::text FROM lifeline_leases"), before);  // nothing renewed
  // A new holder may not take over a lease that is being reaped.
  EXPECT_EQ(renew(kRun, "pod-b").status, RenewStatus::conflict);
  exec("UPDATE lifeline_leases SET state = 'reaped'");
  auto r = renew(kRun, "pod-a");
  EXPECT_EQ(r.status, RenewStatus::stop);
  EXPECT_NE(r.reason.find("reaped"), std::string::npos);
}

TEST_F(LeaseStoreTest, BatchMixesOutcomes) {
  renew(kRun, "pod-a");
  std::vector<RenewRequest> batch = {
      {kRun, "pod-x", "n", 1, 30s, LeasePhase::running},  // conflict
      {kRun2, "pod-y", "n", 1, 30s, LeasePhase::running},  // create
  };
  auto res = store_->renew_batch(batch, kTimeout);
  ASSERT_TRUE(res.ok());
  EXPECT_EQ((*res)[0].status, RenewStatus::conflict);
  EXPECT_EQ((*res)[1].status, RenewStatus::renewed);
  EXPECT_EQ(sql("SELECT count(*) FROM lifeline_leases"), "2");
}

TEST_F(LeaseStoreTest, OneBatchRenewsCreatesTakesOverAndRefuses) {
  const std::string run3 = "11111111-2222-4333-8444-777777777777";
  const std::string run4 = "11111111-2222-4333-8444-888888888888";
  renew(kRun, "pod-a");
  renew(kRun2, "pod-b");
  renew(run4, "pod-e");
  exec("UPDATE lifeline_leases SET expires_at = now() - interval '1 second' WHERE run_id = '" + kRun2 + "'");
  std::vector<RenewRequest> batch = {
      {kRun, "pod-a", "n", 9, 30s, LeasePhase::terminating},  // the holder's own renewal
      {kRun2, "pod-c", "n", 1, 30s, LeasePhase::running},     // takeover of an expired lease
      {run3, "pod-d", "n", 1, 30s, LeasePhase::running},      // a new lease
      {run4, "pod-f", "n", 1, 30s, LeasePhase::running},      // another holder's live lease
  };
  auto res = store_->renew_batch(batch, kTimeout);
  ASSERT_TRUE(res.ok()) << res.error().message;
  EXPECT_EQ((*res)[0].status, RenewStatus::renewed);
  EXPECT_EQ((*res)[0].epoch, 1);
  EXPECT_EQ((*res)[1].status, RenewStatus::renewed);
  EXPECT_EQ((*res)[1].epoch, 2);
  EXPECT_EQ((*res)[2].status, RenewStatus::renewed);
  EXPECT_EQ((*res)[2].epoch, 1);
  EXPECT_EQ((*res)[3].status, RenewStatus::conflict);
  EXPECT_EQ(sql("SELECT string_agg(holder || ':' || epoch || ':' || seq || ':' || phase, ' ' ORDER BY run_id) "
                "FROM lifeline_leases"),
            "pod-a:1:9:terminating pod-c:2:1:running pod-d:1:1:running pod-e:1:1:running");
}

TEST_F(LeaseStoreTest, ARenewalWaitingOnAConcurrentReleaseIsToldToStop) {
  renew(kRun, "pod-a");
  std::string before = sql("SELECT renewed_at::text FROM lifeline_leases");
  auto other = PgConnection::connect(uri_, kTimeout);
  ASSERT_TRUE(other.ok()) << other.error().message;
  ASSERT_TRUE(other->exec("BEGIN", {}, kTimeout).ok());
  ASSERT_TRUE(other->exec("UPDATE lifeline_leases SET state = 'released', released_at = now(), "
                          "release_outcome = 'exited', exit_code = 0",
                          {}, kTimeout).ok());
  // The renewal reads the row as active, then waits for the release's row lock; once the
  // release commits it must judge the row by its new version, not renew it.
  RenewResult result;
  std::thread renewal([&] { result = renew(kRun, "pod-a", 30s, 2); });
  bool waiting = testing::wait_until(
      [&] {
        return sql("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                   "AND wait_event_type = 'Lock'") == "1";
      },
      5s);
  EXPECT_TRUE(other->exec("COMMIT", {}, kTimeout).ok());
  renewal.join();
  ASSERT_TRUE(waiting) << "the renewal never waited on the release's lock";
  EXPECT_EQ(result.status, RenewStatus::stop) << result.reason;
  EXPECT_EQ(sql("SELECT state || ' ' || seq FROM lifeline_leases"), "released 1");
  EXPECT_EQ(sql("SELECT renewed_at::text FROM lifeline_leases"), before);
}

TEST_F(LeaseStoreTest, HolderNamesAreBinarySafe) {
  std::string odd = "pod \"quoted\" {brace},comma\\back'tick";
  EXPECT_EQ(renew(kRun, odd).status, RenewStatus::renewed);
  EXPECT_EQ(sql("SELECT holder FROM lifeline_leases"), odd);
  EXPECT_EQ(renew(kRun, odd).status, RenewStatus::renewed);
}

TEST_F(LeaseStoreTest, ReleaseRules) {
  ReleaseRequest missing{kRun, "pod-a", ReleaseOutcome::exited, 0};
  EXPECT_EQ(store_->release(missing, kTimeout)->status, ReleaseStatus::not_found);
  renew(kRun, "pod-a");
  ReleaseRequest other{kRun, "pod-b", ReleaseOutcome::exited, 0};
  EXPECT_EQ(store_->release(other, kTimeout)->status, ReleaseStatus::conflict);
  ReleaseRequest mine{kRun, "pod-a", ReleaseOutcome::exited, 3};
  auto r = store_->release(mine, kTimeout);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, ReleaseStatus::released);
  EXPECT_EQ(r->epoch, 1);
  EXPECT_EQ(sql("SELECT state || ' ' || release_outcome || ' ' || exit_code || ' ' || (released_at IS NOT NULL) "
                "FROM lifeline_leases"),
            "released exited 3 true");
  EXPECT_EQ(store_->release(mine, kTimeout)->status, ReleaseStatus::already_released);
  // The holder renewing after its release is told to stop.
  EXPECT_EQ(renew(kRun, "pod-a").status, RenewStatus::stop);
}

TEST_F(LeaseStoreTest, ListFilters) {
  renew(kRun, "pod-a");
  renew(kRun2, "pod-b");
  exec("UPDATE lifeline_leases SET state = 'expired' WHERE holder = 'pod-b'");
  LeaseQuery all;
  EXPECT_EQ(store_->list(all, kTimeout)->size(), 2u);
  LeaseQuery expired;
  expired.state = LeaseState::expired;
  auto e = store_->list(expired, kTimeout);
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->size(), 1u);
  EXPECT_EQ((*e)[0].run_id, kRun2);
  EXPECT_EQ((*e)[0].holder, "pod-b");
  EXPECT_EQ((*e)[0].ttl_ms, 30000);
  EXPECT_EQ((*e)[0].expires_at.back(), 'Z');
  LeaseQuery by_holder;
  by_holder.holder = "pod-a";
  EXPECT_EQ(store_->list(by_holder, kTimeout)->size(), 1u);
  LeaseQuery limited;
  limited.limit = 1;
  EXPECT_EQ(store_->list(limited, kTimeout)->size(), 1u);
}

TEST_F(LeaseStoreTest, RenewalsAreHotUpdates) {
  renew(kRun, "pod-a");
  for (int i = 0; i < 50; ++i) renew(kRun, "pod-a", 30s, i + 2);
  // This backend's statistics reach shared memory when it next goes idle.
  ASSERT_TRUE(conn_->exec("SELECT pg_stat_force_next_flush()", {}, kTimeout).ok());
  auto updates = [&] {
    return std::stoi(sql("SELECT coalesce(sum(n_tup_upd), 0) FROM pg_stat_user_tables WHERE relname = 'lifeline_leases'"));
  };
  ASSERT_TRUE(testing::wait_until([&] { return updates() >= 50; }, 5s));
  auto hot = std::stoi(sql("SELECT n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'lifeline_leases'"));
  // Nearly all renewals are HOT (a page that fills up may force the odd non-HOT one).
  EXPECT_GE(hot * 10, updates() * 9) << "hot=" << hot;
}

}  // namespace
}  // namespace lifeline::reaper::store
