#pragma once
// Collects exited children without blocking. As PID 1 (a container's entrypoint) the
// sidecar inherits every orphan of the namespace and must reap them all, or zombies pile
// up; otherwise it waits only for its own child.
// Thread-safety: call from the thread that handles SIGCHLD.

#include <sys/types.h>

#include <optional>

namespace lifeline::sidecar {

struct ReapResult {
  std::optional<int> child_status;  // raw waitpid status of `child`, when it was reaped
  int orphans_reaped = 0;           // other processes reaped (reap_all only)
};

// Reaps with WNOHANG until nothing more is ready. `child` <= 0 means none of our own.
ReapResult reap_children(pid_t child, bool reap_all);

}  // namespace lifeline::sidecar
