#pragma once
// Retries of a failed heartbeat inside one interval: short exponential backoff, never
// past the next regular heartbeat (which then takes over). One lost heartbeat therefore
// never stops the workload; the fencing deadline alone decides that.
// Thread-safety: pure functions.

#include <optional>

#include "shared/clock.hpp"
#include "shared/duration.hpp"

namespace lifeline::sidecar {

struct BackoffPolicy {
  Duration first;  // delay before the first retry
  Duration cap;    // longest delay

  // first = interval / 20 (at least 20 ms), cap = interval / 4.
  static BackoffPolicy for_interval(Duration interval);
};

// When to send retry number `retry` (0-based) of a heartbeat that failed at `now`, or
// nothing when the retry (plus its request timeout) would not finish before `next_tick`.
std::optional<SteadyTime> next_retry(const BackoffPolicy& policy, int retry, SteadyTime now,
                                     SteadyTime next_tick, Duration request_timeout);

}  // namespace lifeline::sidecar
