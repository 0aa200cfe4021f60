#pragma once
// What one load-generator worker measured during the measurement window, in a form that
// crosses a pipe (text) and merges across workers.
// Thread-safety: a plain value.

#include <cstdint>
#include <map>
#include <string>

#include "tests/bench/latency_histogram.hpp"

namespace lifeline::bench {

struct WorkerResult {
  std::uint64_t connections = 0;        // connections this worker was to hold
  std::uint64_t connected = 0;          // established in the connect phase
  std::uint64_t connect_failures = 0;   // given up on after retries
  std::uint64_t open_at_end = 0;        // still open when the window closed
  std::uint64_t reconnects = 0;         // connections re-established after a close or error
  std::uint64_t sent = 0;               // requests sent in the window
  std::uint64_t late_sends = 0;         // sent more than 1 ms after their intended time
  std::uint64_t ok_in_window = 0;       // 2xx answers received inside the window (throughput)
  std::map<int, std::uint64_t> status;  // answers in the window by status code
  std::map<std::string, std::uint64_t> errors;  // failed round trips in the window by kind
  LatencyHistogram latency;             // answers in the window (from intended send time)
  double cpu_seconds = 0;               // this worker's user+system CPU in the window
  double window_seconds = 0;

  std::uint64_t answered() const;
  std::uint64_t ok() const;  // 2xx
  void merge(const WorkerResult& other);
  std::string serialize() const;          // several lines, ends with "end\n"
  bool parse(const std::string& text);
};

}  // namespace lifeline::bench
