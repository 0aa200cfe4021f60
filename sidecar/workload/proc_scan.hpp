#pragma once
// Reading /proc to find the workload in a shared process namespace. Functions take the
// proc root so that tests can point them at a fixture directory.
// Thread-safety: no shared state; each call reads the file system.

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "sidecar/options.hpp"

namespace lifeline::sidecar {

struct ProcInfo {
  pid_t pid = 0;
  std::string comm;          // /proc/<pid>/comm (15 characters at most)
  char state = '?';          // R, S, D, Z, ...
  pid_t ppid = 0;
  unsigned long long start_time = 0;  // clock ticks since boot: tells a reused pid apart
  std::optional<int> exit_code;       // raw wait status (zombies only, Linux >= 3.5)
  bool has_cmdline = false;           // kernel threads and zombies have none
};

std::optional<ProcInfo> read_proc(const std::string& proc_root, pid_t pid);

// The processes `spec` designates, in pid order. `auto`: every process with a command
// line except `self` and PID 1 when PID 1 is the pod's pause process (comm "pause").
std::vector<ProcInfo> find_targets(const TargetSpec& spec, const std::string& proc_root, pid_t self);

}  // namespace lifeline::sidecar
