#include "shared/http/server.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/status.hpp>

#include "shared/http/server_session.hpp"

namespace lifeline::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace detail {

// Writes `r` as an HTTP/1.x answer into `out` (cleared first): status line, headers,
// Content-Length and body, ready for one write. What Beast's serializer would send, without
// its per-answer header container.
void serialize(const Response& r, unsigned version, bool keep_alive, std::string& out) {
  const auto status = static_cast<bhttp::status>(r.status);
  const bool bodiless = r.status == 204 || r.status == 304 || (r.status >= 100 && r.status < 200);
  out.clear();
  out += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(r.status);
  out += ' ';
  out += bhttp::obsolete_reason(status);
  out += "\r\nServer: lifeline\r\n";
  if (!r.body.empty() || r.status != 204) {
    out += "Content-Type: ";
    out += r.content_type;
    out += "\r\n";
  }
  for (const auto& [k, v] : r.headers) {
    out += k;
    out += ": ";
    out += v;
    out += "\r\n";
  }
  if (!bodiless) {
    out += "Content-Length: ";
    out += std::to_string(r.body.size());
    out += "\r\n";
  }
  // HTTP/1.1 keeps a connection open unless told; HTTP/1.0 closes it unless told.
  if (!keep_alive && version != 10) out += "Connection: close\r\n";
  if (keep_alive && version == 10) out += "Connection: keep-alive\r\n";
  out += "\r\n";
  if (!bodiless) out += r.body;
}

}  // namespace detail

using detail::Clock;
using detail::kAwait;

Server::Server(asio::io_context& io, Handler handler, ServerLimits limits, const Logger& log)
    : io_(io), handler_(std::move(handler)), limits_(limits), log_(log), acceptor_(io), sweep_timer_(io) {}

Server::~Server() = default;

Result<std::uint16_t> Server::listen(const HostPort& address) {
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(address.host == "" ? "0.0.0.0" : address.host, ec);
  if (ec) return make_error("bad_address", "cannot listen on \"" + address.host + "\": not an IP address");
  tcp::endpoint ep{ip, address.port};
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return make_error("listen_failed", "cannot listen on " + address.host + ":" +
                                           std::to_string(address.port) + ": " + ec.message());
  return acceptor_.local_endpoint().port();
}

Result<std::uint16_t> Server::listen_shared(Server& other) {
  boost::system::error_code ec;
  const auto ep = other.acceptor_.local_endpoint(ec);
  if (ec) return make_error("listen_failed", "cannot share a listening socket that is not open: " + ec.message());
  const int fd = ::fcntl(other.acceptor_.native_handle(), F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return make_error("listen_failed", std::string("cannot share the listening socket: ") + std::strerror(errno));
  acceptor_.assign(ep.protocol(), fd, ec);
  if (ec) {
    ::close(fd);
    return make_error("listen_failed", "cannot share the listening socket: " + ec.message());
  }
  return ep.port();
}

void Server::start() {
  asio::co_spawn(io_, accept_loop(), [this](std::exception_ptr e) {
    if (e) log_.error("http accept loop ended by an exception");
  });
  arm_sweep();
}

std::chrono::milliseconds Server::sweep_period() const {
  // A deadline is enforced at most one period late: a quarter of the shortest timeout,
  // at most 1 s, at least 10 ms. Each sweep visits every connection (at 20,000 connections
  // and four sweeps a second, 1 % of the API thread's time at 50,000 heartbeats a second).
  auto p = std::min({limits_.request_timeout / 4, limits_.idle_timeout / 4, std::chrono::milliseconds(1'000)});
  return std::max(p, std::chrono::milliseconds(10));
}

void Server::arm_sweep() {
  sweep_timer_.expires_after(sweep_period());
  sweep_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec == asio::error::operation_aborted) return;  // stopped, or the server is gone
    if (stopped_) return;
    sweep(Clock::now());
    arm_sweep();
  });
}

void Server::sweep(Clock::time_point now) {
  // A connection past its deadline has its pending operation cancelled; its coroutine sees
  // operation_aborted and closes it. Its deadline stays in the past, so an operation that
  // had already completed when this ran is cancelled on the next sweep.
  boost::system::error_code ec;
  for (Connection* c : connections_)
    if (c->deadline <= now) c->socket.cancel(ec);
}

void Server::stop() {
  stopped_ = true;
  boost::system::error_code ec;
  acceptor_.close(ec);
  sweep_timer_.cancel();
  for (Connection* c : connections_) {
    c->socket.shutdown(tcp::socket::shutdown_both, ec);
    c->socket.cancel(ec);
  }
}

void Server::stop_accepting() {
  draining_ = true;
  boost::system::error_code ec;
  acceptor_.close(ec);
}

asio::awaitable<void> Server::accept_loop() {
  while (!stopped_) {
    auto [ec, socket] = co_await acceptor_.async_accept(kAwait);
    if (ec) {
      if (ec == asio::error::operation_aborted || stopped_ || draining_) co_return;
      // EMFILE and friends: the connection waits in the backlog. Pause instead of spinning,
      // and log at most once a second; the limit is the operator's to raise.
      auto now = std::chrono::steady_clock::now();
      if (now - last_accept_warning_ >= std::chrono::seconds(1)) {
        last_accept_warning_ = now;
        log_.warn("accept failed", {{"error", ec.message()}, {"connections", connections_.size()}});
      }
      asio::steady_timer pause(io_, std::chrono::milliseconds(50));
      co_await pause.async_wait(kAwait);
      continue;
    }
    if (connections_.size() >= limits_.max_connections) {
      ++rejected_;
      socket.close(ec);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto conn = std::make_shared<Connection>(std::move(socket));
    connections_.insert(conn.get());
    asio::co_spawn(io_, serve(conn), [this, raw = conn.get()](std::exception_ptr e) {
      connections_.erase(raw);
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          log_.error("http connection ended by an exception", {{"error", ex.what()}});
        }
      }
    });
  }
}

asio::awaitable<void> Server::serve(std::shared_ptr<Connection> conn) {
  boost::system::error_code ec;
  std::string remote;
  {
    auto ep = conn->socket.remote_endpoint(ec);
    if (!ec) remote = ep.address().to_string() + ":" + std::to_string(ep.port());
  }
  if (TlsContext tls = tls_; tls && tls_session_) {  // this copy keeps the context alive across a reload
    co_await (this->*tls_session_)(*conn, *tls, remote);
  } else {
    conn->socket.non_blocking(true, ec);  // write_answer's first send must never block the loop
    if (!ec) co_await exchange(*conn, conn->socket, remote);
    conn->socket.shutdown(tcp::socket::shutdown_send, ec);
  }
  conn->socket.close(ec);
}

}  // namespace lifeline::http
