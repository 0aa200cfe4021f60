#include "tests/bench/client_connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "tests/bench/http_response_parser.hpp"

namespace lifeline::bench {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
namespace {
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
}

ClientConnection::ClientConnection(asio::any_io_executor ex, tcp::endpoint target,
                                   std::optional<asio::ip::address> source)
    : socket_(std::move(ex)), target_(target), source_(source) {
  buffer_.resize(2048);
}

asio::awaitable<std::string> ClientConnection::connect() {
  boost::system::error_code ec;
  if (socket_.is_open()) socket_.close(ec);
  abort_reason_ = nullptr;
  used_ = 0;
  socket_.open(target_.protocol(), ec);
  if (ec) co_return "socket: " + ec.message();  // EMFILE here means the fd limit
  if (source_) {
    socket_.bind(tcp::endpoint(*source_, 0), ec);
    if (ec) co_return "bind: " + ec.message();
  }
  busy_since_ = std::chrono::steady_clock::now();
  auto [cec] = co_await socket_.async_connect(target_, kAwait);
  busy_since_.reset();
  if (cec) {
    socket_.close(ec);
    co_return abort_reason_ != nullptr ? std::string(abort_reason_) : "connect: " + cec.message();
  }
  socket_.set_option(tcp::no_delay(true), ec);
  if (ever_connected_) ++reconnects_;
  ever_connected_ = true;
  co_return std::string();
}

void ClientConnection::abort(const char* why) {
  abort_reason_ = why;
  boost::system::error_code ec;
  if (socket_.is_open()) {
    socket_.set_option(asio::socket_base::linger(true, 0), ec);
    socket_.close(ec);
  }
}

asio::awaitable<Exchange> ClientConnection::round_trip(std::string_view request) {
  Exchange ex;
  if (!socket_.is_open()) {
    if (auto err = co_await connect(); !err.empty()) {
      ex.error = "connect";
      co_return ex;
    }
  }
  busy_since_ = std::chrono::steady_clock::now();
  auto fail = [&](const char* what) {
    busy_since_.reset();
    ex.error = abort_reason_ != nullptr ? abort_reason_ : what;
    abort("closed");
    abort_reason_ = nullptr;
    return ex;
  };
  auto [wec, written] = co_await asio::async_write(socket_, asio::buffer(request), kAwait);
  (void)written;
  if (wec) co_return fail("reset");
  used_ = 0;
  ParsedResponse parsed;
  while (true) {
    if (used_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
    auto [rec, n] = co_await socket_.async_read_some(asio::buffer(buffer_.data() + used_, buffer_.size() - used_),
                                                      kAwait);
    if (rec) co_return fail(rec == asio::error::eof ? "eof" : "reset");
    used_ += n;
    auto state = parse_response(std::string_view(buffer_.data(), used_), parsed);
    if (state == ParseState::malformed) co_return fail("malformed");
    if (state == ParseState::complete) break;
  }
  busy_since_.reset();
  ex.status = parsed.status;
  ex.body = std::string_view(buffer_.data() + parsed.header_bytes, parsed.body_bytes);
  if (parsed.close) {
    boost::system::error_code ec;
    socket_.close(ec);
  }
  co_return ex;
}

}  // namespace lifeline::bench
