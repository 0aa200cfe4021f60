#pragma once
// What the sidecar supervises: one or more processes it can signal and whose exit it
// learns. ExecWorkload is its own child; ProcWatcher finds someone else's through /proc.
// Thread-safety: implementations live on the io_context thread.

#include <sys/types.h>

#include <functional>
#include <optional>
#include <vector>

namespace lifeline::sidecar {

// How the workload ended: an exit code in shell form (0-255, or 128+signal), or unknown
// (run mode could not observe it).
struct WorkloadExit {
  std::optional<int> code;
};

class Workload {
 public:
  virtual ~Workload() = default;
  // Sends `sig` to every process of the workload (exec: the child's process group).
  virtual void signal(int sig) = 0;
  virtual std::vector<pid_t> pids() const = 0;
  virtual bool running() const = 0;
};

// Decodes a waitpid status into shell form: the exit code, or 128 + the signal.
int shell_status(int wait_status);

}  // namespace lifeline::sidecar
