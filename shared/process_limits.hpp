#pragma once
// Process limits a server needs raised before it serves: every keep-alive heartbeat
// connection is a file descriptor, and the usual soft limit (1,024) is far below the
// tens of thousands of sidecars one reaper serves.

#include <cstdint>

namespace lifeline {

struct OpenFilesLimit {
  std::uint64_t soft = 0;
  std::uint64_t hard = 0;
};

// Raises the soft RLIMIT_NOFILE to the hard limit; returns the limits now in force.
OpenFilesLimit raise_open_files_limit();

}  // namespace lifeline
