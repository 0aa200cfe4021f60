#include "tests/bench/client_connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
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

std::string ClientConnection::open_socket() {
  boost::system::error_code ec;
  if (socket_.is_open()) socket_.close(ec);
  abort_reason_ = nullptr;
  used_ = 0;
  socket_.open(target_.protocol(), ec);
  if (ec) return "socket: " + ec.message();  // EMFILE here means the fd limit
  if (source_) {
    socket_.bind(tcp::endpoint(*source_, 0), ec);
    if (ec) return "bind: " + ec.message();
  }
  return {};
}

asio::awaitable<std::string> ClientConnection::connect() {
  if (auto err = open_socket(); !err.empty()) co_return err;
  boost::system::error_code ec;
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
  // The callback form, resumed through a one-shot listener owned by this connection (so
  // nothing leaks when the connection goes with a round trip in flight). The answer is
  // posted, not delivered inline, because send() may fail at once, inside the initiation.
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(Exchange)>(
      [this, request](auto handler) {
        using Handler = decltype(handler);
        struct Waiter final : ExchangeListener {
          explicit Waiter(Handler h) : handler(std::move(h)) {}
          void on_exchange(std::size_t, const Exchange& ex) override {
            auto executor = asio::get_associated_executor(handler);
            asio::post(executor, [h = std::move(handler), ex]() mutable { std::move(h)(ex); });
          }
          Handler handler;
        };
        waiter_ = std::make_unique<Waiter>(std::move(handler));
        send(request, *waiter_, 0);
      },
      asio::use_awaitable);
}

void ClientConnection::send(std::string_view request, ExchangeListener& listener, std::size_t id) {
  request_ = request;
  listener_ = &listener;
  id_ = id;
  if (socket_.is_open()) {
    write();
    return;
  }
  if (!open_socket().empty()) {
    deliver_error("connect");
    return;
  }
  busy_since_ = std::chrono::steady_clock::now();
  socket_.async_connect(target_, [this](boost::system::error_code cec) {
    busy_since_.reset();
    boost::system::error_code ec;
    if (cec) {
      socket_.close(ec);
      deliver_error("connect");
      return;
    }
    socket_.set_option(tcp::no_delay(true), ec);
    if (ever_connected_) ++reconnects_;
    ever_connected_ = true;
    write();
  });
}

void ClientConnection::write() {
  busy_since_ = std::chrono::steady_clock::now();
  asio::async_write(socket_, asio::buffer(request_), [this](boost::system::error_code ec, std::size_t) {
    if (ec) {
      deliver_error("reset");
      return;
    }
    used_ = 0;
    read();
  });
}

void ClientConnection::read() {
  if (used_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
  socket_.async_read_some(asio::buffer(buffer_.data() + used_, buffer_.size() - used_),
                          [this](boost::system::error_code ec, std::size_t n) {
                            if (ec) {
                              deliver_error(ec == asio::error::eof ? "eof" : "reset");
                              return;
                            }
                            used_ += n;
                            ParsedResponse parsed;
                            auto state = parse_response(std::string_view(buffer_.data(), used_), parsed);
                            if (state == ParseState::malformed) deliver_error("malformed");
                            else if (state == ParseState::complete) deliver_answer(parsed);
                            else read();
                          });
}

void ClientConnection::deliver_answer(const ParsedResponse& parsed) {
  busy_since_.reset();
  Exchange ex;
  ex.status = parsed.status;
  ex.body = std::string_view(buffer_.data() + parsed.header_bytes, parsed.body_bytes);
  if (parsed.close) {
    boost::system::error_code ec;
    socket_.close(ec);
  }
  listener_->on_exchange(id_, ex);
}

void ClientConnection::deliver_error(const char* what) {
  busy_since_.reset();
  Exchange ex;
  ex.error = abort_reason_ != nullptr ? abort_reason_ : what;
  abort("closed");
  abort_reason_ = nullptr;
  listener_->on_exchange(id_, ex);
}

}  // namespace lifeline::bench
