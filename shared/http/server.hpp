#pragma once
// An asynchronous HTTP/1.1 server on Boost.Beast: one coroutine per connection, no
// thread per connection, keep-alive, limits on header and body size, idle timeouts.
// Handlers are coroutines, so a handler may wait (for a group commit, say) without
// holding a thread.
//
// With a TLS context (set_tls) every connection is TLS; a plain HTTP request on it fails
// the handshake and is closed.
//
// Threading: everything runs on the strand-less io_context the server is given; run
// that io_context on one thread. stop() may be called from that thread only (post to
// it from elsewhere).

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_set>

#include "shared/address.hpp"
#include "shared/http/message.hpp"
#include "shared/http/tls_context.hpp"
#include "shared/log.hpp"

namespace lifeline::http {

struct ServerLimits {
  std::size_t max_header_bytes = 8 * 1024;     // over it: 431 and close
  std::size_t max_body_bytes = 64 * 1024;      // over it: 413 and close
  std::chrono::milliseconds idle_timeout{75'000};    // keep-alive connection with no request
  // A request's headers must arrive whole within this of its first byte (a keep-alive
  // connection waits idle_timeout for that byte), and its body within this again; a TLS
  // handshake within this of the accept.
  std::chrono::milliseconds request_timeout{10'000};
  std::size_t max_connections = 100'000;       // beyond it new connections are closed at once
};

// The request stays valid until the handler's awaitable completes, and no longer: the
// server reuses its storage (and the capacity of its strings) for the connection's next
// request.
using Handler = std::function<boost::asio::awaitable<Response>(const Request&)>;

class Server {
 public:
  Server(boost::asio::io_context& io, Handler handler, ServerLimits limits, const Logger& log);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens; returns the bound port (useful with port 0).
  Result<std::uint16_t> listen(const HostPort& address);
  // Accepts on `other`'s listening socket (a duplicate descriptor of it) from this
  // server's io_context, so that several event-loop threads serve one port: each new
  // connection goes to whichever server accepts it first. Unlike SO_REUSEPORT, the port
  // stays exclusively ours. `other` must be listening; call before either starts.
  Result<std::uint16_t> listen_shared(Server& other);
  // Starts accepting on the io_context.
  void start();
  // Stops accepting and closes every connection; pending handlers finish on their own.
  void stop();
  // Graceful first half of a drain: stops accepting; requests on open connections are
  // still answered, each with `Connection: close`. Call stop() once they are done.
  void stop_accepting();
  // Serve TLS with `context` on connections accepted from now on (null: plain HTTP).
  // Connections already open keep the context they started with. Defined, with the TLS
  // session, in server_tls.cpp: a program that never calls it does not link OpenSSL.
  void set_tls(TlsContext context);

  std::size_t connection_count() const { return connections_.size(); }
  std::uint64_t connections_rejected() const { return rejected_; }

 private:
  class Connection;
  boost::asio::awaitable<void> accept_loop();
  std::chrono::milliseconds sweep_period() const;
  void arm_sweep();
  // Cancels the pending operation of every connection whose deadline has passed.
  void sweep(std::chrono::steady_clock::time_point now);
  boost::asio::awaitable<void> serve(std::shared_ptr<Connection> conn);
  // One connection's TLS handshake, exchange and close_notify (server_tls.cpp).
  boost::asio::awaitable<void> serve_tls(Connection& conn, boost::asio::ssl::context& tls, const std::string& remote);
  // The request/answer loop over a plain or TLS stream (server_session.hpp).
  template <typename Stream>
  boost::asio::awaitable<void> exchange(Connection& conn, Stream& stream, const std::string& remote);

  boost::asio::io_context& io_;
  Handler handler_;
  ServerLimits limits_;
  Logger log_;
  TlsContext tls_;
  // &Server::serve_tls once set_tls ran; reached only through this pointer, so that
  // server.cpp alone does not pull the TLS half (and OpenSSL) into a program.
  boost::asio::awaitable<void> (Server::*tls_session_)(Connection&, boost::asio::ssl::context&,
                                                       const std::string&) = nullptr;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer sweep_timer_;
  std::unordered_set<Connection*> connections_;
  std::uint64_t rejected_ = 0;
  std::chrono::steady_clock::time_point last_accept_warning_{};
  bool stopped_ = false;
  bool draining_ = false;
};

}  // namespace lifeline::http
