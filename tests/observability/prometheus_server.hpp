#pragma once
// PrometheusServer: a real Prometheus (the Debian package's binary) started by a test on
// 127.0.0.1 with a generated configuration and a temporary TSDB, and a small client of its
// HTTP API (instant and range queries, series, rules).
// Thread-safety: one owner thread.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/subprocess.hpp"

namespace lifeline::testing {

// One static scrape target and the labels Prometheus adds to its series.
struct ScrapeTarget {
  std::string job;
  std::uint16_t port = 0;
  std::map<std::string, std::string> labels;
};

// The outcome of an API call: ok with its "data", or the error text.
struct PromAnswer {
  bool ok = false;
  nlohmann::json data;
  std::string error;
};

class PrometheusServer {
 public:
  struct Settings {
    std::vector<ScrapeTarget> targets;
    std::vector<std::string> rule_files;  // copied into the temp directory, see rules_interval
    std::string scrape_interval = "1s";
    std::string evaluation_interval = "1s";
    // When set, every rule group's own `interval:` is replaced by this in the copy, so a
    // short test sees recording rules evaluated as often as it scrapes.
    std::optional<std::string> rules_interval;
  };

  // The prometheus program on PATH, if any.
  static std::optional<std::string> find_binary();

  // Writes the configuration, starts Prometheus and waits for /-/ready (throws otherwise).
  explicit PrometheusServer(Settings s);
  ~PrometheusServer();  // stops it and removes the temporary directory
  PrometheusServer(const PrometheusServer&) = delete;
  PrometheusServer& operator=(const PrometheusServer&) = delete;

  std::uint16_t port() const { return port_; }
  const std::string& dir() const { return dir_; }

  // GET /api/v1/query (at `time` in Unix seconds, or now).
  PromAnswer query(const std::string& expr, std::optional<double> time = std::nullopt) const;
  // GET /api/v1/query_range.
  PromAnswer query_range(const std::string& expr, double start, double end, double step_seconds) const;
  // GET /api/v1/series?match[]=selector over [start, end].
  PromAnswer series(const std::string& selector, double start, double end) const;
  // GET /api/v1/rules and /api/v1/targets.
  PromAnswer rules() const;
  PromAnswer targets() const;

  std::string log() const;

 private:
  PromAnswer get(const std::string& path, const std::vector<std::pair<std::string, std::string>>& params) const;

  std::string dir_;
  std::uint16_t port_ = 0;
  std::unique_ptr<Subprocess> proc_;
};

// Unix seconds now, as Prometheus takes them.
double unix_now();

}  // namespace lifeline::testing
