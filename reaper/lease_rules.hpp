#pragma once
// The lease rules, as pure functions. The store applies the same rules atomically in
// SQL (lease_store.cpp: the WHERE clause of the batch upsert); these functions decide
// what to answer for the rows that SQL left untouched, and document the rules in one
// place that unit tests pin down.
//
//   same holder, lease active            -> renew (epoch unchanged)
//   no lease yet                         -> create (epoch 1)
//   other holder, lease released/reaped,
//     or active past expires_at          -> take over (epoch + 1)
//   other holder, otherwise              -> conflict (409, directive stop)
//   same holder, lease expired/reaped/
//     released                           -> stop (200, nothing renewed)
//
// Thread-safety: pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "reaper/config.hpp"

namespace lifeline::reaper {

enum class LeaseState { active, released, expired, reaped };
enum class LeasePhase { running, terminating };
enum class ReleaseOutcome { exited, evicted };

std::string_view to_string(LeaseState s);
std::string_view to_string(LeasePhase p);
std::string_view to_string(ReleaseOutcome o);
std::optional<LeaseState> parse_lease_state(std::string_view s);
std::optional<LeasePhase> parse_lease_phase(std::string_view s);
std::optional<ReleaseOutcome> parse_release_outcome(std::string_view s);

// The TTL granted for a requested one: clamped to [min_ttl, max_ttl].
Duration grant_ttl(Duration requested, const LeasesConfig& leases);

// What the store holds for a run, as far as the rules need it.
struct LeaseSnapshot {
  std::string holder;
  std::int64_t epoch = 0;
  LeaseState state = LeaseState::active;
  bool past_expiry = false;  // expires_at < now() (database clock)
};

enum class RenewVerdict { create, renew, take_over, stop, conflict };

struct RenewDecision {
  RenewVerdict verdict;
  std::int64_t epoch = 0;  // the epoch after the renewal (create: 1; take_over: +1)
  std::string reason;      // for stop and conflict
};

RenewDecision decide_renewal(const std::optional<LeaseSnapshot>& current, std::string_view holder);

enum class ReleaseVerdict {
  release,           // the holder's active lease: mark it released
  already_released,  // the same holder released it before (a retried request): answer as before
  closed,            // expired or reaped: the reaper already acts; nothing to change
  not_holder,        // 409
  not_found,         // 404
};

struct ReleaseDecision {
  ReleaseVerdict verdict;
  std::string reason;
};

ReleaseDecision decide_release(const std::optional<LeaseSnapshot>& current, std::string_view holder);

}  // namespace lifeline::reaper
