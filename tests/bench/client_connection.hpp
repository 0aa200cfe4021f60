#pragma once
// One keep-alive HTTP/1.1 client connection for the benchmarks: connect, then request /
// response round trips, one at a time (no pipelining, like a sidecar). The response is
// parsed in place; its body stays valid until the next round trip.
// Timeouts are enforced from outside (the owner's watchdog calls abort()), so a round
// trip costs no timer of its own.
// Two forms of the round trip: a callback form (send) for the load generator's hot path,
// which costs no coroutine frame and no awaitable machinery per request, and a coroutine
// (round_trip, built on send) for setup and the reaping benchmark's sidecars.
// Thread-safety: not thread-safe; used from the one thread running its executor.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tests/bench/http_response_parser.hpp"

namespace lifeline::bench {

struct Exchange {
  int status = 0;               // 0 when there is no answer (see error)
  std::string_view body;        // valid until the next round trip
  std::string error;            // empty on success: "connect", "reset", "eof", "timeout", "malformed"
  bool ok() const { return error.empty(); }
};

// Receives the callback form's exchanges.
class ExchangeListener {
 public:
  virtual ~ExchangeListener() = default;
  virtual void on_exchange(std::size_t id, const Exchange& ex) = 0;
};

class ClientConnection {
 public:
  ClientConnection(boost::asio::any_io_executor ex, boost::asio::ip::tcp::endpoint target,
                   std::optional<boost::asio::ip::address> source = std::nullopt);

  bool is_open() const { return socket_.is_open(); }
  // Connects (closing any previous socket). Returns an empty string or the error.
  boost::asio::awaitable<std::string> connect();
  // Sends `request` and reads one whole response. On any error the connection is closed
  // (the next round trip reconnects first, counted by reconnects()).
  boost::asio::awaitable<Exchange> round_trip(std::string_view request);
  // The same round trip with a callback: reconnects first if closed, then sends `request`
  // (which must stay alive until the answer) and calls listener.on_exchange(id, ...) once,
  // from this connection's executor. One round trip at a time.
  void send(std::string_view request, ExchangeListener& listener, std::size_t id);
  // Closes abruptly (RST, no TIME_WAIT left on the client's ports). Pending operations
  // fail; `why` becomes their error.
  void abort(const char* why);

  // Steady time the current round trip started, or nullopt when idle (for watchdogs).
  std::optional<std::chrono::steady_clock::time_point> busy_since() const { return busy_since_; }
  std::uint64_t reconnects() const { return reconnects_; }

 private:
  std::string open_socket();  // opens (and binds) a fresh socket; returns an error or ""
  void write();
  void read();
  void deliver_answer(const ParsedResponse& parsed);
  void deliver_error(const char* what);

  boost::asio::ip::tcp::socket socket_;
  boost::asio::ip::tcp::endpoint target_;
  std::optional<boost::asio::ip::address> source_;
  std::string buffer_;
  std::size_t used_ = 0;
  std::optional<std::chrono::steady_clock::time_point> busy_since_;
  const char* abort_reason_ = nullptr;
  std::uint64_t reconnects_ = 0;
  bool ever_connected_ = false;
  // The callback form's round trip in progress.
  std::string_view request_;
  ExchangeListener* listener_ = nullptr;
  std::size_t id_ = 0;
  std::unique_ptr<ExchangeListener> waiter_;  // round_trip's one-shot listener
};

}  // namespace lifeline::bench
