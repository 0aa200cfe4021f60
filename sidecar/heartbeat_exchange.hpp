#pragma once
// HeartbeatClient::exchange: one HTTP/1.1 request and its answer over a plain or TLS
// stream. In a header because both heartbeat_client.cpp (plain) and heartbeat_tls.cpp
// (TLS) instantiate it.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>

#include "sidecar/heartbeat_client.hpp"

namespace lifeline::sidecar {

template <typename Stream>
boost::asio::awaitable<Result<HttpReply>> HeartbeatClient::exchange(Stream& stream, std::string method,
                                                                    std::string path, std::string body,
                                                                    Duration timeout) {
  namespace beast = boost::beast;
  namespace bhttp = boost::beast::http;
  constexpr auto kAwait = boost::asio::as_tuple(boost::asio::use_awaitable);
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
