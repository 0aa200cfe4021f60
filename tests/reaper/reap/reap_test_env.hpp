#pragma once
// What the ReapService integration tests share: a fresh database with the embedded
// migrations applied, the in-process fake Prefect, helpers to plant leases as the
// heartbeat API would leave them, and counts read back from both.
// Thread-safety: one test thread.

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "reaper/config.hpp"
#include "reaper/metrics.hpp"
#include "reaper/reap/reap_service.hpp"
#include "reaper/reap/reap_store.hpp"
#include "reaper/store/pg_connection.hpp"
#include "shared/log.hpp"
#include "tests/fakes/fake_prefect.hpp"

namespace lifeline::reaper::reap::testing {

struct LeaseSpec {
  std::string run_id;
  std::string holder = "flow-run-abc-xyz12";
  std::string node = "node-7";
  std::int64_t epoch = 1;
  int ttl_ms = 30'000;
  std::string state = "active";
  int expires_in_ms = -1'000;               // relative to now(); negative: already past
  std::optional<std::string> release_outcome;  // exited | evicted (state released)
  std::optional<int> exit_code;
  int released_ms_ago = 0;
};

class ReapEnv {
 public:
  ReapEnv();
  ~ReapEnv();

  Config config() const;  // fast intervals, the fake's URL
  std::unique_ptr<ReapService> service(const Config& c);

  void plant(const LeaseSpec& l);
  void exec(const std::string& sql);
  std::string value(const std::string& sql);  // first column of the first row, "" for NULL
  std::int64_t count(const std::string& sql) { return std::stoll(value(sql)); }

  // States of a run in the fake, oldest first, filtered by type ("" = all).
  std::vector<fake_prefect::Json> states(const std::string& run_id, const std::string& type = "");
  std::size_t set_state_calls(const std::string& run_id, const std::string& type);

  fake_prefect::FakePrefect fake;
  ReaperMetrics metrics{"test"};
  SystemClock clock;
  Logger log{clock, "reaper-test", LogLevel::warn};
  std::string db_url;

 private:
  std::optional<store::PgConnection> conn_;
};

// A ReapStore on its own connection to the environment's database, as a reap worker holds
// one (asynchronous commits for the session).
class ReapStoreFixture : public ::testing::Test {
 protected:
  void SetUp() override;

  ReapEnv env_;
  std::optional<store::PgConnection> conn_;
  std::optional<ReapStore> store_;
};

}  // namespace lifeline::reaper::reap::testing
