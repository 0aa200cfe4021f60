#include "tests/bench/latency_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <sstream>

namespace lifeline::bench {
namespace {
constexpr std::uint64_t kLinear = 1u << LatencyHistogram::kLinearBits;
constexpr std::uint64_t kHalf = kLinear / 2;
}  // namespace

std::size_t LatencyHistogram::bucket_of(std::uint64_t v) {
  if (v < kLinear) return static_cast<std::size_t>(v);
  // shift >= 1 keeps (v >> shift) in [64, 128).
  int shift = std::bit_width(v) - kLinearBits;
  if (shift > kMaxShift) return kBuckets - 1;
  return static_cast<std::size_t>(kLinear + static_cast<std::uint64_t>(shift - 1) * kHalf + ((v >> shift) - kHalf));
}

std::uint64_t LatencyHistogram::highest_in_bucket(std::size_t index) {
  if (index < kLinear) return index;
  std::size_t rel = index - kLinear;
  int shift = static_cast<int>(rel / kHalf) + 1;
  std::uint64_t sub = kHalf + rel % kHalf;
  return ((sub + 1) << shift) - 1;
}

void LatencyHistogram::record(std::uint64_t micros) {
  ++counts_[bucket_of(micros)];
  ++count_;
  sum_ += micros;
  max_ = std::max(max_, micros);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
}

void LatencyHistogram::reset() { *this = LatencyHistogram{}; }

std::uint64_t LatencyHistogram::quantile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::max<std::uint64_t>(rank, 1);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(highest_in_bucket(i), max_);
  }
  return max_;
}

std::string LatencyHistogram::serialize() const {
  std::ostringstream out;
  out << count_ << ' ' << sum_ << ' ' << max_;
  for (std::size_t i = 0; i < kBuckets; ++i)
    if (counts_[i] != 0) out << ' ' << i << ':' << counts_[i];
  return out.str();
}

bool LatencyHistogram::parse(const std::string& text) {
  reset();
  std::istringstream in(text);
  if (!(in >> count_ >> sum_ >> max_)) return false;
  std::string item;
  std::uint64_t total = 0;
  while (in >> item) {
    auto colon = item.find(':');
    if (colon == std::string::npos) return false;
    std::size_t idx = std::stoul(item.substr(0, colon));
    if (idx >= kBuckets) return false;
    counts_[idx] = std::stoull(item.substr(colon + 1));
    total += counts_[idx];
  }
  return total == count_;
}

}  // namespace lifeline::bench
