#pragma once
// An asynchronous HTTP/1.1 client for the reaper: one keep-alive connection, reused for
// every heartbeat and reopened after any failure. Each request has one deadline covering
// resolve, connect, write and read, so a reaper that accepts the connection and never
// answers costs a timeout, never a blocked thread.
// Threading: owned by the io_context thread; one request at a time (callers serialize).

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <string>

#include "shared/address.hpp"
#include "shared/duration.hpp"
#include "shared/result.hpp"

namespace lifeline::sidecar {

struct HttpReply {
  int status = 0;
  std::string body;
};

class HeartbeatClient {
 public:
  HeartbeatClient(boost::asio::io_context& io, HttpUrl base, std::string bearer_token);

  // PUT or POST `path` with a JSON body; an Error on timeout or network failure.
  boost::asio::awaitable<Result<HttpReply>> send(std::string method, std::string path, std::string body,
                                                 Duration timeout);
  // Drops the connection (e.g. when shutting down); a pending request fails at once.
  void close();
  bool connected() const { return connected_; }

 private:
  boost::asio::awaitable<Status> connect();

  HttpUrl base_;
  std::string token_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  bool connected_ = false;
};

}  // namespace lifeline::sidecar
