#pragma once
// Order statistics of measured delays and margins (nearest-rank percentiles).
// Thread-safety: pure functions.

#include <cstddef>
#include <string>
#include <vector>

namespace lifeline::faults {

struct Summary {
  std::size_t n = 0;
  double min = 0, p50 = 0, p99 = 0, max = 0;
};

Summary summarize(std::vector<double> values);

// "p50 5.18 s, p99 5.96 s, max 6.01 s (n=42)", or "none measured".
std::string describe_seconds(const Summary& s);

}  // namespace lifeline::faults
