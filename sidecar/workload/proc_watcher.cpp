#include "sidecar/workload/proc_watcher.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace lifeline::sidecar {

namespace asio = boost::asio;

namespace {
constexpr Duration kDiscoverEvery{50};
constexpr Duration kPollEvery{200};

int pidfd_open(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  errno = ENOSYS;
  return -1;
#endif
}
}  // namespace

ProcWatcher::ProcWatcher(asio::io_context& io, const Clock& clock, TargetSpec target, Duration start_timeout,
                         std::string proc_root, pid_t self, const Logger& log, Callbacks callbacks)
    : io_(io),
      clock_(clock),
      target_(std::move(target)),
      start_timeout_(start_timeout),
      proc_root_(std::move(proc_root)),
      self_(self),
      log_(log),
      callbacks_(std::move(callbacks)),
      timer_(io) {}

void ProcWatcher::start() {
  started_ = clock_.steady_now();
  discover();
}

void ProcWatcher::cancel() {
  cancelled_ = true;
  timer_.cancel();
  for (auto& [pid, w] : watched_)
    if (w.pidfd) w.pidfd->close();
  watched_.clear();
}

void ProcWatcher::discover() {
  if (cancelled_) return;
  if (adopt(find_targets(target_, proc_root_, self_))) {
    std::vector<pid_t> pids = this->pids();
    if (callbacks_.found) callbacks_.found(pids);
    if (!pidfd_ok_) poll_later();
    return;
  }
  if (clock_.steady_now() - started_ >= start_timeout_) {
    if (callbacks_.start_timeout) callbacks_.start_timeout();
    return;
  }
  timer_.expires_after(kDiscoverEvery);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) discover();
  });
}

bool ProcWatcher::adopt(const std::vector<ProcInfo>& found) {
  bool any = false;
  for (const auto& p : found) {
    if (!seen_.insert({p.pid, p.start_time}).second) continue;
    if (primary_ == 0) primary_ = p.pid;
    watch(p);
    any = true;
  }
  return any;
}

void ProcWatcher::watch(const ProcInfo& info) {
  Watched w{info, nullptr};
  if (pidfd_ok_) {
    int fd = pidfd_open(info.pid);
    if (fd >= 0) {
      w.pidfd = std::make_unique<asio::posix::stream_descriptor>(io_, fd);
      pid_t pid = info.pid;
      w.pidfd->async_wait(asio::posix::stream_descriptor::wait_read, [this, pid](boost::system::error_code ec) {
        if (!ec) gone(pid);
      });
    } else if (errno == ESRCH) {
      return;  // already gone before we looked
    } else {
      pidfd_ok_ = false;  // ENOSYS (old kernel) or EPERM (seccomp): poll /proc instead
      log_.warn("pidfd_open unavailable; polling /proc", {{"errno", errno}});
    }
  }
  watched_.emplace(info.pid, std::move(w));
}

void ProcWatcher::gone(pid_t pid) {
  auto it = watched_.find(pid);
  if (it == watched_.end()) return;
  if (pid == primary_) {
    // Best effort: while the exited process is a zombie (until its parent reaps it),
    // /proc/<pid>/stat still holds its wait status.
    if (auto p = read_proc(proc_root_, pid); p && p->start_time == it->second.info.start_time && p->exit_code)
      primary_status_ = *p->exit_code;
  }
  log_.info("workload process exited", {{"pid", pid}, {"comm", it->second.info.comm}});
  watched_.erase(it);
  if (!watched_.empty()) return;
  // The workload may have handed over to a new process (e.g. exec of a wrapper): look again.
  if (target_.kind != TargetSpec::Kind::pid && adopt(find_targets(target_, proc_root_, self_))) {
    if (!pidfd_ok_) poll_later();
    return;
  }
  WorkloadExit exit;
  if (primary_status_) {
    int s = *primary_status_;
    exit.code = (s & 0x7f) == 0 ? (s >> 8) & 0xff : 128 + (s & 0x7f);
  }
  if (callbacks_.exited) callbacks_.exited(exit);
}

void ProcWatcher::poll_later() {
  timer_.expires_after(kPollEvery);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) poll();
  });
}

void ProcWatcher::poll() {
  if (cancelled_) return;
  std::vector<pid_t> done;
  for (auto& [pid, w] : watched_) {
    if (w.pidfd) continue;
    auto p = read_proc(proc_root_, pid);
    if (!p || p->state == 'Z' || p->start_time != w.info.start_time) done.push_back(pid);
  }
  for (pid_t pid : done) gone(pid);
  if (!watched_.empty()) poll_later();
}

void ProcWatcher::signal(int sig) {
  for (auto& [pid, w] : watched_) {
    // A pidfd names exactly the process we watch, even if its pid was reused.
    if (w.pidfd) {
#ifdef SYS_pidfd_send_signal
      if (::syscall(SYS_pidfd_send_signal, w.pidfd->native_handle(), sig, nullptr, 0) == 0) continue;
#endif
    }
    ::kill(pid, sig);
  }
}

std::vector<pid_t> ProcWatcher::pids() const {
  std::vector<pid_t> out;
  for (const auto& [pid, w] : watched_) out.push_back(pid);
  return out;
}

}  // namespace lifeline::sidecar
