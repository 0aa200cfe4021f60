#pragma once
// exec mode: the workload is the sidecar's own child, started in its own process group
// so that signals and the final SIGKILL reach everything it spawned.
// Thread-safety: io_context thread only.

#include <functional>
#include <string>
#include <vector>

#include "shared/result.hpp"
#include "sidecar/workload/workload.hpp"

namespace lifeline::sidecar {

class ExecWorkload final : public Workload {
 public:
  ExecWorkload(std::vector<std::string> argv, std::function<void(WorkloadExit)> on_exit);

  // Starts the command in a new process group with default signal dispositions, set to
  // be SIGKILLed if the sidecar dies. Exec failure is an error (the child is then reaped
  // by on_sigchld like any exit).
  Result<pid_t> start();
  // Called on SIGCHLD: collects the child (and, as PID 1, orphans).
  void on_sigchld(bool reap_all);

  void signal(int sig) override;
  std::vector<pid_t> pids() const override;
  bool running() const override { return pid_ > 0 && !exited_; }

 private:
  std::vector<std::string> argv_;
  std::function<void(WorkloadExit)> on_exit_;
  pid_t pid_ = -1;
  bool exited_ = false;
};

}  // namespace lifeline::sidecar
