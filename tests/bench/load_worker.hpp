#pragma once
// One load-generator worker: a slice of the simulated sidecars on one io_context and one
// thread, one coroutine per keep-alive connection (no thread per connection).
//
// Open loop (rate > 0): connection i of n sends at t0 + i/rate + k*n/rate for k = 0, 1, ...
// whatever happened to earlier requests; latency is measured from that intended time,
// so a slow server's queueing is counted (no coordinated omission). A connection whose
// previous answer came late sends at once and counts a late send.
// Closed loop (rate = 0): each connection sends again as soon as it is answered.
//
// Thread-safety: one thread calls connect_all() and then run().

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <memory>
#include <vector>

#include "tests/bench/client_connection.hpp"
#include "tests/bench/heartbeat_request.hpp"
#include "tests/bench/load_options.hpp"
#include "tests/bench/worker_result.hpp"

namespace lifeline::bench {

class LoadWorker {
 public:
  using Clock = std::chrono::steady_clock;  // CLOCK_MONOTONIC: comparable across processes

  // Connections [first, last) of options.connections.
  LoadWorker(const LoadOptions& options, std::size_t first, std::size_t last, std::uint32_t tag);

  // Opens every connection (bounded concurrency, a few retries each).
  void connect_all();
  std::uint64_t connected() const { return result_.connected; }
  // Runs the schedule starting at t0: warm-up, then the measured window, then waits for
  // answers still in flight (bounded by the timeout).
  WorkerResult run(Clock::time_point t0);

 private:
  boost::asio::awaitable<void> connector();
  boost::asio::awaitable<void> drive(std::size_t local);
  boost::asio::awaitable<void> watchdog();
  boost::asio::awaitable<void> window_marks();

  const LoadOptions& options_;
  std::size_t first_;
  std::size_t last_;
  boost::asio::io_context io_{1};
  HeartbeatRequests requests_;
  std::vector<std::unique_ptr<ClientConnection>> connections_;
  std::vector<SimulatedSidecar> sidecars_;
  std::vector<std::int64_t> seqs_;
  std::size_t next_connect_ = 0;
  std::size_t active_ = 0;
  Clock::time_point t0_, measure_start_, measure_end_;
  double cpu_at_start_ = 0;
  WorkerResult result_;
};

// User plus system CPU seconds of the calling process.
double process_cpu_seconds();

}  // namespace lifeline::bench
