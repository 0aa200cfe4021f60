#pragma once
// A lifeline-reaper process for the benchmarks: writes its TOML (every setting the
// benchmarks vary, unlike the e2e harness's fixed max_in_flight), starts it, reads the
// port it logs, and reads its /metrics. SIGTERM (then SIGKILL) on destruction.
// Thread-safety: one owner thread.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "tests/support/subprocess.hpp"

namespace lifeline::bench {

struct BenchReaperSettings {
  std::string database_url;
  std::string prefect_api_url = "http://127.0.0.1:9/api";
  std::string interval = "1s";
  std::string min_ttl = "1s";
  std::string max_ttl = "10m";
  std::string orphan_grace = "0s";
  std::string status_refresh = "10s";
  std::string retry_delay = "1s";
  std::string prefect_timeout = "10s";
  int max_in_flight = 16;
  int batch_size = 500;
  int max_attempts = 3;
  std::string extra_toml;  // appended verbatim
  std::string preload;     // LD_PRELOAD for the reaper process only (measurement aids)
  std::string name = "bench-reaper";
};

class BenchReaper {
 public:
  explicit BenchReaper(BenchReaperSettings s);  // throws std::runtime_error if it does not serve within 30 s
  ~BenchReaper();
  BenchReaper(const BenchReaper&) = delete;
  BenchReaper& operator=(const BenchReaper&) = delete;

  std::uint16_t port() const { return port_; }
  int pid() const;
  // The /metrics text ("" when unreachable).
  std::string metrics() const;
  // Sum of a metric's samples whose line starts with `prefix` (name plus optional labels).
  static double metric_sum(const std::string& metrics_text, const std::string& prefix);
  const lifeline::testing::Subprocess& process() const { return *proc_; }

 private:
  std::string config_path_;
  std::unique_ptr<lifeline::testing::Subprocess> proc_;
  std::uint16_t port_ = 0;
};

// The config text BenchReaper writes (also printed by reap_bench --print-config).
std::string bench_reaper_toml(const BenchReaperSettings& s);

}  // namespace lifeline::bench
