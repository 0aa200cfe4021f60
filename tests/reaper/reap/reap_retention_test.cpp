// Bounded sweeps and retention against a real PostgreSQL: released leases both sweeps are
// done with become `settled` (and leave the index the sweeps read), and rows older than
// [reaper] retention are deleted oldest first, a lease row only after its run's jobs and
// checks are gone.
#include <gtest/gtest.h>

#include "reaper/reap/reap_store.hpp"
#include "tests/reaper/reap/reap_test_env.hpp"

namespace lifeline::reaper::reap::testing {
namespace {

constexpr Duration kWeek{7LL * 24 * 3600 * 1000};

class ReapRetention : public ReapStoreFixture {
 protected:
  bool settled(const std::string& run) {
    return env_.value("SELECT settled FROM lifeline_leases WHERE run_id = '" + run + "'") == "t";
  }
  std::int64_t rows(const std::string& table, const std::string& run) {
    return env_.count("SELECT count(*) FROM " + table + " WHERE run_id = '" + run + "'");
  }
  // A run whose whole story ended `days` ago: a reaped lease, its finished job, an audit
  // row and a retry count.
  void plant_finished_run(const std::string& run, int days) {
    const std::string ago = "now() - interval '" + std::to_string(days) + " days'";
    env_.plant({.run_id = run, .state = "reaped"});
    env_.exec("UPDATE lifeline_leases SET state_changed_at = " + ago + " WHERE run_id = '" + run + "'");
    env_.exec("INSERT INTO lifeline_reaps (run_id, job_key, lease_epoch, reason, step, outcome, detected_at, "
              "finished_at) VALUES ('" + run + "', 'lease:1', 1, 'expired', 'done', 'crashed', " + ago + ", " + ago + ")");
    env_.exec("INSERT INTO lifeline_audit (at, run_id, step, decision) VALUES (" + ago + ", '" + run +
              "', 'crashing', 'crash')");
    env_.exec("INSERT INTO lifeline_run_attempts (run_id, attempts, last_scheduled_at) VALUES ('" + run + "', 1, " +
              ago + ")");
  }
};

TEST_F(ReapRetention, AFailedReleaseIsSettledOnceItsJobExists) {
  const std::string run = env_.fake.create_run({.state = "RUNNING"});
  env_.plant({.run_id = run, .state = "released", .release_outcome = "evicted"});
  EXPECT_FALSE(settled(run));
  auto d = store_->detect(100);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->released, 1);
  EXPECT_EQ(rows("lifeline_reaps", run), 1);
  // The job was inserted by the same statement; the next sweep settles the lease.
  ASSERT_TRUE(store_->detect(100));
  EXPECT_TRUE(settled(run));
  auto again = store_->detect(100);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->released, 0);
  EXPECT_EQ(rows("lifeline_reaps", run), 1);
}

TEST_F(ReapRetention, ACleanReleaseIsSettledByItsCompletionCheckAndNotOfferedAgain) {
  const std::string run = env_.fake.create_run({.state = "COMPLETED"});
  env_.plant({.run_id = run, .state = "released", .release_outcome = "exited", .exit_code = 0, .released_ms_ago = 5000});
  ASSERT_TRUE(store_->detect(100));
  EXPECT_FALSE(settled(run)) << "no check yet: the completion sweep still needs it";
  auto c = store_->completion_candidates(Duration{1000}, 10);
  ASSERT_TRUE(c);
  ASSERT_EQ(c->size(), 1u);
  ASSERT_TRUE(store_->record_completion_check(run, 1, "COMPLETED"));
  ASSERT_TRUE(store_->detect(100));
  EXPECT_TRUE(settled(run));
  auto none = store_->completion_candidates(Duration{1000}, 10);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_F(ReapRetention, OldFinishedRowsGoAndEverythingElseStays) {
  const std::string old_run = env_.fake.create_run({.state = "COMPLETED"});
  const std::string recent_run = env_.fake.create_run({.state = "COMPLETED"});
  plant_finished_run(old_run, 10);
  plant_finished_run(recent_run, 1);
  // Old, but not finished: an unsettled release, a long-lived active lease, an open job.
  const std::string unsettled = env_.fake.create_run({.state = "RUNNING"});
  env_.plant({.run_id = unsettled, .state = "released", .release_outcome = "exited", .exit_code = 0});
  const std::string active = env_.fake.create_run({.state = "RUNNING"});
  env_.plant({.run_id = active, .expires_in_ms = 60'000});
  const std::string open_job = env_.fake.create_run({.state = "RUNNING"});
  env_.plant({.run_id = open_job, .state = "expired"});
  env_.exec("INSERT INTO lifeline_reaps (run_id, job_key, lease_epoch, reason, step, detected_at) VALUES ('" +
            open_job + "', 'lease:1', 1, 'expired', 'crashing', now() - interval '10 days')");
  env_.exec("UPDATE lifeline_leases SET state_changed_at = now() - interval '10 days', "
            "created_at = now() - interval '10 days'");

  // Pass 1: the old job, audit row go; the lease still had its job in the statement's snapshot.
  auto p1 = store_->purge(kWeek, 1000);
  ASSERT_TRUE(p1) << p1.error().message;
  EXPECT_EQ(p1->jobs, 1);
  EXPECT_EQ(p1->audit, 1);
  EXPECT_EQ(p1->leases, 0);
  EXPECT_EQ(rows("lifeline_leases", old_run), 1);
  // Pass 2: the lease, now without jobs; pass 3: the retry count of a run without a lease.
  auto p2 = store_->purge(kWeek, 1000);
  ASSERT_TRUE(p2);
  EXPECT_EQ(p2->leases, 1);
  EXPECT_EQ(p2->run_attempts, 0);
  auto p3 = store_->purge(kWeek, 1000);
  ASSERT_TRUE(p3);
  EXPECT_EQ(p3->run_attempts, 1);
  EXPECT_EQ(store_->purge(kWeek, 1000)->total(), 0);

  for (const char* table : {"lifeline_leases", "lifeline_reaps", "lifeline_audit", "lifeline_run_attempts"}) {
    EXPECT_EQ(rows(table, old_run), 0) << table;
    EXPECT_EQ(rows(table, recent_run), 1) << table;
  }
  EXPECT_EQ(rows("lifeline_leases", unsettled), 1);
  EXPECT_EQ(rows("lifeline_leases", active), 1);
  EXPECT_EQ(rows("lifeline_leases", open_job), 1);
  EXPECT_EQ(rows("lifeline_reaps", open_job), 1);
}

TEST_F(ReapRetention, EachPassDeletesAtMostItsLimitOldestFirst) {
  for (int i = 0; i < 30; ++i)
    env_.exec("INSERT INTO lifeline_audit (at, run_id, step, decision) VALUES (now() - interval '" +
              std::to_string(10 + i) + " days', gen_random_uuid(), 'crashing', 'crash')");
  auto p = store_->purge(kWeek, 10);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->audit, 10);
  EXPECT_EQ(env_.count("SELECT count(*) FROM lifeline_audit WHERE at < now() - interval '29 days 12 hours'"), 0)
      << "the oldest went first";
  EXPECT_EQ(env_.count("SELECT count(*) FROM lifeline_audit"), 20);
}

}  // namespace
}  // namespace lifeline::reaper::reap::testing
