#pragma once
// CPU starvation as a competing load on the node: one busy-loop process per core (real
// processes at the default priority, so the scheduler shares the cores between them and
// the sidecars, reapers and PostgreSQL). Stopped by SIGKILL.
// Thread-safety: one owner thread.

#include <memory>
#include <vector>

#include "tests/support/subprocess.hpp"

namespace lifeline::faults {

class CpuHog {
 public:
  explicit CpuHog(int processes);
  ~CpuHog();  // stops them
  void start();
  void stop();
  bool running() const { return !procs_.empty(); }
  int processes() const { return count_; }

 private:
  int count_;
  std::vector<std::unique_ptr<testing::Subprocess>> procs_;
};

}  // namespace lifeline::faults
