#pragma once
// An asynchronous HTTP/1.1 client for the reaper: one keep-alive connection, reused for
// every heartbeat and reopened after any failure. Each request has one deadline covering
// resolve, connect, TLS handshake, write and read, so a reaper that accepts the connection
// and never answers costs a timeout, never a blocked thread. With an https:// URL the
// connection is TLS, through a TlsLayer (below); the session is kept across heartbeats like
// a plain connection.
// Threading: owned by the io_context thread; one request at a time (callers serialize).

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <memory>
#include <string>

#include "shared/address.hpp"
#include "shared/duration.hpp"
#include "shared/result.hpp"

namespace lifeline::sidecar {

struct HttpReply {
  int status = 0;
  std::string body;
};

class HeartbeatClient;

// The TLS half of the client's connection. An interface, so that only the TLS build of the
// sidecar (lifeline-sidecar-tls) links its implementation (heartbeat_tls.cpp) and OpenSSL:
// the plain build, which every http:// pod runs, never loads them (docs/sidecar.md).
class TlsLayer {
 public:
  virtual ~TlsLayer() = default;
  // A new session on the freshly connected `tcp`, replacing the last one: the handshake,
  // within the stream's deadline; the reaper's certificate must name `base`'s host.
  virtual boost::asio::awaitable<Status> start(boost::beast::tcp_stream& tcp, const HttpUrl& base) = 0;
  // One request over the session, sent by `client` (HeartbeatClient::exchange).
  virtual boost::asio::awaitable<Result<HttpReply>> exchange(HeartbeatClient& client, std::string method,
                                                             std::string path, std::string body,
                                                             Duration timeout) = 0;
};

class HeartbeatClient {
 public:
  // `tls` is required for an https:// `base` and ignored otherwise.
  HeartbeatClient(boost::asio::io_context& io, HttpUrl base, std::string bearer_token,
                  std::unique_ptr<TlsLayer> tls = nullptr);
  ~HeartbeatClient();

  // PUT or POST `path` with a JSON body; an Error on timeout or network failure.
  boost::asio::awaitable<Result<HttpReply>> send(std::string method, std::string path, std::string body,
                                                 Duration timeout);
  // Drops the connection (e.g. when shutting down); a pending request fails at once.
  void close();
  bool connected() const { return connected_; }

  // One request and its answer over `stream` (the TCP stream, or a TLS layer's stream on
  // it); closes the connection on failure. Defined in heartbeat_exchange.hpp.
  template <typename Stream>
  boost::asio::awaitable<Result<HttpReply>> exchange(Stream& stream, std::string method, std::string path,
                                                     std::string body, Duration timeout);

 private:
  boost::asio::awaitable<Status> connect();

  HttpUrl base_;
  std::string token_;
  std::unique_ptr<TlsLayer> tls_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  bool connected_ = false;
};

}  // namespace lifeline::sidecar
