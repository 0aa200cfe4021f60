#pragma once
// How a supervision ends, as pure decisions: which release the reaper gets and which
// exit status the sidecar returns. Kept apart from the event loop so every combination
// is unit-tested.
// Thread-safety: pure functions.

#include <optional>

#include "sidecar/heartbeat_protocol.hpp"
#include "sidecar/options.hpp"

namespace lifeline::sidecar {

// Why the sidecar itself stopped the workload (or would have, had there been one).
enum class StopCause { none, unreachable, stop_directive };

struct Ending {
  Verb verb = Verb::exec;
  StopCause cause = StopCause::none;
  bool terminating = false;         // SIGTERM/SIGINT reached the sidecar while the workload ran
  bool started = true;              // the workload ever ran (exec: spawned; run: found)
  std::optional<int> workload_code; // shell form; nullopt = unknown (run mode)
};

struct Release {
  ReleaseOutcome outcome = ReleaseOutcome::exited;
  int exit_code = 0;
};

Release decide_release(const Ending& e);
int decide_exit_status(const Ending& e);

}  // namespace lifeline::sidecar
