#pragma once
// run mode: finds the workload through /proc (shared process namespace), waits for it to
// appear, and learns when it is gone. The sidecar is not the workload's parent, so it
// cannot wait(2) for it: it holds a pidfd per process (readable once the process exited)
// and falls back to polling /proc where the kernel has no pidfd_open (< 5.3).
// Thread-safety: io_context thread only.

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "shared/clock.hpp"
#include "shared/log.hpp"
#include "sidecar/options.hpp"
#include "sidecar/workload/proc_scan.hpp"
#include "sidecar/workload/workload.hpp"

namespace lifeline::sidecar {

class ProcWatcher final : public Workload {
 public:
  struct Callbacks {
    std::function<void(const std::vector<pid_t>&)> found;  // the workload appeared
    std::function<void(WorkloadExit)> exited;              // every watched process is gone
    std::function<void()> start_timeout;                   // it did not appear in time
  };

  ProcWatcher(boost::asio::io_context& io, const Clock& clock, TargetSpec target, Duration start_timeout,
              std::string proc_root, pid_t self, const Logger& log, Callbacks callbacks);

  void start();
  void cancel();  // stops polling and closes the pidfds

  void signal(int sig) override;
  std::vector<pid_t> pids() const override;
  bool running() const override { return !watched_.empty(); }
  bool using_pidfd() const { return pidfd_ok_; }

 private:
  struct Watched {
    ProcInfo info;
    std::unique_ptr<boost::asio::posix::stream_descriptor> pidfd;
  };
  void discover();
  bool adopt(const std::vector<ProcInfo>& found);
  void watch(const ProcInfo& info);
  void gone(pid_t pid);
  void poll_later();
  void poll();

  boost::asio::io_context& io_;
  const Clock& clock_;
  TargetSpec target_;
  Duration start_timeout_;
  std::string proc_root_;
  pid_t self_;
  Logger log_;
  Callbacks callbacks_;
  boost::asio::steady_timer timer_;
  SteadyTime started_{};
  std::map<pid_t, Watched> watched_;
  std::set<std::pair<pid_t, unsigned long long>> seen_;  // (pid, start time) already watched
  pid_t primary_ = 0;                                     // whose exit status is reported
  std::optional<int> primary_status_;
  bool pidfd_ok_ = true;
  bool cancelled_ = false;
};

}  // namespace lifeline::sidecar
