#include "sidecar/outcome.hpp"

namespace lifeline::sidecar {

Release decide_release(const Ending& e) {
  // Unknown (run mode) counts as 0: the reaper's completion grace then checks Prefect.
  int code = e.workload_code.value_or(0);
  if (!e.started) {
    // Nothing ever ran here under this lease: let the reaper act now, not after the TTL.
    return {ReleaseOutcome::evicted,
            e.cause == StopCause::unreachable ? 3 : e.cause == StopCause::stop_directive ? 4 : 143};
  }
  if (e.cause != StopCause::none) return {ReleaseOutcome::evicted, code};
  // After an eviction notice, a clean exit 0 means the workload finished on its own.
  if (e.terminating && code != 0) return {ReleaseOutcome::evicted, code};
  if (e.terminating && !e.workload_code) return {ReleaseOutcome::evicted, 0};
  return {ReleaseOutcome::exited, code};
}

int decide_exit_status(const Ending& e) {
  if (e.cause == StopCause::unreachable) return 3;
  if (e.cause == StopCause::stop_directive) return 4;
  if (!e.started) return e.verb == Verb::exec ? 143 : 0;
  if (e.verb == Verb::run) return 0;
  return e.workload_code.value_or(1);
}

}  // namespace lifeline::sidecar
