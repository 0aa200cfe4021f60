#pragma once
// A log-linear latency histogram in the manner of HdrHistogram: values in microseconds,
// exact below 128 us, then 64 linear sub-buckets per power of two (relative error below
// 1.6 %), up to about 19 hours. Fixed size (about 16 KiB), so recording never allocates.
// Thread-safety: not thread-safe; one per thread or process, merged at the end.

#include <array>
#include <cstdint>
#include <string>

namespace lifeline::bench {

class LatencyHistogram {
 public:
  static constexpr int kLinearBits = 7;  // values below 2^7 us are exact
  static constexpr int kMaxShift = 30;   // 2^(7+30) us is the largest bucket
  static constexpr std::size_t kBuckets = (1u << kLinearBits) + kMaxShift * (1u << (kLinearBits - 1));

  void record(std::uint64_t micros);
  void merge(const LatencyHistogram& other);
  void reset();

  std::uint64_t count() const { return count_; }
  std::uint64_t max() const { return max_; }
  double mean() const { return count_ == 0 ? 0.0 : static_cast<double>(sum_) / static_cast<double>(count_); }
  // The value at quantile q in [0, 1], as the highest value of its bucket (capped at max).
  std::uint64_t quantile(double q) const;

  // Compact text form ("count sum max idx:n idx:n ...") to hand a histogram between
  // processes; parse() returns false on malformed input.
  std::string serialize() const;
  bool parse(const std::string& text);

  static std::size_t bucket_of(std::uint64_t micros);
  static std::uint64_t highest_in_bucket(std::size_t index);

 private:
  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t max_ = 0;
};

}  // namespace lifeline::bench
