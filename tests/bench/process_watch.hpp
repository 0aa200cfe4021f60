#pragma once
// Reads other processes' CPU time and memory from /proc, so that a benchmark can say
// where the machine's CPU went (server, database, load generator) and how much memory
// the server holds.
// Thread-safety: stateless functions.

#include <cstdint>
#include <string>

namespace lifeline::bench {

// User + system CPU seconds of `pid` and all its live descendants (a PostgreSQL
// postmaster and its backends, say). 0 when pid is gone.
double tree_cpu_seconds(int pid);
// Resident set size of `pid` in KiB (VmRSS), or -1.
std::int64_t rss_kib(int pid);
// Short description of this machine: cores, CPU model, memory, load averages.
std::string machine_summary();
// 1-minute load average.
double load_average();

}  // namespace lifeline::bench
