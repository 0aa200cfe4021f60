#pragma once
// Runs the built lifeline-sidecar as a real process for component and end-to-end tests:
// builds its command line, reads the health port from its "listening" log line, and
// fetches its HTTP endpoints.
// Thread-safety: one owner thread.

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/subprocess.hpp"

namespace lifeline::testing {

inline constexpr const char* kTestRunId = "6f0e2c1a-1111-4222-8333-444455556666";

class SidecarProcess {
 public:
  struct Settings {
    std::string verb = "exec";                 // exec | run
    std::string reaper_url{};
    std::string run_id = kTestRunId;
    std::vector<std::string> flags{};          // e.g. {"--interval", "100ms"}
    std::vector<std::string> command{};        // exec: CMD ARGS
    std::map<std::string, std::string> env{};
    std::vector<std::string> wrapper{};        // e.g. {"unshare", "-pf", "--mount-proc"}
    std::string log_prefix = "sidecar";
  };

  explicit SidecarProcess(Settings settings);

  Subprocess& process() { return *proc_; }
  // The health port the sidecar logged (it listens on 127.0.0.1:0).
  std::optional<std::uint16_t> health_port(std::chrono::milliseconds timeout = std::chrono::seconds(5));

  struct HttpAnswer {
    int status = 0;
    std::string body;
  };
  std::optional<HttpAnswer> get(const std::string& path);

 private:
  std::unique_ptr<Subprocess> proc_;
  std::optional<std::uint16_t> port_;
};

// A shell workload: `sh -c script`.
std::vector<std::string> shell(const std::string& script);

}  // namespace lifeline::testing
