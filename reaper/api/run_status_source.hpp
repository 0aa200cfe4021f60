#pragma once
// What the heartbeat API asks about a run's state in Prefect, to answer `stop` to a pod
// whose run was cancelled or crashed by someone else. Implemented by the reap side
// (which owns the Prefect client); the API must never wait for Prefect, so the answer
// comes from a cache refreshed in the background, at most once per run per interval.
// Thread-safety: implementations are called from the API's event-loop thread and must
// not block.

#include <optional>
#include <string>
#include <string_view>

namespace lifeline::reaper {

class RunStatusSource {
 public:
  virtual ~RunStatusSource() = default;
  // A reason to stop the pod holding `run_id` if the latest known Prefect state says so
  // (CANCELLING, CANCELLED, or CRASHED while this lease is active); nullopt otherwise.
  // Asks for a background refresh when the cached answer is older than the interval.
  virtual std::optional<std::string> stop_reason(std::string_view run_id) = 0;
};

}  // namespace lifeline::reaper
