#include "tests/faults/soak/cpu_hog.hpp"

#include <signal.h>
#include <unistd.h>

#include <chrono>

namespace lifeline::faults {

CpuHog::CpuHog(int processes) : count_(processes) {}

CpuHog::~CpuHog() { stop(); }

void CpuHog::start() {
  if (running()) return;
  for (int i = 0; i < count_; ++i)
    procs_.push_back(std::make_unique<testing::Subprocess>(testing::Subprocess::Options{
        {"/bin/sh", "-c", "while :; do :; done"}, {}, {}, true, "cpu-hog"}));
}

void CpuHog::stop() {
  for (auto& p : procs_) {
    p->signal_group(SIGKILL);
    p->wait_exit(std::chrono::seconds(5));
    ::unlink(p->stdout_path().c_str());
    ::unlink(p->stderr_path().c_str());
  }
  procs_.clear();
}

}  // namespace lifeline::faults
