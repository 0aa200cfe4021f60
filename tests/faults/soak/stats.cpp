#include "tests/faults/soak/stats.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace lifeline::faults {
namespace {

double nearest_rank(const std::vector<double>& sorted, double q) {
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

}  // namespace

Summary summarize(std::vector<double> values) {
  Summary s;
  s.n = values.size();
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  s.min = values.front();
  s.max = values.back();
  s.p50 = nearest_rank(values, 0.50);
  s.p99 = nearest_rank(values, 0.99);
  return s;
}

std::string describe_seconds(const Summary& s) {
  if (s.n == 0) return "none measured";
  char buf[160];
  std::snprintf(buf, sizeof buf, "min %.3f s, p50 %.3f s, p99 %.3f s, max %.3f s (n=%zu)", s.min, s.p50, s.p99, s.max,
                s.n);
  return buf;
}

}  // namespace lifeline::faults
