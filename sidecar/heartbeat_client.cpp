#include "sidecar/heartbeat_client.hpp"

#include <boost/asio/as_tuple.hpp>
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

HeartbeatClient::HeartbeatClient(asio::io_context& io, HttpUrl base, std::string bearer_token)
    : base_(std::move(base)), token_(std::move(bearer_token)), resolver_(io), stream_(io) {}

void HeartbeatClient::close() {
  boost::system::error_code ec;
  resolver_.cancel();
  stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
  stream_.close();
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
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), path, 11};
  req.set(bhttp::field::host, base_.host_header());
  req.set(bhttp::field::user_agent, "lifeline-sidecar/" LIFELINE_VERSION);
  req.set(bhttp::field::content_type, "application/json");
  if (!token_.empty()) req.set(bhttp::field::authorization, "Bearer " + token_);
  req.keep_alive(true);
  req.body() = std::move(body);
  req.prepare_payload();

  auto [wec, wn] = co_await bhttp::async_write(stream_, req, kAwait);
  if (wec) {
    close();
    co_return make_error("write", "send to " + base_.host_header() + ": " + wec.message());
  }
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64 * 1024);
  auto [rec, rn] = co_await bhttp::async_read(stream_, buffer_, parser, kAwait);
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
