#include "shared/process_limits.hpp"

#include <sys/resource.h>

namespace lifeline {

OpenFilesLimit raise_open_files_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return {};
  if (rl.rlim_cur < rl.rlim_max) {
    rlimit wanted = rl;
    wanted.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &wanted) == 0) rl = wanted;
  }
  return {static_cast<std::uint64_t>(rl.rlim_cur), static_cast<std::uint64_t>(rl.rlim_max)};
}

}  // namespace lifeline
