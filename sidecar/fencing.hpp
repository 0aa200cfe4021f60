#pragma once
// The fencing rule as pure arithmetic: when the workload must be stopped so that it is
// dead before the reaper could consider the lease expired, and whether a configuration
// can keep that promise at all.
//
//   deadline (send SIGTERM) = last_ack_sent + granted_ttl - margin - kill_grace
//   margin                  = max(1 s, 5 % of granted_ttl)   (clock-rate drift)
//
// The reaper never acts before last_renewal_received + granted_ttl, and a renewal is
// received after it was sent, so a workload SIGKILLed by deadline + kill_grace is dead
// before then.
// Thread-safety: pure functions.

#include <string>

#include "shared/clock.hpp"
#include "shared/duration.hpp"
#include "shared/result.hpp"

namespace lifeline::sidecar::fencing {

Duration drift_margin(Duration ttl);

// Time from an acknowledged send to the SIGTERM that keeps the promise (may be <= 0).
Duration stop_budget(Duration ttl, Duration kill_grace);

SteadyTime stop_deadline(SteadyTime last_ack_sent, Duration granted_ttl, Duration kill_grace);

// The startup rule: after one acknowledged heartbeat, a whole lost heartbeat and the next
// one's request (retry room = request timeout) must fit before the deadline:
//   stop_budget >= 2 * interval + request_timeout
// The error explains the numbers and what to change.
Status check(Duration interval, Duration ttl, Duration kill_grace, Duration request_timeout);

// When the reaper grants a smaller TTL than asked, the interval that keeps the rule
// (never longer than `configured`); an error when no interval can (budget too small).
Result<Duration> fit_interval(Duration configured, Duration granted_ttl, Duration kill_grace,
                              Duration request_timeout);

}  // namespace lifeline::sidecar::fencing
