#pragma once
// Delay arithmetic: when a crashed run is retried, and when a job retries after Prefect
// failed to answer. Pure: the random sample is passed in, so tests fix it.

#include "reaper/reap/policy_matcher.hpp"
#include "shared/duration.hpp"

namespace lifeline::reaper::reap {

// Delay before retry number `attempt` (1-based): delay x multiplier^(attempt-1), capped at
// max_delay, then spread by +/- jitter (a fraction) using `unit_sample` in [0, 1).
Duration retry_delay(const EffectivePolicy& p, int attempt, double unit_sample);

// Delay before a job tries again after `failures` transient Prefect failures: base x 2^(n-1),
// capped at `cap`, with +/-20 % spread so replicas do not retry in lockstep.
Duration transient_delay(int failures, Duration base, Duration cap, double unit_sample);

}  // namespace lifeline::reaper::reap
