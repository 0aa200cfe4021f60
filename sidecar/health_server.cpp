#include "sidecar/health_server.hpp"

#include <nlohmann/json.hpp>

namespace lifeline::sidecar {

http::Response health_response(const http::Request& req, const HealthSnapshot& s, const SidecarMetrics& m) {
  if (req.method != "GET" && req.method != "HEAD")
    return http::json_error(405, "method_not_allowed", "only GET is served here");
  http::Response r;
  r.content_type = "text/plain; charset=utf-8";
  if (req.path == "/healthz") {
    r.body = "ok\n";
  } else if (req.path == "/readyz") {
    r.status = s.ready ? 200 : 503;
    r.body = s.ready ? "lease held\n" : "lease not held (" + s.lease_state + ")\n";
  } else if (req.path == "/metrics") {
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = m.render(s.last_ack_age_s);
  } else if (req.path == "/status") {
    nlohmann::json j = {{"run_id", s.run_id},
                        {"holder", s.holder},
                        {"node", s.node},
                        {"mode", s.mode},
                        {"epoch", s.epoch},
                        {"lease_state", s.lease_state},
                        {"seconds_since_last_ack", nullptr},
                        {"granted_ttl_seconds", s.granted_ttl_s},
                        {"interval_seconds", s.interval_s},
                        {"stop_deadline_in_seconds", nullptr},
                        {"consecutive_failures", s.consecutive_failures},
                        {"seq", s.seq},
                        {"phase", s.phase},
                        {"fencing", s.fencing ? "on" : "off"},
                        {"workload_pid", nullptr},
                        {"workload_pids", s.workload_pids}};
    if (s.last_ack_age_s) j["seconds_since_last_ack"] = *s.last_ack_age_s;
    if (s.stop_deadline_in_s) j["stop_deadline_in_seconds"] = *s.stop_deadline_in_s;
    if (!s.workload_pids.empty()) j["workload_pid"] = s.workload_pids.front();
    r.content_type = "application/json";
    r.body = j.dump() + "\n";
  } else {
    return http::json_error(404, "not_found", "try /healthz, /readyz, /metrics or /status");
  }
  return r;
}

HealthServer::HealthServer(boost::asio::io_context& io, std::function<HealthSnapshot()> snapshot,
                           const SidecarMetrics& metrics, const Logger& log)
    : snapshot_(std::move(snapshot)),
      metrics_(metrics),
      server_(io,
              [this](const http::Request& req) -> boost::asio::awaitable<http::Response> {
                co_return health_response(req, snapshot_(), metrics_);
              },
              http::ServerLimits{.max_header_bytes = 8 * 1024,
                                 .max_body_bytes = 1024,
                                 .idle_timeout = std::chrono::milliseconds(30'000),
                                 .request_timeout = std::chrono::milliseconds(5'000),
                                 .max_connections = 64},
              log) {}

Result<std::uint16_t> HealthServer::listen(const HostPort& address) {
  auto port = server_.listen(address);
  if (port) server_.start();
  return port;
}

void HealthServer::stop() { server_.stop(); }

}  // namespace lifeline::sidecar
