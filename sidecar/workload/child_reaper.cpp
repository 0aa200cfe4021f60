#include "sidecar/workload/child_reaper.hpp"

#include <sys/wait.h>

#include <cerrno>

namespace lifeline::sidecar {

ReapResult reap_children(pid_t child, bool reap_all) {
  ReapResult r;
  while (true) {
    int status = 0;
    pid_t pid = ::waitpid(reap_all ? -1 : child, &status, WNOHANG);
    if (pid == 0) break;                   // children exist, none exited
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;                               // ECHILD: no children left
    }
    if (pid == child) r.child_status = status;
    else ++r.orphans_reaped;
    if (!reap_all) break;
  }
  return r;
}

}  // namespace lifeline::sidecar
