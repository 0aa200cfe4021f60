#pragma once
// Keeps the flow run's lease: heartbeats on a drift-free schedule, retries a failed
// heartbeat with short backoff inside the interval, reports renewals and stop
// directives, and finally releases the lease. All requests go through one
// HeartbeatClient, one at a time, so they share one keep-alive connection.
// Threading: a coroutine on the io_context thread; every method is called on that thread.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <optional>
#include <string>

#include "shared/clock.hpp"
#include "shared/log.hpp"
#include "sidecar/heartbeat_client.hpp"
#include "sidecar/heartbeat_protocol.hpp"
#include "sidecar/metrics.hpp"
#include "sidecar/retry_backoff.hpp"

namespace lifeline::sidecar {

struct LeaseSettings {
  std::string run_id;
  std::string holder;
  std::string node;
  std::string base_path;  // of the reaper URL
  Duration interval;
  Duration ttl;
  Duration kill_grace;
  Duration request_timeout;
};

// What the lease looks like now (for /status, /readyz and the fence).
struct LeaseView {
  std::int64_t epoch = 0;
  Duration granted_ttl{0};
  std::optional<SteadyTime> last_ack_sent;
  int consecutive_failures = 0;
  std::uint64_t seq = 0;
  Phase phase = Phase::running;
  Duration interval{0};
  bool stop_received = false;
  bool released = false;
};

class LeaseKeeper {
 public:
  struct Callbacks {
    std::function<void(const LeaseView&)> renewed;      // after every acknowledged heartbeat
    std::function<void(const std::string&)> stop;       // the reaper said stop (or 409)
    std::function<void()> finished;                     // after the release attempt
  };

  LeaseKeeper(boost::asio::io_context& io, const Clock& clock, HeartbeatClient& client,
              LeaseSettings settings, SidecarMetrics& metrics, const Logger& log, Callbacks callbacks);

  // The heartbeat loop; returns after finish() has released (or tried to) the lease.
  boost::asio::awaitable<void> run();

  // Switches to phase "terminating" and heartbeats at once.
  void terminating();
  // Stops heartbeating and releases the lease with this outcome; run() then returns.
  void finish(ReleaseOutcome outcome, int exit_code);

  const LeaseView& view() const { return view_; }

 private:
  boost::asio::awaitable<void> heartbeat_once();
  boost::asio::awaitable<void> release();
  void wake();

  const Clock& clock_;
  HeartbeatClient& client_;
  LeaseSettings settings_;
  SidecarMetrics& metrics_;
  Logger log_;
  Callbacks callbacks_;
  boost::asio::steady_timer timer_;
  BackoffPolicy backoff_;
  LeaseView view_;
  bool urgent_ = true;  // the first heartbeat goes out at once
  bool last_failed_ = false;
  std::optional<std::pair<ReleaseOutcome, int>> release_;
};

}  // namespace lifeline::sidecar
