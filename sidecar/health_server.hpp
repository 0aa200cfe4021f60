#pragma once
// The sidecar's own HTTP port: /healthz, /readyz, /metrics and /status, served by the
// shared asynchronous server on the sidecar's one io_context.
// Thread-safety: io_context thread only.

#include <boost/asio/io_context.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "shared/http/server.hpp"
#include "sidecar/metrics.hpp"

namespace lifeline::sidecar {

// Everything the endpoints show, taken at request time.
struct HealthSnapshot {
  std::string run_id, holder, node, mode;
  std::int64_t epoch = 0;
  std::string lease_state;               // acquiring | held | lapsed | stopped | released
  std::optional<double> last_ack_age_s;  // seconds since the last acknowledged send
  double granted_ttl_s = 0;
  double interval_s = 0;
  std::optional<double> stop_deadline_in_s;  // seconds until the fence fires (stop mode)
  int consecutive_failures = 0;
  std::uint64_t seq = 0;
  std::string phase;
  bool fencing = true;
  std::vector<int> workload_pids;
  bool ready = false;  // lease held: last ack younger than the granted TTL
};

// Routing as a pure function of the request and the snapshot (unit-tested).
http::Response health_response(const http::Request& req, const HealthSnapshot& s, const SidecarMetrics& m);

class HealthServer {
 public:
  HealthServer(boost::asio::io_context& io, std::function<HealthSnapshot()> snapshot,
               const SidecarMetrics& metrics, const Logger& log);
  Result<std::uint16_t> listen(const HostPort& address);
  void stop();

 private:
  std::function<HealthSnapshot()> snapshot_;
  const SidecarMetrics& metrics_;
  http::Server server_;
};

}  // namespace lifeline::sidecar
