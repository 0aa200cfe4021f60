#include "sidecar/heartbeat_client.hpp"

#include "sidecar/heartbeat_exchange.hpp"

namespace lifeline::sidecar {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
}

HeartbeatClient::HeartbeatClient(asio::io_context& io, HttpUrl base, std::string bearer_token,
                                 std::unique_ptr<TlsLayer> tls)
    : base_(std::move(base)), token_(std::move(bearer_token)), tls_(std::move(tls)), resolver_(io), stream_(io) {}

HeartbeatClient::~HeartbeatClient() = default;

void HeartbeatClient::close() {
  boost::system::error_code ec;
  resolver_.cancel();
  stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
  stream_.close();
  // The TLS session stays until the next connect() replaces it: a request may still be
  // suspended in it.
  connected_ = false;
}

asio::awaitable<Status> HeartbeatClient::connect() {
  buffer_.clear();
  if (base_.tls && !tls_) co_return make_error("tls", "https:// reaper URL without TLS support in this build");
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(base_.host, ec);
  if (!ec) {
    // An address literal needs no resolver (and no resolver thread).
    auto [cec] = co_await stream_.async_connect(tcp::endpoint(ip, base_.port), kAwait);
    if (cec) co_return make_error("connect", "connect to " + base_.host_header() + ": " + cec.message());
  } else {
    // The resolver's work runs on Asio's private thread; the stream's deadline below and
    // the fence timer keep running meanwhile.
    auto [rec, results] = co_await resolver_.async_resolve(base_.host, std::to_string(base_.port), kAwait);
    if (rec) co_return make_error("resolve", "resolve " + base_.host + ": " + rec.message());
    auto [cec, ep] = co_await stream_.async_connect(results, kAwait);
    if (cec) co_return make_error("connect", "connect to " + base_.host_header() + ": " + cec.message());
  }
  stream_.socket().set_option(tcp::no_delay(true), ec);
  if (base_.tls) {
    // Inside the request's deadline: the stream's timer covers the handshake's reads.
    if (auto s = co_await tls_->start(stream_, base_); !s) co_return s.error();
  }
  connected_ = true;
  co_return Ok{};
}

asio::awaitable<Result<HttpReply>> HeartbeatClient::send(std::string method, std::string path,
                                                          std::string body, Duration timeout) {
  stream_.expires_after(timeout);
  if (!connected_) {
    auto c = co_await connect();
    if (!c) {
      close();
      co_return c.error();
    }
  }
  if (base_.tls) co_return co_await tls_->exchange(*this, std::move(method), std::move(path), std::move(body), timeout);
  co_return co_await exchange(stream_, std::move(method), std::move(path), std::move(body), timeout);
}

}  // namespace lifeline::sidecar
