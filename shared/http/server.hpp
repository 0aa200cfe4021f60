#pragma once
// An asynchronous HTTP/1.1 server on Boost.Beast: one coroutine per connection, no
// thread per connection, keep-alive, limits on header and body size, idle timeouts.
// Handlers are coroutines, so a handler may wait (for a group commit, say) without
// holding a thread.
//
// Threading: everything runs on the strand-less io_context the server is given; run
// that io_context on one thread. stop() may be called from that thread only (post to
// it from elsewhere).

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_set>

#include "shared/address.hpp"
#include "shared/http/message.hpp"
#include "shared/log.hpp"

namespace lifeline::http {

struct ServerLimits {
  std::size_t max_header_bytes = 8 * 1024;     // over it: 431 and close
  std::size_t max_body_bytes = 64 * 1024;      // over it: 413 and close
  std::chrono::milliseconds idle_timeout{75'000};    // keep-alive connection with no request
  std::chrono::milliseconds request_timeout{10'000}; // a request must arrive whole in this
  std::size_t max_connections = 100'000;       // beyond it new connections are closed at once
};

using Handler = std::function<boost::asio::awaitable<Response>(Request)>;

class Server {
 public:
  Server(boost::asio::io_context& io, Handler handler, ServerLimits limits, const Logger& log);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens; returns the bound port (useful with port 0).
  Result<std::uint16_t> listen(const HostPort& address);
  // Starts accepting on the io_context.
  void start();
  // Stops accepting and closes every connection; pending handlers finish on their own.
  void stop();
  // Graceful first half of a drain: stops accepting; requests on open connections are
  // still answered, each with `Connection: close`. Call stop() once they are done.
  void stop_accepting();

  std::size_t connection_count() const { return connections_.size(); }
  std::uint64_t connections_rejected() const { return rejected_; }

 private:
  class Connection;
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> serve(std::shared_ptr<Connection> conn);

  boost::asio::io_context& io_;
  Handler handler_;
  ServerLimits limits_;
  Logger log_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::unordered_set<Connection*> connections_;
  std::uint64_t rejected_ = 0;
  std::chrono::steady_clock::time_point last_accept_warning_{};
  bool stopped_ = false;
  bool draining_ = false;
};

}  // namespace lifeline::http
