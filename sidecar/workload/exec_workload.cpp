#include "sidecar/workload/exec_workload.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cstring>

#include "sidecar/workload/child_reaper.hpp"

extern char** environ;

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

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty, defaults;
  sigemptyset(&empty);
  sigfillset(&defaults);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);  // the handlers Asio installed are not the child's
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, args[0], nullptr, &attr, args.data(), environ);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return make_error("spawn", "cannot start \"" + argv_[0] + "\": " + std::strerror(rc));
  pid_ = pid;
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
