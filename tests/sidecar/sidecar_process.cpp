#include "tests/sidecar/sidecar_process.hpp"

#include <httplib.h>

namespace lifeline::testing {

SidecarProcess::SidecarProcess(Settings s) {
  Subprocess::Options o;
  o.argv = s.wrapper;
  o.argv.push_back(bin_path("lifeline-sidecar"));
  o.argv.push_back(s.verb);
  o.argv.insert(o.argv.end(), {"--run-id", s.run_id, "--reaper-url", s.reaper_url, "--listen", "127.0.0.1:0",
                               "--holder", "test-pod", "--node", "test-node"});
  o.argv.insert(o.argv.end(), s.flags.begin(), s.flags.end());
  if (!s.command.empty()) {
    o.argv.push_back("--");
    o.argv.insert(o.argv.end(), s.command.begin(), s.command.end());
  }
  o.env = s.env;
  o.unset_env = {"LIFELINE_RUN_ID", "LIFELINE_REAPER_URL", "LIFELINE_TOKEN_FILE", "LIFELINE_INTERVAL",
                 "LIFELINE_TTL", "LIFELINE_KILL_GRACE", "LIFELINE_ON_UNREACHABLE", "LIFELINE_TARGET",
                 "LIFELINE_LISTEN", "PREFECT__FLOW_RUN_ID"};
  o.log_prefix = s.log_prefix;
  proc_ = std::make_unique<Subprocess>(o);
}

std::optional<std::uint16_t> SidecarProcess::health_port(std::chrono::milliseconds timeout) {
  if (port_) return port_;
  auto m = proc_->wait_for_output(std::regex(R"(msg=listening.* port=(\d+))"), timeout, /*from_stderr=*/true);
  if (!m) return std::nullopt;
  port_ = static_cast<std::uint16_t>(std::stoi(*m));
  return port_;
}

std::optional<SidecarProcess::HttpAnswer> SidecarProcess::get(const std::string& path) {
  auto port = health_port();
  if (!port) return std::nullopt;
  httplib::Client c("127.0.0.1", *port);
  c.set_connection_timeout(2);
  c.set_read_timeout(2);
  auto r = c.Get(path.c_str());
  if (!r) return std::nullopt;
  return HttpAnswer{r->status, r->body};
}

std::vector<std::string> shell(const std::string& script) { return {"/bin/sh", "-c", script}; }

}  // namespace lifeline::testing
