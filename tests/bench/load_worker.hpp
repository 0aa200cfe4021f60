#pragma once
// One load-generator worker: a slice of the simulated sidecars on one io_context and one
// thread, one keep-alive connection each (no thread per connection).
//
// Open loop (rate > 0): connection i of n sends at t0 + i/rate + k*n/rate for k = 0, 1, ...
// (rounded up to the tick grid) whatever happened to earlier requests; latency is
// measured from that intended time, so a slow server's queueing is counted (no
// coordinated omission). A connection whose previous answer came late sends at once and
// counts a late send.
// Closed loop (rate = 0): each connection sends again as soon as it is answered.
//
// The hot path has no coroutine and no timer per connection: connections are due in
// index order within each period, so one pacer per worker wakes once a tick and starts
// every connection whose time has come (a cursor over the schedule), and an answer's
// callback sends the next request at once when it is already due. Only the connect
// phase uses coroutines.
//
// Thread-safety: one thread calls connect_all() and then run().

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>
#include <vector>

#include "tests/bench/client_connection.hpp"
#include "tests/bench/heartbeat_request.hpp"
#include "tests/bench/load_options.hpp"
#include "tests/bench/worker_result.hpp"

namespace lifeline::bench {

class LoadWorker final : private ExchangeListener {
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
  // What the hot path keeps per connection, dense so that the pacer and the watchdog
  // walk memory in order.
  struct Slot {
    std::size_t step = 0;           // the next request's index in this connection's schedule
    Clock::time_point intended{};   // the request in flight's intended send time
    bool busy = false;
    bool finished = false;          // its schedule has ended (or, closed loop, the window)
  };

  boost::asio::awaitable<void> connector();
  boost::asio::awaitable<void> pacer();
  boost::asio::awaitable<void> watchdog();
  boost::asio::awaitable<void> window_marks();
  Clock::time_point intended_at(std::size_t local, std::size_t step) const;
  // Sends connection `local`'s next request if it is idle and due at `now`; marks it
  // finished when its schedule is over.
  void start_if_due(std::size_t local, Clock::time_point now);
  void finish(std::size_t local);
  void on_exchange(std::size_t local, const Exchange& ex) override;

  const LoadOptions& options_;
  std::size_t first_;
  std::size_t last_;
  boost::asio::io_context io_{1};
  HeartbeatRequests requests_;
  std::vector<std::unique_ptr<ClientConnection>> connections_;
  std::vector<SimulatedSidecar> sidecars_;
  std::vector<std::int64_t> seqs_;
  std::vector<Slot> slots_;
  std::vector<std::string> requests_in_flight_;  // one buffer per connection, reused
  boost::asio::steady_timer retry_timer_{io_};   // closed loop: reconnects after a refused connect
  std::vector<std::size_t> retry_;               // connections waiting for retry_timer_
  double period_ = 0;                            // open loop: seconds between one connection's sends
  double tick_ = 0;                              // open loop: grid of intended times, seconds
  bool pacer_done_ = false;                      // the pacer's walk of the schedule is over
  std::size_t next_connect_ = 0;
  std::size_t active_ = 0;
  Clock::time_point t0_, measure_start_, measure_end_;
  double cpu_at_start_ = 0;
  WorkerResult result_;
};

// User plus system CPU seconds of the calling process.
double process_cpu_seconds();

}  // namespace lifeline::bench
