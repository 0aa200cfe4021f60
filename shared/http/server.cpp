#include "shared/http/server.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <type_traits>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

namespace lifeline::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

using Clock = std::chrono::steady_clock;

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

using RequestParser = bhttp::request_parser<bhttp::string_body>;

// Reads one request into `parser`: parses what `buffer` already holds and reads from the
// stream only when the parser needs more. (Beast's async_read_header and async_read post
// their completion through the scheduler even when the bytes are already buffered, and a
// heartbeat's header and body nearly always arrive in one segment.) The deadlines: `idle`
// for the first byte when nothing is buffered; from that byte on request_timeout for the
// headers in all, however slowly they trickle in; request_timeout again for the body.
template <typename Stream, typename Conn>
asio::awaitable<boost::system::error_code> read_request(Stream& stream, Conn& conn, beast::flat_buffer& buffer,
                                                        RequestParser& parser, const ServerLimits& limits,
                                                        std::chrono::milliseconds idle) {
  bool waiting_first_byte = buffer.size() == 0;
  bool header_done = false;
  conn.expires_after(waiting_first_byte ? idle : limits.request_timeout);
  for (;;) {
    if (buffer.size() > 0) {
      boost::system::error_code ec;
      const std::size_t used = parser.put(buffer.data(), ec);
      buffer.consume(used);
      if (ec && ec != bhttp::error::need_more) co_return ec;
      if (parser.is_done()) co_return boost::system::error_code{};
      if (!header_done && parser.is_header_done()) {
        header_done = true;
        conn.expires_after(limits.request_timeout);
      }
      if (used > 0 && buffer.size() > 0) continue;  // the parser stopped at a boundary; go on
    }
    // The buffer holds at most a header's worth: a header that does not fit is too large
    // (body bytes never accumulate; the parser moves them into the body as they come).
    if (buffer.size() >= buffer.max_size()) co_return bhttp::error::buffer_overflow;
    const std::size_t want = std::min<std::size_t>(4096, buffer.max_size() - buffer.size());
    auto [rec, n] = co_await stream.async_read_some(buffer.prepare(want), kAwait);
    if (rec == asio::error::eof) {
      if (!parser.got_some() && buffer.size() == 0) co_return bhttp::error::end_of_stream;
      boost::system::error_code ec;
      parser.put_eof(ec);
      if (!ec && !parser.is_done()) ec = bhttp::error::partial_message;
      co_return ec;
    }
    if (rec) co_return rec;
    buffer.commit(n);
    if (waiting_first_byte) {
      waiting_first_byte = false;
      conn.expires_after(limits.request_timeout);
    }
  }
}

// Sends `answer` whole. On a plain socket (non-blocking) one send nearly always takes it
// at once, with no completion to post; whatever it does not take goes out asynchronously.
template <typename Stream>
asio::awaitable<boost::system::error_code> write_answer(Stream& stream, const std::string& answer) {
  std::size_t sent = 0;
  if constexpr (std::is_same_v<Stream, tcp::socket>) {
    boost::system::error_code ec;
    sent = stream.write_some(asio::buffer(answer), ec);
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) co_return ec;
    if (!ec && sent == answer.size()) co_return ec;
  }
  auto [ec, n] = co_await asio::async_write(stream, asio::buffer(answer.data() + sent, answer.size() - sent), kAwait);
  co_return ec;
}
}  // namespace

// One accepted connection. Its deadline is checked by the server's sweep, not by a timer
// of its own: arming a timer four times per request cost more than the request's parse.
class Server::Connection {
 public:
  explicit Connection(tcp::socket s) : socket(std::move(s)) {}
  void expires_after(std::chrono::milliseconds d) { deadline = Clock::now() + d; }
  void expires_never() { deadline = Clock::time_point::max(); }

  tcp::socket socket;
  Clock::time_point deadline = Clock::time_point::max();
  std::string answer;  // the answer being written, kept for its capacity
};

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
  // at most 250 ms, at least 10 ms.
  auto p = std::min({limits_.request_timeout / 4, limits_.idle_timeout / 4, std::chrono::milliseconds(250)});
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
  if (TlsContext tls = tls_) {  // this copy keeps the context alive across a reload
    asio::ssl::stream<tcp::socket&> stream(conn->socket, *tls);
    conn->expires_after(limits_.request_timeout);
    auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::server, kAwait);
    if (!hec) {
      co_await exchange(*conn, stream, remote);
      // close_notify, so that the client can tell an orderly close from a truncation; a
      // client that never answers it costs at most a second.
      conn->expires_after(std::min<std::chrono::milliseconds>(limits_.request_timeout, std::chrono::seconds(1)));
      co_await stream.async_shutdown(kAwait);
    }
  } else {
    conn->socket.non_blocking(true, ec);  // write_answer's first send must never block the loop
    if (!ec) co_await exchange(*conn, conn->socket, remote);
    conn->socket.shutdown(tcp::socket::shutdown_send, ec);
  }
  conn->socket.close(ec);
}

template <typename Stream>
asio::awaitable<void> Server::exchange(Connection& conn, Stream& stream, const std::string& remote) {
  beast::flat_buffer buffer{limits_.max_header_bytes};
  bool first = true;
  while (!stopped_) {
    RequestParser parser;
    parser.header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
    parser.body_limit(limits_.max_body_bytes);
    parser.eager(true);
    auto rec = co_await read_request(stream, conn, buffer, parser, limits_,
                                     first ? limits_.request_timeout : limits_.idle_timeout);
    first = false;
    if (rec) {
      Response err;
      if (rec == bhttp::error::body_limit) {
        err = json_error(413, "body_too_large",
                         "request body exceeds " + std::to_string(limits_.max_body_bytes) + " bytes");
      } else if (rec == bhttp::error::header_limit || rec == bhttp::error::buffer_overflow) {
        err = json_error(431, "headers_too_large",
                         "request headers exceed " + std::to_string(limits_.max_header_bytes) + " bytes");
      } else if (rec == bhttp::error::end_of_stream ||
                 rec.category() != bhttp::make_error_code(bhttp::error::bad_method).category()) {
        break;  // the client went away, the socket failed or timed out: nobody to answer
      } else {
        err = json_error(400, "bad_request", "malformed HTTP request: " + rec.message());
      }
      err.close = true;
      serialize(err, 11, false, conn.answer);
      conn.expires_after(limits_.request_timeout);
      co_await write_answer(stream, conn.answer);
      break;
    }
    auto& breq = parser.get();
    Request req;
    req.method = std::string(breq.method_string());
    std::string_view target = breq.target();
    auto q = target.find('?');
    req.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) req.query = std::string(target.substr(q + 1));
    req.content_type = std::string(breq[bhttp::field::content_type]);
    req.authorization = std::string(breq[bhttp::field::authorization]);
    req.body = std::move(breq.body());
    req.remote = remote;
    bool keep_alive = breq.keep_alive();
    unsigned version = breq.version();
    conn.expires_never();  // the handler may wait (group commit); it bounds itself
    Response resp = co_await handler_(std::move(req));
    keep_alive = keep_alive && !resp.close && !stopped_ && !draining_;
    serialize(resp, version, keep_alive, conn.answer);
    conn.expires_after(limits_.request_timeout);
    auto wec = co_await write_answer(stream, conn.answer);
    if (wec || !keep_alive) break;
  }
}

}  // namespace lifeline::http
