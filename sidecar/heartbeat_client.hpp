#pragma once
// An asynchronous HTTP/1.1 client for the reaper: one keep-alive connection, reused for
// every heartbeat and reopened after any failure. Each request has one deadline covering
// resolve, connect, TLS handshake, write and read, so a reaper that accepts the connection
// and never answers costs a timeout, never a blocked thread. With an https:// URL the
// connection is TLS: the reaper's certificate must chain to the client context's CAs and
// name the URL's host; the session is kept across heartbeats like a plain connection.
// Threading: owned by the io_context thread; one request at a time (callers serialize).

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <optional>
#include <string>

#include "shared/address.hpp"
#include "shared/duration.hpp"
#include "shared/http/tls_context.hpp"
#include "shared/result.hpp"

namespace lifeline::sidecar {

struct HttpReply {
  int status = 0;
  std::string body;
};

class HeartbeatClient {
 public:
  // `tls` is required for an https:// `base` and ignored otherwise.
  HeartbeatClient(boost::asio::io_context& io, HttpUrl base, std::string bearer_token, http::TlsContext tls = {});

  // PUT or POST `path` with a JSON body; an Error on timeout or network failure.
  boost::asio::awaitable<Result<HttpReply>> send(std::string method, std::string path, std::string body,
                                                 Duration timeout);
  // Drops the connection (e.g. when shutting down); a pending request fails at once.
  void close();
  bool connected() const { return connected_; }

 private:
  boost::asio::awaitable<Status> connect();
  template <typename Stream>
  boost::asio::awaitable<Result<HttpReply>> exchange(Stream& stream, std::string method, std::string path,
                                                     std::string body, Duration timeout);

  HttpUrl base_;
  std::string token_;
  http::TlsContext tls_context_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::beast::tcp_stream stream_;
  // A TLS session lives as long as its TCP connection: a new one after each reconnect.
  std::optional<boost::asio::ssl::stream<boost::beast::tcp_stream&>> tls_;
  boost::beast::flat_buffer buffer_;
  bool connected_ = false;
};

}  // namespace lifeline::sidecar
