#include "sidecar/workload/exec_workload.hpp"

#include <linux/close_range.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "sidecar/workload/child_reaper.hpp"

namespace lifeline::sidecar {

int shell_status(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 1;
}

ExecWorkload::ExecWorkload(std::vector<std::string> argv, std::function<void(WorkloadExit)> on_exit)
    : argv_(std::move(argv)), on_exit_(std::move(on_exit)) {}

Result<pid_t> ExecWorkload::start() {
  std::vector<char*> args;
  for (auto& a : argv_) args.push_back(a.data());
  args.push_back(nullptr);
  int report[2];  // close-on-exec pipe: the child writes errno here if exec fails
  if (::pipe2(report, O_CLOEXEC) != 0) return make_error("spawn", std::string("pipe: ") + std::strerror(errno));
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    ::close(report[0]);
    ::close(report[1]);
    return make_error("spawn", std::string("fork: ") + std::strerror(err));
  }
  if (pid == 0) {
    // Only async-signal-safe calls until exec.
    ::setpgid(0, 0);
    // If the sidecar dies (OOM kill, SIGKILL) nobody fences the workload any more: it
    // must not outlive its lease keeper.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);  // Asio's handlers are not the child's
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // The workload gets stdin, stdout and stderr, none of the sidecar's descriptors: Asio
    // opens sockets without FD_CLOEXEC, so it would hold the health listener and the
    // connection to the reaper (able to read the reaper's answers, and keeping a dropped
    // connection open at the reaper). Close-on-exec, so `report` still works until exec.
    if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {  // before Linux 5.11
      const int last = static_cast<int>(std::min(::sysconf(_SC_OPEN_MAX), 1L << 16));
      for (int fd = 3; fd < last; ++fd)
        if (fd != report[1]) ::close(fd);
    }
    ::execvp(args[0], args.data());
    int err = errno;
    ssize_t ignored = ::write(report[1], &err, sizeof err);
    (void)ignored;
    ::_exit(127);
  }
  ::close(report[1]);
  ::setpgid(pid, pid);  // also from here, so the group exists before we signal it
  int err = 0;
  ssize_t n;
  do n = ::read(report[0], &err, sizeof err);
  while (n < 0 && errno == EINTR);
  ::close(report[0]);
  pid_ = pid;
  if (n == static_cast<ssize_t>(sizeof err))
    return make_error("spawn", "cannot start \"" + argv_[0] + "\": " + std::strerror(err));
  return pid;
}

void ExecWorkload::on_sigchld(bool reap_all) {
  if (exited_ && !reap_all) return;
  auto r = reap_children(exited_ ? 0 : pid_, reap_all);
  if (r.child_status && !exited_) {
    exited_ = true;
    if (on_exit_) on_exit_(WorkloadExit{shell_status(*r.child_status)});
  }
}

void ExecWorkload::signal(int sig) {
  if (pid_ <= 0) return;
  // The whole group, even after the leader exited: stragglers must not outlive a fence.
  if (::kill(-pid_, sig) != 0 && !exited_) ::kill(pid_, sig);
}

std::vector<pid_t> ExecWorkload::pids() const {
  if (!running()) return {};
  return {pid_};
}

}  // namespace lifeline::sidecar
