#pragma once
// Values exchanged between the heartbeat API and the lease store.
// Thread-safety: plain values.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "reaper/lease_rules.hpp"
#include "shared/duration.hpp"

namespace lifeline::reaper::store {

struct RenewRequest {
  std::string run_id;  // canonical lower-case UUID
  std::string holder;
  std::string node;
  std::int64_t seq = 0;
  Duration ttl{0};     // already granted (clamped)
  LeasePhase phase = LeasePhase::running;
};

enum class RenewStatus { renewed, stop, conflict, unavailable };

struct RenewResult {
  RenewStatus status = RenewStatus::unavailable;
  std::int64_t epoch = 0;
  Duration ttl{0};
  std::string reason;  // stop, conflict and unavailable
};

struct ReleaseRequest {
  std::string run_id;
  std::string holder;
  ReleaseOutcome outcome = ReleaseOutcome::exited;
  std::optional<std::int32_t> exit_code;
};

enum class ReleaseStatus { released, already_released, closed, conflict, not_found, unavailable };

struct ReleaseResult {
  ReleaseStatus status = ReleaseStatus::unavailable;
  std::int64_t epoch = 0;
  std::string state;   // the lease's state after the call
  std::string reason;
};

struct LeaseQuery {
  std::optional<LeaseState> state;
  std::optional<std::string> holder;
  std::optional<std::string> node;
  int limit = 100;
};

struct LeaseRow {
  std::string run_id, holder, node;
  std::int64_t epoch = 0, seq = 0;
  std::int64_t ttl_ms = 0;
  std::string phase, state;
  std::string renewed_at, expires_at, created_at, state_changed_at;  // RFC 3339, UTC
  std::optional<std::string> released_at, release_outcome;
  std::optional<std::int64_t> exit_code;
};

struct LeaseList {
  bool ok = false;        // false: store unavailable
  std::string error;
  std::vector<LeaseRow> leases;
};

}  // namespace lifeline::reaper::store
