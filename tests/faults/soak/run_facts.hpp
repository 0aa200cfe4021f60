#pragma once
// What the fake Prefect API shows about one run after the faults: how many times it was
// Crashed and rescheduled (AwaitingRetry), when it was first Crashed (the fake's wall
// clock when it accepted the state, microseconds), and its current state. Also what the
// reaper's lease API says about a holder's lease.
// Thread-safety: pure reads of thread-safe objects.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "shared/clock.hpp"
#include "tests/fakes/fake_prefect.hpp"

namespace lifeline::faults {

struct RunFacts {
  int crashed = 0;
  int awaiting_retry = 0;
  std::optional<WallTime> first_crash;
  std::string type;  // current state
  std::string name;
  bool awaiting_retry_now() const { return type == "SCHEDULED" && name == "AwaitingRetry"; }
  bool completed_now() const { return type == "COMPLETED"; }
};

RunFacts run_facts(const fake_prefect::FakePrefect& fake, const std::string& run_id);

// One lease row from GET /v1/leases?holder=H (the most recently changed).
struct LeaseFacts {
  std::string state;           // active, expired, reaped, released
  std::string release_outcome; // exited, evicted, "" when not released
  std::optional<int> exit_code;
  std::int64_t epoch = 0;
  std::optional<WallTime> expires_at;
};

std::optional<LeaseFacts> lease_of_holder(std::uint16_t reaper_port, const std::string& holder);

double seconds_between(WallTime from, WallTime to);

}  // namespace lifeline::faults
