#pragma once
// Internal to the HTTP server: the request/answer loop shared by the plain server
// (server.cpp) and its TLS sessions (server_tls.cpp). Kept in a header so that the TLS half
// compiles in its own file, which only programs that serve TLS link (with OpenSSL).

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <memory_resource>
#include <string>
#include <tuple>
#include <type_traits>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "shared/http/server.hpp"

namespace lifeline::http {

namespace detail {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

using Clock = std::chrono::steady_clock;

// Writes `r` as an HTTP/1.x answer into `out` (cleared first): status line, headers,
// Content-Length and body, ready for one write. What Beast's serializer would send, without
// its per-answer header container.
void serialize(const Response& r, unsigned version, bool keep_alive, std::string& out);

// A request's header fields (and its method and target) are allocated from an arena that
// lives for one request: a heartbeat's half-dozen fields cost no allocation each.
using FieldsAllocator = std::pmr::polymorphic_allocator<char>;
using RequestParser = bhttp::parser<true, bhttp::string_body, FieldsAllocator>;
// Room for a heartbeat's header fields with a bearer token; larger headers spill to the heap.
constexpr std::size_t kFieldsArenaBytes = 1024;

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
}  // namespace detail

// One accepted connection. Its deadline is checked by the server's sweep, not by a timer
// of its own: arming a timer four times per request cost more than the request's parse.
class Server::Connection {
 public:
  explicit Connection(detail::tcp::socket s) : socket(std::move(s)) {}
  void expires_after(std::chrono::milliseconds d) { deadline = detail::Clock::now() + d; }
  void expires_never() { deadline = detail::Clock::time_point::max(); }

  detail::tcp::socket socket;
  detail::Clock::time_point deadline = detail::Clock::time_point::max();
  std::string answer;  // the answer being written, kept for its capacity
};

template <typename Stream>
boost::asio::awaitable<void> Server::exchange(Connection& conn, Stream& stream, const std::string& remote) {
  namespace bhttp = boost::beast::http;
  boost::beast::flat_buffer buffer{limits_.max_header_bytes};
  // One request at a time, reused: its strings keep their capacity, so that a keep-alive
  // connection's requests cost no allocation for their path, headers or body.
  Request req;
  req.remote = remote;
  alignas(std::max_align_t) std::byte fields_arena[detail::kFieldsArenaBytes];
  bool first = true;
  while (!stopped_) {
    std::pmr::monotonic_buffer_resource arena(fields_arena, sizeof fields_arena, std::pmr::new_delete_resource());
    detail::RequestParser parser(std::piecewise_construct, std::make_tuple(),
                                 std::make_tuple(detail::FieldsAllocator(&arena)));
    req.body.clear();
    parser.get().body().swap(req.body);  // the body is read into the previous one's capacity
    parser.header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
    parser.body_limit(limits_.max_body_bytes);
    parser.eager(true);
    auto rec = co_await detail::read_request(stream, conn, buffer, parser, limits_,
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
      detail::serialize(err, 11, false, conn.answer);
      conn.expires_after(limits_.request_timeout);
      co_await detail::write_answer(stream, conn.answer);
      break;
    }
    auto& breq = parser.get();
    req.method.assign(breq.method_string());
    std::string_view target = breq.target();
    auto q = target.find('?');
    req.path.assign(target.substr(0, q));
    if (q != std::string_view::npos) req.query.assign(target.substr(q + 1));
    else req.query.clear();
    req.content_type.assign(breq[bhttp::field::content_type]);
    req.authorization.assign(breq[bhttp::field::authorization]);
    req.body.swap(breq.body());
    bool keep_alive = breq.keep_alive();
    unsigned version = breq.version();
    conn.expires_never();  // the handler may wait (group commit); it bounds itself
    Response resp = co_await handler_(req);
    keep_alive = keep_alive && !resp.close && !stopped_ && !draining_;
    detail::serialize(resp, version, keep_alive, conn.answer);
    conn.expires_after(limits_.request_timeout);
    auto wec = co_await detail::write_answer(stream, conn.answer);
    if (wec || !keep_alive) break;
  }
}

}  // namespace lifeline::http
