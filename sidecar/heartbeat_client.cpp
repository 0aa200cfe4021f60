#include "sidecar/heartbeat_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>

namespace lifeline::sidecar {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
}

HeartbeatClient::HeartbeatClient(asio::io_context& io, HttpUrl base, std::string bearer_token, http::TlsContext tls)
    : base_(std::move(base)),
      token_(std::move(bearer_token)),
      tls_context_(std::move(tls)),
      resolver_(io),
      stream_(io) {}

void HeartbeatClient::close() {
  boost::system::error_code ec;
  resolver_.cancel();
  stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
  stream_.close();
  // tls_ stays until the next connect() replaces it: a request may still be suspended in it.
  connected_ = false;
}

asio::awaitable<Status> HeartbeatClient::connect() {
  buffer_.clear();
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
    if (!tls_context_) co_return make_error("tls", "https:// reaper URL without a TLS context");
    tls_.emplace(stream_, *tls_context_);
    if (auto s = http::expect_peer_host(tls_->native_handle(), base_.host); !s) co_return s.error();
    // Inside the request's deadline: the stream's timer covers the handshake's reads.
    auto [hec] = co_await tls_->async_handshake(asio::ssl::stream_base::client, kAwait);
    if (hec) {
      std::string why = hec.message();
      long verify = SSL_get_verify_result(tls_->native_handle());
      if (verify != X509_V_OK) why = X509_verify_cert_error_string(verify);
      co_return make_error(hec == beast::error::timeout ? "timeout" : "tls",
                           "TLS handshake with " + base_.host_header() + ": " + why);
    }
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
  if (tls_) co_return co_await exchange(*tls_, std::move(method), std::move(path), std::move(body), timeout);
  co_return co_await exchange(stream_, std::move(method), std::move(path), std::move(body), timeout);
}

template <typename Stream>
asio::awaitable<Result<HttpReply>> HeartbeatClient::exchange(Stream& stream, std::string method, std::string path,
                                                             std::string body, Duration timeout) {
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), path, 11};
  req.set(bhttp::field::host, base_.host_header());
  req.set(bhttp::field::user_agent, "lifeline-sidecar/" LIFELINE_VERSION);
  req.set(bhttp::field::content_type, "application/json");
  if (!token_.empty()) req.set(bhttp::field::authorization, "Bearer " + token_);
  req.keep_alive(true);
  req.body() = std::move(body);
  req.prepare_payload();

  auto [wec, wn] = co_await bhttp::async_write(stream, req, kAwait);
  if (wec) {
    close();
    co_return make_error("write", "send to " + base_.host_header() + ": " + wec.message());
  }
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64 * 1024);
  auto [rec, rn] = co_await bhttp::async_read(stream, buffer_, parser, kAwait);
  if (rec) {
    close();
    std::string what = rec == beast::error::timeout ? "timed out after " + format_duration(timeout)
                                                    : rec.message();
    co_return make_error(rec == beast::error::timeout ? "timeout" : "read",
                         "answer from " + base_.host_header() + ": " + what);
  }
  stream_.expires_never();
  auto& res = parser.get();
  HttpReply reply{static_cast<int>(res.result_int()), std::move(res.body())};
  if (!res.keep_alive()) close();
  co_return reply;
}

}  // namespace lifeline::sidecar
