#pragma once
// Simulated sidecars with a life: heartbeat every interval from a start time, then die at
// a set time, either vanishing (the pod's node is gone: heartbeats stop, the connection
// drops) or being evicted (a release with outcome "evicted"). Records the wall time of
// each death and of the last acknowledged heartbeat, to compare with the times the fake
// Prefect recorded the Crashed state.
// Threading: run() and beat_once() run their own io_context on the calling thread and
// return when done; lives must not be touched meanwhile.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tests/bench/heartbeat_request.hpp"

namespace lifeline::bench {

struct SidecarLife {
  enum class Death { vanish, evict };
  SimulatedSidecar sidecar;
  std::chrono::steady_clock::time_point first_beat;
  std::chrono::steady_clock::time_point death;
  Death how = Death::vanish;
  // Filled in by the swarm.
  std::optional<std::chrono::system_clock::time_point> died_at;   // vanish: when it stopped; evict: release sent
  std::optional<std::chrono::system_clock::time_point> last_ack;  // send time of the last 200 heartbeat
  std::uint64_t beats_ok = 0;
  std::uint64_t beats_failed = 0;
  int release_status = 0;
};

class SidecarSwarm {
 public:
  SidecarSwarm(std::string host, std::uint16_t port, int ttl_seconds, std::chrono::milliseconds interval);

  // One keep-alive connection per life; returns once every life has ended.
  void run(std::vector<SidecarLife>& lives);
  // One heartbeat per sidecar over `connections` connections, as fast as answered (the
  // leases of a node pool, all renewed just before the pool goes away).
  void beat_once(std::vector<SidecarLife>& lives, std::size_t connections);

 private:
  std::string host_;
  std::uint16_t port_;
  HeartbeatRequests requests_;
  std::chrono::milliseconds interval_;
};

}  // namespace lifeline::bench
