#include "tests/faults/soak/exit_watch.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <thread>

#include "tests/support/subprocess.hpp"

namespace lifeline::faults {
namespace {

int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  return -1;
#endif
}

}  // namespace

ExitWatch::ExitWatch(pid_t pid) : pid_(pid), pidfd_(open_pidfd(pid)) {}

ExitWatch::~ExitWatch() {
  if (pidfd_ >= 0) ::close(pidfd_);
}

const char* ExitWatch::resolution() const {
  return pidfd_ >= 0 ? "pidfd poll (stamp late by this thread's wake-up latency only)" : "/proc/<pid>/stat every 1 ms";
}

std::optional<WallTime> ExitWatch::wait(std::chrono::milliseconds timeout) {
  if (exited_at_) return exited_at_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  if (pidfd_ >= 0) {
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{pidfd_, POLLIN, 0};
      int r = ::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(0, left.count())));
      if (r > 0) {
        exited_at_ = std::chrono::system_clock::now();
        return exited_at_;
      }
      if (r == 0 || std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      // EINTR: poll again until the deadline.
    }
  }
  // Fallback: the process may be reaped by its parent at any moment; ESRCH or a zombie
  // both mean dead. A reused pid within 1 ms is not a practical concern here.
  while (true) {
    if (!testing::process_alive(pid_)) {
      exited_at_ = std::chrono::system_clock::now();
      return exited_at_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // poll of a deadline-bounded wait (ok)
  }
}

bool ExitWatch::exited() { return wait(std::chrono::milliseconds(0)).has_value(); }

}  // namespace lifeline::faults
