#include "sidecar/retry_backoff.hpp"

#include <algorithm>

namespace lifeline::sidecar {

BackoffPolicy BackoffPolicy::for_interval(Duration interval) {
  Duration first = std::max(Duration(20), interval / 20);
  return BackoffPolicy{first, std::max(first, interval / 4)};
}

std::optional<SteadyTime> next_retry(const BackoffPolicy& policy, int retry, SteadyTime now,
                                     SteadyTime next_tick, Duration request_timeout) {
  Duration delay = policy.first;
  for (int i = 0; i < retry && delay < policy.cap; ++i) delay *= 2;
  delay = std::min(delay, policy.cap);
  SteadyTime at = now + delay;
  if (at + request_timeout > next_tick) return std::nullopt;
  return at;
}

}  // namespace lifeline::sidecar
