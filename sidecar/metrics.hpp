#pragma once
// The sidecar's five metrics, exposed in the Prometheus text format by a few lines of
// hand-written code. prometheus-cpp would add a shared library, its registry and
// per-scrape allocations to every flow-run pod for five series (see docs/sidecar.md).
// Thread-safety: owned by the io_context thread; not thread-safe.

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace lifeline::sidecar {

// A fixed-bucket histogram in seconds.
class Histogram {
 public:
  static constexpr std::array<double, 12> kBounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                     0.1,   0.25,   0.5,   1.0,  2.5,   5.0};
  void observe(double seconds);
  void render(std::string& out, const std::string& name) const;

 private:
  std::array<std::uint64_t, kBounds.size()> counts_{};
  std::uint64_t count_ = 0;
  double sum_ = 0;
};

struct SidecarMetrics {
  std::map<std::string, std::uint64_t> heartbeats;      // by result: ok, stop, error, timeout
  std::map<std::string, std::uint64_t> workload_stops;  // by reason: unreachable, stop_directive
  Histogram heartbeat_duration;
  double lease_ttl_seconds = 0;

  void count_heartbeat(const std::string& result) { ++heartbeats[result]; }
  void count_stop(const std::string& reason) { ++workload_stops[reason]; }

  // The exposition; last_ack_age is computed by the caller at scrape time (nullopt: never).
  std::string render(std::optional<double> last_ack_age_seconds) const;
};

}  // namespace lifeline::sidecar
