#pragma once
// When exactly a process (not our child: a sidecar's workload) died. A pidfd becomes
// readable the moment the process exits, before anyone reaps it, so poll() on it stamps
// the death with the wake-up latency of this thread as the only error (it makes the
// stamp late, never early). Without pidfds (Linux < 5.3) it polls /proc/<pid>/stat every
// millisecond and says so in resolution().
// Thread-safety: one owner thread.

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>

#include "shared/clock.hpp"

namespace lifeline::faults {

class ExitWatch {
 public:
  explicit ExitWatch(pid_t pid);  // pid must be alive and not yet reaped
  ~ExitWatch();
  ExitWatch(const ExitWatch&) = delete;
  ExitWatch& operator=(const ExitWatch&) = delete;

  // Waits up to `timeout` for the exit; returns the wall time it was seen (the same
  // clock the fake Prefect stamps states with), or nullopt if still alive.
  std::optional<WallTime> wait(std::chrono::milliseconds timeout);
  bool exited();  // without waiting
  const char* resolution() const;

 private:
  pid_t pid_;
  int pidfd_ = -1;
  std::optional<WallTime> exited_at_;
};

}  // namespace lifeline::faults
