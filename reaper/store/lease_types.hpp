#pragma once
// Values exchanged between the heartbeat API and the lease store.
// Thread-safety: plain values.

#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reaper/lease_rules.hpp"
#include "shared/duration.hpp"

namespace lifeline::reaper::store {

// Hashes a canonical run id (36 characters) by its last 16, which are random in both
// version-4 and version-7 UUIDs (a v7 id begins with its creation time, shared by runs
// created together); other text by all of it. Equality still compares whole ids.
struct RunIdHash {
  std::size_t operator()(std::string_view id) const noexcept {
    if (id.size() < 16) return std::hash<std::string_view>{}(id);
    std::uint64_t a = 0, b = 0;
    std::memcpy(&a, id.data() + id.size() - 16, sizeof a);
    std::memcpy(&b, id.data() + id.size() - 8, sizeof b);
    return static_cast<std::size_t>((a * 0x9E3779B97F4A7C15ull) ^ (b + 0x632BE59BD9B4E019ull + (a >> 29)));
  }
};

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
