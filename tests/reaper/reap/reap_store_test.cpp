// The reap pipeline's job records against a real PostgreSQL: a job's step records and claims
// are HOT updates (no index entry per step, see migration 004), records a worker held are
// written first and in order, the durable step record leaves the session's asynchronous
// commits alone, and a record for a claim that was lost writes nothing.
#include <gtest/gtest.h>

#include "reaper/reap/reap_store.hpp"
#include "tests/reaper/reap/reap_test_env.hpp"
#include "tests/support/wait.hpp"

namespace lifeline::reaper::reap::testing {
namespace {

using namespace std::chrono_literals;

constexpr Duration kClaim{30'000};

class ReapStoreTest : public ReapStoreFixture {
 protected:
  // One expired lease turned into one claimed job.
  ReapJob claimed_job() {
    const std::string run = env_.fake.create_run({.state = "RUNNING"});
    env_.plant({.run_id = run});
    auto d = store_->detect(100);
    EXPECT_TRUE(d) << d.error().message;
    auto jobs = store_->claim(10, kClaim);
    EXPECT_TRUE(jobs) << jobs.error().message;
    EXPECT_EQ(jobs->size(), 1u);
    return jobs->empty() ? ReapJob{} : jobs->front();
  }

  std::int64_t reaps_stat(const std::string& column) {
    return env_.count("SELECT coalesce(sum(" + column + "), 0) FROM pg_stat_user_tables WHERE relname = 'lifeline_reaps'");
  }
};

TEST_F(ReapStoreTest, StepRecordsAndClaimsAreHotUpdates) {
  ReapJob job = claimed_job();
  ASSERT_FALSE(job.run_id.empty());
  job.step = ReapStep::crashing;
  job.crash_transition_id = "0b9b5c8e-4f3a-4d8e-9c55-2f0d3f1b7a10";
  ASSERT_TRUE(*store_->save(job, AuditEntry{"crash", "test", {}}, nullptr, kClaim, true));
  job.step = ReapStep::freeing;
  ASSERT_TRUE(*store_->save(job, AuditEntry{"crash_accepted", "test", {}}, nlohmann::json{{"call", "x"}}, kClaim, false));
  job.step = ReapStep::rescheduling;
  ASSERT_TRUE(*store_->save(job, AuditEntry{"freed", "test", {}}, nullptr, kClaim, false));
  ASSERT_TRUE(conn_->exec("SELECT pg_stat_force_next_flush()", {}, Duration{5000}).ok());
  // The claim and the three step records: four updates, none touching an indexed column.
  ASSERT_TRUE(lifeline::testing::wait_until([&] { return reaps_stat("n_tup_upd") >= 4; }, 5s));
  EXPECT_EQ(reaps_stat("n_tup_hot_upd"), 4);
  EXPECT_EQ(env_.value("SELECT step FROM lifeline_reaps WHERE run_id = '" + job.run_id + "'"), "rescheduling");
  EXPECT_EQ(env_.count("SELECT count(*) FROM lifeline_audit WHERE run_id = '" + job.run_id + "'"), 3);
  // Still offered to nobody else while claimed, and found again by the unfinished index.
  EXPECT_EQ(env_.count("SELECT count(*) FROM lifeline_reaps WHERE finished_at IS NULL"), 1);
}

TEST_F(ReapStoreTest, HeldRecordsAreWrittenBeforeTheWritesOwnInOrder) {
  ReapJob job = claimed_job();
  job.step = ReapStep::rescheduling;
  HeldRecords held;
  held.audit.emplace_back(ReapStep::freeing, AuditEntry{"crash_accepted", "held one", nlohmann::json{{"http", 200}}});
  held.audit.emplace_back(ReapStep::freeing, AuditEntry{"noted", "held two", {}});
  held.answers.push_back(nlohmann::json{{"call", "set_flow_run_state"}});
  held.answers.push_back(nlohmann::json{{"call", "filter_task_runs"}});
  ASSERT_TRUE(*store_->save(job, AuditEntry{"freed", "own", {}}, nlohmann::json{{"call", "own"}}, kClaim, false, held));
  const std::string where = " FROM lifeline_audit WHERE run_id = '" + job.run_id + "'";
  EXPECT_EQ(env_.value("SELECT string_agg(step || ':' || decision || ':' || reason || ':' || coalesce(detail::text, "
                       "'null'), ' | ' ORDER BY id)" + where),
            "freeing:crash_accepted:held one:{\"http\": 200} | freeing:noted:held two:null | "
            "rescheduling:freed:own:null");
  EXPECT_EQ(env_.value("SELECT answers::text FROM lifeline_reaps WHERE run_id = '" + job.run_id + "'"),
            "[{\"call\": \"set_flow_run_state\"}, {\"call\": \"filter_task_runs\"}, {\"call\": \"own\"}]");

  // finish stores held records the same way, after the answers already there.
  HeldRecords more;
  more.audit.emplace_back(ReapStep::rescheduling, AuditEntry{"late", "held three", {}});
  more.answers.push_back(nlohmann::json{{"call", "late"}});
  auto finished = store_->finish(job, ReapStep::done, "crashed", AuditEntry{"done", "end", {}}, nullptr, false,
                                 std::nullopt, more);
  ASSERT_TRUE(finished) << finished.error().message;
  EXPECT_TRUE(*finished);
  EXPECT_EQ(env_.value("SELECT string_agg(decision, ' ' ORDER BY id)" + where), "crash_accepted noted freed late done");
  EXPECT_EQ(env_.value("SELECT answers->>-1 FROM lifeline_reaps WHERE run_id = '" + job.run_id + "'"),
            "{\"call\": \"late\"}");
}

TEST_F(ReapStoreTest, TheDurableRecordLeavesTheSessionAsynchronous) {
  ReapJob job = claimed_job();
  job.step = ReapStep::crashing;
  auto saved = store_->save(job, AuditEntry{"crash", "test", {}}, nullptr, kClaim, true);
  ASSERT_TRUE(saved) << saved.error().message;
  EXPECT_TRUE(*saved);
  auto setting = conn_->exec("SHOW synchronous_commit", {}, Duration{5000});
  ASSERT_TRUE(setting);
  EXPECT_EQ(setting->text(0, 0), "off");
  EXPECT_EQ(env_.value("SELECT step FROM lifeline_reaps WHERE run_id = '" + job.run_id + "'"), "crashing");
}

TEST_F(ReapStoreTest, ARecordForALostClaimWritesNothing) {
  ReapJob job = claimed_job();
  env_.exec("UPDATE lifeline_reaps SET claimed_by = 'replica-other' WHERE run_id = '" + job.run_id + "'");
  job.step = ReapStep::crashing;
  HeldRecords held;
  held.audit.emplace_back(ReapStep::freeing, AuditEntry{"crash_accepted", "held", {}});
  held.answers.push_back(nlohmann::json{{"call", "x"}});
  for (bool durable : {true, false}) {
    auto saved = store_->save(job, AuditEntry{"crash", "test", {}}, nullptr, kClaim, durable, held);
    ASSERT_TRUE(saved) << saved.error().message;
    EXPECT_FALSE(*saved);
  }
  auto finished = store_->finish(job, ReapStep::done, "crashed", AuditEntry{"done", "test", {}}, nullptr, false,
                                 std::nullopt, held);
  ASSERT_TRUE(finished);
  EXPECT_FALSE(*finished);
  auto deferred = store_->defer(job, Duration{0}, AuditEntry{"deferred", "test", {}}, held);
  ASSERT_TRUE(deferred);
  EXPECT_FALSE(*deferred);
  EXPECT_EQ(env_.value("SELECT step FROM lifeline_reaps WHERE run_id = '" + job.run_id + "'"), "detected");
  EXPECT_EQ(env_.count("SELECT count(*) FROM lifeline_audit WHERE run_id = '" + job.run_id + "'"), 0);
}

}  // namespace
}  // namespace lifeline::reaper::reap::testing
